local fake_ngx = require('fake_ngx')
fake_ngx.install() -- the policy module registers its counters when loaded
local backend = require('apicast.backend_client')
local prometheus = require('apicast.prometheus')
local streams = require('helpers.streams')
local vllm = require('helpers.vllm')
local threescale = require('helpers.threescale')
local http = require('resty.http')
local upstream_stub = require('apicast.upstream')
local Usage = require('apicast.usage')
local cjson = require('cjson')

local POLICY_MODULES = { 'init', 'llm_metrics', 'llm_metrics_reports', 'llm_metrics_backend' }

--- Loads the policy afresh, as a new nginx worker would (batches, timers and cached limits are per worker).
local function load_policy()
  for _, name in ipairs(POLICY_MODULES) do
    package.loaded[name] = nil
  end
  return require('init'), require('llm_metrics_reports')
end

local llm_metrics, token_reports = load_policy()

local CHAT_REQUEST = '{"model":"granite-req","messages":[{"role":"user","content":"hi"}]}'

local function default_context()
  return { service = { id = 42, backend = { endpoint = 'http://backend' } }, credentials = { user_key = 'key-1' } }
end

-- Runs one request through every phase the way APIcast does, checking that no chunk is altered, then the one-off
-- timers it scheduled. When the policy answers itself (ngx.exit in access), that answer is the response.
-- opts.apicast_usage: the mapping-rule usage APIcast's rewrite would put in context.usage (e.g. { hits = 1 }).
local function request(policy, opts)
  local body = opts.request_body
  if body == nil then
    body = CHAT_REQUEST
  end
  local ngx = fake_ngx.install({ body = body or nil, method = opts.method,
    body_file = opts.body_file, var = { http_content_type = opts.request_content_type,
      uri = opts.uri or '/v1/chat/completions' } })
  local context = opts.context or default_context()
  policy:rewrite(context)
  if opts.apicast_usage then
    context.usage = Usage.new()
    for metric, value in pairs(opts.apicast_usage) do
      context.usage:add(metric, value)
    end
  end
  if not ngx.exited then
    policy:access(context)
  end
  if not ngx.exited then
    policy:content(context)
  end
  local chunks
  if ngx.exited then
    chunks = { table.concat(ngx.printed) }
  else
    ngx.status = opts.status or 200
    ngx.header['Content-Type'] = opts.content_type or 'application/json'
    ngx.header['Content-Encoding'] = opts.content_encoding
    ngx.header['Content-Length'] = opts.content_length
    chunks = opts.chunks or { opts.body }
  end
  policy:header_filter(context)
  for i, chunk in ipairs(chunks) do
    ngx.arg[1], ngx.arg[2] = chunk, i == #chunks
    policy:body_filter(context)
    assert.equal(chunk, ngx.arg[1])
  end
  if not opts.unfinished then
    policy:post_action(context)
    policy:log(context)
    ngx.run_timers()
  end
  return ngx, context
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

