/** Proxy settings, policy chain, staging deploy, proxy configs and promotion (reference §5-§7). */
import { ApiError, BLANK, INVALID, NOT_INCLUDED, TAKEN, Validation, missingParameter, notFound } from "../errors";
import { isHttpHeaderText } from "../formats";
import { BUILTIN_APICAST, canonical, configsOf, deployStaging, latestConfig, normalizeUrl } from "../model";
import { isPlainObject, type Params } from "../params";
import {
  created,
  has,
  ok,
  param,
  toBool,
  toInt,
  toStr,
  wrappedInput,
  type RequestContext,
  type Router,
} from "../router";
import type { ConfigEnvironment, EmulatorState, PolicyEntry, Product, ProxyConfig } from "../state";
import { newId, now } from "../state";
import { product } from "./catalog";

const URL_FIELDS = ["endpoint", "sandbox_endpoint", "api_backend"] as const;
const KEY_FIELDS = ["auth_user_key", "auth_app_id", "auth_app_key", "secret_token"] as const;
const STATUS_FIELDS = [
  "error_status_auth_failed",
  "error_status_auth_missing",
  "error_status_no_match",
  "error_status_limits_exceeded",
] as const;
const TEXT_FIELDS = ["hostname_rewrite", "oauth_login_url", "api_test_path", "oidc_issuer_endpoint"] as const;
/** porta proxy.rb L72-76: error bodies and content types must match HTTP_HEADER (see formats.ts). */
const ERROR_TEXT_FIELDS = [
  "error_auth_failed",
  "error_headers_auth_failed",
  "error_auth_missing",
  "error_headers_auth_missing",
  "error_no_match",
  "error_headers_no_match",
  "error_limits_exceeded",
  "error_headers_limits_exceeded",
] as const;
/** porta proxy.rb L79-85 `length: { maximum: 255 }` (those the emulator stores). */
const MAX_255 = [
  "endpoint",
  "sandbox_endpoint",
  "auth_app_key",
  "auth_app_id",
  "auth_user_key",
  "secret_token",
  "hostname_rewrite",
  "oidc_issuer_endpoint",
  "credentials_location",
  ...ERROR_TEXT_FIELDS,
];
const ENUM_FIELDS: Record<string, string[]> = {
  credentials_location: ["headers", "query", "authorization"],
  oidc_issuer_type: ["keycloak", "rest"],
};
/**
 * porta proxies_controller.rb L34-45 `proxy_params` (plus the gateway attributes): `lock_version` and the
 * jwt_claim_* fields are not permitted. `service_id` is an attribute too, which the "bump" PATCH relies on.
 */
const PROXY_ATTRS = [
  ...URL_FIELDS,
  ...KEY_FIELDS,
  ...STATUS_FIELDS,
  ...TEXT_FIELDS,
  ...ERROR_TEXT_FIELDS,
  ...Object.keys(ENUM_FIELDS),
];
const PROXY_WRAPPED = [...PROXY_ATTRS, "service_id", "policies_config"];

export function renderPolicies(chain: PolicyEntry[]) {
  return chain.map((p) => {
    const entry: Record<string, unknown> = { name: p.name, version: p.version, configuration: p.configuration };
    if (p.enabled !== undefined) entry.enabled = p.enabled;
    return entry;
  });
}

/** The product's first backend usage (porta orders backend_api_configs by id), if any. */
function firstUsage(state: EmulatorState, p: Product) {
  return state.backendUsages.filter((u) => u.service_id === p.id).sort((a, b) => a.id - b.id)[0];
}

/** Settings shown only for OIDC products (porta ProxyRepresenter L44-48, proxy.rb L249-251 `oidc?`). */
const OIDC_FIELDS = [
  "oidc_issuer_endpoint",
  "oidc_issuer_type",
  "jwt_claim_with_client_id",
  "jwt_claim_with_client_id_type",
];

function renderProxy(state: EmulatorState, p: Product) {
  const admin = `https://${state.tenant.adminDomain}/admin/api/services/${p.id}`;
  const sandbox = latestConfig(state, p.id, "sandbox");
  const oidc = p.attributes.backend_version === "oidc";
  const settings = Object.fromEntries(
    Object.entries(p.proxy.settings).filter(([k]) => oidc || !OIDC_FIELDS.includes(k)),
  );
  // porta ProxyRepresenter L7 `api_backend, render_nil: true` → the first backend usage's private endpoint
  // (backend_api_logic/service_extension.rb L30-37), null without one.
  const usage = firstUsage(state, p);
  const apiBackend = usage ? (state.backends.find((b) => b.id === usage.backend_id)?.private_endpoint ?? null) : null;
  return {
    service_id: p.id,
    ...settings,
    api_backend: apiBackend,
    deployed_at: sandbox?.created_at ?? null,
    api_test_success: null,
    policies_config: renderPolicies(p.proxy.policies_config),
    created_at: p.proxy.created_at,
    updated_at: p.proxy.updated_at,
    deployment_option: p.attributes.deployment_option,
    lock_version: p.proxy.lock_version,
    links: [
      { rel: "mapping_rules", href: `${admin}/proxy/mapping_rules` },
      { rel: "self", href: `${admin}/proxy` },
      { rel: "service", href: admin },
    ],
  };
}

