--- A fake `ngx` for unit specs: request/response state the policy reads, recorders for what it does.
local M = {}

function M.install(opts)
  opts = opts or {}
  local fake = {
    WARN = 'warn', INFO = 'info', ERR = 'err',
    logs = {}, timers = {},
    status = opts.status or 200,
    header = opts.response_headers or {},
    arg = {},
    var = opts.var or {},
    ctx = {},
  }
  local request = {
    method = opts.method or 'POST',
    headers = opts.request_headers or { ['Accept-Encoding'] = 'gzip' },
    body = opts.body,
    body_file = opts.body_file,
    body_read = false,
  }
  fake.request = request
  fake.req = {
    get_method = function() return request.method end,
    read_body = function() request.body_read = true end,
    get_body_data = function() return request.body end,
    get_body_file = function() return request.body_file end,
    set_body_data = function(body) request.body = body end,
    set_header = function(name, value) request.headers[name] = value end,
    clear_header = function(name) request.headers[name] = nil end,
  }
  fake.log = function(level, ...)
    fake.logs[#fake.logs + 1] = { level = level, message = table.concat({ ... }) }
  end
  fake.timer = {
    at = function(delay, fn, ...)
      fake.timers[#fake.timers + 1] = { delay = delay, fn = fn, args = { ... } }
      return true
    end,
  }
  --- Runs the scheduled timers like the event loop would after the request.
  function fake.run_timers()
    local timers = fake.timers
    fake.timers = {}
    for _, timer in ipairs(timers) do
      timer.fn(false, unpack(timer.args))
    end
    return #timers
  end
  function fake.warnings()
    local found = {}
    for _, entry in ipairs(fake.logs) do
      if entry.level == 'warn' then
        found[#found + 1] = entry.message
      end
    end
    return found
  end
  _G.ngx = fake
  return fake
end

return M
