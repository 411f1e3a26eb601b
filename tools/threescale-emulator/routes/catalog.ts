/** Backends, products, backend usages, metrics/methods and mapping rules (reference §1-§4). */
import { ApiError, BLANK, INVALID, NOT_INCLUDED, TAKEN, Validation, notFound, undeletable } from "../errors";
import { DEPLOYMENT_OPTIONS, isMappingPattern, mappingPatternProblems } from "../formats";
import {
  checkSystemName,
  createBackend,
  createMetric,
  createProduct,
  destroyMetrics,
  destroyOwnerContent,
  dropBackendLimits,
  hitsMetric,
  isPendingDeletion,
  metricIdsInLatestConfigs,
  normalizeUrl,
  normalizeUsagePath,
  ownedBy,
  renderedSystemName,
  rulesOf,
  scheduleDeletion,
  systemNameFrom,
} from "../model";
import type { Params } from "../params";
import {
  ADMIN_PAGES,
  created,
  has,
  ok,
  paginate,
  toInt,
  toStr,
  toBool,
  wrappedInput,
  type PageLimits,
  type RequestContext,
  type Router,
} from "../router";
import type { Backend, BackendUsage, EmulatorState, MappingRule, Metric, Owner, Product } from "../state";
import { now, stamp } from "../state";
import { addCollectionRoutes, addMemberRoutes, applyChanges, byPathId } from "./resource";

const links = (pairs: Record<string, string>) => Object.entries(pairs).map(([rel, href]) => ({ rel, href }));
const adminUrl = (state: EmulatorState, path: string) => `https://${state.tenant.adminDomain}${path}`;

// ---------- backends ----------

export function renderBackend(state: EmulatorState, b: Backend) {
  return {
    id: b.id,
    name: b.name,
    system_name: b.system_name,
    description: b.description,
    private_endpoint: b.private_endpoint,
    account_id: state.provider.id,
    created_at: b.created_at,
    updated_at: b.updated_at,
    links: links({
      metrics: adminUrl(state, `/admin/api/backend_apis/${b.id}/metrics`),
      mapping_rules: adminUrl(state, `/admin/api/backend_apis/${b.id}/mapping_rules`),
    }),
  };
}

const BACKEND_ATTRS = ["name", "system_name", "description", "private_endpoint"] as const;

function validatedEndpoint(v: Validation, raw: unknown): string | null {
  const text = toStr(raw) ?? "";
  if (text === "") {
    v.add("private_endpoint", BLANK);
    return null;
  }
  const url = normalizeUrl(text, ["http", "https", "ws", "wss"]);
  if (!url || /^\w+:\/\/localhost[:/]/i.test(url)) {
    v.add("private_endpoint", INVALID);
    return null;
  }
  return url;
}

function backendTaken(state: EmulatorState, systemName: string, exceptId?: number) {
  return (
    state.backends.some((b) => b.system_name === systemName && b.id !== exceptId) ||
    isPendingDeletion(state, "backend_api", systemName)
  );
}

/** `name` (required) and `system_name` (as given, else derived from the name) of a new backend or product. */
function newNames(v: Validation, input: Params, isTaken: (systemName: string) => boolean) {
  const name = toStr(input.name) ?? "";
  v.check(name.trim() !== "", "name", BLANK);
  const systemName = toStr(input.system_name) || systemNameFrom(name);
  if (name.trim() !== "" || has(input, "system_name")) checkSystemName(v, systemName, isTaken(systemName));
  return { name, systemName };
}

/** The new `name` of a backend or product when the update has one (it may not be blank). */
function renamed(v: Validation, input: Params): { name?: string } {
  if (!has(input, "name")) return {};
  const name = toStr(input.name) ?? "";
  v.check(name.trim() !== "", "name", BLANK);
  return { name };
}

function backend(ctx: RequestContext, name = "id"): Backend {
  return byPathId(ctx, ctx.state.backends, name);
}

