--- Stand-in for APIcast's reports batch: sums report values per credential and metric.
local _M = {}

function _M.new(service_id, reports)
  local self = { service_id = service_id, reports = {} }
  local first = reports[1]
  if first then
    self.credentials_type = (first.user_key and 'user_key') or (first.app_id and 'app_id')
      or (first.access_token and 'access_token')
  end
  for _, report in ipairs(reports) do
    local credential = report[self.credentials_type]
    self.reports[credential] = self.reports[credential] or {}
    self.reports[credential][report.metric] = (self.reports[credential][report.metric] or 0) + report.value
  end
  return self
end

return _M
