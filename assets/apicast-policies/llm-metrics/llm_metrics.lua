--- LLM token metering policy.
-- Reads token usage from OpenAI-compatible responses as they stream through (the body is never held or changed),
-- then counts prompt/completion/total tokens in Prometheus and reports them to the 3scale backend, once per 2xx
-- response (batched by default). Gzip and deflate bodies are inflated on the side when lua-zlib is available.
-- Anything unexpected (empty, non-JSON, truncated, undecodable, oversized bodies) passes through unmetered.

local policy = require('apicast.policy')
local _M = policy.new('LLM token metering', '1.0.0')

local usage = require('usage')
local token_reports = require('token_reports')
local prometheus = require('apicast.prometheus')

-- lua-zlib is optional: without it compressed responses pass through unmetered.
local zlib_loaded, zlib = pcall(require, 'zlib')
local new_inflate = zlib_loaded and type(zlib) == 'table' and zlib.inflate or nil

local pcall = pcall
local pairs = pairs
local tostring = tostring
local lower = string.lower
local find = string.find
local match = string.match

local new = _M.new

local DEFAULTS = {
  prompt_tokens_metric = 'prompt_tokens',
  completion_tokens_metric = 'completion_tokens',
  total_tokens_metric = 'total_tokens',
  max_json_bytes = 1024 * 1024,
  request_usage_injection = true,
  report_to_backend = true,
  prometheus = true,
  report_interval_seconds = 5,
  batch_shared_dict = '',
}

-- Content-Encoding values lua-zlib's inflate (gzip or zlib header, detected) decodes.
local INFLATABLE = { gzip = true, ['x-gzip'] = true, deflate = true }

local USAGE_FIELDS = { 'prompt_tokens', 'completion_tokens', 'total_tokens' }
local LOG_PREFIX = '[llm_metrics] '

-- The APIcast wrapper returns nil when the prometheus shared dict is absent; it caches metrics by name, so
-- registering again when the policy module is re-loaded for a new configuration is harmless.
local counters = {}
for _, field in ipairs(USAGE_FIELDS) do
  counters[field] = prometheus('counter', 'llm_' .. field .. '_total',
    'Tokens (' .. field .. ') of metered LLM responses', { 'service_id', 'model' })
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
  self.metric_names = {
    prompt_tokens = self.config.prompt_tokens_metric,
    completion_tokens = self.config.completion_tokens_metric,
    total_tokens = self.config.total_tokens_metric,
  }
  return self
end

local function warn(...)
  ngx.log(ngx.WARN, LOG_PREFIX, ...)
end

-- A request body the model server reads as JSON: Content-Type absent, application/json or +json.
local function json_request()
  local content_type = ngx.var.http_content_type
  return content_type == nil or content_type == 'application/json' or find(lower(content_type), 'json', 1, true)
end