function registerBackends(router: Router) {
  addCollectionRoutes(router, {
    path: "/admin/api/backend_apis",
    names: { plural: "backend_apis", singular: "backend_api" },
    items: (ctx) => ctx.state.backends,
    render: renderBackend,
    pages: ADMIN_PAGES,
    create: {
      attrs: BACKEND_ATTRS,
      make: (ctx, params) => {
        const input = params();
        const v = new Validation();
        const { name, systemName } = newNames(v, input, (taken) => backendTaken(ctx.state, taken));
        const endpoint = validatedEndpoint(v, input.private_endpoint);
        v.throwIfAny();
        return createBackend(ctx.state, {
          name,
          system_name: systemName,
          description: toStr(input.description),
          private_endpoint: endpoint!,
        });
      },
    },
  });
  addMemberRoutes(router, {
    path: "/admin/api/backend_apis/{id}",
    key: "backend_api",
    find: (ctx) => backend(ctx),
    render: renderBackend,
    update: {
      attrs: BACKEND_ATTRS,
      apply: (_ctx, input, b) => {
        const v = new Validation();
        const next = { name: b.name, description: b.description, private_endpoint: b.private_endpoint };
        Object.assign(next, renamed(v, input));
        if (has(input, "description")) next.description = toStr(input.description);
        if (has(input, "private_endpoint")) next.private_endpoint = validatedEndpoint(v, input.private_endpoint) ?? "";
        v.throwIfAny();
        applyChanges(b, next);
      },
    },
    remove: (ctx, b) => {
      if (ctx.state.backendUsages.some((u) => u.backend_id === b.id))
        throw undeletable("cannot be deleted because it is used by at least one Product");
      ctx.state.backends = ctx.state.backends.filter((x) => x !== b);
      destroyOwnerContent(ctx.state, { type: "backend", id: b.id });
      scheduleDeletion(ctx.state, "backend_api", b.id, b.system_name);
    },
  });
}

// ---------- products ----------

const PRODUCT_ATTRS = [
  "name",
  "system_name",
  "description",
  "deployment_option",
  "backend_version",
  "support_email",
  "intentions_required",
  "buyers_manage_apps",
  "buyers_manage_keys",
  "referrer_filters_required",
  "custom_keys_enabled",
  "buyer_key_regenerate_enabled",
  "mandatory_app_key",
  "buyer_can_select_plan",
  "buyer_plan_change_permission",
  "state_event",
  "txt_support",
  "terms",
  "notification_settings",
] as const;
const BOOLEAN_PRODUCT_ATTRS = new Set([
  "intentions_required",
  "buyers_manage_apps",
  "buyers_manage_keys",
  "referrer_filters_required",
  "custom_keys_enabled",
  "buyer_key_regenerate_enabled",
  "mandatory_app_key",
  "buyer_can_select_plan",
]);

export function renderProduct(state: EmulatorState, p: Product) {
  const { txt_support: _txt, terms: _terms, ...attributes } = p.attributes;
  return {
    id: p.id,
    name: p.name,
    state: p.state,
    system_name: p.system_name,
    ...attributes,
    created_at: p.created_at,
    updated_at: p.updated_at,
    links: links({
      metrics: adminUrl(state, `/admin/api/services/${p.id}/metrics`),
      self: adminUrl(state, `/admin/api/services/${p.id}`),
      service_plans: adminUrl(state, `/admin/api/services/${p.id}/service_plans`),
      application_plans: adminUrl(state, `/admin/api/services/${p.id}/application_plans`),
      features: adminUrl(state, `/admin/api/services/${p.id}/features`),
    }),
  };
}

/** Product attributes from input (validated); name/system_name/state_event handled by the caller. */
function productAttributes(v: Validation, input: Params): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  for (const key of PRODUCT_ATTRS) {
    if (!has(input, key) || key === "name" || key === "system_name" || key === "state_event") continue;
    attributes[key] = BOOLEAN_PRODUCT_ATTRS.has(key) ? toBool(input[key]) : input[key];
  }
  if (has(attributes, "deployment_option"))
    v.check(
      (DEPLOYMENT_OPTIONS as readonly string[]).includes(String(attributes.deployment_option)),
      "deployment_option",
      NOT_INCLUDED,
    );
  if (has(attributes, "backend_version")) {
    attributes.backend_version = String(attributes.backend_version);
    v.check(["1", "2", "oidc"].includes(attributes.backend_version as string), "backend_version", NOT_INCLUDED);
  }
  return attributes;
}

