--- LLM token metering policy.
-- Reads token usage from OpenAI-compatible responses as they stream through (the body is never held or changed),
-- then counts prompt/completion/total (and cached prompt / reasoning) tokens in Prometheus and reports them to the
-- 3scale backend, once per 2xx response (batched by default). Anything unexpected (empty, non-JSON, compressed,
-- truncated, oversized bodies) passes through unmetered.
-- Optional, off by default: routing by the request's model to one of several predictors (`routing_models`), the
-- caller's model list and usage answered by the gateway, admission (the caller's token limits checked with the
-- 3scale backend before the model runs) and OpenAI's x-ratelimit-* headers.
-- Place it before the `apicast` policy: its access phase then runs after APIcast's rewrite (credentials, mapping-rule
-- usage) and before APIcast's access (authrep), and its content phase before APIcast's.

local policy = require('apicast.policy')
local _M = policy.new('LLM token metering', '1.0.0')

local usage = require('llm_metrics_usage')
local reports = require('llm_metrics_reports')
local limits = require('llm_metrics_limits')
local backend = require('llm_metrics_backend')
local prometheus = require('apicast.prometheus')

local pcall = pcall
local pairs = pairs
local ipairs = ipairs
local type = type
local tostring = tostring
local tonumber = tonumber
local lower = string.lower
local find = string.find
local sub = string.sub
local match = string.match
local format = string.format

local new = _M.new

local DEFAULTS = {
  prompt_tokens_metric = 'prompt_tokens',
  completion_tokens_metric = 'completion_tokens',
  total_tokens_metric = 'total_tokens',
  cached_prompt_tokens_metric = '',
  reasoning_tokens_metric = '',
  max_json_bytes = 1024 * 1024,
  max_request_body_bytes = 8 * 1024 * 1024,
  request_usage_injection = true,
  report_to_backend = true,
  prometheus = true,
  report_interval_seconds = 5,
  batch_shared_dict = '',
  routing_models = {},
  models_path = '/v1/models',
  admission = false,
  admission_chars_per_token = 4,
  admission_default_max_tokens = 1024,
  admission_failure_mode = 'open',
  rate_limit_headers = false,
  usage_path = '',
  limits_cache_seconds = 5,
  limits_backend_timeout_ms = 500,
  limits_shared_dict = 'rate_limit_headers',
}

local FIELDS = usage.FIELDS -- prompt, completion, total, cached prompt, reasoning tokens
local TOKEN_FIELDS = { 'prompt_tokens', 'completion_tokens', 'total_tokens' } -- what an estimate predicts
local LOG_PREFIX = '[llm_metrics] '
local JSON = 'application/json'

-- The APIcast wrapper returns nil when the prometheus shared dict is absent; it caches metrics by name, so
-- registering again when the policy module is re-loaded for a new configuration is harmless.
local counters = {}
for _, field in ipairs(FIELDS) do
  counters[field] = prometheus('counter', 'llm_' .. field .. '_total',
    'Tokens (' .. field .. ') of metered LLM responses', { 'service_id', 'model' })
end
local backend_failures = prometheus('counter', 'llm_limits_backend_failures_total',
  'Requests for which the 3scale backend could not be asked about limits', { 'service_id', 'failure_mode' })
local rejections = prometheus('counter', 'llm_admission_rejections_total',
  'Requests the policy refused before the model ran', { 'service_id', 'code' })

local function warn(...)
  ngx.log(ngx.WARN, LOG_PREFIX, ...)
end

local function inc(counter, labels)
  if counter then
    counter:inc(1, labels)
  end
end

