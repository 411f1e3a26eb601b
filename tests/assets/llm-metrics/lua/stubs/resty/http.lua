--- Stand-in for lua-resty-http (unit specs only): request_uri hands the call to `handler(url, params)` (a function
-- returning { status, headers, body } or nil and an error); every call is recorded.
local M = { calls = {} }

function M.reset(handler)
  M.calls, M.handler = {}, handler
end

function M.new()
  local client = { timeouts = nil }
  function client.set_timeouts(self, connect, send, read)
    self.timeouts = { connect, send, read }
  end
  function client.request_uri(self, url, params)
    M.calls[#M.calls + 1] = { url = url, params = params, timeouts = self.timeouts }
    if not M.handler then
      return nil, 'connection refused'
    end
    return M.handler(url, params)
  end
  return client
end

return M
