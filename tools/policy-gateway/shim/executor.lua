--- Runs the policy phases in the nginx fixture, standing in for APIcast's executor.
-- Per request: service from $service_id/$backend_endpoint, credentials from "Authorization: Bearer <user key>",
-- policy configuration (JSON) from $llm_policy_config. Like APIcast, the policy instance and the service
-- configuration are long-lived, and the per-request context is built once and kept in ngx.ctx.
local cjson = require('cjson')
local llm_metrics = require('init')

local policies = {}
local services = {}

local function policy()
  local config = ngx.var.llm_policy_config or '{}'
  policies[config] = policies[config] or llm_metrics.new(cjson.decode(config))
  return policies[config]
end

local function service()
  local id, endpoint = ngx.var.service_id, ngx.var.backend_endpoint
  local key = id .. ' ' .. endpoint
  services[key] = services[key] or {
    id = id,
    backend = { endpoint = endpoint },
    backend_authentication = { type = 'service_token', value = 'fixture-service-token' },
  }
  return services[key]
end

local function request_state()
  local ctx = ngx.ctx
  local state = ctx.llm_fixture
  if not state then
    local auth = ngx.var.http_authorization
    state = {
      policy = policy(),
      context = {
        service = service(),
        credentials = auth and { user_key = auth:match('^Bearer%s+(.+)$') } or nil,
      },
    }
    ctx.llm_fixture = state
  end
  return state
end

return {
  run = function(phase)
    local state = request_state()
    local p = state.policy
    return p[phase](p, state.context)
  end,
}
