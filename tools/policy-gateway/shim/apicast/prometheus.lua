--- Stand-in for `apicast.prometheus` in the nginx fixture: counters in the shared dict `llm_test_metrics`,
-- keyed `name{label1,label2}`, dumped by the fixture's /__metrics location.
return setmetatable({}, {
  __call = function(_, kind, name)
    assert(kind == 'counter', 'the fixture only provides counters')
    return {
      inc = function(_, value, labels)
        ngx.shared.llm_test_metrics:incr(name .. '{' .. table.concat(labels, ',') .. '}', value, 0)
      end,
    }
  end,
})
