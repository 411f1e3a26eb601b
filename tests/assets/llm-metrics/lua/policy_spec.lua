local fake_ngx = require('fake_ngx')
fake_ngx.install() -- the policy module registers its counters when loaded
local backend = require('apicast.backend_client')
local prometheus = require('apicast.prometheus')
local streams = require('helpers.streams')
local zlib = require('zlib')

local POLICY_MODULES = { 'init', 'llm_metrics', 'token_reports', 'zlib' }

--- Loads the policy afresh, as a new nginx worker would (batches and timers are per worker).
local function load_policy()
  for _, name in ipairs(POLICY_MODULES) do
    package.loaded[name] = nil
  end
  return require('init'), require('token_reports')
end

local llm_metrics, token_reports = load_policy()

local CHAT_REQUEST = '{"model":"granite-req","messages":[{"role":"user","content":"hi"}]}'

local function default_context()
  return { service = { id = 42, backend = { endpoint = 'http://backend' } }, credentials = { user_key = 'key-1' } }
end

-- Runs one request through every phase the way APIcast does, checking that no chunk is altered, then the one-off
-- timers it scheduled.
local function request(policy, opts)
  local ngx = fake_ngx.install({ body = opts.request_body or CHAT_REQUEST, method = opts.method,
    body_file = opts.body_file, var = { http_content_type = opts.request_content_type } })
  local context = opts.context or default_context()
  policy:rewrite(context)
  ngx.status = opts.status or 200
  ngx.header['Content-Type'] = opts.content_type or 'application/json'
  ngx.header['Content-Encoding'] = opts.content_encoding
  ngx.header['Content-Length'] = opts.content_length
  policy:header_filter(context)
  local chunks = opts.chunks or { opts.body }
  for i, chunk in ipairs(chunks) do
    ngx.arg[1], ngx.arg[2] = chunk, i == #chunks
    policy:body_filter(context)
    assert.equal(chunk, ngx.arg[1])
  end
  policy:post_action(context)
  policy:log(context)
  ngx.run_timers()
  return ngx
end

-- A request, then the batch timer's next run.
local function run(policy, opts)
  local ngx = request(policy, opts)
  fake_ngx.tick()
  return ngx
end

local function reported()
  local usage_by_metric = {}
  for _, call in ipairs(backend.calls) do
    for credential, metrics in pairs(call.batch.reports) do
      for metric, value in pairs(metrics) do
        usage_by_metric[metric] = { value = value, credential = credential, type = call.batch.credentials_type }
      end
    end
  end
  return usage_by_metric
end

-- Everything the backend received: service id → credential → metric → sum.
local function totals()
  local sums = {}
  for _, call in ipairs(backend.calls) do
    local service = sums[tostring(call.batch.service_id)] or {}
    sums[tostring(call.batch.service_id)] = service
    for credential, metrics in pairs(call.batch.reports) do
      service[credential] = service[credential] or {}
      for metric, value in pairs(metrics) do
        service[credential][metric] = (service[credential][metric] or 0) + value
      end
    end
  end
  return sums
end

local function gzip(text, window_bits)
  return zlib.deflate(6, window_bits or 31)(text, 'finish')
end

before_each(function()
  backend.reset()
  prometheus.reset()
  fake_ngx.reset()
  llm_metrics, token_reports = load_policy()
end)

