/**
 * An id-free, normalised view of the tenant for assertions: objects keyed by system_name (pages and files by
 * path), references expressed as system names, timestamps dropped.
 */
import { latestConfig, ownedBy, rulesOf } from "./model";
import { renderPolicies } from "./routes/gateway";
import type { EmulatorState, Metric, Owner, PolicyEntry } from "./state";

export interface MetricSnapshot {
  friendly_name: string;
  unit: string | null;
  description: string | null;
}
export interface MethodSnapshot {
  friendly_name: string;
  description: string | null;
}
export interface RuleSnapshot {
  http_method: string;
  pattern: string;
  delta: number;
  /** System name of the metric/method (plain, without the backend id suffix). */
  metric: string;
  position: number;
  last: boolean;
}
/** A limit's metric: product metrics have `backend: null`; backend metrics name their backend. */
export interface LimitSnapshot {
  metric: string;
  backend: string | null;
  period: string;
  value: number;
}
export interface PlanSnapshot {
  name: string;
  state: string;
  default: boolean;
  approval_required: boolean;
  trial_period_days: number | null;
  cost_per_month: number;
  setup_fee: number;
  limits: LimitSnapshot[];
}
export interface ProductSnapshot {
  name: string;
  state: string;
  /** description, deployment_option, backend_version and the other product attributes. */
  attributes: Record<string, unknown>;
  metrics: Record<string, MetricSnapshot>;
  methods: Record<string, MethodSnapshot>;
  mappingRules: RuleSnapshot[];
  /** Keyed by backend system_name. */
  backendUsages: Record<string, { path: string }>;
  proxy: Record<string, unknown>;
  policies: Partial<PolicyEntry>[];
  applicationPlans: Record<string, PlanSnapshot>;
  servicePlans: string[];
  latestVersions: { sandbox: number | null; production: number | null };
}
export interface BackendSnapshot {
  name: string;
  description: string | null;
  private_endpoint: string;
  metrics: Record<string, MetricSnapshot>;
  methods: Record<string, MethodSnapshot>;
  mappingRules: RuleSnapshot[];
}
export interface TenantSnapshot {
  products: Record<string, ProductSnapshot>;
  backends: Record<string, BackendSnapshot>;
  activeDocs: Record<
    string,
    {
      name: string;
      product: string | null;
      description: string | null;
      published: boolean;
      skip_swagger_validations: boolean;
      body: unknown;
    }
  >;
  provider: {
    site_access_code: string | null;
    from_email: string | null;
    support_email: string | null;
    finance_support_email: string | null;
  };
  settings: Record<string, unknown>;
  /** Keyed by system_name. */
  authProviders: Record<string, Record<string, unknown>>;
  cms: {
    sections: Record<string, { title: string; public: boolean; parent: string | null; partial_path: string }>;
    files: Record<
      string,
      { section: string | null; downloadable: boolean; content_type: string; sha256: string; size: number }
    >;
    /** Pages keyed by path; layouts, partials and builtins by system_name. */
    pages: Record<
      string,
      {
        title: string | null;
        system_name: string | null;
        section: string | null;
        layout: string | null;
        content_type: string | null;
        liquid_enabled: boolean | null;
        handler: string | null;
        draft: string | null;
        published: string | null;
      }
    >;
    layouts: Record<
      string,
      { title: string | null; liquid_enabled: boolean | null; draft: string | null; published: string | null }
    >;
    partials: Record<string, { draft: string | null; published: string | null }>;
    builtinPages: Record<string, { layout: string | null; draft: string | null; published: string | null }>;
    builtinPartials: Record<string, { draft: string | null; published: string | null }>;
  };
  /** Developer accounts keyed by username, with their applications keyed by name. */
  accounts: Record<
    string,
    { org_name: string; state: string; applications: Record<string, { product: string; plan: string; state: string }> }
  >;
}

function metricsOf(state: EmulatorState, owner: Owner) {
  const metrics: Record<string, MetricSnapshot> = {};
  const methods: Record<string, MethodSnapshot> = {};
  for (const m of state.metrics.filter(ownedBy(owner))) {
    if (m.parent_id === null)
      metrics[m.system_name] = { friendly_name: m.friendly_name, unit: m.unit, description: m.description };
    else methods[m.system_name] = { friendly_name: m.friendly_name, description: m.description };
  }
  return { metrics, methods };
}