export function product(ctx: RequestContext, name = "service_id"): Product {
  return byPathId(ctx, ctx.state.products, name);
}

function registerProducts(router: Router) {
  addCollectionRoutes(router, {
    path: "/admin/api/services",
    names: { plural: "services", singular: "service" },
    items: (ctx) => ctx.state.products,
    render: renderProduct,
    pages: ADMIN_PAGES,
    create: {
      attrs: PRODUCT_ATTRS,
      make: (ctx, params) => {
        const input = params();
        const v = new Validation();
        const { name, systemName } = newNames(
          v,
          input,
          (taken) =>
            ctx.state.products.some((p) => p.system_name === taken) || isPendingDeletion(ctx.state, "service", taken),
        );
        const attributes = productAttributes(v, input);
        v.throwIfAny();
        return createProduct(ctx.state, name, systemName, attributes, ctx.random);
      },
    },
  });
  addMemberRoutes(router, {
    path: "/admin/api/services/{id}",
    key: "service",
    find: (ctx) => product(ctx, "id"),
    render: renderProduct,
    update: {
      attrs: PRODUCT_ATTRS,
      apply: (_ctx, input, p) => {
        const v = new Validation();
        const next: Partial<Product> = renamed(v, input);
        const attributes = productAttributes(v, input);
        v.throwIfAny();
        if (Object.keys(attributes).length > 0) next.attributes = { ...p.attributes, ...attributes };
        applyChanges(p, next);
      },
    },
    remove: ({ state }, p) => {
      if (state.products.length === 1) {
        throw new ApiError(422, {
          error: {
            from: p.state,
            event: "mark_as_deleted",
            error: 'State cannot transition via "mark_as_deleted"',
            object: { service: renderProduct(state, p) },
          },
        });
      }
      destroyProduct(state, p);
    },
  });
}

/**
 * porta services_controller.rb L45-50 `mark_as_deleted!`: the product is gone from the API at once; its backend
 * usages stay until the worker destroys the row (see tickDeletions), everything else is out of reach already.
 */
function destroyProduct(state: EmulatorState, p: Product) {
  const planIds = new Set(state.applicationPlans.filter((x) => x.service_id === p.id).map((x) => x.id));
  state.products = state.products.filter((x) => x !== p);
  destroyOwnerContent(state, { type: "service", id: p.id });
  state.applicationPlans = state.applicationPlans.filter((x) => !planIds.has(x.id));
  state.limits = state.limits.filter((l) => !planIds.has(l.plan_id));
  state.applications = state.applications.filter((a) => a.service_id !== p.id);
  state.serviceContracts = state.serviceContracts.filter((c) => c.service_id !== p.id);
  state.servicePlans = state.servicePlans.filter((x) => x.service_id !== p.id);
  state.proxyConfigs = state.proxyConfigs.filter((c) => c.service_id !== p.id);
  for (const doc of state.activeDocs) if (doc.service_id === p.id) doc.service_id = null;
  scheduleDeletion(state, "service", p.id, p.system_name);
}

// ---------- backend usages ----------

function renderUsage(state: EmulatorState, u: BackendUsage) {
  return {
    id: u.id,
    path: u.path,
    service_id: u.service_id,
    backend_id: u.backend_id,
    links: links({
      service: adminUrl(state, `/admin/api/services/${u.service_id}`),
      backend_api: adminUrl(state, `/admin/api/backend_apis/${u.backend_id}`),
    }),
  };
}

function checkUsagePath(v: Validation, state: EmulatorState, u: Pick<BackendUsage, "service_id" | "path" | "id">) {
  const clash = state.backendUsages.some(
    (o) => o.service_id === u.service_id && o.id !== u.id && o.path.toLowerCase() === u.path.toLowerCase(),
  );
  v.check(!clash, "path", "This path is already taken. Specify a different path.");
}

