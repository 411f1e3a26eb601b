--- 3scale backend (apisonator) answers for the specs, shaped like apisonator @2e7f156b writes them:
-- status XML from transactor/status.rb L99-123 (authorized, reason when denied, plan, usage_reports, hierarchy with
-- the `hierarchy=1` extension L161-169), usage reports from transactor/usage_report.rb L90-131 (exceeded="true" when
-- current > max, no period elements for eternity, times '%Y-%m-%d %H:%M:%S %z' from constants.rb L5), errors from
-- errors.rb L7-13, status codes and headers from listener.rb L298-323 (200 authorized, 409 denied,
-- 3scale-rejection-reason when denied).
local M = {}

local function time(t)
  return os.date('!%Y-%m-%d %H:%M:%S +0000', t)
end

--- Start and end (Unix seconds) of the 3scale period containing `now` (UTC; weeks start on Monday).
function M.period_bounds(period, now)
  local d = os.date('!*t', now)
  local function utc(y, m, day, h, mi)
    -- os.time reads local time: correct by the offset of the epoch
    local t = os.time({ year = y, month = m, day = day, hour = h or 0, min = mi or 0, sec = 0 })
    local epoch = os.time({ year = 1970, month = 1, day = 1, hour = 0 })
    return t - epoch
  end
  if period == 'minute' then
    local start = now - now % 60
    return start, start + 60
  elseif period == 'hour' then
    local start = now - now % 3600
    return start, start + 3600
  elseif period == 'day' then
    local start = now - now % 86400
    return start, start + 86400
  elseif period == 'week' then
    local day = now - now % 86400
    local weekday = (math.floor(day / 86400) + 3) % 7 -- 1970-01-01 was a Thursday; 0 = Monday
    local start = day - weekday * 86400
    return start, start + 7 * 86400
  elseif period == 'month' then
    local start = utc(d.year, d.month, 1)
    local finish = d.month == 12 and utc(d.year + 1, 1, 1) or utc(d.year, d.month + 1, 1)
    return start, finish
  elseif period == 'year' then
    return utc(d.year, 1, 1), utc(d.year + 1, 1, 1)
  end
  return nil, nil
end

--- One <usage_report>. report: { metric, period, max, current }; `now` places the period.
function M.usage_report(report, now)
  local start, finish = M.period_bounds(report.period, now)
  local parts = { '<usage_report metric="', report.metric, '" period="', report.period, '"',
    report.current > report.max and ' exceeded="true">' or '>' }
  if report.period ~= 'eternity' then
    parts[#parts + 1] = '<period_start>' .. time(start) .. '</period_start><period_end>' .. time(finish)
      .. '</period_end>'
  end
  parts[#parts + 1] = '<max_value>' .. report.max .. '</max_value><current_value>' .. report.current
    .. '</current_value></usage_report>'
  return table.concat(parts)
end

--- The status XML. opts: authorized (default true), reason, plan, reports, hierarchy (parent -> { children }), now.
function M.status_xml(opts)
  local now = opts.now or os.time()
  local parts = { '<?xml version="1.0" encoding="UTF-8"?><status>' }
  if opts.authorized == false then
    parts[#parts + 1] = '<authorized>false</authorized><reason>' .. (opts.reason or 'usage limits are exceeded')
      .. '</reason>'
  else
    parts[#parts + 1] = '<authorized>true</authorized>'
  end
  parts[#parts + 1] = '<plan>' .. (opts.plan or 'Basic') .. '</plan>'
  if opts.reports and #opts.reports > 0 then
    parts[#parts + 1] = '<usage_reports>'
    for _, report in ipairs(opts.reports) do
      parts[#parts + 1] = M.usage_report(report, now)
    end
    parts[#parts + 1] = '</usage_reports>'
  end
  if opts.hierarchy then
    parts[#parts + 1] = '<hierarchy>'
    local parents = {}
    for parent in pairs(opts.hierarchy) do
      parents[#parents + 1] = parent
    end
    table.sort(parents)
    for _, parent in ipairs(parents) do
      parts[#parts + 1] = '<metric name="' .. parent .. '" children="' .. table.concat(opts.hierarchy[parent], ' ')
        .. '"/>'
    end
    parts[#parts + 1] = '</hierarchy>'
  end
  parts[#parts + 1] = '</status>'
  return table.concat(parts)
end

function M.error_xml(code, message)
  return '<?xml version="1.0" encoding="UTF-8"?><error code="' .. code .. '">' .. message .. '</error>'
end

--- A scripted backend for the stubbed resty.http: plans per user key, usage per metric and period, the check of
-- apisonator's Limits validator (current + usage <= max for the metrics in usage and their parents; nothing
-- reported by authorize). Returns an object with `handler(url, params)` and `calls`.
function M.fake(opts)
  local fake = { calls = {}, apps = opts.apps or {}, hierarchy = opts.hierarchy or {}, now = opts.now or os.time,
    metrics = opts.metrics }
  local function decode(s)
    return (s:gsub('+', ' '):gsub('%%(%x%x)', function(h) return string.char(tonumber(h, 16)) end))
  end
  function fake.handler(url, params)
    local query = url:match('%?(.*)$') or ''
    local args, usage = {}, {}
    for pair in query:gmatch('[^&]+') do
      local k, v = pair:match('^([^=]*)=(.*)$')
      k, v = decode(k), decode(v)
      local metric = k:match('^usage%[(.+)%]$')
      if metric then
        usage[metric] = tonumber(v)
      else
        args[k] = v
      end
    end
    fake.calls[#fake.calls + 1] = { url = url, args = args, usage = usage, params = params }
    if fake.fail then
      return fake.fail(url, params)
    end
    local app = fake.apps[args.user_key]
    if not app then
      return { status = 403, headers = {}, body = M.error_xml('user_key_invalid', 'user key "' .. tostring(args.user_key)
        .. '" is invalid') }
    end
    if fake.metrics then
      for metric in pairs(usage) do
        if not fake.metrics[metric] then
          return { status = 404, headers = {}, body = M.error_xml('metric_invalid', 'metric "' .. metric
            .. '" is invalid') }
        end
      end
    end
    -- parents of the usage (apisonator process_parents)
    local expanded = {}
    for metric, value in pairs(usage) do
      expanded[metric] = (expanded[metric] or 0) + value
    end
    for parent, children in pairs(fake.hierarchy) do
      for _, child in ipairs(children) do
        if usage[child] then
          expanded[parent] = (expanded[parent] or 0) + usage[child]
        end
      end
    end
    local authorized = true
    for _, report in ipairs(app.reports) do
      local wanted = expanded[report.metric]
      if wanted and report.current + wanted > report.max then
        authorized = false
      end
    end
    local hierarchy = {}
    for parent, children in pairs(fake.hierarchy) do
      for _, report in ipairs(app.reports) do
        if report.metric == parent then
          hierarchy[parent] = children
        end
      end
    end
    local body = M.status_xml({ authorized = authorized, reports = app.reports, hierarchy = hierarchy,
      now = fake.now() })
    local headers = {}
    if not authorized then
      headers['3scale-rejection-reason'] = 'limits_exceeded'
    end
    return { status = authorized and 200 or 409, headers = headers, body = body }
  end
  return fake
end

return M
