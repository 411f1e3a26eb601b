--- Stand-in for lua-resty-http (`resty.http`, part of APIcast's image) in the nginx fixture: new, set_timeouts and
-- request_uri(url, { method, headers, keepalive_timeout, keepalive_pool }) over a cosocket with keepalive; reads
-- Content-Length and chunked bodies. Returns { status, headers (lower-case names), body } or nil and an error.
local _M = {}
local mt = { __index = _M }

function _M.new()
  return setmetatable({ timeouts = { 60000, 60000, 60000 } }, mt)
end

function _M:set_timeouts(connect, send, read)
  self.timeouts = { connect, send, read }
end

local function read_chunked(sock)
  local parts = {}
  while true do
    local line, err = sock:receive('*l')
    if not line then
      return nil, err
    end
    local size = tonumber(line:match('^%x+'), 16)
    if not size then
      return nil, 'bad chunk size'
    end
    if size == 0 then
      sock:receive('*l')
      return table.concat(parts)
    end
    local data, derr = sock:receive(size)
    if not data then
      return nil, derr
    end
    parts[#parts + 1] = data
    sock:receive('*l')
  end
end

function _M:request_uri(url, params)
  local host, port, path = url:match('^http://([^:/]+):?(%d*)(/.*)$')
  if not host then
    return nil, 'the fixture client speaks http only: ' .. url
  end
  port = tonumber(port) or 80
  local sock = ngx.socket.tcp()
  sock:settimeouts(self.timeouts[1], self.timeouts[2], self.timeouts[3])
  local ok, err = sock:connect(host, port, { pool = host .. ':' .. port })
  if not ok then
    return nil, err
  end
  local lines = { (params.method or 'GET') .. ' ' .. path .. ' HTTP/1.1' }
  local headers = params.headers or {}
  if not headers.Host then
    lines[#lines + 1] = 'Host: ' .. host
  end
  for name, value in pairs(headers) do
    lines[#lines + 1] = name .. ': ' .. value
  end
  lines[#lines + 1] = ''
  lines[#lines + 1] = ''
  local sent, serr = sock:send(table.concat(lines, '\r\n'))
  if not sent then
    sock:close()
    return nil, serr
  end
  local status_line, rerr = sock:receive('*l')
  if not status_line then
    sock:close()
    return nil, rerr
  end
  local res = { status = tonumber(status_line:match('^HTTP/%d%.%d (%d+)')), headers = {} }
  while true do
    local line, herr = sock:receive('*l')
    if not line then
      sock:close()
      return nil, herr
    end
    if line == '' then
      break
    end
    local name, value = line:match('^([^:]+):%s*(.-)%s*$')
    if name then
      res.headers[name:lower()] = value
    end
  end
  local body, berr
  if (res.headers['transfer-encoding'] or ''):lower():find('chunked', 1, true) then
    body, berr = read_chunked(sock)
  else
    local length = tonumber(res.headers['content-length'] or '0')
    body, berr = length > 0 and sock:receive(length) or '', nil
  end
  if not body then
    sock:close()
    return nil, berr
  end
  res.body = body
  if (res.headers.connection or ''):lower() == 'close' then
    sock:close()
  else
    sock:setkeepalive(params.keepalive_timeout or 60000, params.keepalive_pool or 64)
  end
  return res
end

return _M