function registerUsages(router: Router) {
  const usage = (ctx: RequestContext) => {
    const p = product(ctx);
    return byPathId(ctx, ctx.state.backendUsages, "id", (u) => u.service_id === p.id);
  };
  router
    .add("GET", "/admin/api/services/{service_id}/backend_usages", (ctx) => {
      const p = product(ctx);
      const usages = ctx.state.backendUsages.filter((u) => u.service_id === p.id);
      return ok(paginate(ctx, usages, ADMIN_PAGES).items.map((u) => ({ backend_usage: renderUsage(ctx.state, u) })));
    })
    .add(
      "POST",
      "/admin/api/services/{service_id}/backend_usages",
      (ctx) => {
        const p = product(ctx);
        const input = wrappedInput(ctx, "backend_api_config", ["backend_api_id", "path"]);
        const backendId = toInt(input.backend_api_id);
        const b = ctx.state.backends.find((x) => x.id === backendId);
        if (!b) throw notFound();
        const path = normalizeUsagePath(toStr(input.path) ?? "");
        const v = new Validation();
        v.check(
          !ctx.state.backendUsages.some((u) => u.service_id === p.id && u.backend_id === b.id),
          "backend_api_id",
          TAKEN,
        );
        checkUsagePath(v, ctx.state, { service_id: p.id, path, id: -1 });
        v.throwIfAny();
        const u: BackendUsage = { ...stamp(ctx.state), service_id: p.id, backend_id: b.id, path };
        ctx.state.backendUsages.push(u);
        return created({ backend_usage: renderUsage(ctx.state, u) });
      },
      "backend_api_config",
    );
  addMemberRoutes(router, {
    path: "/admin/api/services/{service_id}/backend_usages/{id}",
    key: "backend_usage",
    find: usage,
    render: renderUsage,
    update: {
      wrapper: "backend_api_config",
      attrs: ["path"],
      apply: (ctx, input, u) => {
        if (!has(input, "path")) return;
        const path = normalizeUsagePath(toStr(input.path) ?? "");
        const v = new Validation();
        checkUsagePath(v, ctx.state, { ...u, path });
        v.throwIfAny();
        applyChanges(u, { path });
      },
    },
    remove: (ctx, u) => {
      ctx.state.backendUsages = ctx.state.backendUsages.filter((x) => x !== u);
      // porta 2.16 backend_api_config.rb L19-26, L53-55 (`before_destroy :destroy_usage_limits`, commit 20b4e75c2):
      // the product's plans lose their limits on the backend's metrics. 2.15 has no such callback: they stay.
      if (ctx.state.release !== "2.15") dropBackendLimits(ctx.state, u.service_id, u.backend_id);
    },
  });
}

// ---------- metrics and methods (product and backend owners) ----------

export function renderMetric(state: EmulatorState, m: Metric) {
  const base =
    m.owner.type === "service"
      ? `/admin/api/services/${m.owner.id}/metrics`
      : `/admin/api/backend_apis/${m.owner.id}/metrics`;
  const systemName = renderedSystemName(m);
  const body: Record<string, unknown> = { id: m.id };
  if (m.owner.type === "service") body.name = systemName;
  Object.assign(body, { system_name: systemName, friendly_name: m.friendly_name, description: m.description });
  if (m.parent_id === null) body.unit = m.unit;
  else body.parent_id = m.parent_id;
  Object.assign(body, { created_at: m.created_at, updated_at: m.updated_at });
  body.links =
    m.parent_id === null
      ? links({
          [m.owner.type === "service" ? "service" : "backend_api"]: adminUrl(state, base.replace(/\/metrics$/, "")),
          self: adminUrl(state, `${base}/${m.id}`),
        })
      : links({
          parent: adminUrl(state, `${base}/${m.parent_id}`),
          self: adminUrl(state, `${base}/${m.parent_id}/methods/${m.id}`),
        });
  return body;
}

