--- Runs the policy phases in the nginx fixture, standing in for APIcast's executor.
-- Per request: service from $service_id/$backend_endpoint, credentials from "Authorization: Bearer <user key>",
-- policy configuration (JSON) from $llm_policy_config.
local cjson = require('cjson')
local llm_metrics = require('init')

local policies = {}

local function policy()
  local config = ngx.var.llm_policy_config or '{}'
  policies[config] = policies[config] or llm_metrics.new(cjson.decode(config))
  return policies[config]
end

local function context()
  local ctx = ngx.ctx
  if not ctx.context then
    local auth = ngx.var.http_authorization
    ctx.context = {
      service = {
        id = ngx.var.service_id,
        backend = { endpoint = ngx.var.backend_endpoint },
        backend_authentication = { type = 'service_token', value = 'fixture-service-token' },
      },
      credentials = auth and { user_key = auth:match('^Bearer%s+(.+)$') } or nil,
    }
  end
  return ctx.context
end

return {
  run = function(phase)
    local p = policy()
    return p[phase](p, context())
  end,
}
