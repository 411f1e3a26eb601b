--- Routing, admission and limit reporting decisions of the llm_metrics policy (module `llm_metrics_limits`).
-- Pure Lua (cjson only): no ngx and no APIcast modules, so every rule here is tested under plain lua5.1. The policy
-- feeds it the request, the 3scale backend's authorize answer and the gateway's own counters, and turns its results
-- into responses and headers.
--
-- 3scale rules reproduced (3scale/apisonator @2e7f156b):
--  * an authorize call validates only the limits of the metrics in `usage` and of their parents, and a limit passes
--    when current + usage <= max (lib/3scale/backend/validators/limits.rb L19-28, usage_limit.rb L16-18); a child's
--    usage counts for its parents (metric/collection.rb L27-67, `process_parents`);
--  * authorize does not add the predicted usage to the reported current values (transactor/usage_report.rb
--    L154-168) and the XML lists every limit of the application's plan (transactor/status.rb L99-123, L213-244):
--    `<usage_report metric=".." period=".."><period_start>..</period_start><period_end>..</period_end>
--    <max_value>..</max_value><current_value>..</current_value></usage_report>`, no period elements for eternity
--    (usage_report.rb L90-127), times as '%Y-%m-%d %H:%M:%S %z' (constants.rb L5);
--  * the `hierarchy=1` extension adds `<hierarchy><metric name=".." children="a b"/></hierarchy>`
--    (status.rb L161-169); errors are `<error code="..">message</error>` (errors.rb L7-13).

local cjson = require('cjson.safe')

local type = type
local pairs = pairs
local ipairs = ipairs
local tostring = tostring
local tonumber = tonumber
local floor = math.floor
local ceil = math.ceil
local max = math.max
local concat = table.concat
local sort = table.sort
local find = string.find
local gsub = string.gsub
local gmatch = string.gmatch
local match = string.match
local lower = string.lower
local format = string.format

local _M = {}

--- 3scale limit periods, shortest first (apisonator lib/3scale/backend/period.rb).
_M.PERIODS = { 'minute', 'hour', 'day', 'week', 'month', 'year', 'eternity' }
local PERIOD_RANK = {}
for i, period in ipairs(_M.PERIODS) do
  PERIOD_RANK[period] = i
end
--- Limits of these periods are rate limits (429 rate_limit_exceeded, retry after the reset); longer ones are quotas
-- (429 insufficient_quota). OpenAI reports per-day token limits as rate limits too.
_M.RATE_PERIODS = { minute = true, hour = true, day = true }

--- Prefix of a model's method (a child of `hits`) in 3scale.
_M.METHOD_PREFIX = 'model_'

---------------------------------------------------------------------------------------------------------------------
-- Models
---------------------------------------------------------------------------------------------------------------------

--- The 3scale-safe key of a served model name: lower case, every byte other than a-z, 0-9 and _ turned into _.
-- "granite-3.3-8b-instruct" -> "granite_3_3_8b_instruct".
function _M.model_key(name)
  return (gsub(lower(name), '[^a-z0-9_]', '_'))
end

