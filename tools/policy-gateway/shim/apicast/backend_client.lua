--- Stand-in for `apicast.backend_client` in the nginx integration fixture: `report` POSTs the batch to
-- <endpoint>/transactions.xml the way the 3scale backend expects (authentication in the query string,
-- transactions[i][<credential type>] and transactions[i][usage][<metric>] as a form body).
local _M = {}
local mt = { __index = _M }

function _M:new(service)
  local endpoint = service and service.backend and service.backend.endpoint
  if not endpoint then
    return nil, 'missing endpoint'
  end
  local authentication = { service_id = service.id }
  if service.backend_authentication then
    authentication[service.backend_authentication.type] = service.backend_authentication.value
  end
  return setmetatable({ endpoint = endpoint, authentication = authentication }, mt)
end

local function form(batch)
  local fields, index = {}, 0
  for credential, metrics in pairs(batch.reports) do
    fields[string.format('transactions[%d][%s]', index, batch.credentials_type)] = credential
    for metric, value in pairs(metrics) do
      fields[string.format('transactions[%d][usage][%s]', index, metric)] = value
    end
    index = index + 1
  end
  return ngx.encode_args(fields)
end

local function post(url, body)
  local host, port, path = url:match('^http://([^:/]+):(%d+)(/.*)$')
  local sock = ngx.socket.tcp()
  sock:settimeout(5000)
  local ok, err = sock:connect(host, tonumber(port))
  if not ok then
    return { status = 0, error = err }
  end
  sock:send(table.concat({ 'POST ', path, ' HTTP/1.1\r\nHost: ', host, '\r\nConnection: close\r\n',
    'Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ', #body, '\r\n\r\n', body }))
  local status_line = sock:receive('*l')
  sock:close()
  return { status = tonumber(status_line and status_line:match('^HTTP/%d%.%d (%d+)')) or 0, error = status_line }
end

function _M:report(batch)
  return post(self.endpoint .. '/transactions.xml?' .. ngx.encode_args(self.authentication), form(batch))
end

return _M
