--- Stand-in for `apicast.usage` (metric deltas APIcast authorizes and reports), with the interface the policy uses:
-- new, add, remove_metric, merge (a metric whose delta falls to 0 or below is dropped), format, encoded_format.
-- Written for the fixture; APIcast's behaviour: gateway/src/apicast/usage.lua L20-115 (3scale-2.15-stable).
local _M = {}
local mt = { __index = _M }

function _M.new()
  return setmetatable({ deltas = {}, metrics = {} }, mt)
end

function _M:add(metric, value)
  if self.deltas[metric] then
    self.deltas[metric] = self.deltas[metric] + value
  else
    self.deltas[metric] = value
    self.metrics[#self.metrics + 1] = metric
  end
end

function _M:remove_metric(metric)
  for i, name in ipairs(self.metrics) do
    if name == metric then
      table.remove(self.metrics, i)
      break
    end
  end
  self.deltas[metric] = nil
end

function _M:merge(other)
  for _, metric in ipairs(other.metrics) do
    self:add(metric, other.deltas[metric])
    if self.deltas[metric] <= 0 then
      self:remove_metric(metric)
    end
  end
end

function _M:format()
  local formatted = {}
  for _, metric in ipairs(self.metrics) do
    formatted['usage[' .. metric .. ']'] = self.deltas[metric]
  end
  return formatted
end

function _M:encoded_format()
  local parts = {}
  for _, metric in ipairs(self.metrics) do
    parts[#parts + 1] = ngx.escape_uri('usage[' .. metric .. ']') .. '=' .. self.deltas[metric]
  end
  table.sort(parts)
  return table.concat(parts, '&')
end

return _M