export function buildSnapshot(state: EmulatorState): TenantSnapshot {
  const metricById = new Map<number, Metric>(state.metrics.map((m) => [m.id, m]));
  const backendName = (id: number | null) => state.backends.find((b) => b.id === id)?.system_name ?? null;
  const rules = (owner: Owner): RuleSnapshot[] =>
    rulesOf(state, owner).map((r) => ({
      http_method: r.http_method,
      pattern: r.pattern,
      delta: r.delta,
      metric: metricById.get(r.metric_id)?.system_name ?? `#${r.metric_id}`,
      position: r.position,
      last: r.last,
    }));
  const sectionName = (id: number | null) => state.cmsSections.find((s) => s.id === id)?.system_name ?? null;
  const layoutName = (id: number | null) => state.cmsTemplates.find((t) => t.id === id)?.system_name ?? null;
  const content = (t: { draft: string | null; published: string | null }) => ({
    draft: t.draft,
    published: t.published,
  });
  const byType = (type: string) => state.cmsTemplates.filter((t) => t.type === type);

  const products: Record<string, ProductSnapshot> = {};
  for (const p of state.products) {
    const owner: Owner = { type: "service", id: p.id };
    const plans: Record<string, PlanSnapshot> = {};
    for (const plan of state.applicationPlans.filter((x) => x.service_id === p.id)) {
      plans[plan.system_name] = {
        name: plan.name,
        state: plan.state,
        default: p.default_application_plan_id === plan.id,
        approval_required: plan.approval_required,
        trial_period_days: plan.trial_period_days,
        cost_per_month: plan.cost_per_month,
        setup_fee: plan.setup_fee,
        limits: state.limits
          .filter((l) => l.plan_id === plan.id)
          .map((l) => {
            const metric = metricById.get(l.metric_id);
            return {
              metric: metric?.system_name ?? `#${l.metric_id}`,
              backend: metric?.owner.type === "backend" ? backendName(metric.owner.id) : null,
              period: l.period,
              value: l.value,
            };
          }),
      };
    }
    products[p.system_name] = {
      name: p.name,
      state: p.state,
      attributes: { ...p.attributes },
      ...metricsOf(state, owner),
      mappingRules: rules(owner),
      backendUsages: Object.fromEntries(
        state.backendUsages
          .filter((u) => u.service_id === p.id)
          .map((u) => [backendName(u.backend_id) ?? `#${u.backend_id}`, { path: u.path }]),
      ),
      proxy: { ...p.proxy.settings },
      policies: renderPolicies(p.proxy.policies_config),
      applicationPlans: plans,
      servicePlans: state.servicePlans.filter((x) => x.service_id === p.id).map((x) => x.system_name),
      latestVersions: {
        sandbox: latestConfig(state, p.id, "sandbox")?.version ?? null,
        production: latestConfig(state, p.id, "production")?.version ?? null,
      },
    };
  }

  const parseBody = (body: string) => {
    try {
      return JSON.parse(body);
    } catch {
      return body;
    }
  };
  return {
    products,
    backends: Object.fromEntries(
      state.backends.map((b) => {
        const owner: Owner = { type: "backend", id: b.id };
        return [
          b.system_name,
          {
            name: b.name,
            description: b.description,
            private_endpoint: b.private_endpoint,
            ...metricsOf(state, owner),
            mappingRules: rules(owner),
          },
        ];
      }),
    ),
    activeDocs: Object.fromEntries(
      state.activeDocs.map((d) => [
        d.system_name,
        {
          name: d.name,
          product: state.products.find((p) => p.id === d.service_id)?.system_name ?? null,
          description: d.description,
          published: d.published,
          skip_swagger_validations: d.skip_swagger_validations,
          body: parseBody(d.body),
        },
      ]),
    ),
    provider: {
      site_access_code: state.provider.site_access_code,
      from_email: state.provider.from_email,
      support_email: state.provider.support_email,
      finance_support_email: state.provider.finance_support_email,
    },
    settings: { ...state.settings },
    authProviders: Object.fromEntries(
      state.authProviders.map(({ id: _id, created_at: _c, updated_at: _u, ...rest }) => [rest.system_name, rest]),
    ),
    cms: {
      sections: Object.fromEntries(
        state.cmsSections.map((s) => [
          s.system_name,
          { title: s.title, public: s.public, parent: sectionName(s.parent_id), partial_path: s.partial_path },
        ]),
      ),
      files: Object.fromEntries(
        state.cmsFiles.map((f) => [
          f.path,
          {
            section: sectionName(f.section_id),
            downloadable: f.downloadable,
            content_type: f.content_type,
            sha256: f.sha256,
            size: f.data.length,
          },
        ]),
      ),
      pages: Object.fromEntries(
        byType("page").map((t) => [
          t.path!,
          {
            title: t.title,
            system_name: t.system_name,
            section: sectionName(t.section_id),
            layout: layoutName(t.layout_id),
            content_type: t.content_type,
            liquid_enabled: t.liquid_enabled,
            handler: t.handler,
            ...content(t),
          },
        ]),
      ),
      layouts: Object.fromEntries(
        byType("layout").map((t) => [
          t.system_name!,
          { title: t.title, liquid_enabled: t.liquid_enabled, ...content(t) },
        ]),
      ),
      partials: Object.fromEntries(byType("partial").map((t) => [t.system_name!, content(t)])),
      builtinPages: Object.fromEntries(
        byType("builtin_page").map((t) => [t.system_name!, { layout: layoutName(t.layout_id), ...content(t) }]),
      ),
      builtinPartials: Object.fromEntries(byType("builtin_partial").map((t) => [t.system_name!, content(t)])),
    },
    accounts: Object.fromEntries(
      state.accounts.map((a) => [
        a.username,
        {
          org_name: a.org_name,
          state: a.state,
          applications: Object.fromEntries(
            state.applications
              .filter((x) => x.account_id === a.id)
              .map((x) => [
                x.name,
                {
                  product: state.products.find((p) => p.id === x.service_id)?.system_name ?? `#${x.service_id}`,
                  plan: state.applicationPlans.find((p) => p.id === x.plan_id)?.system_name ?? `#${x.plan_id}`,
                  state: x.state,
                },
              ]),
          ),
        },
      ]),
    ),
  };
}
