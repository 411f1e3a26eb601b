--- The caller's limits from the 3scale backend, and this gateway's own counters (module `llm_metrics_backend`).
--
-- * `fetch`: one Service Management API authorize call (GET /transactions/authorize.xml, which checks limits without
--   reporting) with the request's predicted usage, asking for the XML body that lists every limit of the caller's
--   plan with its current value, and for the metric hierarchy. The URL is built like APIcast's backend client
--   (gateway/src/apicast/backend_client.lua L29 BACKEND_ENDPOINT_OVERRIDE, L49-93 endpoint, service_id and
--   service_token/provider_key, Host header, L99-121 query), but with its own timeouts and without `no_body=1`
--   (APIcast's client always asks for no body, L169-177), through lua-resty-http (`resty.http`, in APIcast's
--   Roverfile.lock).
-- * `view`: the parsed answer cached per application in the worker for a short time; a failed call is remembered for
--   the same time (per service), so a slow or down backend costs one timeout per interval, not one per request.
-- * `ledger`: per application and metric, in a lua_shared_dict shared by the workers: `pending` = token estimates of
--   admitted requests and measured tokens not yet acknowledged by the backend, `sent` = what this gateway delivered
--   since it started (token reports acknowledged, request hits when admitted). What the backend does not know yet of
--   a cached answer is then sent(now) - sent(when fetched) + pending.

local limits = require('llm_metrics_limits')

local pairs = pairs
local ipairs = ipairs
local type = type
local tostring = tostring
local pcall = pcall
local concat = table.concat
local sort = table.sort
local match = string.match

local _M = {
  -- Applications (credential sets) a worker keeps answers for; beyond it the cache starts afresh.
  MAX_CACHED = 10000,
  -- Seconds a pending key lives after it was created: bounds what a crashed worker's unreported tokens hold back.
  PENDING_TTL = 600,
}

local LOG_PREFIX = '[llm_metrics] '
-- What the policy asks the backend to add to an authorize answer (apisonator docs/extensions.md): the reason of a
-- denial in a header, the limit headers, and the metric hierarchy; no `no_body`, because the body lists the limits.
local OPTIONS = 'rejection_reason_header=1&limit_headers=1&hierarchy=1'
-- Dictionaries whose keys APIcast lists and parses (3scale batcher, reports_batcher.lua L75): never shared.
local LISTED_DICTS = { batched_reports = true }

local function warn(...)
  ngx.log(ngx.WARN, LOG_PREFIX, ...)
end

local function endpoint_override()
  local ok, env = pcall(require, 'resty.env')
  if ok and type(env) == 'table' and env.value then
    local value = env.value('BACKEND_ENDPOINT_OVERRIDE')
    if value and value ~= '' then
      return value
    end
  end
  local value = os.getenv('BACKEND_ENDPOINT_OVERRIDE')
  return value ~= '' and value or nil
end

