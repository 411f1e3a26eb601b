/** Domain rules shared by several endpoints: system names, URL normalisation, seeding, deploys, cascades. */
import { createHash } from "node:crypto";
import { BLANK, INVALID, TAKEN, Validation } from "./errors";
import { randomHex } from "./router";
import type {
  Backend,
  ConfigEnvironment,
  EmulatorState,
  Metric,
  ObjectType,
  Owner,
  PolicyEntry,
  Product,
  ProxyConfig,
} from "./state";
import { newId, now, stamp } from "./state";

export const SYSTEM_NAME_FORMAT = /^\w[\w\-/]+$/;

/** Rails `parameterize` ("My Page" → "my-page"): how CMS pages and sections get a system_name and partial path. */
export function parameterize(name: string): string {
  return name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9\-_]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^-|-$/g, "");
}

/** Rails `parameterize.underscore` (porta system_name.rb L42): products, metrics, plans... get "my_api". */
export function systemNameFrom(name: string): string {
  return parameterize(name).replace(/-/g, "_");
}

/** Validates format and uniqueness of a system_name; `taken` decides uniqueness within the scope. */
export function checkSystemName(v: Validation, systemName: string, taken: boolean, field = "system_name"): void {
  if (systemName.length === 0) v.add(field, BLANK);
  else if (!SYSTEM_NAME_FORMAT.test(systemName) || systemName.length > 255) v.add(field, INVALID);
  else if (taken) v.add(field, TAKEN);
}

export function isPendingDeletion(state: EmulatorState, objectType: ObjectType, systemName: string): boolean {
  return state.pendingDeletions.some((p) => p.objectType === objectType && p.systemName === systemName);
}

/** `https://host` → `https://host:443`, `http://host/x` → `http://host:80/x`; null when not a usable URL. */
export function normalizeUrl(raw: string, schemes: readonly string[] = ["http", "https"]): string | null {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/:?#\s]+)(?::(\d+))?([/?#][^\s]*)?$/i.exec(raw.trim());
  if (!m) return null;
  const scheme = m[1].toLowerCase();
  if (!schemes.includes(scheme)) return null;
  const port = m[3] ?? (scheme === "https" || scheme === "wss" ? "443" : "80");
  return `${scheme}://${m[2]}:${port}${m[4] ?? ""}`;
}

/** Usage paths: leading slash, no trailing slash, `/` for empty. */
export function normalizeUsagePath(raw: string): string {
  const trimmed = raw.trim().replace(/^\/+|\/+$/g, "");
  return `/${trimmed}`;
}

