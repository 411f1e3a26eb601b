--- A fake `ngx` for unit specs: request/response state the policy reads, recorders for what it does.
-- Periodic timers, shared dicts and the clock outlive one request (like a worker's): `reset` clears them.
local M = { periodic = {}, shared = {}, clock = 0, exiting = false, now = 1796407290 }

function M.reset()
  M.periodic, M.shared, M.clock, M.exiting, M.now = {}, {}, 0, false, 1796407290
end

--- A minimal lua_shared_dict: numbers with incr, values with add and an expiry on the fake clock.
function M.define_dict(name)
  local entries = {}
  local function live(key)
    local entry = entries[key]
    if entry and entry.expires and entry.expires <= M.clock then
      entries[key] = nil
      return nil
    end
    return entry
  end
  local dict = {}
  function dict.incr(_, key, value, init, init_ttl)
    local entry = live(key)
    if not entry then
      if init == nil then
        return nil, 'not found'
      end
      entry = { value = init, expires = init_ttl and init_ttl > 0 and M.clock + init_ttl or nil }
      entries[key] = entry
    end
    entry.value = entry.value + value
    return entry.value, nil, false
  end
  function dict.get(_, key)
    local entry = live(key)
    return entry and entry.value
  end
  function dict.add(_, key, value, ttl)
    if live(key) then
      return false, 'exists'
    end
    entries[key] = { value = value, expires = ttl and ttl > 0 and M.clock + ttl or nil }
    return true
  end
  function dict.get_keys()
    local keys = {}
    for key in pairs(entries) do
      if live(key) then
        keys[#keys + 1] = key
      end
    end
    table.sort(keys)
    return keys
  end
  M.shared[name] = dict
  return dict
end

--- Runs every periodic timer once, in the order they were started, after moving the clock on by the first one's
-- interval; `premature`: right away, because the worker is exiting.
function M.tick(premature)
  if not premature then
    M.clock = M.clock + (M.periodic[1] and M.periodic[1].interval or 0)
  end
  for _, timer in ipairs(M.periodic) do
    timer.fn(premature or false, unpack(timer.args))
  end
  return #M.periodic
end

function M.install(opts)
  opts = opts or {}
  local fake = {
    WARN = 'warn', INFO = 'info', ERR = 'err',
    logs = {}, timers = {},
    status = opts.status or 200,
    header = opts.response_headers or {},
    arg = {},
    var = opts.var or {},
    printed = {},
    exited = nil,
    ctx = {},
    shared = M.shared,
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
    set_body_data = function(body) request.body, request.body_file = body, nil end,
    set_header = function(name, value) request.headers[name] = value end,
    clear_header = function(name) request.headers[name] = nil end,
  }
  fake.now = function() return M.now end
  fake.print = function(...)
    fake.printed[#fake.printed + 1] = table.concat({ ... })
  end
  fake.exit = function(status)
    fake.exited = status
  end
  fake.exec = function(location)
    fake.executed = location
  end
  fake.encode_args = function(args)
    local parts = {}
    for k, v in pairs(args) do
      local function escape(s)
        return (tostring(s):gsub('[^%w%-_%.~]', function(c) return string.format('%%%02X', c:byte()) end))
      end
      parts[#parts + 1] = escape(k) .. '=' .. escape(v)
    end
    table.sort(parts)
    return table.concat(parts, '&')
  end
  fake.escape_uri = function(s)
    return (tostring(s):gsub('[^%w%-_%.~]', function(c) return string.format('%%%02X', c:byte()) end))
  end
  fake.log = function(level, ...)
    fake.logs[#fake.logs + 1] = { level = level, message = table.concat({ ... }) }
  end
  fake.timer = {
    at = function(delay, fn, ...)
      fake.timers[#fake.timers + 1] = { delay = delay, fn = fn, args = { ... } }
      return true
    end,
    every = function(interval, fn, ...)
      M.periodic[#M.periodic + 1] = { interval = interval, fn = fn, args = { ... } }
      return true
    end,
  }
  fake.worker = {
    exiting = function() return M.exiting end,
  }
  --- Runs the scheduled one-off timers like the event loop would after the request.
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