-- Sorted `k=v` pairs of a table (stable cache keys and URLs).
local function encode_sorted(args)
  local keys = {}
  for key, value in pairs(args) do
    if type(key) == 'string' and value ~= nil and type(value) ~= 'table' then
      keys[#keys + 1] = key
    end
  end
  sort(keys)
  local parts = {}
  for i, key in ipairs(keys) do
    parts[i] = ngx.encode_args({ [key] = tostring(args[key]) })
  end
  return concat(parts, '&')
end

--- The authorize URL and Host header for a service, credentials and usage (metric -> value), or nil and why.
function _M.authorize_request(service, credentials, usage)
  local endpoint = endpoint_override() or (service.backend and service.backend.endpoint)
  if not endpoint or endpoint == '' then
    return nil, 'the service has no 3scale backend endpoint'
  end
  local scheme_host = match(endpoint, '^(https?://[^/]+)')
  if not scheme_host then
    return nil, 'invalid 3scale backend endpoint ' .. tostring(endpoint)
  end
  local args = { service_id = tostring(service.id) }
  local auth = service.backend_authentication
  if auth and auth.type then
    args[auth.type] = auth.value
  end
  for key, value in pairs(credentials or {}) do
    if type(key) == 'string' then
      args[key] = value
    end
  end
  local query = encode_sorted(args)
  local usage_args = {}
  for metric, value in pairs(usage or {}) do
    if value and value > 0 then
      usage_args['usage[' .. metric .. ']'] = value
    end
  end
  local encoded_usage = encode_sorted(usage_args)
  if encoded_usage ~= '' then
    query = query .. '&' .. encoded_usage
  end
  local path = match(endpoint, '^https?://[^/]+(/.-)/*$') or ''
  local host = (service.backend and service.backend.host) or match(scheme_host, '^https?://(.+)$')
  return scheme_host .. path .. '/transactions/authorize.xml?' .. query, host
end

--- One authorize call. Returns the response ({ status, headers, body }) or nil and the transport error.
function _M.fetch(service, credentials, usage, timeout_ms)
  local url, host = _M.authorize_request(service, credentials, usage)
  if not url then
    return nil, host
  end
  local http = require('resty.http')
  local client = http.new()
  client:set_timeouts(timeout_ms, timeout_ms, timeout_ms)
  local res, err = client:request_uri(url, {
    method = 'GET',
    headers = { Host = host, ['3scale-options'] = OPTIONS, ['User-Agent'] = 'APIcast llm_metrics policy' },
    keepalive_timeout = 60000,
    keepalive_pool = 64,
  })
  if not res then
    return nil, err or 'no response'
  end
  return res
end

---------------------------------------------------------------------------------------------------------------------
-- Cached answers per application
---------------------------------------------------------------------------------------------------------------------

local cache, cached = {}, 0
local down_until = {} -- service id -> time until which the backend is considered unavailable
local invalid_metrics_warned = {}

local function cache_key(service, credentials)
  return tostring(service.id) .. '\n' .. encode_sorted(credentials or {})
end

local function store(key, entry)
  if not cache[key] then
    if cached >= _M.MAX_CACHED then
      cache, cached = {}, 0
    end
    cached = cached + 1
  end
  cache[key] = entry
end

local function any_expired(status, now)
  for _, report in ipairs(status.reports) do
    if limits.expired(report, now) then
      return true
    end
  end
  return false
end

-- Codes of errors that mean the credentials are wrong (apisonator errors.rb).
local BAD_KEY = { user_key_invalid = true, application_not_found = true, application_key_invalid = true,
  user_key_missing = true, application_id_missing = true, access_token_invalid = true, authentication_error = true }

--- The caller's limits: a status from parse_status plus
--   fetched_at, sent0 (ledger `sent` per limited metric when fetched),
--   fresh = true when fetched by this call with `usage` (then `verdict` = 'allowed' | 'denied' is the backend's own
--   answer for that usage), denied = { status, code, message } when the backend refuses the credentials.
-- Or nil, a failure message (backend unavailable, slow, or answering something unexpected) and true when that failure
-- was remembered from an earlier call (no call made now).
-- opts: ttl (seconds), timeout_ms, usage (predicted, or nil), ledger, ledger_prefix.
function _M.view(service, credentials, opts)
  local now = ngx.now()
  local key = cache_key(service, credentials)
  local entry = cache[key]
  if entry and entry.expires_at > now and not (entry.status and any_expired(entry.status, now)) then
    if entry.failure then
      return nil, entry.failure, true
    end
    return entry.status
  end
  local service_id = tostring(service.id)
  if (down_until[service_id] or 0) > now then
    return nil, 'the 3scale backend failed a moment ago', true
  end

  local usage = opts.usage
  local res, err = _M.fetch(service, credentials, usage, opts.timeout_ms)
  local status
  if res then
    status = limits.parse_status(res.body)
    if res.status == 404 and status.error_code == 'metric_invalid' and usage then
      if not invalid_metrics_warned[status.error or ''] then
        invalid_metrics_warned[status.error or ''] = true
        warn('3scale backend: ', tostring(status.error), ' (create it on the product); checking limits without it')
      end
      usage = nil
      res, err = _M.fetch(service, credentials, nil, opts.timeout_ms)
      status = res and limits.parse_status(res.body)
    end
  end
  local failure
  if not res then
    failure = '3scale backend unavailable: ' .. tostring(err)
  elseif res.status == 200 or res.status == 409 then
    if status.authorized == nil then
      failure = '3scale backend answered ' .. res.status .. ' without a status document'
    elseif status.authorized then
      status.verdict = usage and 'allowed' or nil
    else
      local reason = res.headers and res.headers['3scale-rejection-reason']
      if reason == 'limits_exceeded' or (reason == nil and status.reason == 'usage limits are exceeded') then
        status.verdict = usage and 'denied' or nil
      else
        status.denied = { status = 403, code = reason or 'authorization_failed', message = status.reason }
      end
    end
  elseif status and status.error_code and res.status >= 400 and res.status < 500 then
    status.denied = { status = BAD_KEY[status.error_code] and 401 or 403, code = status.error_code,
      message = status.error }
  else
    failure = '3scale backend answered ' .. tostring(res.status)
  end

  if failure then
    down_until[service_id] = now + opts.ttl
    store(key, { failure = failure, expires_at = now + opts.ttl })
    return nil, failure
  end
  down_until[service_id] = nil
  status.fetched_at = now
  status.fresh = true
  status.sent0 = {}
  if opts.ledger then
    for _, report in ipairs(status.reports) do
      status.sent0[report.metric] = opts.ledger:sent(opts.ledger_prefix, report.metric)
    end
  end
  store(key, { status = status, expires_at = now + opts.ttl })
  local result = status
  -- Later requests share the cached answer, but the verdict was for this request's usage only.
  local shared = {}
  for k, v in pairs(status) do
    shared[k] = v
  end
  shared.fresh, shared.verdict = nil, nil
  cache[key].status = shared
  return result
end

--- Forgets every cached answer and failure (tests, configuration changes).
function _M.reset()
  cache, cached, down_until, invalid_metrics_warned = {}, 0, {}, {}
end

---------------------------------------------------------------------------------------------------------------------
-- Ledger
---------------------------------------------------------------------------------------------------------------------

-- A lua_shared_dict stand-in in worker memory (no expiry): used when the named dict does not exist.
local function worker_dict()
  local values = {}
  return {
    get = function(_, key)
      return values[key]
    end,
    incr = function(_, key, value, init)
      local current = values[key]
      if current == nil then
        if init == nil then
          return nil, 'not found'
        end
        current = init
      end
      values[key] = current + value
      return values[key]
    end,
  }
end

local Ledger = {}
Ledger.__index = Ledger

local ledgers = {}

--- The worker's ledger on lua_shared_dict `name` (worker memory, with a warning, when it is not defined or is one
-- whose keys APIcast lists).
function _M.ledger(name)
  local ledger = ledgers[name]
  if ledger then
    return ledger
  end
  local dict = ngx.shared[name]
  if LISTED_DICTS[name] then
    warn('lua_shared_dict ', name, ' is listed by APIcast; keeping in-flight token counts in worker memory instead')
    dict = nil
  elseif not dict then
    warn('lua_shared_dict ', name, ' is not defined; keeping in-flight token counts in worker memory instead')
  end
  ledger = setmetatable({ dict = dict or worker_dict(), name = name }, Ledger)
  ledgers[name] = ledger
  return ledger