/** Both owner kinds share handlers; only the path prefix, owner lookup and pagination differ. */
interface OwnerKind {
  type: Owner["type"];
  prefix: string;
  /** Lists of a backend's metrics and rules are paginated, a product's are not. */
  pages?: PageLimits;
  lookup: (ctx: RequestContext) => Owner;
}

const OWNERS: OwnerKind[] = [
  {
    type: "service",
    prefix: "/admin/api/services/{service_id}",
    lookup: (ctx) => ({ type: "service", id: product(ctx).id }),
  },
  {
    type: "backend",
    prefix: "/admin/api/backend_apis/{backend_api_id}",
    pages: ADMIN_PAGES,
    lookup: (ctx) => ({ type: "backend", id: backend(ctx, "backend_api_id").id }),
  },
];

function metricFields(
  ctx: RequestContext,
  owner: Owner,
  input: Params,
  existing: Metric | null,
  isMethod: boolean,
): Partial<Metric> {
  const v = new Validation();
  const siblings = ctx.state.metrics.filter((m) => ownedBy(owner)(m) && m !== existing);
  const next: Partial<Metric> = {};
  if (!existing || has(input, "friendly_name")) {
    next.friendly_name = toStr(input.friendly_name) ?? "";
    if (next.friendly_name.trim() === "") v.add("friendly_name", BLANK);
    else v.check(!siblings.some((m) => m.friendly_name === next.friendly_name), "friendly_name", TAKEN);
  }
  if (!isMethod && (!existing || has(input, "unit"))) {
    next.unit = toStr(input.unit) ?? "";
    v.check(next.unit.trim() !== "", "unit", BLANK);
  }
  if (has(input, "description")) next.description = toStr(input.description);
  if (!existing) {
    const systemName = toStr(input.system_name) || systemNameFrom(next.friendly_name ?? "");
    if (next.friendly_name || has(input, "system_name"))
      checkSystemName(
        v,
        systemName,
        siblings.some((m) => m.system_name === systemName),
      );
    next.system_name = systemName;
  }
  v.throwIfAny();
  return next;
}

const METRIC_ATTRS = ["friendly_name", "system_name", "name", "unit", "description"] as const;

function guardMetricDelete(state: EmulatorState, m: Metric) {
  // porta metric.rb L225-231 refuses `system_name == 'hits'`; a backend's metrics are stored as `hits.<backend id>`
  // (metric_extension.rb L61-63), so only a product's hits is protected.
  if (m.system_name === "hits" && m.parent_id === null && m.owner.type === "service")
    throw undeletable("The Hits metric cannot be deleted");
  if (metricIdsInLatestConfigs(state).has(m.id)) {
    const what = m.parent_id === null ? "Metric" : "Method";
    throw undeletable(`${what} is used by the latest gateway configuration and cannot be deleted`);
  }
}

const METHOD_ATTRS = ["friendly_name", "system_name", "description"] as const;

