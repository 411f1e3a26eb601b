/**
 * A faithful, id-free record of a product or backend (with its metrics, methods, mapping rules, integration
 * settings, policy chain and application plans) and the code that recreates it from that record. Used to remove
 * the sample "API" product and backend a new tenant ships with and to put them back on destroy exactly as they were.
 *
 * What the admin API cannot restore: ids and timestamps (new objects get new ones), the gateway configuration
 * history (a recreated product starts without staging/production versions), and product attributes the 2.15 API
 * does not accept (support_email, buyers_manage_apps, ...: the recreated product gets 3scale's defaults).
 *
 * Serialized by value into the providers that use it (like client.ts): no module-level state.
 */
import type { AdminClient } from "./client";
import {
  BACKENDS_PATH,
  CatalogOwner,
  differences,
  findOrCreate,
  hasAny,
  listBackendUsages,
  listOwnerMetrics,
  ownerPath,
  plainMetricName,
  PRODUCTS_PATH,
  productPath,
  rulesPath,
  sameValue,
} from "./common";

export interface RecordedMetric {
  systemName: string;
  friendlyName: string;
  unit: string | null;
  description: string | null;
  /** Methods only: the system name of their parent metric (always `hits`). */
  parent?: string;
}

export interface RecordedRule {
  httpMethod: string;
  pattern: string;
  delta: number;
  /** System name of the metric or method (without a backend's `.<id>` suffix). */
  metric: string;
  position: number;
  last: boolean;
}

/** Metrics, methods and mapping rules of a product or backend. */
export interface RecordedCatalog {
  metrics: RecordedMetric[];
  rules: RecordedRule[];
}

export interface RecordedLimit {
  /** System name of the limited metric. */
  metric: string;
  /** System name of the backend owning the metric; absent for the product's own metrics. */
  backend?: string;
  period: string;
  value: number;
}

export interface RecordedPlan {
  systemName: string;
  name: string;
  published: boolean;
  default: boolean;
  approvalRequired: boolean;
  trialPeriodDays: number | null;
  setupFee: number;
  costPerMonth: number;
  limits: RecordedLimit[];
}

export interface RecordedProduct {
  name: string;
  systemName: string;
  description: string | null;
  deploymentOption?: string;
  backendVersion?: string;
  catalog?: RecordedCatalog;
  /** Writable integration settings (secret_token included: the record is a secret output). */
  proxy?: Record<string, unknown>;
  policies?: unknown[];
  plans?: RecordedPlan[];
}

export interface RecordedBackend {
  name: string;
  systemName: string;
  description: string | null;
  privateEndpoint: string;
  catalog?: RecordedCatalog;
}

/** Proxy fields the admin API lets us write back (not `api_backend`: it would rewrite backend usages). */
const PROXY_FIELDS = [
  "endpoint",
  "sandbox_endpoint",
  "credentials_location",
  "auth_user_key",
  "auth_app_id",
  "auth_app_key",
  "secret_token",
  "hostname_rewrite",
  "oauth_login_url",
  "api_test_path",
  ...["auth_failed", "auth_missing", "no_match", "limits_exceeded"].flatMap((c) => [
    `error_${c}`,
    `error_status_${c}`,
    `error_headers_${c}`,
  ]),
  "oidc_issuer_endpoint",
  "oidc_issuer_type",
  "jwt_claim_with_client_id",
  "jwt_claim_with_client_id_type",
];

function listRules(client: AdminClient, owner: CatalogOwner): Promise<any[]> {
  return client.list(`${rulesPath(owner)}.json`, "mapping_rules", "mapping_rule");
}

/** The owner's catalog; `metrics` is its metric list when the caller already has it. */
async function recordCatalog(client: AdminClient, owner: CatalogOwner, metrics?: any[]): Promise<RecordedCatalog> {
  metrics ??= await listOwnerMetrics(client, owner);
  const nameOf = (id: number) => plainMetricName(owner, metrics.find((m) => m.id === id)?.system_name ?? `#${id}`);
  const rules = await listRules(client, owner);
  return {
    metrics: metrics.map((m) => ({
      systemName: plainMetricName(owner, m.system_name),
      friendlyName: m.friendly_name,
      unit: m.unit ?? null,
      description: m.description ?? null,
      ...(m.parent_id ? { parent: nameOf(m.parent_id) } : {}),
    })),
    rules: rules
      .map((r) => ({
        httpMethod: r.http_method,
        pattern: r.pattern,
        delta: r.delta,
        metric: nameOf(r.metric_id),
        position: r.position,
        last: r.last === true,
      }))
      .sort((a, b) => a.position - b.position),
  };
}

const sameRule = (r: RecordedRule, actual: any, metricId: number | undefined) =>
  actual.http_method === r.httpMethod &&
  actual.pattern === r.pattern &&
  actual.delta === r.delta &&
  actual.metric_id === metricId &&
  (actual.last === true) === r.last;

/**
 * Makes the owner's metrics, methods and rules what the record says: missing ones are created (parents first,
 * rules in position order), rules the record does not have (e.g. the `GET /` rule 3scale seeds) are deleted.
 * Returns metric system name → id.
 */