end

--- The key prefix of one application of a service.
function _M.prefix(service_id, credential)
  return 'llm_metrics\t' .. tostring(service_id) .. '\t' .. tostring(credential) .. '\t'
end

function Ledger:sent(prefix, metric)
  return self.dict:get(prefix .. 's\t' .. metric) or 0
end

function Ledger:pending(prefix, metric)
  return self.dict:get(prefix .. 'p\t' .. metric) or 0
end

--- Adds to pending (tokens in flight); a missing key is created with a limited life.
function Ledger:reserve(prefix, metric, value)
  if value ~= 0 then
    local ok, err = self.dict:incr(prefix .. 'p\t' .. metric, value, 0, _M.PENDING_TTL)
    if not ok and err ~= 'not found' then
      warn('could not count in-flight tokens: ', tostring(err))
    end
  end
end

--- Changes pending only when the key still exists (never resurrects an expired one with a negative value).
function Ledger:adjust(prefix, metric, value)
  if value ~= 0 then
    self.dict:incr(prefix .. 'p\t' .. metric, value)
  end
end

--- Counts usage the backend has (or will have with the request itself): sent += value.
function Ledger:add_sent(prefix, metric, value)
  if value ~= 0 then
    self.dict:incr(prefix .. 's\t' .. metric, value, 0)
  end
end

--- A report was acknowledged: the tokens move from pending to sent.
function Ledger:acknowledged(prefix, metric, value)
  self:adjust(prefix, metric, -value)
  self:add_sent(prefix, metric, value)
end

--- What the backend does not know yet, per limited metric of `status`: sent since it was fetched, plus pending.
function Ledger:offsets(prefix, status)
  local offsets = {}
  for _, report in ipairs(status.reports) do
    local metric = report.metric
    if offsets[metric] == nil then
      local since = self:sent(prefix, metric) - (status.sent0 and status.sent0[metric] or 0)
      local pending = self:pending(prefix, metric)
      offsets[metric] = (since > 0 and since or 0) + (pending > 0 and pending or 0)
    end
  end
  return offsets
end

return _M