function registerMetrics(router: Router, kind: OwnerKind) {
  const base = `${kind.prefix}/metrics`;
  const metric = (ctx: RequestContext, name = "id") =>
    byPathId(ctx, ctx.state.metrics, name, ownedBy(kind.lookup(ctx)));
  const method = (ctx: RequestContext) => {
    const parent = metric(ctx, "metric_id");
    return byPathId(ctx, ctx.state.metrics, "id", (x) => x.parent_id === parent.id);
  };
  const remove = (ctx: RequestContext, m: Metric) => {
    guardMetricDelete(ctx.state, m);
    destroyMetrics(ctx.state, new Set([m.id]));
  };
  addCollectionRoutes(router, {
    path: base,
    names: { plural: "metrics", singular: "metric" },
    items: (ctx) => ctx.state.metrics.filter(ownedBy(kind.lookup(ctx))),
    render: renderMetric,
    pages: kind.pages,
    create: {
      attrs: METRIC_ATTRS,
      make: (ctx, params) => {
        const owner = kind.lookup(ctx);
        const fields = metricFields(ctx, owner, params(), null, false);
        return createMetric(ctx.state, owner, {
          system_name: fields.system_name!,
          friendly_name: fields.friendly_name!,
          unit: fields.unit ?? null,
          description: fields.description ?? null,
          parent_id: null,
        });
      },
    },
  });
  addCollectionRoutes(router, {
    path: `${base}/{metric_id}/methods`,
    names: { plural: "methods", singular: "method" },
    items: (ctx) => {
      const parent = metric(ctx, "metric_id");
      return ctx.state.metrics.filter((x) => x.parent_id === parent.id);
    },
    render: renderMetric,
    pages: kind.pages,
    create: {
      wrapper: "metric",
      attrs: METHOD_ATTRS,
      make: (ctx, params) => {
        const owner = kind.lookup(ctx);
        const parent = metric(ctx, "metric_id");
        const input = params();
        if (parent.id !== hitsMetric(ctx.state, owner)?.id)
          throw new ApiError(422, { errors: { parent_id: ["You can only create methods under 'hits'"] } });
        const fields = metricFields(ctx, owner, input, null, true);
        return createMetric(ctx.state, owner, {
          system_name: fields.system_name!,
          friendly_name: fields.friendly_name!,
          unit: parent.unit,
          description: fields.description ?? null,
          parent_id: parent.id,
        });
      },
    },
  });
  addMemberRoutes(router, {
    path: `${base}/{id}`,
    key: "metric",
    find: (ctx) => metric(ctx),
    render: renderMetric,
    update: {
      attrs: METRIC_ATTRS,
      apply: (ctx, input, m) => applyChanges(m, metricFields(ctx, m.owner, input, m, m.parent_id !== null)),
    },
    remove,
  });
  addMemberRoutes(router, {
    path: `${base}/{metric_id}/methods/{id}`,
    key: "method",
    find: method,
    render: renderMetric,
    update: {
      wrapper: "metric",
      attrs: METHOD_ATTRS,
      apply: (ctx, input, m) => applyChanges(m, metricFields(ctx, m.owner, input, m, true)),
    },
    remove,
  });
}

// ---------- mapping rules ----------

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
const RULE_ATTRS = ["http_method", "pattern", "delta", "metric_id", "position", "last", "redirect_url"] as const;

function renderRule(state: EmulatorState, r: MappingRule) {
  const owner: Record<string, string> =
    r.owner.type === "service"
      ? { service: adminUrl(state, `/admin/api/services/${r.owner.id}`) }
      : { backend_api: adminUrl(state, `/admin/api/backend_apis/${r.owner.id}`) };
  const self =
    r.owner.type === "service"
      ? `/admin/api/services/${r.owner.id}/proxy/mapping_rules/${r.id}`
      : `/admin/api/backend_apis/${r.owner.id}/mapping_rules/${r.id}`;
  return {
    id: r.id,
    metric_id: r.metric_id,
    pattern: r.pattern,
    http_method: r.http_method,
    delta: r.delta,
    position: r.position,
    last: r.last,
    created_at: r.created_at,
    updated_at: r.updated_at,
    links: links({
      self: adminUrl(state, self),
      ...owner,
      ...(r.owner.type === "service" ? { proxy: adminUrl(state, `/admin/api/services/${r.owner.id}/proxy`) } : {}),
    }),
  };
}

