--- Recording stand-in for `apicast.prometheus` (unit specs only): counters remember every increment.
local registered, increments = {}, {}

local function counter(name, help, label_names)
  return {
    name = name, help = help, label_names = label_names,
    inc = function(_, value, labels)
      increments[#increments + 1] = { name = name, value = value, labels = labels }
    end,
  }
end

return setmetatable({
  registered = registered,
  increments = increments,
  reset = function()
    for i = #increments, 1, -1 do
      increments[i] = nil
    end
  end,
}, {
  __call = function(_, kind, name, help, label_names)
    assert(kind == 'counter', 'only counters are expected')
    registered[name] = registered[name] or counter(name, help, label_names)
    return registered[name]
  end,
})