--- The routing table from the `routing_models` configuration: list (configuration order) and by_name.
-- Each entry: name, upstream, key (system_name or model_key(name)), method ('model_' .. key), owned_by, created.
function _M.models(config)
  local list, by_name = {}, {}
  for _, item in ipairs(type(config) == 'table' and config or {}) do
    if type(item) == 'table' and type(item.name) == 'string' and item.name ~= '' and type(item.upstream) == 'string'
      and not by_name[item.name] then
      local key = (type(item.system_name) == 'string' and item.system_name ~= '') and item.system_name
        or _M.model_key(item.name)
      local entry = {
        name = item.name,
        upstream = item.upstream,
        key = key,
        method = _M.METHOD_PREFIX .. key,
        owned_by = type(item.owned_by) == 'string' and item.owned_by or 'vllm',
        created = tonumber(item.created) or 0,
      }
      list[#list + 1] = entry
      by_name[item.name] = entry
    end
  end
  return { list = list, by_name = by_name }
end

--- A model's own metric for a product-wide metric name: `<key>_<metric>` (e.g. granite_8b_total_tokens).
function _M.model_metric(entry, metric)
  return entry.key .. '_' .. metric
end

---------------------------------------------------------------------------------------------------------------------
-- Token estimate of a request (before the model runs)
---------------------------------------------------------------------------------------------------------------------

-- Endpoints whose responses carry no completion tokens (vLLM: embeddings, pooling, score, rerank, classify;
-- tokenize/detokenize carry no usage at all).
local NO_COMPLETION = { embeddings = true, pooling = true, score = true, rerank = true, classify = true,
  tokenize = true, detokenize = true }
-- Request members that are not prompt text.
local NOT_PROMPT = { model = true, user = true, stream = true, stream_options = true, n = true, metadata = true,
  service_tier = true, logit_bias = true, max_tokens = true, max_completion_tokens = true, max_output_tokens = true }
-- Members whose numbers are token ids (vLLM accepts token-id prompts) rather than parameters.
local TOKEN_IDS = { prompt = true, input = true }
local MAX_DEPTH = 64

--- The last segment of a path ('/v1/chat/completions' -> 'completions').
local function endpoint_of(path)
  return match(path or '', '([^/]+)/*$') or ''
end

--- UTF-8 characters of a string (bytes that do not continue a multi-byte sequence).
local function characters(text)
  local _, n = gsub(text, '[^\128-\191]', '')
  return n
end

local function walk(value, acc, ids, depth)
  local t = type(value)
  if t == 'string' then
    acc.chars = acc.chars + characters(value)
  elseif t == 'number' then
    if ids then
      acc.ids = acc.ids + 1
    end
  elseif t == 'table' and depth < MAX_DEPTH then
    for _, item in pairs(value) do
      walk(item, acc, ids, depth + 1)
    end
  end
end

local function positive_integer(value)
  if type(value) == 'number' and value >= 1 and value == floor(value) and value < 2 ^ 31 then
    return value
  end
  return nil
end

--- Estimated prompt and completion tokens of a request, before the model runs.
-- prompt: the UTF-8 characters of every string in the request except its parameters (model, user, ...), divided by
-- opts.chars_per_token and rounded up, plus one token per number in `prompt`/`input` (token-id prompts); when the
-- body could not be decoded, its bytes divided by chars_per_token. completion: 0 for endpoints without completions
-- (embeddings, pooling, score, rerank, classify, tokenize, detokenize), else `max_completion_tokens`, `max_tokens`
-- or `max_output_tokens` (the first positive integer), else opts.default_max_tokens, times `n` (choices).
function _M.estimate(request, body_bytes, path, opts)
  local chars_per_token = opts.chars_per_token or 4
  local endpoint = endpoint_of(path)
  local prompt
  if type(request) == 'table' then
    local acc = { chars = 0, ids = 0 }
    for name, value in pairs(request) do
      if not NOT_PROMPT[name] then
        walk(value, acc, TOKEN_IDS[name], 0)
      end
    end
    prompt = ceil(acc.chars / chars_per_token) + acc.ids
  else
    prompt = ceil((body_bytes or 0) / chars_per_token)
  end
  if NO_COMPLETION[endpoint] then
    return prompt, 0
  end
  local completion = opts.default_max_tokens or 0
  local choices = 1
  if type(request) == 'table' then
    completion = positive_integer(request.max_completion_tokens) or positive_integer(request.max_tokens)
      or positive_integer(request.max_output_tokens) or completion
    choices = positive_integer(request.n) or 1
  end
  return prompt, completion * choices
end

---------------------------------------------------------------------------------------------------------------------
-- The 3scale backend's authorize answer
---------------------------------------------------------------------------------------------------------------------

-- Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
local function days_from_civil(y, m, d)
  if m <= 2 then
    y = y - 1
  end
  local era = floor(y / 400)
  local yoe = y - era * 400
  local mp = (m + 9) % 12
  local doy = floor((153 * mp + 2) / 5) + d - 1
  local doe = yoe * 365 + floor(yoe / 4) - floor(yoe / 100) + doy
  return era * 146097 + doe - 719468
end

--- Unix seconds of an apisonator time ('2026-12-04 18:01:00 +0000'), or nil.
function _M.parse_time(text)
  local y, mo, d, h, mi, s, sign, oh, om = match(text or '',
    '^%s*(%d%d%d%d)%-(%d%d)%-(%d%d)[ T](%d%d):(%d%d):(%d%d)%s*([%+%-])(%d%d):?(%d%d)%s*$')
  if not y then
    return nil
  end
  local seconds = days_from_civil(tonumber(y), tonumber(mo), tonumber(d)) * 86400
    + tonumber(h) * 3600 + tonumber(mi) * 60 + tonumber(s)
  local offset = tonumber(oh) * 3600 + tonumber(om) * 60
  return sign == '+' and seconds - offset or seconds + offset
end

local XML_ENTITIES = { amp = '&', lt = '<', gt = '>', quot = '"', apos = "'" }

local function unescape(text)
  return (gsub(text, '&(%a+);', function(name)
    return XML_ENTITIES[name]
  end))
end

--- Parses the body of an authorize/authrep answer (200/409 status XML, or an error XML).
-- Returns { authorized = bool|nil, reason = text|nil, plan = text|nil, error_code = code|nil, error = text|nil,
-- reports = { { metric, period, start_at, end_at, max, current, exceeded } ... }, children = { parent = { ... } } }.
-- Usage reports that cannot be read (no metric, no numbers) are left out.
function _M.parse_status(body)
  local status = { reports = {}, children = {} }
  if type(body) ~= 'string' then
    return status
  end
  local code, message = match(body, '<error%s+code="([^"]*)"%s*>(.-)</error>')
  if code then
    status.error_code, status.error = code, unescape(message)
    return status
  end
  local authorized = match(body, '<authorized>%s*(%a+)%s*</authorized>')
  if authorized then
    status.authorized = authorized == 'true'
  end
  local reason = match(body, '<reason>(.-)</reason>')
  status.reason = reason and unescape(reason)
  local plan = match(body, '<plan>(.-)</plan>')
  status.plan = plan and unescape(plan)
  for attributes, inner in gmatch(body, '<usage_report%s([^>]*)>(.-)</usage_report>') do
    local metric = match(attributes, 'metric="([^"]*)"')
    local period = match(attributes, 'period="([^"]*)"')
    local max_value = tonumber(match(inner, '<max_value>%s*(%-?%d+)%s*</max_value>'))
    local current = tonumber(match(inner, '<current_value>%s*(%-?%d+)%s*</current_value>'))
    if metric and metric ~= '' and PERIOD_RANK[period] and max_value and current then
      status.reports[#status.reports + 1] = {
        metric = unescape(metric),
        period = period,
        start_at = _M.parse_time(match(inner, '<period_start>(.-)</period_start>')),
        end_at = _M.parse_time(match(inner, '<period_end>(.-)</period_end>')),
        max = max_value,
        current = current,
        exceeded = find(attributes, 'exceeded="true"', 1, true) ~= nil,
      }
    end
  end
  for name, children in gmatch(body, '<metric%s+name="([^"]*)"%s+children="([^"]*)"%s*/>') do
    local list = {}
    for child in gmatch(children, '%S+') do
      list[#list + 1] = unescape(child)
    end
    status.children[unescape(name)] = list
  end
  return status
end

--- `usage` (metric -> value) with every child's value added to its parents, the way apisonator applies a usage
-- (a method's hit counts for `hits`). Parents and children come from the status' hierarchy (3scale has one level:
-- methods under hits).
function _M.expand(usage, children)
  local expanded = {}
  for metric, value in pairs(usage) do
    expanded[metric] = value
  end
  for parent, list in pairs(children or {}) do
    for _, child in ipairs(list) do
      local value = usage[child]
      if value and child ~= parent then
        expanded[parent] = (expanded[parent] or 0) + value
      end
    end
  end
  return expanded
end

--- True when a report's period is over at `now` (its values no longer apply).
function _M.expired(report, now)
  return report.end_at ~= nil and report.end_at <= now
end

--- Seconds until a report's period ends (rounded up), or nil for eternity.
function _M.reset_seconds(report, now)
  if not report.end_at then
    return nil
  end
  return max(0, ceil(report.end_at - now))
end

--- The limits a request would break: every report on a metric of `usage` (already expanded to parents) where
-- current + offset + usage > max. `offsets`: metric -> usage the backend does not know yet (this gateway's requests
-- since the answer was fetched and tokens in flight). Returns a list of { report, used, usage } (empty when within).
function _M.exceeded(status, usage, offsets, now)
  local broken = {}
  for _, report in ipairs(status.reports) do
    local wanted = usage[report.metric]
    if wanted and wanted > 0 then
      local current = _M.expired(report, now) and 0 or report.current
      local used = current + (offsets and offsets[report.metric] or 0)
      if used + wanted > report.max then
        broken[#broken + 1] = { report = report, used = used, usage = wanted }
      end
    end
  end
  return broken
end

--- True unless the plan sets a limit of 0 on the model's method (3scale's way to disable a method for a plan).
function _M.permitted(status, entry)
  for _, report in ipairs(status.reports) do
    if report.metric == entry.method and report.max == 0 then
      return false
    end
  end
  return true
end

---------------------------------------------------------------------------------------------------------------------
-- OpenAI-style answers
---------------------------------------------------------------------------------------------------------------------

local function json_string(text)
  return cjson.encode(tostring(text))
end

--- `{"error":{"message":..,"type":..,"param":..,"code":..}}` in OpenAI's key order; nil param/code are null.
function _M.error_body(message, error_type, param, code)
  return '{"error":{"message":' .. json_string(message) .. ',"type":' .. json_string(error_type) .. ',"param":'
    .. (param and json_string(param) or 'null') .. ',"code":' .. (code and json_string(code) or 'null') .. '}}'
end

--- A JSON array of already encoded items (cjson encodes an empty table as an object).
local function json_array(items)
  return '[' .. concat(items, ',') .. ']'
end

--- OpenAI-style answer for a request refused by limits: status, body, headers.
-- A broken limit of 0 means the plan does not include that usage: 403 (model_not_permitted when it is a model's
-- method, usage_not_permitted otherwise), like APIcast turns a limit of 0 into a 403. Otherwise 429:
-- insufficient_quota when a broken limit's period is longer than a day, else rate_limit_exceeded; Retry-After (and
-- retry-after-ms, which openai-python reads first) = seconds until the last broken limit resets; quotas also get
-- `x-should-retry: false` (openai-python does not retry then).
function _M.refusal(broken, now, model_of_method)
  local disabled, quota, wait = nil, nil, 0
  for _, item in ipairs(broken) do
    local report = item.report
    if report.max == 0 then
      disabled = disabled or report
    elseif not _M.RATE_PERIODS[report.period] then
      quota = quota or report
    end
    local reset = _M.reset_seconds(report, now)
    if reset and reset > wait then
      wait = reset
    end
  end
  if disabled then
    local model = model_of_method and model_of_method[disabled.metric]
    if model then
      return 403, _M.error_body(format('The model `%s` is not included in your plan', model),
        'invalid_request_error', 'model', 'model_not_permitted'), {}
    end
    return 403, _M.error_body(format('Your plan does not include usage of %s', disabled.metric),
      'invalid_request_error', nil, 'usage_not_permitted'), {}
  end
  local first = (quota or broken[1].report)
  local headers = {}
  if wait > 0 then
    headers['Retry-After'] = tostring(wait)
    headers['retry-after-ms'] = tostring(wait * 1000)
  end
  if quota then
    headers['x-should-retry'] = 'false'
    return 429, _M.error_body(format('You exceeded your current quota: %s per %s (limit %d)', quota.metric,
      quota.period, quota.max), 'insufficient_quota', nil, 'insufficient_quota'), headers
  end
  return 429, _M.error_body(format('Rate limit reached: %s per %s (limit %d). Please try again in %s.',
    first.metric, first.period, first.max, _M.duration(wait)), 'requests', nil, 'rate_limit_exceeded'), headers
end

--- OpenAI's duration format of the x-ratelimit-reset-* headers (Go's time.Duration style): '20ms', '1s', '59s',
-- '6m0s', '1h0m0s'. Sub-second values are rounded up to whole milliseconds, others up to whole seconds.
function _M.duration(seconds)
  if not seconds or seconds <= 0 then
    return '0s'
  end
  if seconds < 1 then
    return ceil(seconds * 1000) .. 'ms'
  end
  local s = ceil(seconds)
  local hours, minutes = floor(s / 3600), floor(s % 3600 / 60)
  s = s % 60
  if hours > 0 then
    return hours .. 'h' .. minutes .. 'm' .. s .. 's'
  elseif minutes > 0 then
    return minutes .. 'm' .. s .. 's'
  end
  return s .. 's'
end

-- The report among `metrics` with the least left after `offsets` (ties: the shortest period).
local function tightest(status, metrics, offsets, now)
  local best, best_left
  for _, report in ipairs(status.reports) do
    if metrics[report.metric] then
      local current = _M.expired(report, now) and 0 or report.current
      local left = report.max - current - (offsets[report.metric] or 0)
      if not best or left < best_left or (left == best_left and PERIOD_RANK[report.period] < PERIOD_RANK[best.period])
      then
        best, best_left = report, left
      end
    end
  end
  return best, best_left
end

--- OpenAI's rate-limit headers from the tightest limit on the request's token metrics and on its request metrics
-- (hits, the model's method). `offsets` already hold this request (its token estimate, its hit). A kind without any
-- limit gets no headers; a reset header is left out for eternity limits. Returns header name -> value.
function _M.ratelimit_headers(status, token_metrics, request_metrics, offsets, now)
  local headers = {}
  for kind, metrics in pairs({ tokens = token_metrics, requests = request_metrics }) do
    local report, left = tightest(status, metrics, offsets, now)
    if report then
      headers['x-ratelimit-limit-' .. kind] = tostring(report.max)
      headers['x-ratelimit-remaining-' .. kind] = tostring(max(0, left))
      local reset = report.end_at and (report.end_at - now)
      if reset then
        headers['x-ratelimit-reset-' .. kind] = _M.duration(reset)
      end
    end
  end
  return headers
end

---------------------------------------------------------------------------------------------------------------------
-- GET /v1/models and GET /v1/usage documents
---------------------------------------------------------------------------------------------------------------------

--- `{"object":"list","data":[{"id":..,"object":"model","created":..,"owned_by":..}, ...]}` of the models `status`
-- permits (all of them without a status), in configuration order.
function _M.models_document(models, status)
  local items = {}
  for _, entry in ipairs(models.list) do
    if not status or _M.permitted(status, entry) then
      items[#items + 1] = '{"id":' .. json_string(entry.name) .. ',"object":"model","created":'
        .. format('%d', entry.created) .. ',"owned_by":' .. json_string(entry.owned_by) .. '}'
    end
  end
  return '{"object":"list","data":' .. json_array(items) .. '}'
end

--- One model object (GET /v1/models/{id}), or nil when unknown or not permitted.
function _M.model_document(models, status, name)
  local entry = models.by_name[name]
  if not entry or (status and not _M.permitted(status, entry)) then
    return nil
  end
  return '{"id":' .. json_string(entry.name) .. ',"object":"model","created":' .. format('%d', entry.created)
    .. ',"owned_by":' .. json_string(entry.owned_by) .. '}'
end

--- What a metric system name stands for: model name or nil (product-wide), and kind: one of the token fields
-- (prompt_tokens, completion_tokens, total_tokens, cached_prompt_tokens, reasoning_tokens), 'requests', or 'other'.
-- `metric_names`: field -> product-wide metric system name ('' when not used).
function _M.describe_metric(metric, models, metric_names)
  if metric == 'hits' then
    return nil, 'requests'
  end
  for field, name in pairs(metric_names) do
    if name ~= '' and metric == name then
      return nil, field
    end
  end
  for _, entry in ipairs(models.list) do
    if metric == entry.method then
      return entry.name, 'requests'
    end
    for field, name in pairs(metric_names) do
      if name ~= '' and metric == _M.model_metric(entry, name) then
        return entry.name, field
      end
    end
  end
  return nil, 'other'
end

local KIND_RANK = { requests = 1, total_tokens = 2, prompt_tokens = 3, completion_tokens = 4,
  cached_prompt_tokens = 5, reasoning_tokens = 6, other = 7 }

--- The GET /v1/usage document: every limit of the caller's plan with what is used and left, per model (null =
-- product-wide) and period, plus the models the plan includes (routing only). See the policy README for the shape.
function _M.usage_document(status, models, metric_names, offsets, now)
  local rows = {}
  for _, report in ipairs(status.reports) do
    local model, kind = _M.describe_metric(report.metric, models, metric_names)
    local entry = model and models.by_name[model]
    if not entry or _M.permitted(status, entry) then
      local current = _M.expired(report, now) and 0 or report.current
      local used = current + (offsets[report.metric] or 0)
      rows[#rows + 1] = { model = model, kind = kind, report = report, used = used }
    end
  end
  sort(rows, function(a, b)
    if (a.model or '') ~= (b.model or '') then
      return (a.model or '') < (b.model or '')
    end
    if a.kind ~= b.kind then
      return KIND_RANK[a.kind] < KIND_RANK[b.kind]
    end
    if a.report.metric ~= b.report.metric then
      return a.report.metric < b.report.metric
    end
    return PERIOD_RANK[a.report.period] < PERIOD_RANK[b.report.period]
  end)
  local items = {}
  for _, row in ipairs(rows) do
    local report = row.report
    local eternal = report.end_at == nil
    local expired = _M.expired(report, now)
    items[#items + 1] = '{"model":' .. (row.model and json_string(row.model) or 'null')
      .. ',"metric":' .. json_string(report.metric)
      .. ',"kind":' .. json_string(row.kind)
      .. ',"unit":' .. json_string(row.kind == 'requests' and 'requests' or (row.kind == 'other' and 'units' or 'tokens'))
      .. ',"period":' .. json_string(report.period)
      .. ',"used":' .. format('%d', row.used)
      .. ',"limit":' .. format('%d', report.max)
      .. ',"remaining":' .. format('%d', max(0, report.max - row.used))
      .. ',"period_start":' .. ((eternal or expired or not report.start_at) and 'null' or format('%d', report.start_at))
      .. ',"period_end":' .. ((eternal or expired) and 'null' or format('%d', report.end_at))
      .. ',"reset_seconds":' .. ((eternal or expired) and 'null' or format('%d', _M.reset_seconds(report, now)))
      .. '}'
  end
  local permitted = {}
  for _, entry in ipairs(models.list) do
    if _M.permitted(status, entry) then
      permitted[#permitted + 1] = json_string(entry.name)
    end
  end
  return '{"object":"usage","generated_at":' .. format('%d', floor(now)) .. ',"models":' .. json_array(permitted)
    .. ',"data":' .. json_array(items) .. '}'
end

return _M
