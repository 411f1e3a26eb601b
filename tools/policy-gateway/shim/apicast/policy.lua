--- Stand-in for APIcast's `apicast.policy`: a policy is a table with one no-op method per phase and a `new`.
local PHASES = { 'init', 'init_worker', 'rewrite', 'access', 'content', 'balancer', 'header_filter', 'body_filter',
  'post_action', 'log', 'metrics', 'ssl_certificate' }

local _M = {}

function _M.new(name, version)
  local policy = { _NAME = name, _VERSION = version or '0.0' }
  local mt = { __index = policy }
  function policy.new()
    return setmetatable({}, mt)
  end
  for _, phase in ipairs(PHASES) do
    policy[phase] = function() end
  end
  return policy, mt
end

return _M
