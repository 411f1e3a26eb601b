--- Stand-in for `apicast.upstream` in the nginx fixture: `new(url)` and `call(context)`, which records the upstream in
-- the context and jumps to the fixture's @upstream location (proxy_pass $llm_upstream). APIcast's own call resolves
-- the host and lets its balancer pick the peer (gateway/src/apicast/upstream.lua L46-63, L214-252).
local _M = {}
local mt = { __index = _M }

function _M.new(url)
  if type(url) ~= 'string' then
    return nil, 'Upstream cannot be null'
  end
  local scheme, host = url:match('^(https?)://([^/?#]+)')
  if not scheme then
    return nil, 'invalid upstream'
  end
  return setmetatable({ url = url, scheme = scheme, host = host, location_name = '@upstream' }, mt)
end

function _M:call(context)
  if ngx.headers_sent then
    return nil, 'response sent already'
  end
  context.upstream = self
  ngx.var.llm_upstream = self.scheme .. '://' .. self.host
  ngx.req.set_header('Host', self.host)
  return ngx.exec(self.location_name)
end

return _M
