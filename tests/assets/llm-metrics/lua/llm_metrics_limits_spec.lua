local limits = require('llm_metrics_limits')
local threescale = require('helpers.threescale')
local cjson = require('cjson')

local NOW = 1796407290 -- 2026-12-04 18:01:30 UTC

describe('models', function()
  it('derives 3scale-safe keys, the method and per-model metrics', function()
    assert.equal('granite_3_3_8b_instruct', limits.model_key('granite-3.3-8B-Instruct'))
    assert.equal('meta_llama_llama_3_1_8b', limits.model_key('meta-llama/Llama-3.1-8B'))
    local models = limits.models({
      { name = 'granite-3.3-8b', upstream = 'http://a:8080', created = 1760000000 },
      { name = 'llama', upstream = 'http://b', system_name = 'llama31', owned_by = 'meta' },
      { name = 'granite-3.3-8b', upstream = 'http://dup' }, -- a second entry for a name is ignored
      { upstream = 'http://no-name' },
    })
    assert.equal(2, #models.list)
    assert.same({ name = 'granite-3.3-8b', upstream = 'http://a:8080', key = 'granite_3_3_8b',
      method = 'model_granite_3_3_8b', owned_by = 'vllm', created = 1760000000 }, models.by_name['granite-3.3-8b'])
    assert.equal('model_llama31', models.by_name.llama.method)
    assert.equal('llama31_total_tokens', limits.model_metric(models.by_name.llama, 'total_tokens'))
    assert.same({}, limits.models(nil).list)
  end)
end)

describe('estimate', function()
  local opts = { chars_per_token = 4, default_max_tokens = 100 }

  it('counts the characters of the prompt text, not the parameters, and adds max_tokens', function()
    local request = { model = 'a-very-long-model-name-that-is-not-prompt', temperature = 0.2,
      messages = { { role = 'user', content = 'Hello world!' } }, max_tokens = 50 }
    -- 'user' (4) + 'Hello world!' (12) = 16 characters -> 4 tokens
    assert.same({ 4, 50 }, { limits.estimate(request, 999, '/v1/chat/completions', opts) })
  end)

  it('counts UTF-8 characters, not bytes, and rounds up', function()
    local request = { prompt = '世界🚀x' } -- 4 characters, 11 bytes
    assert.same({ 1, 100 }, { limits.estimate(request, 11, '/v1/completions', opts) })
    assert.same({ 2, 100 }, { limits.estimate({ prompt = 'abcde' }, 5, '/v1/completions', opts) })
  end)

  it('takes max_completion_tokens over max_tokens over max_output_tokens, times n', function()
    local function completion(request, path)
      return select(2, limits.estimate(request, 0, path or '/v1/chat/completions', opts))
    end
    assert.equal(7, completion({ max_completion_tokens = 7, max_tokens = 9 }))
    assert.equal(9, completion({ max_tokens = 9, max_output_tokens = 11 }))
    assert.equal(11, completion({ max_output_tokens = 11 }, '/v1/responses'))
    assert.equal(100, completion({}))
    assert.equal(100, completion({ max_tokens = 0 }))
    assert.equal(100, completion({ max_tokens = 2.5 }))
    assert.equal(300, completion({ n = 3 }))
    assert.equal(30, completion({ max_tokens = 10, n = 3 }))
  end)

  it('counts token-id prompts one token per id', function()
    assert.same({ 5, 100 }, { limits.estimate({ prompt = { 1, 2, 3, 4, 5 } }, 0, '/v1/completions', opts) })
    assert.same({ 3, 0 }, { limits.estimate({ input = { { 1, 2 }, { 3 } } }, 0, '/v1/embeddings', opts) })
  end)

  it('predicts no completion for embeddings, pooling, score, rerank, classify, tokenize', function()
    for _, path in ipairs({ '/v1/embeddings', '/pooling', '/score', '/v1/score', '/rerank', '/v2/rerank',
      '/classify', '/tokenize', '/detokenize' }) do
      assert.same({ 2, 0 }, { limits.estimate({ input = 'abcdefgh', max_tokens = 50 }, 0, path, opts) }, path)
    end
  end)

  it('falls back to the body size when the body was not decoded', function()
    assert.same({ 250, 100 }, { limits.estimate(nil, 1000, '/v1/chat/completions', opts) })
    assert.same({ 286, 100 }, { limits.estimate(nil, 1000, '/v1/chat/completions',
      { chars_per_token = 3.5, default_max_tokens = 100 }) })
  end)
end)

describe('apisonator answers', function()
  it('reads times in apisonator format as Unix seconds', function()
    assert.equal(1796407260, limits.parse_time('2026-12-04 18:01:00 +0000'))
    assert.equal(1796407260, limits.parse_time('2026-12-04 19:01:00 +0100'))
    assert.equal(951782400, limits.parse_time('2000-02-29 00:00:00 +0000'))
    assert.is_nil(limits.parse_time('yesterday'))
  end)

  it('parses the usage reports, eternity limits and the hierarchy of an authorized status', function()
    local xml = threescale.status_xml({ now = NOW, plan = 'Gold & co', reports = {
      { metric = 'hits', period = 'minute', max = 10, current = 3 },
      { metric = 'total_tokens', period = 'day', max = 100000, current = 2500 },
      { metric = 'model_b', period = 'eternity', max = 0, current = 0 },
    }, hierarchy = { hits = { 'model_a', 'model_b' } } }):gsub('Gold & co', 'Gold &amp; co')
    local status = limits.parse_status(xml)
    assert.is_true(status.authorized)
    assert.equal('Gold & co', status.plan)
    assert.same({
      { metric = 'hits', period = 'minute', start_at = 1796407260, end_at = 1796407320, max = 10, current = 3,
        exceeded = false },
      { metric = 'total_tokens', period = 'day', start_at = 1796342400, end_at = 1796428800, max = 100000,
        current = 2500, exceeded = false },
      { metric = 'model_b', period = 'eternity', max = 0, current = 0, exceeded = false },
    }, status.reports)
    assert.same({ hits = { 'model_a', 'model_b' } }, status.children)
  end)

  it('parses a denial (409) and an error document', function()
    local denied = limits.parse_status(threescale.status_xml({ now = NOW, authorized = false,
      reports = { { metric = 'hits', period = 'minute', max = 1, current = 2 } } }))
    assert.is_false(denied.authorized)
    assert.equal('usage limits are exceeded', denied.reason)
    assert.is_true(denied.reports[1].exceeded)
    local err = limits.parse_status(threescale.error_xml('user_key_invalid', 'user key &quot;x&quot; is invalid'))
    assert.equal('user_key_invalid', err.error_code)
    assert.equal('user key "x" is invalid', err.error)
    assert.same({}, limits.parse_status(nil).reports)
  end)

  it("adds a method's usage to its parent like apisonator's process_parents", function()
    assert.same({ model_a = 1, hits = 1, total_tokens = 9 },
      limits.expand({ model_a = 1, total_tokens = 9 }, { hits = { 'model_a', 'model_b' } }))
    assert.same({ hits = 2, model_a = 1 }, limits.expand({ hits = 1, model_a = 1 }, { hits = { 'model_a' } }))
  end)
end)

describe('exceeded (apisonator Limits validator: current + usage <= max, metrics in usage only)', function()
  local status = limits.parse_status(threescale.status_xml({ now = NOW, reports = {
    { metric = 'total_tokens', period = 'minute', max = 1000, current = 600 },
    { metric = 'total_tokens', period = 'month', max = 5000, current = 4500 },
    { metric = 'hits', period = 'minute', max = 10, current = 9 },
    { metric = 'prompt_tokens', period = 'day', max = 1, current = 1 },
  } }))

  it('allows exactly up to the limit and refuses one over', function()
    assert.same({}, limits.exceeded(status, { total_tokens = 400 }, {}, NOW))
    local broken = limits.exceeded(status, { total_tokens = 401 }, {}, NOW)
    assert.equal(1, #broken)
    assert.equal('minute', broken[1].report.period)
    assert.equal(600, broken[1].used)
  end)

  it('adds what the backend does not know yet (offsets)', function()
    assert.equal(1, #limits.exceeded(status, { total_tokens = 100 }, { total_tokens = 301 }, NOW))
    assert.equal(2, #limits.exceeded(status, { total_tokens = 100 }, { total_tokens = 401 }, NOW))
  end)

  it('checks only the limits of metrics in the usage', function()
    assert.same({}, limits.exceeded(status, { completion_tokens = 10 ^ 9 }, {}, NOW))
    assert.equal(1, #limits.exceeded(status, { hits = 2 }, {}, NOW))
  end)

  it('treats a finished period as empty', function()
    assert.same({}, limits.exceeded(status, { total_tokens = 400, hits = 1 }, {}, NOW + 60))
  end)

  it('permits a model unless its method has a limit of 0', function()
    local plan = limits.parse_status(threescale.status_xml({ now = NOW, reports = {
      { metric = 'model_b', period = 'eternity', max = 0, current = 0 },
      { metric = 'model_a', period = 'minute', max = 5, current = 5 },
    } }))
    assert.is_true(limits.permitted(plan, { method = 'model_a' }))
    assert.is_false(limits.permitted(plan, { method = 'model_b' }))
    assert.is_true(limits.permitted(plan, { method = 'model_c' }))
  end)
end)

describe('refusal', function()
  local function report(metric, period, max)
    local start, finish = threescale.period_bounds(period, NOW)
    return { metric = metric, period = period, max = max, current = max, start_at = start, end_at = finish }
  end

  it('is a 429 rate_limit_exceeded for limits up to a day, Retry-After until the last one resets', function()
    local status, body, headers = limits.refusal({ { report = report('total_tokens', 'minute', 1000) },
      { report = report('hits', 'hour', 50) } }, NOW)
    assert.equal(429, status)
    local err = cjson.decode(body).error
    assert.equal('rate_limit_exceeded', err.code)
    assert.equal('requests', err.type)
    assert.equal(cjson.null, err.param)
    assert.equal('3510', headers['Retry-After']) -- 18:01:30 -> the hour ends at 19:00:00
    assert.equal('3510000', headers['retry-after-ms'])
    assert.is_nil(headers['x-should-retry'])
    assert.truthy(body:find('^{"error":{"message":"Rate limit reached: total_tokens per minute %(limit 1000%)'))
  end)

  it('is a 429 insufficient_quota for longer limits, not to be retried', function()
    local status, body, headers = limits.refusal({ { report = report('total_tokens', 'minute', 1000) },
      { report = report('total_tokens', 'month', 50000) } }, NOW)
    assert.equal(429, status)
    assert.equal('insufficient_quota', cjson.decode(body).error.code)
    assert.equal('insufficient_quota', cjson.decode(body).error.type)
    assert.equal('false', headers['x-should-retry'])
    assert.equal(tostring(1798761600 - NOW), headers['Retry-After']) -- 2027-01-01 00:00:00 UTC
  end)

  it('is a 403 for a limit of 0, naming the model when it is its method', function()
    local status, body, headers = limits.refusal({ { report = report('model_b', 'eternity', 0) } }, NOW,
      { model_b = 'granite-b' })
    assert.equal(403, status)
    assert.same({ message = 'The model `granite-b` is not included in your plan', type = 'invalid_request_error',
      param = 'model', code = 'model_not_permitted' }, cjson.decode(body).error)
    assert.same({}, headers)
    local _, other = limits.refusal({ { report = report('total_tokens', 'eternity', 0) } }, NOW, {})
    assert.equal('usage_not_permitted', cjson.decode(other).error.code)
  end)

  it('writes error bodies in OpenAI key order', function()
    assert.equal('{"error":{"message":"The model `x` does not exist","type":"invalid_request_error",'
      .. '"param":"model","code":"model_not_found"}}',
      limits.error_body('The model `x` does not exist', 'invalid_request_error', 'model', 'model_not_found'))
  end)
end)

describe('x-ratelimit-* headers', function()
  -- What OpenAI sends and clients read: Go-style durations such as 1s, 6m0s, 20ms (see the README for the sources).
  local GO_DURATION = '^%d+h%d+m%d+s$'

  it('formats resets as OpenAI durations', function()
    assert.equal('20ms', limits.duration(0.02))
    assert.equal('1ms', limits.duration(0.0001))
    assert.equal('1s', limits.duration(1))
    assert.equal('2s', limits.duration(1.2))
    assert.equal('59s', limits.duration(59))
    assert.equal('6m0s', limits.duration(360))
    assert.equal('1m1s', limits.duration(61))
    assert.equal('1h0m0s', limits.duration(3600))
    assert.equal('24h0m0s', limits.duration(86400))
    assert.equal('0s', limits.duration(0))
    assert.truthy(limits.duration(7322):find(GO_DURATION))
  end)

  it('takes the tightest limit on the request metrics, this request included', function()
    local status = limits.parse_status(threescale.status_xml({ now = NOW, reports = {
      { metric = 'total_tokens', period = 'minute', max = 10000, current = 2000 },
      { metric = 'total_tokens', period = 'day', max = 100000, current = 95000 },
      { metric = 'granite_total_tokens', period = 'minute', max = 9000, current = 1000 },
      { metric = 'hits', period = 'minute', max = 60, current = 10 },
      { metric = 'model_granite', period = 'day', max = 1000, current = 900 },
      { metric = 'prompt_tokens', period = 'minute', max = 1, current = 0 }, -- not a metric of this request
    } }))
    local headers = limits.ratelimit_headers(status, { total_tokens = true, granite_total_tokens = true },
      { hits = true, model_granite = true }, { total_tokens = 300, granite_total_tokens = 300, hits = 1,
        model_granite = 1 }, NOW)
    assert.same({
      ['x-ratelimit-limit-tokens'] = '100000',
      ['x-ratelimit-remaining-tokens'] = '4700',
      ['x-ratelimit-reset-tokens'] = '5h58m30s',
      ['x-ratelimit-limit-requests'] = '60',
      ['x-ratelimit-remaining-requests'] = '49',
      ['x-ratelimit-reset-requests'] = '30s',
    }, headers)
  end)

  it('sends no header for a kind without limits and no reset for eternity', function()
    local status = limits.parse_status(threescale.status_xml({ now = NOW, reports = {
      { metric = 'total_tokens', period = 'eternity', max = 500, current = 600 },
    } }))
    assert.same({ ['x-ratelimit-limit-tokens'] = '500', ['x-ratelimit-remaining-tokens'] = '0' },
      limits.ratelimit_headers(status, { total_tokens = true }, { hits = true }, {}, NOW))
  end)
end)

describe('documents', function()
  local models = limits.models({
    { name = 'granite', upstream = 'http://a', created = 1760000000 },
    { name = 'llama', upstream = 'http://b', owned_by = 'meta' },
  })
  local names = { prompt_tokens = 'prompt_tokens', completion_tokens = 'completion_tokens',
    total_tokens = 'total_tokens', cached_prompt_tokens = '', reasoning_tokens = '' }
  local status = limits.parse_status(threescale.status_xml({ now = NOW, reports = {
    { metric = 'model_llama', period = 'eternity', max = 0, current = 0 },
    { metric = 'llama_total_tokens', period = 'day', max = 10, current = 0 },
    { metric = 'granite_total_tokens', period = 'minute', max = 1000, current = 100 },
    { metric = 'total_tokens', period = 'month', max = 50000, current = 1200 },
    { metric = 'hits', period = 'minute', max = 60, current = 3 },
    { metric = 'custom', period = 'year', max = 5, current = 1 },
  } }))

  it('lists the models of the plan in the OpenAI list format', function()
    assert.same({ object = 'list', data = {
      { id = 'granite', object = 'model', created = 1760000000, owned_by = 'vllm' },
    } }, cjson.decode(limits.models_document(models, status)))
    assert.equal('{"object":"list","data":[{"id":"granite","object":"model","created":1760000000,"owned_by":"vllm"},'
      .. '{"id":"llama","object":"model","created":0,"owned_by":"meta"}]}', limits.models_document(models, nil))
    assert.is_nil(limits.model_document(models, status, 'llama'))
    assert.equal('granite', cjson.decode(limits.model_document(models, status, 'granite')).id)
  end)

  it('reports per model and period what is used, the limit and the reset', function()
    local doc = cjson.decode(limits.usage_document(status, models, names, { granite_total_tokens = 50 }, NOW))
    assert.equal('usage', doc.object)
    assert.equal(NOW, doc.generated_at)
    assert.same({ 'granite' }, doc.models)
    assert.same({
      { model = cjson.null, metric = 'hits', kind = 'requests', unit = 'requests', period = 'minute', used = 3,
        limit = 60, remaining = 57, period_start = 1796407260, period_end = 1796407320, reset_seconds = 30 },
      { model = cjson.null, metric = 'total_tokens', kind = 'total_tokens', unit = 'tokens', period = 'month',
        used = 1200, limit = 50000, remaining = 48800, period_start = 1796083200, period_end = 1798761600,
        reset_seconds = 1798761600 - NOW },
      { model = cjson.null, metric = 'custom', kind = 'other', unit = 'units', period = 'year', used = 1, limit = 5,
        remaining = 4, period_start = 1767225600, period_end = 1798761600, reset_seconds = 1798761600 - NOW },
      { model = 'granite', metric = 'granite_total_tokens', kind = 'total_tokens', unit = 'tokens',
        period = 'minute', used = 150, limit = 1000, remaining = 850, period_start = 1796407260,
        period_end = 1796407320, reset_seconds = 30 },
    }, doc.data)
  end)

  it('writes empty lists as JSON arrays', function()
    local empty = limits.parse_status(threescale.status_xml({ now = NOW, reports = {} }))
    assert.equal('{"object":"list","data":[]}', limits.models_document(limits.models({}), empty))
    assert.truthy(limits.usage_document(empty, limits.models({}), names, {}, NOW):find('"models":[],"data":[]}', 1,
      true))
  end)
end)
