local fake_ngx = require('fake_ngx')
fake_ngx.install() -- the policy module registers its counters when loaded
local backend = require('apicast.backend_client')
local prometheus = require('apicast.prometheus')
local streams = require('helpers.streams')
local llm_metrics = require('init')

local CHAT_REQUEST = '{"model":"granite-req","messages":[{"role":"user","content":"hi"}]}'

local function default_context()
  return { service = { id = 42, backend = { endpoint = 'http://backend' } }, credentials = { user_key = 'key-1' } }
end

-- Runs one request through every phase the way APIcast does, checking that no chunk is altered.
local function run(policy, opts)
  local ngx = fake_ngx.install({ body = opts.request_body or CHAT_REQUEST, method = opts.method,
    body_file = opts.body_file })
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

before_each(function()
  backend.reset()
  prometheus.reset()
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
      { body = body, content_encoding = 'gzip' },
      { body = 'data: {"choices":[]}\n\n', content_type = 'text/event-stream' },
    }
    for _, case in ipairs(cases) do
      local ngx = run(llm_metrics.new({}), case)
      assert.equal(1, #ngx.warnings(), case.body)
    end
    assert.equal(0, #backend.calls)
    assert.same({}, prometheus.increments)
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

    it('leaves other bodies byte for byte and unread when injection is off or the method is not POST', function()
      local ngx = run(llm_metrics.new({}), { request_body = '{ "stream" : false }', body = '{}' })
      assert.equal('{ "stream" : false }', ngx.request.body)
      assert.is_nil(ngx.request.headers['Content-Length'])
      ngx = run(llm_metrics.new({ request_usage_injection = false }), { request_body = '{"stream":true}', body = '{}' })
      assert.is_false(ngx.request.body_read)
      assert.equal('{"stream":true}', ngx.request.body)
      ngx = run(llm_metrics.new({}), { method = 'GET', request_body = '{"stream":true}', body = '{}' })
      assert.is_false(ngx.request.body_read)
      assert.is_nil(ngx.request.headers['Accept-Encoding'])
    end)

    it('warns and goes on when the request body was buffered to a file', function()
      local ngx = fake_ngx.install({ body = nil, body_file = '/tmp/body' })
      llm_metrics.new({}):rewrite({})
      assert.equal(1, #ngx.warnings())
    end)
  end)
end)