export function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Canonical JSON (sorted keys) so config contents compare structurally. */
export function canonical(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v && typeof v === "object" && !Buffer.isBuffer(v)) {
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

export const BUILTIN_APICAST: PolicyEntry = { name: "apicast", version: "builtin", configuration: {}, enabled: true };

export function ownedBy(owner: Owner) {
  return (item: { owner: Owner }) => item.owner.type === owner.type && item.owner.id === owner.id;
}

export function hitsMetric(state: EmulatorState, owner: Owner): Metric | undefined {
  return state.metrics.find((m) => ownedBy(owner)(m) && m.system_name === "hits" && m.parent_id === null);
}

export function createMetric(
  state: EmulatorState,
  owner: Owner,
  fields: Pick<Metric, "system_name" | "friendly_name" | "unit" | "description" | "parent_id">,
): Metric {
  const metric: Metric = { ...stamp(state), owner, ...fields };
  state.metrics.push(metric);
  return metric;
}

function seedHits(state: EmulatorState, owner: Owner): Metric {
  return createMetric(state, owner, {
    system_name: "hits",
    friendly_name: "Hits",
    unit: "hit",
    description: "Number of API hits",
    parent_id: null,
  });
}

/** Hostname label derived from a system_name (DNS labels cannot hold `_`). */
function hostLabel(systemName: string): string {
  return systemName.replace(/_/g, "-").toLowerCase();
}

export function hostedEndpoint(state: EmulatorState, systemName: string, env: "staging" | "production"): string {
  const { name, wildcardDomain } = state.tenant;
  return `https://${hostLabel(systemName)}-${name}-apicast-${env}.${wildcardDomain}:443`;
}

export const PRODUCT_DEFAULTS: Record<string, unknown> = {
  description: null,
  deployment_option: "hosted",
  backend_version: "1",
  intentions_required: false,
  buyers_manage_apps: true,
  buyers_manage_keys: true,
  referrer_filters_required: false,
  custom_keys_enabled: true,
  buyer_key_regenerate_enabled: true,
  mandatory_app_key: true,
  buyer_can_select_plan: false,
  buyer_plan_change_permission: "request",
  notification_settings: null,
};

export function proxyDefaults(
  state: EmulatorState,
  systemName: string,
  deploymentOption: unknown,
  random: () => number,
) {
  const hosted = deploymentOption === "hosted";
  return {
    endpoint: hosted ? hostedEndpoint(state, systemName, "production") : null,
    sandbox_endpoint: hosted ? hostedEndpoint(state, systemName, "staging") : null,
    credentials_location: "query",
    auth_user_key: "user_key",
    auth_app_id: "app_id",
    auth_app_key: "app_key",
    secret_token: `Shared_secret_sent_from_proxy_to_API_backend_${randomHex(random, 16)}`,
    hostname_rewrite: null,
    oauth_login_url: null,
    api_test_path: "/",
    error_auth_failed: "Authentication failed",
    error_status_auth_failed: 403,
    error_headers_auth_failed: "text/plain; charset=us-ascii",
    error_auth_missing: "Authentication parameters missing",
    error_status_auth_missing: 403,
    error_headers_auth_missing: "text/plain; charset=us-ascii",
    error_no_match: "No Mapping Rule matched",
    error_status_no_match: 404,
    error_headers_no_match: "text/plain; charset=us-ascii",
    error_limits_exceeded: "Usage limit exceeded",
    error_status_limits_exceeded: 429,
    error_headers_limits_exceeded: "text/plain; charset=us-ascii",
    oidc_issuer_endpoint: null,
    oidc_issuer_type: "keycloak",
    jwt_claim_with_client_id: null,
    jwt_claim_with_client_id_type: "plain",
  };
}

/** A new product with everything 3scale seeds: hits, `GET /` rule, Default service plan, proxy defaults. */
export function createProduct(
  state: EmulatorState,
  name: string,
  systemName: string,
  attributes: Record<string, unknown>,
  random: () => number,
): Product {
  const base = stamp(state);
  const merged: Record<string, unknown> = {
    ...PRODUCT_DEFAULTS,
    support_email: state.provider.support_email,
    ...attributes,
  };
  const product: Product = {
    ...base,
    name,
    system_name: systemName,
    state: "incomplete",
    attributes: merged,
    default_application_plan_id: null,
    default_service_plan_id: null,
    proxy: {
      created_at: base.created_at,
      updated_at: base.updated_at,
      lock_version: 0,
      settings: proxyDefaults(state, systemName, merged.deployment_option, random),
      policies_config: [{ ...BUILTIN_APICAST }],
    },
  };
  state.products.push(product);
  const owner: Owner = { type: "service", id: product.id };
  const hits = seedHits(state, owner);
  state.mappingRules.push({
    ...stamp(state),
    owner,
    http_method: "GET",
    pattern: "/",
    delta: 1,
    metric_id: hits.id,
    position: 1,
    last: false,
  });
  // porta service.rb `after_create :create_default_service_plan` (2.15 L552-560, same in 2.16): a "Default" service
  // plan, published unless `service_plans_ui_visible` (then hidden), and never made the product's default.
  state.servicePlans.push({
    ...stamp(state),
    service_id: product.id,
    name: "Default",
    system_name: "default",
    state: state.settings.service_plans_ui_visible === true ? "hidden" : "published",
    approval_required: false,
  });
  return product;
}

export function createBackend(
  state: EmulatorState,
  fields: Pick<Backend, "name" | "system_name" | "description" | "private_endpoint">,
): Backend {
  const backend: Backend = { ...stamp(state), ...fields };
  state.backends.push(backend);
  seedHits(state, { type: "backend", id: backend.id });
  return backend;
}

/** System name as the API renders it (backend metrics carry `.<backend id>`). */
export function renderedSystemName(metric: Metric): string {
  return metric.owner.type === "backend" ? `${metric.system_name}.${metric.owner.id}` : metric.system_name;
}

export function rulesOf(state: EmulatorState, owner: Owner) {
  return state.mappingRules.filter(ownedBy(owner)).sort((a, b) => a.position - b.position);
}

/** The gateway configuration 3scale would generate for a product right now. */
export function gatewayConfig(state: EmulatorState, product: Product): Record<string, unknown> {
  const metricName = (id: number) => {
    const metric = state.metrics.find((m) => m.id === id);
    return metric ? renderedSystemName(metric) : null;
  };
  const rule = (r: (typeof state.mappingRules)[number], prefix: string) => ({
    id: r.id,
    http_method: r.http_method,
    pattern: prefix === "/" ? r.pattern : `${prefix}${r.pattern === "/" ? "" : r.pattern}` || "/",
    metric_id: r.metric_id,
    metric_system_name: metricName(r.metric_id),
    delta: r.delta,
    position: r.position,
    last: r.last,
    owner_id: r.owner.id,
    owner_type: r.owner.type === "service" ? "Proxy" : "BackendApi",
    updated_at: r.updated_at,
  });
  const usages = state.backendUsages.filter((u) => u.service_id === product.id);
  const backendConfigs = usages.map((u) => {
    const backend = state.backends.find((b) => b.id === u.backend_id)!;
    return {
      id: u.id,
      path: u.path,
      service_id: product.id,
      backend_api_id: backend.id,
      updated_at: u.updated_at,
      backend_api: {
        id: backend.id,
        name: backend.name,
        system_name: backend.system_name,
        private_endpoint: backend.private_endpoint,
        updated_at: backend.updated_at,
      },
    };
  });
  const proxyRules = [
    ...rulesOf(state, { type: "service", id: product.id }).map((r) => rule(r, "/")),
    ...usages.flatMap((u) => rulesOf(state, { type: "backend", id: u.backend_id }).map((r) => rule(r, u.path))),
  ];
  const hosts = [product.proxy.settings.endpoint, product.proxy.settings.sandbox_endpoint]
    .filter((u): u is string => typeof u === "string")
    .map((u) => /^\w+:\/\/([^/:]+)/.exec(u)?.[1]);
  return {
    id: product.id,
    account_id: state.provider.id,
    name: product.name,
    system_name: product.system_name,
    state: product.state,
    ...product.attributes,
    updated_at: product.updated_at,
    backend_api_configs: backendConfigs,
    proxy: {
      ...product.proxy.settings,
      service_id: product.id,
      updated_at: product.proxy.updated_at,
      hosts: [...new Set(hosts)],
      policy_chain: product.proxy.policies_config
        .filter((p) => p.enabled === true)
        .map((p) => ({ name: p.name, version: p.version, configuration: p.configuration })),
      proxy_rules: proxyRules,
    },
  };
}

export function configsOf(state: EmulatorState, serviceId: number, environment: ConfigEnvironment): ProxyConfig[] {
  return state.proxyConfigs
    .filter((c) => c.service_id === serviceId && c.environment === environment)
    .sort((a, b) => a.version - b.version);
}

export function latestConfig(state: EmulatorState, serviceId: number, environment: ConfigEnvironment) {
  const configs = configsOf(state, serviceId, environment);
  return configs[configs.length - 1];
}

/**
 * The staging deploy step: saves a new sandbox version only when the generated content differs from the latest
 * sandbox version. Without any backend the config cannot be built and nothing is saved (the API still says 201).
 */
export function deployStaging(state: EmulatorState, product: Product): ProxyConfig | null {
  if (!state.backendUsages.some((u) => u.service_id === product.id)) return null;
  const content = gatewayConfig(state, product);
  const latest = latestConfig(state, product.id, "sandbox");
  if (latest && canonical(latest.content) === canonical(content)) return null;
  const config: ProxyConfig = {
    id: newId(state),
    service_id: product.id,
    environment: "sandbox",
    version: (latest?.version ?? 0) + 1,
    content,
    created_at: now(),
  };
  state.proxyConfigs.push(config);
  return config;
}

/** Metric ids referenced by proxy rules of the latest sandbox or production config of any product. */
export function metricIdsInLatestConfigs(state: EmulatorState): Set<number> {
  const ids = new Set<number>();
  for (const product of state.products) {
    for (const env of ["sandbox", "production"] as const) {
      const proxy = latestConfig(state, product.id, env)?.content.proxy as { proxy_rules?: { metric_id: number }[] };
      for (const r of proxy?.proxy_rules ?? []) ids.add(r.metric_id);
    }
  }
  return ids;
}

/** Deleting metrics removes their methods, mapping rules and limits. */
export function destroyMetrics(state: EmulatorState, ids: Set<number>): void {
  for (const m of state.metrics) if (m.parent_id !== null && ids.has(m.parent_id)) ids.add(m.id);
  state.metrics = state.metrics.filter((m) => !ids.has(m.id));
  state.mappingRules = state.mappingRules.filter((r) => !ids.has(r.metric_id));
  state.limits = state.limits.filter((l) => !ids.has(l.metric_id));
}

export function destroyOwnerContent(state: EmulatorState, owner: Owner): void {
  destroyMetrics(state, new Set(state.metrics.filter(ownedBy(owner)).map((m) => m.id)));
  state.mappingRules = state.mappingRules.filter((r) => !ownedBy(owner)(r));
}

/**
 * Marks an object deleted: porta answers 404 for it at once (`accessible` scopes) while its row, and so its
 * system_name (system_name.rb uniqueness over every row), stays until DeleteObjectHierarchyWorker runs,
 * `state.deletionLagMs` later (backend_api.rb L107-109, service_deletion_subscriber.rb L7).
 */
export function scheduleDeletion(state: EmulatorState, objectType: ObjectType, id: number, systemName: string | null) {
  state.pendingDeletions.push({ objectType, id, systemName, goneAt: state.clock() + state.deletionLagMs });
}

/**
 * Runs the background worker for every deletion whose time has come: the row goes, and with a product the backend
 * usages it kept (they still block deleting their backends until then: backend_api.rb L115-118).
 */
export function tickDeletions(state: EmulatorState): void {
  const now = state.clock();
  const done = state.pendingDeletions.filter((p) => p.goneAt <= now);
  if (done.length === 0) return;
  state.pendingDeletions = state.pendingDeletions.filter((p) => p.goneAt > now);
  const products = new Set(done.filter((p) => p.objectType === "service").map((p) => p.id));
  state.backendUsages = state.backendUsages.filter((u) => !products.has(u.service_id));
}

/** Limits of the product's plans that reference metrics of one backend. */
export function dropBackendLimits(state: EmulatorState, serviceId: number, backendId: number): void {
  const planIds = new Set(state.applicationPlans.filter((p) => p.service_id === serviceId).map((p) => p.id));
  const metricIds = new Set(state.metrics.filter(ownedBy({ type: "backend", id: backendId })).map((m) => m.id));
  state.limits = state.limits.filter((l) => !(planIds.has(l.plan_id) && metricIds.has(l.metric_id)));
}