function proxyChanges(p: Product, input: Params): Record<string, string | number | null> {
  const v = new Validation();
  const next: Record<string, string | number | null> = {};
  const hosted = p.attributes.deployment_option === "hosted";
  for (const field of URL_FIELDS) {
    if (!has(input, field)) continue;
    const raw = toStr(input[field]) ?? "";
    if (raw === "") {
      if (hosted && field !== "api_backend") v.add(field, BLANK);
      else next[field] = null;
      continue;
    }
    const url = normalizeUrl(raw);
    if (!url || (hosted && /^\w+:\/\/localhost[:/]/i.test(url))) v.add(field, INVALID);
    else next[field] = url;
  }
  for (const field of KEY_FIELDS) {
    if (!has(input, field)) continue;
    const value = toStr(input[field]) ?? "";
    if (/^[\w-]+$/.test(value)) next[field] = value;
    else v.add(field, INVALID);
  }
  for (const field of STATUS_FIELDS) {
    if (!has(input, field)) continue;
    const status = toInt(input[field]);
    if (status === null) v.add(field, "is not a number");
    else if (status < 200) v.add(field, "must be greater than or equal to 200");
    else if (status > 599) v.add(field, "must be less than or equal to 599");
    else next[field] = status;
  }
  for (const field of TEXT_FIELDS) if (has(input, field)) next[field] = toStr(input[field]);
  for (const field of ERROR_TEXT_FIELDS) {
    if (!has(input, field)) continue;
    const value = toStr(input[field]) ?? "";
    if (isHttpHeaderText(value)) next[field] = value;
    else v.add(field, INVALID);
  }
  for (const field of MAX_255) {
    const value = next[field];
    if (typeof value === "string" && value.length > 255) v.add(field, "is too long (maximum is 255 characters)");
  }
  for (const [field, allowed] of Object.entries(ENUM_FIELDS)) {
    if (!has(input, field)) continue;
    const value = toStr(input[field]) ?? "";
    if (allowed.includes(value)) next[field] = value;
    else v.add(field, NOT_INCLUDED);
  }
  v.throwIfAny();
  return Object.fromEntries(Object.entries(next).filter(([k, value]) => p.proxy.settings[k] !== value));
}

/**
 * Optimistic locking: the proxy saved by another request since this one loaded it raises
 * ActiveRecord::StaleObjectError, which the admin API does not rescue (base_controller.rb L28-34 only maps
 * RecordNotUnique to 409): HTTP 500.
 */
function checkLock(ctx: RequestContext, p: Product) {
  const loaded = ctx.loadedLockVersion(p.id);
  if (loaded !== undefined && loaded !== p.proxy.lock_version)
    throw new ApiError(500, { status: "Internal Server Error" });
}

function touchProxy(p: Product) {
  p.proxy.updated_at = now();
  p.proxy.lock_version += 1;
}

/** Parses and normalises a policy chain; throws the per-entry 422 body of 3scale. */
export function normalizePolicyChain(raw: unknown): PolicyEntry[] {
  let chain = raw;
  if (typeof raw === "string") {
    try {
      chain = JSON.parse(raw);
    } catch {
      throw new ApiError(422, { errors: { policies_config: ["is invalid JSON"] } });
    }
  }
  if (!Array.isArray(chain)) throw new ApiError(422, { errors: { policies_config: ["must be an array"] } });
  if (JSON.stringify(chain).length > 2 * 1024 * 1024)
    throw new ApiError(422, { errors: { policies_config: ["is too big"] } });
  let failed = false;
  const checked = chain.map((entry) => {
    const e: Params = isPlainObject(entry) ? entry : {};
    const errors: Record<string, string[]> = {};
    if (!toStr(e.name)) errors.name = [BLANK];
    if (!toStr(e.version)) errors.version = [BLANK];
    if (!isPlainObject(e.configuration)) errors.configuration = [BLANK];
    if (Object.keys(errors).length > 0) failed = true;
    return { entry: e, errors };
  });
  if (failed) {
    throw new ApiError(422, {
      policies_config: checked.map(({ entry, errors }) => ({
        ...entry,
        ...(Object.keys(errors).length > 0 ? { errors } : {}),
      })),
    });
  }
  const normalized: PolicyEntry[] = checked.map(({ entry }) => ({
    name: String(entry.name),
    version: String(entry.version),
    configuration: entry.configuration as Record<string, unknown>,
    ...(has(entry, "enabled") && entry.enabled !== null ? { enabled: toBool(entry.enabled) } : {}),
  }));
  if (!normalized.some((p) => p.name === "apicast")) normalized.push({ ...BUILTIN_APICAST });
  return normalized;
}

