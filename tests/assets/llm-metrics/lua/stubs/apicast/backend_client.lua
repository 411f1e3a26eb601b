--- Recording stand-in for `apicast.backend_client` (unit specs only).
-- `response` is what `report` returns; a function is called with the batch instead (it may raise, like a network
-- failure would).
local _M = { calls = {}, response = { status = 202 } }

function _M:new(service, http_client)
  local client = { service = service, http_client = http_client }
  function client.report(_, batch)
    _M.calls[#_M.calls + 1] = { service = service, http_client = http_client, batch = batch }
    if type(_M.response) == 'function' then
      return _M.response(batch)
    end
    return _M.response
  end
  return client
end

function _M.reset()
  _M.calls, _M.response = {}, { status = 202 }
end

return _M