function _M:rewrite(context)
  -- Only POST requests (completions, chat completions, embeddings) carry usage: the others are not looked at in any
  -- phase, which a missing request state tells the later phases.
  if ngx.req.get_method() ~= 'POST' then
    return
  end
  local state = {}
  context[self] = state
  -- Compressed responses cannot be metered; ask the upstream for identity encoding.
  ngx.req.clear_header('Accept-Encoding')

  if not self.config.request_usage_injection or not json_request() then
    return
  end
  ngx.req.read_body()
  local body = ngx.req.get_body_data()
  if not body then
    if ngx.req.get_body_file() then
      warn('request body is in a temporary file; stream_options.include_usage not checked')
    end
    return
  end
  -- Only a body that mentions "stream" can need a change. Decoding a prompt costs time, so the others are decoded
  -- later and only when the response names no model.
  if not find(body, '"stream"', 1, true) then
    state.request_body = body
    return
  end
  local ok, rewritten, model = pcall(usage.rewrite_request, body)
  if not ok then
    warn('could not inspect the request body: ', tostring(rewritten))
    return
  end
  state.request_model = model
  if rewritten then
    ngx.req.set_body_data(rewritten)
    ngx.req.set_header('Content-Length', tostring(#rewritten))
  end
end

local function parser_for(self, content_type)
  if content_type == 'application/json' then -- the usual case, without a copy
    return 'json', usage.new_json_scanner(self.config.max_json_bytes)
  end
  content_type = lower(content_type or '')
  if find(content_type, 'text/event-stream', 1, true) then
    return 'sse', usage.new_sse_parser()
  elseif find(content_type, 'application/json', 1, true) or find(content_type, '+json', 1, true) then
    return 'json', usage.new_json_scanner(self.config.max_json_bytes)
  end
end

-- The parser fed with the decoded body, or nil when the Content-Encoding cannot be decoded here.
local function decoding(parser, encoding)
  if not encoding then
    return parser
  end
  encoding = lower(match(tostring(encoding), '^%s*(.-)%s*$'))
  if encoding == '' or encoding == 'identity' then
    return parser
  end
  if not INFLATABLE[encoding] then
    warn('response is ', encoding, '-encoded; not metered')
    return nil
  end
  if not new_inflate then
    warn('response is ', encoding, '-encoded and lua-zlib is not installed; not metered')
    return nil
  end
  return usage.new_inflating_parser(parser, new_inflate)
end

function _M:header_filter(context)
  local state = context[self]
  if not state then
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
  parser = decoding(parser, ngx.header['Content-Encoding'])
  if not parser then
    return
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
  -- Observe only: ngx.arg[1] is never modified, so the client gets exactly what the upstream sent (still
  -- compressed when it was).
  local ok, err = pcall(parser.feed, parser, ngx.arg[1])
  if not ok then
    warn('usage parser failed, response not metered: ', tostring(err))
    state.parser = nil
  end
end

local function count_in_prometheus(found, service_id, model)
  local labels = { service_id, model }
  for _, field in ipairs(USAGE_FIELDS) do
    local counter = counters[field]
    if counter and found[field] and found[field] > 0 then
      counter:inc(found[field], labels)
    end
  end
end

-- Runs once per request, after the response went out: post_action in APIcast, log phase otherwise.
local function settle(self, context)
  local state = context[self]
  if not state or state.settled then
    return
  end
  state.settled = true
  local parser = state.parser
  if not parser then
    return
  end
  local ok, found = pcall(parser.usage, parser)
  if not ok or not found then
    if state.mode == 'json' and parser.finished and not parser.failed and not parser.usage_key_seen then
      -- A complete JSON object without usage (e.g. /tokenize, /v1/models): nothing to meter, nothing wrong.
      ngx.log(ngx.INFO, LOG_PREFIX, 'no usage in the JSON response; nothing to meter')
    else
      warn('no token usage in the ', state.mode, ' response (', tostring(state.status), '); not metered')
    end
    return
  end
  local service = context.service
  local service_id = service and service.id and tostring(service.id) or 'unknown'
  local model = parser:model() or state.request_model or usage.request_model(state.request_body) or 'unknown'

  if self.config.prometheus then
    count_in_prometheus(found, service_id, model)
  end

  if not self.config.report_to_backend then
    return
  end
  local deltas = {} -- metric, tokens, metric, tokens, ...: an array is cheaper to build and walk than a hash
  for _, field in ipairs(USAGE_FIELDS) do
    local tokens = found[field]
    if tokens and tokens > 0 then
      deltas[#deltas + 1] = self.metric_names[field]
      deltas[#deltas + 1] = tokens
    end
  end
  if #deltas == 0 then
    return
  end
  local credential_type, credential = token_reports.credential_of(context.credentials)
  if not (service and service.id and credential_type) then
    warn('no service or application credentials in the request context; tokens not reported to 3scale')
    return
  end
  local interval = self.config.report_interval_seconds
  if interval > 0 then
    local batcher = self.batcher or token_reports.batcher(self.config.batch_shared_dict, interval)
    self.batcher = batcher -- the worker's batcher for this configuration, found once
    batcher:add(service, credential_type, credential, deltas)
  else
    token_reports.report(service, credential_type, credential, deltas)
  end
end

function _M:post_action(context)
  settle(self, context)
end

function _M:log(context)
  settle(self, context)
end

return _M