before_each(function()
  backend.reset()
  prometheus.reset()
  fake_ngx.reset()
  http.reset(nil)
  upstream_stub.reset()
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

  it('registers the token counters with service_id and model labels, and the limit counters', function()
    for _, name in ipairs({ 'llm_prompt_tokens_total', 'llm_completion_tokens_total', 'llm_total_tokens_total',
      'llm_cached_prompt_tokens_total', 'llm_reasoning_tokens_total' }) do
      assert.same({ 'service_id', 'model' }, prometheus.registered[name].label_names)
    end
    assert.same({ 'service_id', 'failure_mode' }, prometheus.registered.llm_limits_backend_failures_total.label_names)
    assert.same({ 'service_id', 'code' }, prometheus.registered.llm_admission_rejections_total.label_names)
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

    it('leaves streamed Responses API requests alone (usage comes in response.completed)', function()
      local body = '{"model":"m","stream":true,"input":"hi"}'
      local ngx = run(llm_metrics.new({}), { uri = '/v1/responses', request_body = body,
        body = vllm.responses_stream(), content_type = 'text/event-stream' })
      assert.equal(body, ngx.request.body)
      assert.is_false(ngx.request.body_read)
      assert.same({ prompt_tokens = 11, completion_tokens = 7, total_tokens = 18 }, totals()['42']['key-1'])
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

    -- nginx spools bodies larger than client_body_buffer_size (APIcast keeps nginx's 8k default) to a file.
    local function body_file(content)
      local path = os.tmpname()
      local file = assert(io.open(path, 'wb'))
      file:write(content)
      file:close()
      return path
    end

    it('reads a body nginx buffered to a file, rewrites it and meters the stream', function()
      local prompt = string.rep('long prompt ', 2000)
      local body = cjson.encode({ model = 'm', stream = true, messages = { { role = 'user', content = prompt } } })
      local path = body_file(body)
      local sse, expected = streams.sse({ kind = 'chat', pieces = 3, prompt = 5000 })
      local ngx = run(llm_metrics.new({}), { request_body = false, body_file = path, body = sse,
        content_type = 'text/event-stream' })
      os.remove(path)
      assert.is_nil(ngx.request.body_file)
      local sent = cjson.decode(ngx.request.body)
      assert.same({ include_usage = true }, sent.stream_options)
      assert.equal(prompt, sent.messages[1].content)
      assert.equal(tostring(#ngx.request.body), ngx.request.headers['Content-Length'])
      assert.same({}, ngx.warnings())
      assert.equal(expected.total_tokens, reported().total_tokens.value)
    end)

    it('leaves a body file larger than max_request_body_bytes alone, with a warning', function()
      local body = cjson.encode({ model = 'm', stream = true, messages = { { content = string.rep('x', 5000) } } })
      local path = body_file(body)
      local ngx = run(llm_metrics.new({ max_request_body_bytes = 4096 }), { request_body = false, body_file = path,
        body = streams.json({}) })
      os.remove(path)
      assert.equal(path, ngx.request.body_file)
      assert.is_nil(ngx.request.body)
      assert.equal(1, #ngx.warnings())
      assert.truthy(ngx.warnings()[1]:find('larger than max_request_body_bytes (' .. #body .. ' bytes)', 1, true))
      assert.equal(1, #backend.calls) -- the response is still metered
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
  it('passes gzip, deflate and br bodies through unmetered with one warning (lua-zlib is not in APIcast)', function()
    for _, encoding in ipairs({ 'gzip', 'x-gzip', 'Deflate', 'br' }) do
      backend.reset()
      local ngx = run(llm_metrics.new({}), { body = '\31\139 not really gzip', content_encoding = encoding })
      assert.equal(1, #ngx.warnings(), encoding)
      assert.truthy(ngx.warnings()[1]:find(encoding:lower() .. '-encoded; not metered', 1, true))
      assert.equal(0, #backend.calls)
    end
    local ngx = run(llm_metrics.new({}), { body = streams.json({}), content_encoding = 'identity' })
    assert.same({}, ngx.warnings())
  end)
end)

describe('every vLLM endpoint through the policy', function()
  local cases = {
    { '/v1/chat/completions', vllm.chat, 'application/json', { prompt_tokens = 11, completion_tokens = 7,
      total_tokens = 18 } },
    { '/v1/chat/completions', vllm.chat_stream_cached, 'text/event-stream', { prompt_tokens = 11,
      completion_tokens = 7, total_tokens = 18, cached = 8 } },
    { '/v1/completions', vllm.completion_stream, 'text/event-stream', { prompt_tokens = 5, completion_tokens = 16,
      total_tokens = 21 } },
    { '/v1/embeddings', vllm.embeddings, 'application/json', { prompt_tokens = 6, total_tokens = 6 } },
    { '/pooling', vllm.pooling, 'application/json', { prompt_tokens = 6, total_tokens = 6 } },
    { '/v1/score', vllm.score, 'application/json', { prompt_tokens = 24, total_tokens = 24 } },
    { '/classify', vllm.classify, 'application/json', { prompt_tokens = 7, total_tokens = 7 } },
    { '/v1/rerank', vllm.rerank, 'application/json', { total_tokens = 30 } },
    { '/v1/responses', vllm.responses, 'application/json', { prompt_tokens = 11, completion_tokens = 7,
      total_tokens = 18 } },
    { '/v1/responses', vllm.responses_stream(vllm.response_usage_reasoning), 'text/event-stream',
      { prompt_tokens = 40, completion_tokens = 25, total_tokens = 65, cached = 32, reasoning = 19 } },
  }

  it('reports each response shape with separate cached and reasoning metrics when configured', function()
    for _, case in ipairs(cases) do
      local path, body, content_type, want = case[1], case[2], case[3], case[4]
      backend.reset()
      prometheus.reset()
      local ngx = run(llm_metrics.new({ cached_prompt_tokens_metric = 'cached_prompt_tokens',
        reasoning_tokens_metric = 'reasoning_tokens' }), { uri = path, body = body, content_type = content_type,
        chunks = streams.rechunk(body, math.random, 37) })
      assert.same({}, ngx.warnings(), path)
      local expected = {}
      for metric, value in pairs({ prompt_tokens = want.prompt_tokens, completion_tokens = want.completion_tokens,
        total_tokens = want.total_tokens, cached_prompt_tokens = want.cached, reasoning_tokens = want.reasoning }) do
        expected[metric] = value
      end
      assert.same({ ['42'] = { ['key-1'] = expected } }, totals(), path)
      local counted = {}
      for _, increment in ipairs(prometheus.increments) do
        counted[increment.name] = increment.value
      end
      assert.equal(want.cached, counted.llm_cached_prompt_tokens_total, path)
      assert.equal(want.reasoning, counted.llm_reasoning_tokens_total, path)
    end
  end)

  it('counts cached and reasoning tokens in Prometheus only, by default', function()
    run(llm_metrics.new({}), { uri = '/v1/responses', body = vllm.responses_stream(vllm.response_usage_reasoning),
      content_type = 'text/event-stream' })
    assert.same({ ['42'] = { ['key-1'] = { prompt_tokens = 40, completion_tokens = 25, total_tokens = 65 } } },
      totals())
    assert.equal(5, #prometheus.increments)
  end)

  it('meters nothing and warns about nothing for /tokenize and /detokenize', function()
    for _, body in ipairs({ vllm.tokenize, vllm.detokenize }) do
      local ngx = run(llm_metrics.new({}), { uri = '/tokenize', body = body })
      assert.same({}, ngx.warnings())
    end
    assert.equal(0, #backend.calls)
  end)
end)

describe('routing, limits and admission', function()
  local MODELS = {
    { name = 'granite-a', upstream = 'http://predictor-a:8080' },
    { name = 'granite-b', upstream = 'http://predictor-b:8080' },
  }
  local HIERARCHY = { hits = { 'model_granite_a', 'model_granite_b' } }
  local fake

  --- key-1: granite-b disabled (limit 0 on its method), 1000 total tokens and 10 requests per minute.
  local function plan(reports)
    fake = threescale.fake({ now = function() return fake_ngx.now end, hierarchy = HIERARCHY, apps = {
      ['key-1'] = { reports = reports or {
        { metric = 'model_granite_b', period = 'eternity', max = 0, current = 0 },
        { metric = 'total_tokens', period = 'minute', max = 1000, current = 0 },
        { metric = 'hits', period = 'minute', max = 10, current = 0 },
      } },
    } })
    http.reset(fake.handler)
  end

  local function config(extra)
    local c = { routing_models = MODELS, admission = true, rate_limit_headers = true, usage_path = '/v1/usage',
      limits_shared_dict = 'limits' }
    for k, v in pairs(extra or {}) do
      c[k] = v
    end
    return c
  end

  local function chat(policy, model, extra, opts)
    local body = { model = model, messages = { { role = 'user', content = string.rep('a', 396) } } } -- 'user' + 396: 100 tokens
    for k, v in pairs(extra or {}) do
      body[k] = v
    end
    opts = opts or {}
    opts.request_body = cjson.encode(body)
    opts.apicast_usage = opts.apicast_usage or { hits = 1 }
    opts.body = opts.body or streams.json({ prompt = 90, completion = 30 })
    return request(policy, opts)
  end

  local function error_of(ngx)
    return cjson.decode(table.concat(ngx.printed)).error
  end

  before_each(function()
    fake_ngx.define_dict('limits')
    plan()
  end)

  it('changes nothing with only the metering properties: no backend call, no routing, no counters', function()
    local ngx, context = chat(llm_metrics.new({}), 'granite-b', { max_tokens = 5000 })
    assert.is_nil(ngx.exited)
    assert.equal(0, #http.calls)
    assert.equal(0, #upstream_stub.called)
    assert.same({ hits = 1 }, context.usage.deltas)
    assert.same({}, fake_ngx.shared.limits.get_keys())
    assert.is_nil(ngx.header['x-ratelimit-limit-tokens'])
  end)

  it('sends a permitted model to its upstream and its hit to its method', function()
    local ngx, context = chat(llm_metrics.new(config()), 'granite-a', { max_tokens = 100 })
    assert.is_nil(ngx.exited)
    assert.equal(1, #upstream_stub.called)
    assert.equal('http://predictor-a:8080', upstream_stub.called[1].url)
    assert.same({ model_granite_a = 1 }, context.usage.deltas)
    assert.same({ 'model_granite_a' }, context.usage.metrics)
    fake_ngx.tick()
    assert.same({ ['42'] = { ['key-1'] = { prompt_tokens = 90, completion_tokens = 30, total_tokens = 120,
      granite_a_prompt_tokens = 90, granite_a_completion_tokens = 30, granite_a_total_tokens = 120 } } }, totals())
  end)

  it('answers 404 model_not_found for an unknown model, before asking the backend', function()
    local ngx = chat(llm_metrics.new(config()), 'gpt-4')
    assert.equal(404, ngx.exited)
    assert.equal('{"error":{"message":"The model `gpt-4` does not exist","type":"invalid_request_error",'
      .. '"param":"model","code":"model_not_found"}}', table.concat(ngx.printed))
    assert.equal('application/json', ngx.header['Content-Type'])
    assert.equal(0, #upstream_stub.called)
    assert.equal(0, #http.calls)
  end)

  it('answers 403 model_not_permitted for a model the plan disables', function()
    local ngx = chat(llm_metrics.new(config()), 'granite-b')
    assert.equal(403, ngx.exited)
    assert.same({ message = 'The model `granite-b` is not included in your plan', type = 'invalid_request_error',
      param = 'model', code = 'model_not_permitted' }, error_of(ngx))
    assert.equal(0, #upstream_stub.called)
    assert.equal(0, #backend.calls)
  end)

  it('answers 400 without a model or a JSON body, and 413 for a body it could not read', function()
    local policy = llm_metrics.new(config())
    local ngx = request(policy, { request_body = '{"messages":[]}', body = '{}' })
    assert.equal(400, ngx.exited)
    assert.equal('model', error_of(ngx).param)
    ngx = request(policy, { request_body = 'model=granite-a', body = '{}' })
    assert.equal(400, ngx.exited)
    ngx = request(llm_metrics.new(config({ max_request_body_bytes = 10 })), { body = '{}' })
    assert.equal(413, ngx.exited)
    assert.equal('request_too_large', error_of(ngx).code)
    assert.equal(0, #upstream_stub.called)
  end)

  it('lists the models of the caller\'s plan on GET /v1/models without calling a predictor', function()
    local policy = llm_metrics.new(config())
    local ngx = request(policy, { method = 'GET', uri = '/v1/models' })
    assert.equal(200, ngx.exited)
    assert.same({ object = 'list', data = { { id = 'granite-a', object = 'model', created = 0, owned_by = 'vllm' } } },
      cjson.decode(table.concat(ngx.printed)))
    assert.equal(0, #upstream_stub.called)
    assert.equal(1, #http.calls)
    assert.is_nil(http.calls[1].url:find('usage', 1, true)) -- a plain authorize: no predicted usage
    ngx = request(policy, { method = 'GET', uri = '/v1/models/granite-b' })
    assert.equal(404, ngx.exited)
    ngx = request(policy, { method = 'GET', uri = '/v1/models/granite-a' })
    assert.equal('granite-a', cjson.decode(table.concat(ngx.printed)).id)
    assert.equal(1, #http.calls) -- the answer is cached per application
    assert.same({}, ngx.warnings())
  end)

  it('asks the backend with the predicted usage and the 3scale options it needs', function()
    chat(llm_metrics.new(config()), 'granite-a', { max_tokens = 100 })
    local call = http.calls[1]
    assert.truthy(call.url:find('^http://backend/transactions/authorize%.xml%?'))
    assert.same({ service_id = '42', user_key = 'key-1' }, fake.calls[1].args)
    -- 100 prompt tokens estimated + 100 max_tokens; the method's hit (hits follows through the hierarchy)
    assert.same({ model_granite_a = 1, prompt_tokens = 100, completion_tokens = 100, total_tokens = 200,
      granite_a_prompt_tokens = 100, granite_a_completion_tokens = 100, granite_a_total_tokens = 200 },
      fake.calls[1].usage)
    assert.equal('rejection_reason_header=1&limit_headers=1&hierarchy=1', call.params.headers['3scale-options'])
    assert.equal('backend', call.params.headers.Host)
    assert.same({ 500, 500, 500 }, call.timeouts)
  end)

  it('refuses a request over a per-minute token limit with 429 rate_limit_exceeded before the model runs', function()
    local ngx = chat(llm_metrics.new(config()), 'granite-a', { max_tokens = 2000, stream = true })
    assert.equal(429, ngx.exited)
    local err = error_of(ngx)
    assert.equal('rate_limit_exceeded', err.code)
    assert.equal('30', ngx.header['Retry-After']) -- 18:01:30: the minute ends in 30 s
    assert.equal('30000', ngx.header['retry-after-ms'])
    assert.equal(0, #upstream_stub.called)
    assert.equal(0, #backend.calls)
  end)

  it('refuses a request over a monthly quota with 429 insufficient_quota', function()
    plan({ { metric = 'total_tokens', period = 'month', max = 150, current = 0 } })
    local ngx = chat(llm_metrics.new(config()), 'granite-a', { max_tokens = 100 })
    assert.equal(429, ngx.exited)
    assert.equal('insufficient_quota', error_of(ngx).code)
    assert.equal('false', ngx.header['x-should-retry'])
    assert.truthy(tonumber(ngx.header['Retry-After']) > 86400)
  end)

  it('bounds concurrent requests by what is already in flight', function()
    local policy = llm_metrics.new(config())
    -- three requests of 100 + 300 tokens each start before any finishes; the limit is 1000 per minute
    local statuses, contexts = {}, {}
    for i = 1, 3 do
      local ngx, context = chat(policy, 'granite-a', { max_tokens = 300 }, { unfinished = true })
      statuses[i], contexts[i] = ngx.exited or 200, context
    end
    assert.same({ 200, 200, 429 }, statuses)
    assert.equal(1, #http.calls) -- the second and third were decided with the cached answer and the counts
    assert.equal(800, fake_ngx.shared.limits:get(require('llm_metrics_backend').prefix(42, 'key-1')
      .. 'p\ttotal_tokens'))
    -- the first finishes with 120 real tokens: a fourth request of 400 fits again (120 + 400 + 400 <= 1000)
    fake_ngx.install({})
    policy:post_action(contexts[1])
    local ngx = chat(policy, 'granite-a', { max_tokens = 300 }, { unfinished = true })
    assert.is_nil(ngx.exited)
  end)

  it('sends OpenAI rate-limit headers that count down across requests', function()
    local policy = llm_metrics.new(config({ admission = false }))
    local seen = {}
    for i = 1, 3 do
      local ngx = chat(policy, 'granite-a', { max_tokens = 50 })
      seen[i] = { tokens = tonumber(ngx.header['x-ratelimit-remaining-tokens']),
        requests = tonumber(ngx.header['x-ratelimit-remaining-requests']) }
      assert.equal('1000', ngx.header['x-ratelimit-limit-tokens'])
      assert.equal('10', ngx.header['x-ratelimit-limit-requests'])
      assert.equal('30s', ngx.header['x-ratelimit-reset-tokens'])
      assert.equal('30s', ngx.header['x-ratelimit-reset-requests'])
      fake_ngx.tick() -- the batch goes out and the backend acknowledges it
    end
    -- first: 1000 - (100 + 50) estimated; then each earlier request counts with its real 120 tokens
    assert.same({ { tokens = 850, requests = 9 }, { tokens = 730, requests = 8 }, { tokens = 610, requests = 7 } },
      seen)
    assert.equal(1, #http.calls)
  end)

  it('fails open by default when the backend is down, once per interval, and counts it', function()
    http.reset(nil) -- connection refused
    local policy = llm_metrics.new(config())
    local warnings = 0
    for _ = 1, 3 do
      local ngx = chat(policy, 'granite-a')
      assert.is_nil(ngx.exited)
      assert.is_nil(ngx.header['x-ratelimit-limit-tokens'])
      warnings = warnings + #ngx.warnings()
    end
    assert.equal(1, warnings) -- the failed call, not every request while it is remembered
    assert.equal(3, #upstream_stub.called)
    assert.equal(1, #http.calls)
    local failures = 0
    for _, increment in ipairs(prometheus.increments) do
      if increment.name == 'llm_limits_backend_failures_total' then
        failures = failures + increment.value
        assert.same({ '42', 'open' }, increment.labels)
      end
    end
    assert.equal(3, failures)
  end)

  it('fails closed with 503 when configured', function()
    http.reset(function()
      return nil, 'timeout'
    end)
    local ngx = chat(llm_metrics.new(config({ admission_failure_mode = 'closed' })), 'granite-a')
    assert.equal(503, ngx.exited)
    assert.equal('limits_unavailable', error_of(ngx).code)
    assert.equal(0, #upstream_stub.called)
  end)

  it('treats a 5xx answer and an answer without a status document as failures', function()
    for _, response in ipairs({ { status = 503, headers = {}, body = 'busy' },
      { status = 200, headers = {}, body = '' } }) do
      require('llm_metrics_backend').reset()
      http.reset(function()
        return response
      end)
      local ngx = chat(llm_metrics.new(config({ admission_failure_mode = 'closed' })), 'granite-a')
      assert.equal(503, ngx.exited)
    end
  end)

  it('answers 401 invalid_api_key for credentials the backend does not know', function()
    local context = default_context()
    context.credentials = { user_key = 'nobody' }
    local ngx = chat(llm_metrics.new(config()), 'granite-a', {}, { context = context })
    assert.equal(401, ngx.exited)
    assert.equal('invalid_api_key', error_of(ngx).code)
  end)

  it('asks again without usage, with one warning, when a per-model metric is missing in 3scale', function()
    fake.metrics = { hits = true, model_granite_a = true, model_granite_b = true, prompt_tokens = true,
      completion_tokens = true, total_tokens = true }
    local ngx = chat(llm_metrics.new(config()), 'granite-a', { max_tokens = 10 })
    assert.is_nil(ngx.exited)
    assert.equal(2, #http.calls)
    assert.same({}, fake.calls[2].usage)
    assert.equal(1, #ngx.warnings())
    assert.truthy(ngx.warnings()[1]:find('metric "granite_a_', 1, true))
  end)

  it('serves the usage document with what this gateway added since the backend answered', function()
    local policy = llm_metrics.new(config())
    chat(policy, 'granite-a', { max_tokens = 50 })
    local ngx = request(policy, { method = 'GET', uri = '/v1/usage' })
    assert.equal(200, ngx.exited)
    local doc = cjson.decode(table.concat(ngx.printed))
    assert.same({ 'granite-a' }, doc.models)
    local rows = {}
    for _, row in ipairs(doc.data) do
      rows[row.metric .. '/' .. row.period] = { row.used, row.limit, row.remaining, row.reset_seconds }
    end
    assert.same({ ['hits/minute'] = { 1, 10, 9, 30 }, ['total_tokens/minute'] = { 120, 1000, 880, 30 } }, rows)
  end)

  it('works without routing: admission and headers on a one-model product', function()
    plan({ { metric = 'total_tokens', period = 'minute', max = 1000, current = 0 } })
    local policy = llm_metrics.new({ admission = true, rate_limit_headers = true, limits_shared_dict = 'limits' })
    local ngx, context = chat(policy, 'anything', { max_tokens = 100 })
    assert.is_nil(ngx.exited)
    assert.same({ hits = 1 }, context.usage.deltas)
    assert.same({ hits = 1, prompt_tokens = 100, completion_tokens = 100, total_tokens = 200 }, fake.calls[1].usage)
    assert.equal('800', ngx.header['x-ratelimit-remaining-tokens'])
    assert.is_nil(ngx.header['x-ratelimit-limit-requests'])
    ngx = chat(policy, 'anything', { max_tokens = 900 })
    assert.equal(429, ngx.exited)
  end)

  it('keeps in-flight counts in worker memory, with a warning, when the shared dict is missing', function()
    local ngx = chat(llm_metrics.new(config({ limits_shared_dict = 'missing' })), 'granite-a', { max_tokens = 10 })
    assert.is_nil(ngx.exited)
    assert.truthy(ngx.warnings()[1]:find('lua_shared_dict missing is not defined', 1, true))
  end)
end)