async function restoreCatalog(
  client: AdminClient,
  owner: CatalogOwner,
  catalog: RecordedCatalog,
): Promise<Map<string, number>> {
  const ids = new Map<string, number>();
  const metricsFirst = [...catalog.metrics].sort((a, b) => Number(!!a.parent) - Number(!!b.parent));
  for (const m of metricsFirst) {
    const { item } = await findOrCreate(
      client,
      async (c) =>
        (await listOwnerMetrics(c, owner)).find((x) => plainMetricName(owner, x.system_name) === m.systemName),
      async (c) => {
        const body = {
          system_name: m.systemName,
          friendly_name: m.friendlyName,
          ...(m.parent ? {} : { unit: m.unit ?? "hit" }),
          ...(m.description === null ? {} : { description: m.description }),
        };
        const answer = m.parent
          ? await c.post(`${ownerPath(owner)}/metrics/${ids.get(m.parent)}/methods.json`, body)
          : await c.post(`${ownerPath(owner)}/metrics.json`, body);
        return answer.metric ?? answer.method;
      },
      { keyIsUnique: true },
    );
    ids.set(m.systemName, item.id);
  }
  const wanted = (actual: any) => catalog.rules.some((r) => sameRule(r, actual, ids.get(r.metric)));
  for (const extra of (await listRules(client, owner)).filter((r) => !wanted(r))) {
    await client.deleteIfExists(`${rulesPath(owner)}/${extra.id}.json`);
  }
  for (const r of catalog.rules) {
    await findOrCreate(
      client,
      async (c) => (await listRules(c, owner)).find((x) => sameRule(r, x, ids.get(r.metric))),
      async (c) =>
        (
          await c.post(`${rulesPath(owner)}.json`, {
            http_method: r.httpMethod,
            pattern: r.pattern,
            delta: r.delta,
            metric_id: ids.get(r.metric),
            position: r.position,
            last: r.last,
          })
        ).mapping_rule,
    );
  }
  return ids;
}

// ---------------------------------------------------------------------------------------------------------------
// Backends

export async function recordBackend(client: AdminClient, backend: any): Promise<RecordedBackend> {
  return {
    name: backend.name,
    systemName: backend.system_name,
    description: backend.description ?? null,
    privateEndpoint: backend.private_endpoint,
    catalog: await recordCatalog(client, { kind: "backend", id: backend.id }),
  };
}

/** Finds or recreates the backend, then its catalog; returns its id and metric ids. */
export async function restoreBackend(
  client: AdminClient,
  record: RecordedBackend,
): Promise<{ id: number; metricIds: Map<string, number> }> {
  const item = await findOrPost(client, BACKENDS_PATH, ["backend_apis", "backend_api"], {
    name: record.name,
    system_name: record.systemName,
    description: record.description ?? "",
    private_endpoint: record.privateEndpoint,
  });
  const owner: CatalogOwner = { kind: "backend", id: item.id };
  const metricIds = record.catalog ? await restoreCatalog(client, owner, record.catalog) : new Map();
  return { id: item.id, metricIds };
}

/**
 * The object of the collection at `path` with the body's system_name, created with `body` when there is none
 * (POST first, adopting on 422: see findOrCreate). `keys` are the list's collection and item envelope keys.
 */
async function findOrPost(
  client: AdminClient,
  path: string,
  [listKey, itemKey]: [string, string],
  body: Record<string, unknown> & { system_name: string },
): Promise<any> {
  const { item } = await findOrCreate(
    client,
    async (c) => (await c.list(`${path}.json`, listKey, itemKey)).find((o) => o.system_name === body.system_name),
    async (c) => (await c.post(`${path}.json`, body))[itemKey],
    { keyIsUnique: true },
  );
  return item;
}

// ---------------------------------------------------------------------------------------------------------------
// Products

/** Everything about the product a faithful restore needs; `backendNames` maps backend ids to system names. */
export async function recordProduct(
  client: AdminClient,
  product: any,
  backendNames: Map<number, string>,
): Promise<RecordedProduct> {
  const base = productPath(product.id);
  const owner: CatalogOwner = { kind: "product", id: product.id };
  const productMetrics = await listOwnerMetrics(client, owner);
  const catalog = await recordCatalog(client, owner, productMetrics);
  const proxy = (await client.get(`${base}/proxy.json`)).proxy ?? {};
  const policies = (await client.get(`${base}/proxy/policies.json`)).policies_config ?? [];
  const plans = await client.list(`${base}/application_plans.json`, "plans", "application_plan");
  const recordedPlans: RecordedPlan[] = [];
  for (const plan of plans) {
    const limits = await client.list(`/admin/api/application_plans/${plan.id}/limits.json`, "limits", "limit");
    recordedPlans.push({
      systemName: plan.system_name,
      name: plan.name,
      published: plan.state === "published",
      default: plan.default === true,
      approvalRequired: plan.approval_required === true,
      trialPeriodDays: plan.trial_period_days ?? null,
      setupFee: Number(plan.setup_fee ?? 0),
      costPerMonth: Number(plan.cost_per_month ?? 0),
      limits: await Promise.all(
        limits.map(async (l) => ({
          ...(await limitMetric(client, l.metric_id, productMetrics, backendNames)),
          period: l.period,
          value: l.value,
        })),
      ),
    });
  }
  return {
    name: product.name,
    systemName: product.system_name,
    description: product.description ?? null,
    deploymentOption: product.deployment_option,
    backendVersion: product.backend_version,
    catalog,
    proxy: Object.fromEntries(PROXY_FIELDS.filter((f) => f in proxy).map((f) => [f, proxy[f]])),
    policies,
    plans: recordedPlans,
  };
}