function ruleFields(ctx: RequestContext, owner: Owner, input: Params, existing: MappingRule | null) {
  const v = new Validation();
  const next: Partial<MappingRule> = {};
  if (!existing || has(input, "http_method")) {
    // porta proxy_rule.rb L27, L89: inclusion in ALLOWED_HTTP_METHODS without normalisation ("get" is refused).
    next.http_method = toStr(input.http_method) ?? "";
    if (next.http_method === "") v.add("http_method", BLANK);
    else v.check(HTTP_METHODS.includes(next.http_method), "http_method", NOT_INCLUDED);
  }
  if (!existing || has(input, "pattern")) {
    // porta proxy_rule.rb L86-88 (format with PatternParser, length ≤ 255), L147-164 (variables).
    next.pattern = toStr(input.pattern) ?? "";
    if (next.pattern === "") v.add("pattern", BLANK);
    else {
      v.check(isMappingPattern(next.pattern), "pattern", INVALID);
      v.check(next.pattern.length <= 255, "pattern", "is too long (maximum is 255 characters)");
      for (const problem of mappingPatternProblems(next.pattern)) v.add("pattern", problem);
    }
  }
  if (!existing || has(input, "delta")) {
    const raw = input.delta;
    const delta = toInt(raw);
    if (raw === undefined || raw === null || raw === "") v.add("delta", BLANK);
    else if (delta === null) v.add("delta", "is not a number");
    else if (delta <= 0) v.add("delta", "must be greater than 0");
    else next.delta = delta;
  }
  if (has(input, "metric_id")) {
    // porta mapping_rules_controller.rb L69-73 (backend_apis/ L50-53): `service.metrics.find(metric_id)`, the
    // owner's own metrics and methods only: another owner's metric is a 404, before any validation.
    const metricId = toInt(input.metric_id);
    const metric = ctx.state.metrics.find((m) => m.id === metricId && ownedBy(owner)(m));
    if (!metric) throw notFound();
    next.metric_id = metric.id;
  } else if (!existing) v.add("metric_id", BLANK);
  if (has(input, "last")) next.last = toBool(input.last);
  if (has(input, "position") && input.position !== "" && input.position !== null) {
    const position = toInt(input.position);
    if (position === null) v.add("position", "is not a number");
    else next.position = position;
  }
  v.throwIfAny();
  return next;
}

/** acts_as_list: take `rule` out of its list, then insert it at `position` (clamped), shifting the others. */
function placeRule(state: EmulatorState, rule: MappingRule, position: number | undefined) {
  const others = rulesOf(state, rule.owner).filter((r) => r !== rule);
  const index = Math.min(Math.max((position ?? others.length + 1) - 1, 0), others.length);
  others.splice(index, 0, rule);
  others.forEach((r, i) => {
    if (r.position !== i + 1 && r !== rule) r.updated_at = now();
    r.position = i + 1;
  });
}

function registerRules(router: Router, kind: OwnerKind) {
  const base = kind.type === "service" ? `${kind.prefix}/proxy/mapping_rules` : `${kind.prefix}/mapping_rules`;
  addCollectionRoutes(router, {
    path: base,
    names: { plural: "mapping_rules", singular: "mapping_rule" },
    items: (ctx) => rulesOf(ctx.state, kind.lookup(ctx)),
    render: renderRule,
    pages: kind.pages,
    create: {
      attrs: RULE_ATTRS,
      make: (ctx, params) => {
        const owner = kind.lookup(ctx);
        const { position, ...fields } = ruleFields(ctx, owner, params(), null);
        const r: MappingRule = {
          ...stamp(ctx.state),
          owner,
          http_method: fields.http_method!,
          pattern: fields.pattern!,
          delta: fields.delta!,
          metric_id: fields.metric_id!,
          last: fields.last ?? false,
          position: 0,
        };
        ctx.state.mappingRules.push(r);
        placeRule(ctx.state, r, position);
        return r;
      },
    },
  });
  addMemberRoutes(router, {
    path: `${base}/{id}`,
    key: "mapping_rule",
    find: (ctx) => byPathId(ctx, ctx.state.mappingRules, "id", ownedBy(kind.lookup(ctx))),
    render: renderRule,
    update: {
      attrs: RULE_ATTRS,
      apply: (ctx, input, r) => {
        const { position, ...fields } = ruleFields(ctx, r.owner, input, r);
        const moved = position !== undefined && position !== r.position;
        const changed = applyChanges(r, fields);
        if (moved) {
          placeRule(ctx.state, r, position);
          if (!changed) r.updated_at = now();
        }
      },
    },
    remove: (ctx, r) => {
      ctx.state.mappingRules = ctx.state.mappingRules.filter((x) => x !== r);
      rulesOf(ctx.state, r.owner).forEach((x, i) => (x.position = i + 1));
    },
  });
}

export function registerCatalog(router: Router): void {
  registerBackends(router);
  registerProducts(router);
  registerUsages(router);
  for (const kind of OWNERS) {
    registerMetrics(router, kind);
    registerRules(router, kind);
  }
}
