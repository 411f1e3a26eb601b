--- Runs the policy chain in the nginx fixture, standing in for APIcast's executor: [llm_metrics, apicast], where
-- `apicast` is a stand-in for APIcast's own policy (gateway/src/apicast/policy/apicast/apicast.lua, proxy.lua):
-- rewrite extracts the credentials ("Authorization: Bearer <user key>") and merges the mapping-rule usage (hits 1)
-- into context.usage; access, when $apicast_authrep is 1, authreps context.usage with the fake 3scale backend
-- (409 -> 429, other refusals -> 403). The fixture runs the content phase at the end of the access handler: a policy
-- that routes jumps to @upstream (ngx.exec), otherwise the location's proxy_pass sends the request to the product's
-- backend. Like APIcast, the policy instance and the service configuration are long-lived, and the per-request
-- context survives ngx.exec('@upstream') (APIcast: resty.ctx stash/apply through a variable).
local cjson = require('cjson')
local llm_metrics = require('init')
local Usage = require('apicast.usage')
local http = require('resty.http')

local policies = {}
local services = {}
local registry = {}
local next_ref = 0

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

local apicast = {}

function apicast.rewrite(context)
  local auth = ngx.var.http_authorization
  local key = auth and auth:match('^Bearer%s+(.+)$')
  context.credentials = key and { user_key = key } or nil
  context.usage = context.usage or Usage.new()
  local mapping_rule = Usage.new()
  mapping_rule:add('hits', 1)
  context.usage:merge(mapping_rule)
end

function apicast.access(context)
  if ngx.var.apicast_authrep ~= '1' or not context.credentials then
    return
  end
  local args = { service_token = 'fixture-service-token', service_id = context.service.id,
    user_key = context.credentials.user_key }
  for name, value in pairs(context.usage:format()) do
    args[name] = value
  end
  local client = http.new()
  client:set_timeouts(5000, 5000, 5000)
  local res, err = client:request_uri(context.service.backend.endpoint .. '/transactions/authrep.xml?'
    .. ngx.encode_args(args), { method = 'GET', headers = {
      ['3scale-options'] = 'rejection_reason_header=1&limit_headers=1&no_body=1' } })
  if res and res.status == 200 then
    return
  end
  ngx.status = (res and res.status == 409) and 429 or 403
  ngx.print(res and res.status == 409 and 'Limits exceeded' or ('Authentication failed ' .. tostring(err)))
  return ngx.exit(ngx.status)
end

local function request_state()
  local ctx = ngx.ctx
  local state = ctx.llm_fixture
  if state then
    return state
  end
  local ref = ngx.var.llm_ctx_ref
  state = ref and ref ~= '' and registry[ref]
  if not state then
    state = { policy = policy(), context = { service = service() } }
    next_ref = next_ref + 1
    ref = tostring(next_ref)
    registry[ref] = state
    ngx.var.llm_ctx_ref = ref
  end
  ctx.llm_fixture = state
  return state
end

return {
  run = function(phase)
    local state = request_state()
    local p = state.policy
    p[phase](p, state.context)
    local after = apicast[phase]
    if after and not ngx.headers_sent then
      after(state.context)
    end
    if phase == 'log' then
      registry[ngx.var.llm_ctx_ref] = nil
    end
  end,
}
