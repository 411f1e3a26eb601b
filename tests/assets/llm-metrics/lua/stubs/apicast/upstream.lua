--- Recording stand-in for `apicast.upstream` (unit specs only).
local M = { called = {} }
local mt = { __index = M }

function M.new(url)
  if type(url) ~= 'string' or not url:find('^https?://') then
    return nil, 'invalid upstream'
  end
  return setmetatable({ url = url }, mt)
end

function M:call(context)
  M.called[#M.called + 1] = { url = self.url, context = context }
  return 'exec'
end

function M.reset()
  M.called = {}
end

return M