function environment(ctx: RequestContext): ConfigEnvironment {
  const env = ctx.pathParams.environment;
  if (env === "sandbox" || env === "staging") return "sandbox";
  if (env === "production") return "production";
  throw new ApiError(400, { error: "invalid environment" });
}

/** The product and its config of the path's environment and version; a 404 when there is none. */
function configVersion(ctx: RequestContext): { product: Product; config: ProxyConfig } {
  const p = product(ctx);
  const version = toInt(ctx.pathParams.version);
  const config = configsOf(ctx.state, p.id, environment(ctx)).find((c) => c.version === version);
  if (!config) throw notFound();
  return { product: p, config };
}

function renderConfig(c: ProxyConfig) {
  return { id: c.id, version: c.version, environment: c.environment, content: c.content, created_at: c.created_at };
}

export function registerGateway(router: Router): void {
  const base = "/admin/api/services/{service_id}/proxy";
  const updateProxy = (ctx: RequestContext) => {
    const p = product(ctx);
    const { api_backend: apiBackend, ...changes } = proxyChanges(p, wrappedInput(ctx, "proxy", PROXY_WRAPPED));
    checkLock(ctx, p);
    if (Object.keys(changes).length > 0) {
      Object.assign(p.proxy.settings, changes);
      touchProxy(p);
    }
    // `api_backend=` writes the first backend's private endpoint (service_extension.rb L11, L40-48); creating a
    // backend for a product without one (the legacy shim) is not emulated.
    const usage = firstUsage(ctx.state, p);
    const backend = usage && ctx.state.backends.find((b) => b.id === usage.backend_id);
    if (typeof apiBackend === "string" && backend && backend.private_endpoint !== apiBackend) {
      backend.private_endpoint = apiBackend;
      backend.updated_at = now();
    }
    // Every successful update runs the staging deploy (porta ProxiesController#update), so a no-op "bump"
    // still publishes pending rule changes; an unchanged product gets no new version.
    deployStaging(ctx.state, p);
    return ok({ proxy: renderProxy(ctx.state, p) });
  };
  router
    .add("GET", base, (ctx) => ok({ proxy: renderProxy(ctx.state, product(ctx)) }))
    .add("PUT", base, updateProxy, "proxy")
    .add("POST", `${base}/deploy`, (ctx) => {
      const p = product(ctx);
      deployStaging(ctx.state, p);
      return created({ proxy: renderProxy(ctx.state, p) });
    })
    .add("GET", `${base}/policies`, (ctx) =>
      ok({ policies_config: renderPolicies(product(ctx).proxy.policies_config) }),
    )
    .add(
      "PUT",
      `${base}/policies`,
      (ctx) => {
        const p = product(ctx);
        const nested = ctx.body.proxy;
        const raw = param(ctx, "policies_config") ?? (isPlainObject(nested) ? nested.policies_config : undefined);
        // `policies_config` is wrapped under `proxy`, which the controller requires.
        if (raw === undefined) throw missingParameter("proxy");
        const chain = normalizePolicyChain(raw);
        checkLock(ctx, p);
        if (canonical(chain) !== canonical(p.proxy.policies_config)) {
          p.proxy.policies_config = chain;
          touchProxy(p);
        }
        deployStaging(ctx.state, p);
        return ok({ policies_config: renderPolicies(p.proxy.policies_config) });
      },
      "proxy",
    )
    .add("GET", `${base}/configs/{environment}`, (ctx) => {
      const p = product(ctx);
      const configs = configsOf(ctx.state, p.id, environment(ctx));
      return ok({ proxy_configs: configs.map((c) => ({ proxy_config: renderConfig(c) })) });
    })
    .add("GET", `${base}/configs/{environment}/latest`, (ctx) => {
      const p = product(ctx);
      const latest = latestConfig(ctx.state, p.id, environment(ctx));
      if (!latest) throw notFound();
      return ok({ proxy_config: renderConfig(latest) });
    })
    .add("GET", `${base}/configs/{environment}/{version}`, (ctx) =>
      ok({ proxy_config: renderConfig(configVersion(ctx).config) }),
    )
    .add("POST", `${base}/configs/{environment}/{version}/promote`, (ctx) => {
      const { product: p, config: source } = configVersion(ctx);
      const to = toStr(param(ctx, "to"));
      if (!to) throw missingParameter("to");
      if (to !== "sandbox" && to !== "production") throw new ApiError(422, { errors: { environment: [NOT_INCLUDED] } });
      if (configsOf(ctx.state, p.id, to).some((c) => c.version === source.version))
        throw new ApiError(422, { errors: { version: [TAKEN] } });
      const copy: ProxyConfig = {
        id: newId(ctx.state),
        service_id: p.id,
        environment: to,
        version: source.version,
        content: structuredClone(source.content),
        created_at: now(),
      };
      ctx.state.proxyConfigs.push(copy);
      return created({ proxy_config: renderConfig(copy) });
    });
}