function _M.new(config)
  local self = new(config)
  config = config or {}
  self.config = {}
  for key, default in pairs(DEFAULTS) do
    local value = config[key]
    if value == nil then
      value = default
    end
    self.config[key] = value
  end
  local c = self.config
  self.metric_names = {
    prompt_tokens = c.prompt_tokens_metric,
    completion_tokens = c.completion_tokens_metric,
    total_tokens = c.total_tokens_metric,
    cached_prompt_tokens = c.cached_prompt_tokens_metric,
    reasoning_tokens = c.reasoning_tokens_metric,
  }
  self.models = limits.models(c.routing_models)
  self.routing = #self.models.list > 0
  -- The caller's limits are needed for routing (which models the plan includes), admission, headers and usage.
  self.limits = self.routing or c.admission or c.rate_limit_headers or c.usage_path ~= ''
  -- Requests are decoded and estimated (and their tokens counted in flight) for admission and headers.
  self.estimating = c.admission or c.rate_limit_headers
  if c.admission or c.rate_limit_headers or c.usage_path ~= '' then
    local ledger_name = c.limits_shared_dict
    self.ledger_name = ledger_name
    self.on_sent = function(service_id, credential, metric, value)
      backend.ledger(ledger_name):acknowledged(backend.prefix(service_id, credential), metric, value)
    end
  end
  return self
end

local function ledger_of(self)
  return self.ledger_name and backend.ledger(self.ledger_name)
end

--- Ends the request with a JSON body (status, extra headers), the way APIcast's errors.lua ends requests.
local function answer(status, body, headers)
  ngx.status = status
  ngx.header['Content-Type'] = JSON
  for name, value in pairs(headers or {}) do
    ngx.header[name] = value
  end
  ngx.print(body)
  return ngx.exit(status)
end

local function error_answer(status, message, error_type, param, code, headers)
  return answer(status, limits.error_body(message, error_type, param, code), headers)
end

-- A request body the model server reads as JSON: Content-Type absent, application/json or +json.
local function json_request()
  local content_type = ngx.var.http_content_type
  return content_type == nil or content_type == JSON or find(lower(content_type), 'json', 1, true)
end

--- The request body, read from memory or from the temporary file nginx spooled it to (bodies larger than
-- client_body_buffer_size, which APIcast leaves at nginx's default). Returns body, or nil and why (nil when there is
-- no body) and the body's size when known.
local function read_request_body(max_bytes)
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if body then
    if #body > max_bytes then
      return nil, 'is larger than max_request_body_bytes', #body
    end
    return body
  end
  local path = ngx.req.get_body_file()
  if not path then
    return nil
  end
  local file, err = io.open(path, 'rb')
  if not file then
    return nil, 'could not be read from ' .. tostring(path) .. ': ' .. tostring(err)
  end
  local size = file:seek('end')
  if not size or size > max_bytes then
    file:close()
    return nil, 'is larger than max_request_body_bytes', size
  end
  file:seek('set', 0)
  body = file:read(size) or ''
  file:close()
  return body
end