describe('llm_metrics policy', function()
  it('has the name, version and configuration defaults of its manifest', function()
    local dir = os.getenv('LLM_POLICY_DIR') or 'assets/apicast-policies/llm-metrics'
    local file = assert(io.open(dir .. '/apicast-policy.json'))
    local manifest = require('cjson').decode(file:read('*a'))
    file:close()
    local defaults = {}
    for name, property in pairs(manifest.configuration.properties) do
      defaults[name] = property.default
    end
    assert.same(defaults, llm_metrics.new({}).config)
    assert.same(defaults, llm_metrics.new().config)
    assert.equal(manifest.name, llm_metrics._NAME)
    assert.equal(manifest.version, llm_metrics._VERSION)
  end)

  it('registers the three Prometheus counters with service_id and model labels', function()
    for _, name in ipairs({ 'llm_prompt_tokens_total', 'llm_completion_tokens_total', 'llm_total_tokens_total' }) do
      assert.same({ 'service_id', 'model' }, prometheus.registered[name].label_names)
    end
  end)

  it('reports the usage of a JSON response once, with default metric names', function()
    local body = streams.json({ prompt = 7, completion = 5 })
    local ngx = run(llm_metrics.new({}), { body = body, chunks = streams.rechunk(body, math.random, 17) })
    assert.equal(1, #backend.calls)
    assert.equal(42, backend.calls[1].service.id)
    assert.equal(42, backend.calls[1].batch.service_id)
    assert.equal(require('resty.http_ng.backend.resty'), backend.calls[1].http_client)
    assert.same({
      prompt_tokens = { value = 7, credential = 'key-1', type = 'user_key' },
      completion_tokens = { value = 5, credential = 'key-1', type = 'user_key' },
      total_tokens = { value = 12, credential = 'key-1', type = 'user_key' },
    }, reported())
    assert.same({
      { name = 'llm_prompt_tokens_total', value = 7, labels = { '42', 'granite' } },
      { name = 'llm_completion_tokens_total', value = 5, labels = { '42', 'granite' } },
      { name = 'llm_total_tokens_total', value = 12, labels = { '42', 'granite' } },
    }, prometheus.increments)
    assert.same({}, ngx.warnings())
  end)

  it('reports a streamed response with configured metric names and app_id credentials', function()
    local body, expected = streams.sse({ kind = 'chat', continuous = true, comments = true, pieces = 9, prompt = 4 })
    local context = default_context()
    context.credentials = { app_id = 'app-9', app_key = 'secret' }
    local policy = llm_metrics.new({ prompt_tokens_metric = 'in', completion_tokens_metric = 'out',
      total_tokens_metric = 'tokens' })
    run(policy, { body = body, content_type = 'text/event-stream; charset=utf-8', context = context,
      chunks = streams.rechunk(body, math.random, 64) })
    assert.same({
      ['in'] = { value = expected.prompt_tokens, credential = 'app-9', type = 'app_id' },
      out = { value = expected.completion_tokens, credential = 'app-9', type = 'app_id' },
      tokens = { value = expected.total_tokens, credential = 'app-9', type = 'app_id' },
    }, reported())
    assert.same({ '42', 'granite-33-2b-instruct' }, prometheus.increments[1].labels)
  end)

  it('meters only 2xx responses', function()
    local body = streams.json({})
    for _, status in ipairs({ 500, 404, 302, 101 }) do
      run(llm_metrics.new({}), { body = body, status = status })
    end
    assert.equal(0, #backend.calls)
    assert.same({}, prometheus.increments)
    run(llm_metrics.new({}), { body = body, status = 201 })
    assert.equal(1, #backend.calls)
  end)

  it('passes empty, non-JSON, truncated and oversized bodies through unmetered with a warning', function()
    local body = streams.json({})
    local cases = {
      { body = '' },
      { body = '<html>oops</html>' },
      { body = body:sub(1, 40) },
      { chunks = { body, string.rep(' ', 1024 * 1024) } },
      { body = body, content_length = tostring(2 * 1024 * 1024) },
      { body = '{"usage":"none"}' },
      { body = body, content_encoding = 'br' },
      { body = body, content_encoding = 'gzip' }, -- says gzip but is not: inflate fails
      { body = 'data: {"choices":[]}\n\n', content_type = 'text/event-stream' },
    }
    for _, case in ipairs(cases) do
      local ngx = run(llm_metrics.new({}), case)
      assert.equal(1, #ngx.warnings(), case.body)
    end
    assert.equal(0, #backend.calls)
    assert.same({}, prometheus.increments)
  end)

  it('logs only at info level for a complete JSON response that carries no usage (e.g. /tokenize)', function()
    local ngx = run(llm_metrics.new({}), { body = '{"tokens":[1,2,3],"count":3,"max_model_len":8192}' })
    assert.same({}, ngx.warnings())
    local infos = 0
    for _, entry in ipairs(ngx.logs) do
      if entry.level == 'info' and entry.message:find('no usage in the JSON response', 1, true) then
        infos = infos + 1
      end
    end
    assert.equal(1, infos)
    assert.equal(0, #backend.calls)
  end)

  it('ignores responses that are neither JSON nor event streams, silently', function()
    local ngx = run(llm_metrics.new({}), { body = 'plain', content_type = 'text/plain' })
    assert.same({}, ngx.warnings())
    assert.equal(0, #backend.calls)
  end)

  it('reports nothing to 3scale without credentials but still counts in Prometheus', function()
    local ngx = run(llm_metrics.new({}), { body = streams.json({}), context = { service = { id = 3 } } })
    assert.equal(0, #backend.calls)
    assert.equal(3, #prometheus.increments)
    assert.equal(1, #ngx.warnings())
  end)

  it('honours report_to_backend and prometheus switches', function()
    run(llm_metrics.new({ report_to_backend = false }), { body = streams.json({}) })
    assert.equal(0, #backend.calls)
    assert.equal(3, #prometheus.increments)
    prometheus.reset()
    run(llm_metrics.new({ prometheus = false }), { body = streams.json({}) })
    assert.equal(1, #backend.calls)
    assert.same({}, prometheus.increments)
  end)

  it('skips zero counts and labels with the request model when the response names none', function()
    run(llm_metrics.new({}), { body = '{"usage":{"prompt_tokens":3,"completion_tokens":0}}' })
    assert.same({ prompt_tokens = { value = 3, credential = 'key-1', type = 'user_key' },
      total_tokens = { value = 3, credential = 'key-1', type = 'user_key' } }, reported())
    assert.same({ '42', 'granite-req' }, prometheus.increments[1].labels)
  end)

  it('logs a warning when the backend rejects the report', function()
    backend.response = { status = 403, body = 'user_key_invalid' }
    local ngx = run(llm_metrics.new({}), { body = streams.json({}) })
    assert.equal(1, #backend.calls)
    assert.truthy(ngx.warnings()[1]:find('403', 1, true))
  end)

  describe('rewrite phase', function()
    it('asks for usage on streamed requests and fixes Content-Length', function()
      local ngx = run(llm_metrics.new({}), { request_body = '{"model":"m","stream":true}', body = '{}' })
      assert.equal('{"stream_options":{"include_usage":true},"model":"m","stream":true}', ngx.request.body)
      assert.equal(tostring(#ngx.request.body), ngx.request.headers['Content-Length'])
      assert.is_nil(ngx.request.headers['Accept-Encoding'])
    end)

    it('leaves other bodies byte for byte, and unread when injection is off', function()
      local ngx = run(llm_metrics.new({}), { request_body = '{ "stream" : false }', body = '{}' })
      assert.equal('{ "stream" : false }', ngx.request.body)
      assert.is_nil(ngx.request.headers['Content-Length'])
      ngx = run(llm_metrics.new({ request_usage_injection = false }), { request_body = '{"stream":true}', body = '{}' })
      assert.is_false(ngx.request.body_read)
      assert.equal('{"stream":true}', ngx.request.body)
    end)

    it('leaves requests other than POST alone in every phase', function()
      local ngx = run(llm_metrics.new({}), { method = 'GET', request_body = '{"stream":true}',
        body = streams.json({ prompt = 2, completion = 3 }) })
      assert.is_false(ngx.request.body_read)
      assert.equal('gzip', ngx.request.headers['Accept-Encoding'])
      assert.same({}, ngx.warnings())
      assert.equal(0, #backend.calls)
      assert.same({}, prometheus.increments)
    end)

    it('reads the request body only when its Content-Type is JSON or absent', function()
      local streamed = '{"model":"m","stream":true}'
      local injected = '{"stream_options":{"include_usage":true},"model":"m","stream":true}'
      for content_type, read in pairs({ ['application/json'] = true, ['Application/JSON; charset=utf-8'] = true,
        ['application/vnd.openai+json'] = true, ['text/plain'] = false,
        ['application/x-www-form-urlencoded'] = false }) do
        local ngx = run(llm_metrics.new({}), { request_body = streamed, request_content_type = content_type,
          body = streams.json({ prompt = 1, completion = 1 }) })
        assert.equal(read, ngx.request.body_read, content_type)
        assert.equal(read and injected or streamed, ngx.request.body, content_type)
        assert.is_nil(ngx.request.headers['Accept-Encoding'], content_type)
      end
      -- The response is metered whatever the request's type.
      assert.equal(5, #backend.calls)
    end)

    it('warns and goes on when the request body was buffered to a file', function()
      local ngx = fake_ngx.install({ body = nil, body_file = '/tmp/body' })
      llm_metrics.new({}):rewrite({})
      assert.equal(1, #ngx.warnings())
    end)
  end)
end)

describe('batched reports', function()
  local function user(key, service_id)
    return { service = { id = service_id or 42 }, credentials = { user_key = key } }
  end

  local function json_usage(prompt, completion)
    return string.format('{"usage":{"prompt_tokens":%d,"completion_tokens":%d}}', prompt, completion)
  end

  it('sums many requests into one backend call per service with exact totals', function()
    local policy = llm_metrics.new({ report_interval_seconds = 1 })
    local expected = { ['42'] = {}, ['43'] = {} }
    for i = 1, 60 do
      local service_id, key = 42 + i % 2, 'key-' .. i % 3
      request(policy, { body = json_usage(i, 2 * i), context = user(key, service_id) })
      local sums = expected[tostring(service_id)][key] or { prompt_tokens = 0, completion_tokens = 0, total_tokens = 0 }
      expected[tostring(service_id)][key] = sums
      sums.prompt_tokens, sums.completion_tokens = sums.prompt_tokens + i, sums.completion_tokens + 2 * i
      sums.total_tokens = sums.total_tokens + 3 * i
    end
    assert.equal(0, #backend.calls)
    assert.equal(1, #fake_ngx.periodic)
    assert.equal(1, fake_ngx.periodic[1].interval)
    fake_ngx.tick()
    assert.equal(2, #backend.calls)
    assert.same(expected, totals())
    fake_ngx.tick()
    assert.equal(2, #backend.calls)
  end)

  it('reports every response on its own with report_interval_seconds 0', function()
    local policy = llm_metrics.new({ report_interval_seconds = 0 })
    for _ = 1, 3 do
      request(policy, { body = json_usage(1, 1) })
    end
    assert.equal(3, #backend.calls)
    assert.equal(0, #fake_ngx.periodic)
    assert.same({ ['42'] = { ['key-1'] = { prompt_tokens = 3, completion_tokens = 3, total_tokens = 6 } } }, totals())
  end)

  it('keeps the counts of a failed report and sends them once the backend recovers', function()
    local policy = llm_metrics.new({})
    local sent = 0
    local function failing(status)
      return function()
        return { status = status, body = 'backend down' }
      end
    end
    for round, response in ipairs({ failing(503), function() error('connection refused') end, failing(0) }) do
      request(policy, { body = json_usage(round, 10) })
      sent = sent + round
      backend.response = response
      fake_ngx.tick()
      assert.truthy(ngx.warnings()[1]:find('token counts kept for the next report', 1, true))
    end
    local failed_calls = #backend.calls
    backend.calls, backend.response = {}, { status = 202 }
    request(policy, { body = json_usage(100, 10) })
    fake_ngx.tick()
    assert.equal(3, failed_calls)
    assert.equal(1, #backend.calls)
    assert.same({ ['42'] = { ['key-1'] = { prompt_tokens = sent + 100, completion_tokens = 40,
      total_tokens = sent + 140 } } }, totals())
  end)

  it('runs a flush that was due while the previous one waited for the backend right after it', function()
    local policy = llm_metrics.new({})
    request(policy, { body = json_usage(1, 1) })
    backend.response = function()
      backend.response = { status = 202 }
      request(policy, { body = json_usage(2, 2) })
      fake_ngx.tick() -- the timer fires again while this report is still on its way
      return backend.response
    end
    fake_ngx.tick()
    assert.equal(2, #backend.calls)
    assert.same({ ['42'] = { ['key-1'] = { prompt_tokens = 3, completion_tokens = 3, total_tokens = 6 } } }, totals())
  end)

  it('sends at most MAX_TRANSACTIONS applications per call', function()
    token_reports.MAX_TRANSACTIONS = 3
    local policy = llm_metrics.new({})
    for i = 1, 7 do
      request(policy, { body = json_usage(i, 0), context = user('app-' .. i) })
    end
    fake_ngx.tick()
    assert.equal(3, #backend.calls)
    local applications = 0
    for _, call in ipairs(backend.calls) do
      local in_call = 0
      for credential, metrics in pairs(call.batch.reports) do
        in_call = in_call + 1
        assert.equal(tonumber(credential:match('%d+')), metrics.prompt_tokens)
        assert.equal(metrics.prompt_tokens, metrics.total_tokens)
      end
      assert.is_true(in_call <= 3)
      applications = applications + in_call
    end
    assert.equal(7, applications)
  end)

  it('identifies applications by app_id when there is no user_key and groups per credential type', function()
    local policy = llm_metrics.new({})
    request(policy, { body = json_usage(1, 1), context = { service = { id = 42 },
      credentials = { app_id = 'app-9', app_key = 'secret' } } })
    request(policy, { body = json_usage(2, 2) })
    fake_ngx.tick()
    assert.equal(2, #backend.calls)
    local types = {}
    for _, call in ipairs(backend.calls) do
      types[call.batch.credentials_type] = true
      for credential in pairs(call.batch.reports) do
        assert.not_equal('secret', credential)
      end
    end
    assert.same({ user_key = true, app_id = true }, types)
  end)

  it('bounds the pending counts of a worker and says what it dropped', function()
    token_reports.MAX_WORKER_KEYS = 3 -- one application's three metrics
    local policy = llm_metrics.new({})
    request(policy, { body = json_usage(1, 1), context = user('kept') })
    local ngx = request(policy, { body = json_usage(5, 5), context = user('dropped') })
    assert.equal(3, #ngx.warnings())
    assert.truthy(ngx.warnings()[1]:find('not reported', 1, true))
    request(policy, { body = json_usage(2, 2), context = user('kept') })
    fake_ngx.tick()
    assert.same({ ['42'] = { kept = { prompt_tokens = 3, completion_tokens = 3, total_tokens = 6 } } }, totals())
  end)

  it('flushes what is pending when the worker exits', function()
    local policy = llm_metrics.new({ report_interval_seconds = 60 })
    request(policy, { body = json_usage(4, 4) })
    fake_ngx.tick(true)
    assert.same({ ['42'] = { ['key-1'] = { prompt_tokens = 4, completion_tokens = 4, total_tokens = 8 } } }, totals())
    -- A request that finishes after that last periodic run is sent on its own way out.
    fake_ngx.exiting = true
    request(policy, { body = json_usage(1, 1) })
    assert.equal(2, #backend.calls)
    assert.same({ prompt_tokens = 1, completion_tokens = 1, total_tokens = 2 }, backend.calls[2].batch.reports['key-1'])
  end)

  describe('in a shared dict', function()
    it('is flushed by one worker for all workers, exactly once', function()
      fake_ngx.define_dict('llm_batch')
      local config = { report_interval_seconds = 2, batch_shared_dict = 'llm_batch' }
      local worker_a = llm_metrics.new(config)
      request(worker_a, { body = json_usage(1, 1) })
      local worker_b = load_policy().new(config)
      request(worker_b, { body = json_usage(10, 10) })
      request(worker_b, { body = json_usage(1, 0), context = user('key-1', 77) }) -- a service only b knows
      assert.equal(2, #fake_ngx.periodic)
      -- a's timer runs first: it sends service 42 for both workers; b's run then finds 42 locked and sends 77.
      fake_ngx.tick()
      assert.equal(2, #backend.calls)
      assert.same({
        ['42'] = { ['key-1'] = { prompt_tokens = 11, completion_tokens = 11, total_tokens = 22 } },
        ['77'] = { ['key-1'] = { prompt_tokens = 1, total_tokens = 1 } },
      }, totals())
      assert.same({}, ngx.warnings())
      fake_ngx.tick()
      fake_ngx.tick(true)
      assert.equal(2, #backend.calls)
    end)

    it('leaves counts that arrive during a flush to the next interval, not to another worker', function()
      fake_ngx.define_dict('llm_batch')
      local config = { report_interval_seconds = 2, batch_shared_dict = 'llm_batch' }
      local worker_a = llm_metrics.new(config)
      local worker_b = load_policy().new(config)
      request(worker_a, { body = json_usage(1, 1) })
      request(worker_b, { body = json_usage(2, 2) })
      backend.response = function()
        backend.response = { status = 202 }
        request(worker_b, { body = json_usage(5, 5) }) -- while a waits for the backend
        return backend.response
      end
      fake_ngx.tick()
      assert.equal(1, #backend.calls)
      assert.same({ prompt_tokens = 3, completion_tokens = 3, total_tokens = 6 }, backend.calls[1].batch.reports['key-1'])
      fake_ngx.tick()
      assert.equal(2, #backend.calls)
      assert.same({ prompt_tokens = 5, completion_tokens = 5, total_tokens = 10 }, backend.calls[2].batch.reports['key-1'])
    end)

    it('flushes on worker exit even right after another worker flushed', function()
      fake_ngx.define_dict('llm_batch')
      local config = { report_interval_seconds = 2, batch_shared_dict = 'llm_batch' }
      local worker_a = llm_metrics.new(config)
      request(worker_a, { body = json_usage(1, 1) })
      fake_ngx.tick()
      request(worker_a, { body = json_usage(7, 7) })
      fake_ngx.tick(true)
      assert.equal(2, #backend.calls)
      assert.same({ prompt_tokens = 7, completion_tokens = 7, total_tokens = 14 }, backend.calls[2].batch.reports['key-1'])
    end)

    it('keeps failed counts in the dict for the next flush', function()
      fake_ngx.define_dict('llm_batch')
      local policy = llm_metrics.new({ batch_shared_dict = 'llm_batch' })
      request(policy, { body = json_usage(3, 3) })
      backend.response = { status = 500 }
      fake_ngx.tick()
      backend.response = { status = 202 }
      request(policy, { body = json_usage(1, 1) })
      fake_ngx.tick()
      assert.equal(2, #backend.calls)
      assert.same({ prompt_tokens = 4, completion_tokens = 4, total_tokens = 8 }, backend.calls[2].batch.reports['key-1'])
    end)

    it('falls back to worker memory, with a warning, for an undefined or APIcast-owned dict', function()
      fake_ngx.define_dict('batched_reports')
      for _, name in ipairs({ 'missing_dict', 'batched_reports' }) do
        backend.reset()
        local ngx = run(llm_metrics.new({ batch_shared_dict = name }), { body = json_usage(2, 3) })
        assert.equal(1, #ngx.warnings())
        assert.truthy(ngx.warnings()[1]:find(name, 1, true))
        assert.same({ ['42'] = { ['key-1'] = { prompt_tokens = 2, completion_tokens = 3, total_tokens = 5 } } },
          totals())
      end
      assert.same({}, fake_ngx.shared.batched_reports:get_keys(0))
    end)
  end)
end)

describe('compressed responses', function()
  it('meters gzip and deflate JSON and SSE while passing the compressed bytes through', function()
    local json = streams.json({ prompt = 7, completion = 5 })
    local sse, sse_usage = streams.sse({ kind = 'chat', pieces = 40, prompt = 3 })
    local cases = {
      { body = gzip(json), content_encoding = 'gzip', usage = { 7, 5, 12 } },
      { body = gzip(json, 15), content_encoding = 'Deflate', usage = { 7, 5, 12 } },
      { body = gzip(sse), content_encoding = 'x-gzip', content_type = 'text/event-stream',
        usage = { sse_usage.prompt_tokens, sse_usage.completion_tokens, sse_usage.total_tokens } },
    }
    for _, case in ipairs(cases) do
      backend.reset()
      case.chunks = streams.rechunk(case.body, math.random, 40)
      local ngx = run(llm_metrics.new({}), case)
      assert.same({}, ngx.warnings())
      local reports = backend.calls[1].batch.reports['key-1']
      assert.same({ prompt_tokens = case.usage[1], completion_tokens = case.usage[2], total_tokens = case.usage[3] },
        reports)
    end
  end)

  it('passes a corrupt gzip body through unmetered with one warning', function()
    local body = gzip((streams.json({})))
    local corrupt = body:sub(1, 20) .. string.rep('\0', 30) .. body:sub(51)
    local ngx = run(llm_metrics.new({}), { body = corrupt, content_encoding = 'gzip' })
    assert.equal(1, #ngx.warnings())
    assert.truthy(ngx.warnings()[1]:find('usage parser failed', 1, true))
    assert.equal(0, #backend.calls)
  end)

  it('passes gzip through unmetered with one warning when lua-zlib is missing', function()
    package.preload.zlib = function()
      error('module zlib not found')
    end
    package.loaded.zlib = nil
    local ok, policy_module = pcall(load_policy)
    package.preload.zlib = nil
    assert.is_true(ok, policy_module)
    local ngx = run(policy_module.new({}), { body = gzip((streams.json({}))), content_encoding = 'gzip' })
    assert.equal(1, #ngx.warnings())
    assert.truthy(ngx.warnings()[1]:find('lua-zlib is not installed', 1, true))
    assert.equal(0, #backend.calls)
  end)
end)