/** Names a limit's metric: one of the product's own, or one of a backend's (looked up in its metric list). */
async function limitMetric(
  client: AdminClient,
  metricId: number,
  productMetrics: any[],
  backendNames: Map<number, string>,
): Promise<{ metric: string; backend?: string }> {
  const own = productMetrics.find((m) => m.id === metricId);
  if (own) return { metric: own.system_name };
  for (const [backendId, backend] of backendNames) {
    const found = (await listOwnerMetrics(client, { kind: "backend", id: backendId })).find((m) => m.id === metricId);
    if (found) return { metric: plainMetricName({ kind: "backend", id: backendId }, found.system_name), backend };
  }
  return { metric: `#${metricId}` };
}

/**
 * Finds or recreates the product with its catalog, integration settings, policy chain, the usages of the given
 * backends and its plans. Settings and policies are written before any usage exists: 3scale saves a staging
 * configuration on those writes only when the product has a backend, and a fresh product had none.
 */
export async function restoreProduct(
  client: AdminClient,
  record: RecordedProduct,
  usages: Array<{ backendId: number; path: string; metricIds: Map<string, number>; systemName: string }>,
): Promise<void> {
  const item = await findOrPost(client, PRODUCTS_PATH, ["services", "service"], {
    name: record.name,
    system_name: record.systemName,
    description: record.description ?? "",
    ...(record.deploymentOption ? { deployment_option: record.deploymentOption } : {}),
    ...(record.backendVersion ? { backend_version: record.backendVersion } : {}),
  });
  const base = productPath(item.id);
  const metricIds = record.catalog
    ? await restoreCatalog(client, { kind: "product", id: item.id }, record.catalog)
    : new Map<string, number>();
  if (record.proxy) {
    const changed = differences(record.proxy, (await client.get(`${base}/proxy.json`)).proxy);
    if (hasAny(changed)) await client.patch(`${base}/proxy.json`, changed);
  }
  if (record.policies) {
    const current = (await client.get(`${base}/proxy/policies.json`)).policies_config ?? [];
    if (!sameValue(current, record.policies)) {
      await client.put(`${base}/proxy/policies.json`, { policies_config: record.policies });
    }
  }
  const existing = await listBackendUsages(client, item.id);
  for (const usage of usages.filter((u) => !existing.some((e) => e.backend_id === u.backendId))) {
    await findOrCreate(
      client,
      async (c) => (await listBackendUsages(c, item.id)).find((e) => e.backend_id === usage.backendId),
      async (c) =>
        (await c.post(`${base}/backend_usages.json`, { backend_api_id: usage.backendId, path: usage.path }))
          .backend_usage,
      { keyIsUnique: true },
    );
  }
  for (const plan of record.plans ?? []) {
    const limitMetricId = (l: RecordedLimit) =>
      l.backend === undefined
        ? metricIds.get(l.metric)
        : usages.find((u) => u.systemName === l.backend)?.metricIds.get(l.metric);
    await restorePlan(client, item.id, plan, limitMetricId);
  }
}

async function restorePlan(
  client: AdminClient,
  productId: number,
  plan: RecordedPlan,
  metricId: (l: RecordedLimit) => number | undefined,
): Promise<void> {
  const plans = `${productPath(productId)}/application_plans`;
  const item = await findOrPost(client, plans, ["plans", "application_plan"], {
    name: plan.name,
    system_name: plan.systemName,
    approval_required: plan.approvalRequired,
    setup_fee: plan.setupFee,
    cost_per_month: plan.costPerMonth,
    ...(plan.trialPeriodDays === null ? {} : { trial_period_days: plan.trialPeriodDays }),
    ...(plan.published ? { state_event: "publish" } : {}),
  });
  if (plan.default && item.default !== true) await client.put(`${plans}/${item.id}/default.json`);
  for (const limit of plan.limits) {
    const id = metricId(limit);
    if (id === undefined) continue; // its metric was not restorable (a backend this record does not cover)
    const limits = `/admin/api/application_plans/${item.id}/metrics/${id}/limits`;
    await findOrCreate(
      client,
      async (c) =>
        (await c.list(`/admin/api/application_plans/${item.id}/limits.json`, "limits", "limit")).find(
          (l) => l.metric_id === id && l.period === limit.period,
        ),
      async (c) => (await c.post(`${limits}.json`, { period: limit.period, value: limit.value })).limit,
      { keyIsUnique: true },
    );
  }
}