--- The gateway's own endpoints (GET): 'models' (with an id for /v1/models/{id}), 'usage', or nil.
local function own_endpoint(self, uri)
  local c = self.config
  if c.usage_path ~= '' and uri == c.usage_path then
    return 'usage'
  end
  if self.routing then
    local path = c.models_path
    if uri == path then
      return 'models'
    end
    if sub(uri, 1, #path + 1) == path .. '/' and #uri > #path + 1 then
      return 'models', sub(uri, #path + 2)
    end
  end
  return nil
end

function _M:rewrite(context)
  local method = ngx.req.get_method()
  if method == 'GET' and self.limits then
    local endpoint, model_id = own_endpoint(self, ngx.var.uri)
    if endpoint then
      context[self] = { endpoint = endpoint, model_id = model_id }
    end
    return
  end
  -- Only POST requests (completions, chat completions, responses, embeddings...) carry usage: the others are not
  -- looked at in any phase, which a missing request state tells the later phases.
  if method ~= 'POST' then
    return
  end
  local state = {}
  context[self] = state
  -- Compressed responses cannot be metered; ask the upstream for identity encoding.
  ngx.req.clear_header('Accept-Encoding')

  local decode = self.routing or self.estimating
  -- The Responses API always reports usage (in response.completed) and has no stream_options: vLLM would only log it
  -- as an ignored field (protocol.py 0.11.0: ResponsesRequest L266, OpenAIBaseModel L66-98).
  local inject = self.config.request_usage_injection and json_request() and not find(ngx.var.uri or '', '/responses/?$')
  if not decode and not inject then
    return
  end
  local body, why, size = read_request_body(self.config.max_request_body_bytes)
  if not body then
    state.body_bytes = size or tonumber(ngx.var.http_content_length)
    if why then
      state.body_unread = true
      warn('request body ', why, size and (' (' .. size .. ' bytes)') or '', '; not inspected')
    end
    return
  end
  state.body_bytes = #body
  -- Decoding a prompt costs time: without routing or estimates only a body that mentions "stream" (which can need a
  -- change) is decoded now; the others only if the response names no model and the Prometheus label needs one.
  local request
  if decode or find(body, '"stream"', 1, true) then
    local ok, decoded = pcall(usage.decode_request, body)
    request = ok and decoded or nil
    state.request = request
    state.request_model = request and usage.model_name(request.model)
  else
    state.request_body = body
  end
  if not inject or not request then
    return
  end
  local ok, rewritten = pcall(usage.rewrite_request, body, request)
  if not ok then
    warn('could not inspect the request body: ', tostring(rewritten))
    return
  end
  if rewritten then
    ngx.req.set_body_data(rewritten)
    ngx.req.set_header('Content-Length', tostring(#rewritten))
  end
end

---------------------------------------------------------------------------------------------------------------------
-- access: routing, the caller's limits, admission, headers, the gateway's own endpoints
---------------------------------------------------------------------------------------------------------------------

-- The request's hit goes to the model's method (a child of hits in 3scale, so hits still counts it once): APIcast
-- authorizes and reports context.usage (proxy.lua L268-269, L300-311); Usage:merge drops a metric whose delta falls
-- to 0 (usage.lua L78-90).
local function charge_model_method(context, entry)
  local current = context.usage
  if type(current) ~= 'table' or type(current.deltas) ~= 'table' then
    return
  end
  local Usage = require('apicast.usage')
  if (current.deltas.hits or 0) >= 1 then
    local minus = Usage.new()
    minus:add('hits', -1)
    current:merge(minus)
  end
  current:add(entry.method, 1)
end

-- Predicted usage of the request: token metric -> estimate (product-wide and the model's own), request metric -> 1.
local function predict(self, state, entry)
  local tokens, requests = {}, {}
  if self.estimating then
    local c = self.config
    local prompt, completion = limits.estimate(state.request, state.body_bytes, ngx.var.uri,
      { chars_per_token = c.admission_chars_per_token, default_max_tokens = c.admission_default_max_tokens })
    local values = { prompt_tokens = prompt, completion_tokens = completion, total_tokens = prompt + completion }
    for _, field in ipairs(TOKEN_FIELDS) do
      local metric, value = self.metric_names[field], values[field]
      if value > 0 then
        tokens[metric] = value
        if entry then
          tokens[limits.model_metric(entry, metric)] = value
        end
      end
    end
  end
  if entry then
    requests[entry.method] = 1
  else
    requests.hits = 1
  end
  return tokens, requests
end

-- Every request counts; only a call that failed now is logged (a remembered failure would log per request).
local function count_failure(self, context, failure, remembered)
  local service = context.service
  inc(backend_failures, { tostring(service and service.id or 'unknown'), self.config.admission_failure_mode })
  if not remembered then
    warn('limits not checked for ', tostring(self.config.limits_cache_seconds), ' s: ', tostring(failure))
  end
end

local function reject(context, code)
  local service = context.service
  inc(rejections, { tostring(service and service.id or 'unknown'), code })
end

local function refuse_credentials(context, denied)
  reject(context, denied.code)
  local code = denied.status == 401 and 'invalid_api_key' or denied.code
  return error_answer(denied.status, 'Authentication failed: ' .. tostring(denied.message or denied.code),
    'invalid_request_error', nil, code)
end

local function unavailable()
  return error_answer(503, 'The usage limits could not be checked; please try again later.', 'server_error', nil,
    'limits_unavailable', { ['Retry-After'] = '1' })
end

local function view(self, context, state, ask)
  local c = self.config
  return backend.view(context.service, context.credentials, { ttl = c.limits_cache_seconds,
    timeout_ms = c.limits_backend_timeout_ms, usage = ask, ledger = ledger_of(self), ledger_prefix = state.prefix })
end

local function serve_endpoint(self, context, state)
  local _, credential = reports.credential_of(context.credentials)
  if not (context.service and credential) then
    return error_answer(401, 'You did not provide an API key.', 'invalid_request_error', nil, 'invalid_api_key')
  end
  state.prefix = backend.prefix(context.service.id, credential)
  local status, failure, remembered = view(self, context, state, nil)
  if not status then
    count_failure(self, context, failure, remembered)
    if state.endpoint == 'models' and self.config.admission_failure_mode == 'open' then
      if state.model_id then
        local document = limits.model_document(self.models, nil, state.model_id)
        if document then
          return answer(200, document)
        end
      else
        return answer(200, limits.models_document(self.models, nil))
      end
    else
      return unavailable()
    end
  elseif status.denied then
    return refuse_credentials(context, status.denied)
  elseif state.endpoint == 'usage' then
    local ledger = ledger_of(self)
    local offsets = ledger and ledger:offsets(state.prefix, status) or {}
    return answer(200, limits.usage_document(status, self.models, self.metric_names, offsets, ngx.now()))
  elseif not state.model_id then
    return answer(200, limits.models_document(self.models, status))
  else
    local document = limits.model_document(self.models, status, state.model_id)
    if document then
      return answer(200, document)
    end
  end
  return error_answer(404, format('The model `%s` does not exist', state.model_id), 'invalid_request_error', 'model',
    'model_not_found')
end

local function set_of(tbl)
  local set = {}
  for metric in pairs(tbl) do
    set[metric] = true
  end
  return set
end

function _M:access(context)
  local state = context[self]
  if not state or not self.limits then
    return
  end
  if state.endpoint then
    return serve_endpoint(self, context, state)
  end
  local c = self.config
  local entry
  if self.routing then
    if state.body_unread then
      return error_answer(413, format('The request body is larger than %d bytes.', c.max_request_body_bytes),
        'invalid_request_error', nil, 'request_too_large')
    end
    local model = state.request_model
    if not model then
      if type(state.request) ~= 'table' then
        return error_answer(400, 'We could not parse the JSON body of your request.', 'invalid_request_error', nil,
          nil)
      end
      return error_answer(400, 'You must provide a model parameter.', 'invalid_request_error', 'model', nil)
    end
    entry = self.models.by_name[model]
    if not entry then
      reject(context, 'model_not_found')
      return error_answer(404, format('The model `%s` does not exist', model), 'invalid_request_error', 'model',
        'model_not_found')
    end
    local upstream, err = require('apicast.upstream').new(entry.upstream)
    if not upstream then
      warn('upstream of model ', entry.name, ' (', entry.upstream, ') is invalid: ', tostring(err))
      return error_answer(503, format('The model `%s` is not available', model), 'server_error', 'model', nil)
    end
    state.route, state.upstream = entry, upstream
    charge_model_method(context, entry)
  end

  local service = context.service
  local _, credential = reports.credential_of(context.credentials)
  if not (service and credential) then
    return -- no application to check (APIcast refuses such requests itself)
  end
  local prefix = backend.prefix(service.id, credential)
  state.prefix = prefix
  local ledger = ledger_of(self)
  local tokens, requests = predict(self, state, entry)

  -- This request counts before anything is checked (atomic increments, so concurrent requests of every worker see
  -- each other), and is taken back if it is refused: its token estimate is in flight, its hit known.
  local hits = {}
  if ledger then
    for metric, value in pairs(tokens) do
      ledger:reserve(prefix, metric, value)
    end
    state.reservation = tokens
  end
  local function take_back()
    if ledger then
      for metric, value in pairs(tokens) do
        ledger:adjust(prefix, metric, -value)
      end
      for metric, value in pairs(hits) do
        ledger:add_sent(prefix, metric, -value)
      end
    end
    state.reservation = nil
  end

  local ask
  if c.admission then
    -- The backend answers for everything this gateway has in flight for the application, this request included.
    ask = {}
    for metric, value in pairs(tokens) do
      ask[metric] = ledger and ledger:pending(prefix, metric) or value
    end
    for metric, value in pairs(requests) do
      ask[metric] = value
    end
  end
  local status, failure, remembered = view(self, context, state, ask)
  if not status then
    count_failure(self, context, failure, remembered)
    if c.admission_failure_mode == 'closed' then
      take_back()
      reject(context, 'limits_unavailable')
      return unavailable()
    end
  elseif status.denied then
    take_back()
    return refuse_credentials(context, status.denied)
  elseif entry and not limits.permitted(status, entry) then
    take_back()
    reject(context, 'model_not_permitted')
    return error_answer(403, format('The model `%s` is not included in your plan', entry.name),
      'invalid_request_error', 'model', 'model_not_permitted')
  end

  local own = {}
  for metric, value in pairs(tokens) do
    own[metric] = value
  end
  for metric, value in pairs(requests) do
    own[metric] = value
  end
  own = limits.expand(own, status and status.children)
  if ledger then
    for metric, value in pairs(own) do
      if not tokens[metric] then
        hits[metric] = value
        ledger:add_sent(prefix, metric, value)
      end
    end
  end
  if not status then
    return
  end
  local now = ngx.now()
  -- What the backend does not know yet, this request included.
  local offsets = ledger and ledger:offsets(prefix, status) or {}

  if c.admission and status.verdict ~= 'allowed' then
    local others = {}
    for metric, value in pairs(offsets) do
      others[metric] = value - (ledger and own[metric] or 0)
    end
    local broken = limits.exceeded(status, own, others, now)
    if status.verdict == 'denied' and #broken == 0 then
      -- The backend refused this usage for a reason the limits it listed do not show.
      take_back()
      reject(context, 'rate_limit_exceeded')
      return error_answer(429, 'Rate limit reached; please try again later.', 'requests', nil, 'rate_limit_exceeded')
    end
    if #broken > 0 then
      take_back()
      local model_of_method = {}
      for _, item in ipairs(self.models.list) do
        model_of_method[item.method] = item.name
      end
      local code, body, headers = limits.refusal(broken, now, model_of_method)
      reject(context, match(body, '"code":"([^"]+)"') or tostring(code))
      return answer(code, body, headers)
    end
  end

  if c.rate_limit_headers then
    if not ledger then
      for metric, value in pairs(own) do
        offsets[metric] = (offsets[metric] or 0) + value
      end
    end
    state.headers = limits.ratelimit_headers(status, set_of(tokens), set_of(limits.expand(requests, status.children)),
      offsets, now)
  end
end

function _M:content(context)
  local state = context[self]
  local upstream = state and state.upstream
  if upstream then
    -- Like APIcast's routing and upstream policies (routing.lua L73-79, upstream.lua L65-73): ngx.exec to @upstream,
    -- so APIcast's own content phase does not run.
    return upstream:call(context)
  end
end

---------------------------------------------------------------------------------------------------------------------
-- Response
---------------------------------------------------------------------------------------------------------------------

local function parser_for(self, content_type)
  if content_type == JSON then -- the usual case, without a copy
    return 'json', usage.new_json_scanner(self.config.max_json_bytes)
  end
  content_type = lower(content_type or '')
  if find(content_type, 'text/event-stream', 1, true) then
    return 'sse', usage.new_sse_parser()
  elseif find(content_type, JSON, 1, true) or find(content_type, '+json', 1, true) then
    return 'json', usage.new_json_scanner(self.config.max_json_bytes)
  end
end

function _M:header_filter(context)
  local state = context[self]
  if not state then
    return
  end
  local headers = state.headers
  if headers then
    for name, value in pairs(headers) do
      ngx.header[name] = value
    end
  end
  if state.endpoint then
    return
  end
  local status = ngx.status
  state.status = status
  if status < 200 or status > 299 then
    return
  end
  local mode, parser = parser_for(self, ngx.header['Content-Type'])
  if not mode then
    return
  end
  local encoding = ngx.header['Content-Encoding']
  if encoding then
    encoding = lower(match(tostring(encoding), '^%s*(.-)%s*$'))
    if encoding ~= '' and encoding ~= 'identity' then
      -- Accept-Encoding was removed, so only an upstream that compresses anyway gets here.
      warn('response is ', encoding, '-encoded; not metered')
      return
    end
  end
  if mode == 'json' then
    local length = tonumber(ngx.header['Content-Length'])
    if length and length > self.config.max_json_bytes then
      warn('JSON response of ', length, ' bytes is larger than max_json_bytes; not metered')
      return
    end
  end
  state.mode, state.parser = mode, parser
end

function _M:body_filter(context)
  local state = context[self]
  local parser = state and state.parser
  if not parser then
    return
  end
  -- Observe only: ngx.arg[1] is never modified, so the client gets exactly what the upstream sent.
  local ok, err = pcall(parser.feed, parser, ngx.arg[1])
  if not ok then
    warn('usage parser failed, response not metered: ', tostring(err))
    state.parser = nil
  end
end

local function count_in_prometheus(found, service_id, model)
  local labels = { service_id, model }
  for _, field in ipairs(FIELDS) do
    local counter = counters[field]
    if counter and found[field] and found[field] > 0 then
      counter:inc(found[field], labels)
    end
  end
end

-- The usage of the response, or nil (with a warning unless it is a complete JSON without usage).
local function measured(state)
  local parser = state.parser
  if not parser then
    return nil
  end
  local ok, found = pcall(parser.usage, parser)
  if ok and found then
    return found
  end
  if state.mode == 'json' and parser.finished and not parser.failed and not parser.usage_key_seen then
    -- A complete JSON object without usage (e.g. /tokenize, /v1/models): nothing to meter, nothing wrong.
    ngx.log(ngx.INFO, LOG_PREFIX, 'no usage in the JSON response; nothing to meter')
  else
    warn('no token usage in the ', state.mode, ' response (', tostring(state.status), '); not metered')
  end
  return nil
end

-- metric, tokens, metric, tokens, ...: an array is cheaper to build and walk than a hash.
local function deltas_of(self, found, entry)
  local deltas = {}
  for _, field in ipairs(FIELDS) do
    local tokens, metric = found[field], self.metric_names[field]
    if tokens and tokens > 0 and metric ~= '' then
      deltas[#deltas + 1] = metric
      deltas[#deltas + 1] = tokens
      if entry then
        deltas[#deltas + 1] = limits.model_metric(entry, metric)
        deltas[#deltas + 1] = tokens
      end
    end
  end
  return deltas
end

-- The estimate of an admitted request leaves the in-flight counts; what will be reported stays until the backend
-- acknowledges it.
local function release(self, state, deltas)
  local reservation = state.reservation
  if not reservation then
    return
  end
  local ledger = ledger_of(self)
  local reported = {}
  for i = 1, #deltas, 2 do
    reported[deltas[i]] = deltas[i + 1]
  end
  for metric, estimate in pairs(reservation) do
    ledger:adjust(state.prefix, metric, (reported[metric] or 0) - estimate)
  end
end

-- Runs once per request, after the response went out: post_action in APIcast, log phase otherwise.
local function settle(self, context)
  local state = context[self]
  if not state or state.settled or state.endpoint then
    return
  end
  state.settled = true
  local found = measured(state)
  local service = context.service
  local credential_type, credential = reports.credential_of(context.credentials)
  local reporting = self.config.report_to_backend and service and service.id and credential_type
  local deltas = found and reporting and deltas_of(self, found, state.route) or {}
  release(self, state, deltas)
  if not found then
    return
  end
  local service_id = service and service.id and tostring(service.id) or 'unknown'
  if self.config.prometheus then
    local model = state.parser:model() or state.request_model or usage.request_model(state.request_body) or 'unknown'
    count_in_prometheus(found, service_id, model)
  end
  if not self.config.report_to_backend then
    return
  end
  if not reporting then
    warn('no service or application credentials in the request context; tokens not reported to 3scale')
    return
  end
  if #deltas == 0 then
    return
  end
  local interval = self.config.report_interval_seconds
  if interval > 0 then
    local batcher = self.batcher
      or reports.batcher(self.config.batch_shared_dict, interval, self.ledger_name, self.on_sent)
    self.batcher = batcher -- the worker's batcher for this configuration, found once
    batcher:add(service, credential_type, credential, deltas)
  else
    reports.report(service, credential_type, credential, deltas, self.on_sent)
  end
end

function _M:post_action(context)
  settle(self, context)
end

function _M:log(context)
  settle(self, context)
end

return _M
