/** Application plans, service plans and limits (reference §8). */
import { BLANK, INVALID, TAKEN, Validation, notFound, undeletable } from "../errors";
import { checkSystemName, ownedBy, systemNameFrom } from "../model";
import type { Params } from "../params";
import { ADMIN_PAGES, has, ok, pathId, toBool, toInt, toStr, type RequestContext, type Router } from "../router";
import type { ApplicationPlan, EmulatorState, Limit, Metric, Plan, Product } from "../state";
import { stamp } from "../state";
import { product } from "./catalog";
import { addCollectionRoutes, addMemberRoutes, applyChanges, byPathId } from "./resource";

export const LIMIT_PERIODS = ["eternity", "year", "month", "week", "day", "hour", "minute"];
const LIMIT_ATTRS = ["period", "value"] as const;
const PLAN_ATTRS = [
  "name",
  "system_name",
  "description",
  "approval_required",
  "trial_period_days",
  "cost_per_month",
  "setup_fee",
  "state_event",
] as const;

/**
 * porta app/representers/plan_representer.rb L5-18 (both plan kinds): `setup_fee`/`cost_per_month` as floats,
 * `trial_period_days` `to_i` (an unset one reads 0), `default` = the product's default plan of this kind.
 */
function planBase(
  p: Plan,
  fields: { setup_fee: number; cost_per_month: number; trial_period_days: number | null; cancellation_period: number },
  isDefault: boolean,
) {
  return {
    id: p.id,
    name: p.name,
    state: p.state,
    setup_fee: fields.setup_fee,
    cost_per_month: fields.cost_per_month,
    trial_period_days: fields.trial_period_days ?? 0,
    cancellation_period: fields.cancellation_period,
    approval_required: p.approval_required,
    default: isDefault,
    created_at: p.created_at,
    updated_at: p.updated_at,
  };
}

/** porta application_plan_representer.rb: the base fields, `custom`, `system_name` and links. No `description`. */
export function renderPlan(state: EmulatorState, p: ApplicationPlan) {
  const service = state.products.find((s) => s.id === p.service_id);
  const admin = `https://${state.tenant.adminDomain}/admin/api/services/${p.service_id}`;
  return {
    ...planBase(p, p, service?.default_application_plan_id === p.id),
    custom: false,
    system_name: p.system_name,
    links: [
      { rel: "service", href: admin },
      { rel: "self", href: `${admin}/application_plans/${p.id}` },
    ],
  };
}

/** porta service_plan_representer.rb: the base fields and links only (no system_name, no service_id). */
function renderServicePlan(state: EmulatorState, p: Plan) {
  const service = state.products.find((s) => s.id === p.service_id);
  const admin = `https://${state.tenant.adminDomain}/admin/api/services/${p.service_id}`;
  const free = { setup_fee: 0.0, cost_per_month: 0.0, trial_period_days: null, cancellation_period: 0 };
  return {
    ...planBase(p, free, service?.default_service_plan_id === p.id),
    links: [
      { rel: "service", href: admin },
      { rel: "self", href: `${admin}/service_plans/${p.id}` },
    ],
  };
}

function renderLimit(_state: EmulatorState, l: Limit) {
  return {
    id: l.id,
    period: l.period,
    value: l.value,
    metric_id: l.metric_id,
    plan_id: l.plan_id,
    created_at: l.created_at,
    updated_at: l.updated_at,
  };
}

/** `publish` only from hidden, `hide` only from published; anything else fails validation on state_event. */
function nextState(v: Validation, current: Plan["state"], event: unknown): Plan["state"] {
  if (event === undefined || event === null || event === "") return current;
  if (event === "publish" && current === "hidden") return "published";
  if (event === "hide" && current === "published") return "hidden";
  v.add("state_event", "is invalid");
  return current;
}

function money(v: Validation, field: string, raw: unknown): number | undefined {
  const value = typeof raw === "number" ? raw : Number(toStr(raw));
  if (!Number.isFinite(value) || value < 0) {
    v.add(field, "is not a number");
    return undefined;
  }
  return value;
}

/** Fields every plan kind shares: name (required on create), approval_required, the state_event transition. */
function sharedPlanFields(v: Validation, input: Params, plan: Plan | null): Partial<Plan> {
  const next: Partial<Plan> = {};
  if (!plan || has(input, "name")) {
    next.name = toStr(input.name) ?? "";
    v.check(next.name.trim() !== "", "name", BLANK);
  }
  if (has(input, "approval_required")) next.approval_required = toBool(input.approval_required);
  next.state = nextState(v, plan?.state ?? "hidden", input.state_event);
  return next;
}

function planFields(input: Params, plan: ApplicationPlan | null): Partial<ApplicationPlan> {
  const v = new Validation();
  const next: Partial<ApplicationPlan> = sharedPlanFields(v, input, plan);
  if (has(input, "description")) next.description = toStr(input.description);
  if (has(input, "trial_period_days")) {
    const days = toInt(input.trial_period_days);
    if (input.trial_period_days !== "" && input.trial_period_days !== null && (days === null || days < 0))
      v.add("trial_period_days", "is not a number");
    else next.trial_period_days = days;
  }
  for (const field of ["cost_per_month", "setup_fee"] as const) {
    if (has(input, field)) next[field] = money(v, field, input[field]);
  }
  v.throwIfAny();
  return next;
}

/** Service plan create/update (`system_name` is create-only: ignored on update, as for every plan). */
const SERVICE_PLAN_ATTRS = ["name", "system_name", "approval_required", "state_event"] as const;

function servicePlanFields(input: Params, plan: Plan | null): Partial<Plan> {
  const v = new Validation();
  const next = sharedPlanFields(v, input, plan);
  v.throwIfAny();
  return next;
}

function appPlan(ctx: RequestContext, name = "id"): ApplicationPlan {
  return byPathId(ctx, ctx.state.applicationPlans, name);
}

/** `system_name` as given or derived from the name; unique among the product's plans of one kind. */
function uniquePlanSystemName(input: Params, name: string, siblings: Plan[]): string {
  const systemName = toStr(input.system_name) || systemNameFrom(name);
  const v = new Validation();
  checkSystemName(
    v,
    systemName,
    siblings.some((p) => p.system_name === systemName),
  );
  v.throwIfAny();
  return systemName;
}

/** Metrics a plan may limit: its product's metrics and those of backends the product uses. */
function limitableMetric(state: EmulatorState, plan: ApplicationPlan, metricId: number): Metric {
  const backendIds = new Set(
    state.backendUsages.filter((u) => u.service_id === plan.service_id).map((u) => u.backend_id),
  );
  const metric = state.metrics.find(
    (m) =>
      m.id === metricId &&
      (ownedBy({ type: "service", id: plan.service_id })(m) ||
        (m.owner.type === "backend" && backendIds.has(m.owner.id))),
  );
  if (!metric) throw notFound();
  return metric;
}

/** Ruby's `String#to_i` (leading integer, else 0), as ActiveRecord casts an integer column. */
function rubyToI(raw: unknown): number | null {
  if (raw === undefined || raw === null || raw === "") return null;
  if (typeof raw === "number") return Math.trunc(raw);
  const match = /^\s*[-+]?\d+/.exec(String(raw));
  return match ? Number(match[0]) : 0;
}

function limitFields(state: EmulatorState, input: Params, planId: number, metricId: number, existing: Limit | null) {
  const v = new Validation();
  const next: Partial<Limit> = {};
  if (!existing || has(input, "period")) {
    // porta usage_limit.rb L28: inclusion with the message "is invalid" (a blank period too).
    next.period = toStr(input.period) ?? "";
    if (!LIMIT_PERIODS.includes(next.period)) v.add("period", INVALID);
    else {
      const clash = state.limits.some(
        (l) => l.plan_id === planId && l.metric_id === metricId && l.period === next.period && l !== existing,
      );
      v.check(!clash, "period", TAKEN);
    }
  }
  if (!existing || has(input, "value")) {
    // porta usage_limit.rb L34, L81-83 `set_value_default_value`: a blank or negative value is stored as 0.
    const value = rubyToI(input.value);
    next.value = value === null || value < 0 ? 0 : value;
  }
  v.throwIfAny();
  return next;
}

export function registerPlans(router: Router): void {
  registerPlanKind<ApplicationPlan>(router, {
    key: "application_plan",
    everywhere: "/admin/api/application_plans",
    path: "/admin/api/services/{service_id}/application_plans",
    plans: (state) => state.applicationPlans,
    defaultId: "default_application_plan_id",
    attrs: PLAN_ATTRS,
    render: renderPlan,
    fields: planFields,
    extras: (fields) => ({
      description: fields.description ?? null,
      trial_period_days: fields.trial_period_days ?? null,
      cost_per_month: fields.cost_per_month ?? 0,
      setup_fee: fields.setup_fee ?? 0,
      cancellation_period: 0,
    }),
    remove: (state, plan) => {
      // porta plan.rb L195-207 `can_be_destroyed?`, en.yml L1119: an application is a contract of its plan.
      if (state.applications.some((a) => a.plan_id === plan.id))
        throw undeletable("This application plan cannot be deleted! At least one application depends on it.");
      state.applicationPlans = state.applicationPlans.filter((p) => p !== plan);
      state.limits = state.limits.filter((l) => l.plan_id !== plan.id);
    },
  });
  registerPlanKind<Plan>(router, {
    key: "service_plan",
    everywhere: "/admin/api/service_plans",
    path: "/admin/api/services/{service_id}/service_plans",
    plans: (state) => state.servicePlans,
    defaultId: "default_service_plan_id",
    attrs: SERVICE_PLAN_ATTRS,
    render: renderServicePlan,
    fields: servicePlanFields,
    extras: () => ({}),
    remove: (state, plan) => {
      // porta plan.rb L195-207 `can_be_destroyed?` (:has_contracts), en.yml L1119-1120: any subscription.
      if (state.serviceContracts.some((c) => c.plan_id === plan.id))
        throw undeletable("This service plan cannot be deleted! At least one contract depends on it.");
      state.servicePlans = state.servicePlans.filter((p) => p !== plan);
    },
  });
  registerLimits(router);
}

/** What tells a product's two kinds of plan apart; their routes are the same. */
interface PlanKind<T extends Plan> {
  /** Reply key and Rails wrapper of one plan, e.g. `application_plan` (a list is `{"plans": [...]}` for both). */
  key: string;
  /** The tenant-wide list. */
  everywhere: string;
  /** The product's plans (path template). */
  path: string;
  plans: (state: EmulatorState) => T[];
  /** The product's field naming its default plan of this kind. */
  defaultId: "default_application_plan_id" | "default_service_plan_id";
  attrs: readonly string[];
  render: (state: EmulatorState, plan: T) => Record<string, unknown>;
  /** Validated fields of a create (`plan` null) or update. */
  fields: (input: Params, plan: T | null) => Partial<T>;
  /** A new plan's fields beyond those every plan has. */
  extras: (fields: Partial<T>) => Omit<T, keyof Plan>;
  /** Refuses (throws) to delete a plan something depends on, else removes it and what goes with it. */
  remove: (state: EmulatorState, plan: T) => void;
}

/** List (tenant-wide and per product), create, show, update, delete and make-default of one kind of plan. */
function registerPlanKind<T extends Plan>(router: Router, kind: PlanKind<T>) {
  const names = { plural: "plans", singular: kind.key };
  const productPlans = (ctx: RequestContext, service: Product) =>
    kind.plans(ctx.state).filter((p) => p.service_id === service.id);
  const scopedPlan = (ctx: RequestContext) => {
    const service = product(ctx);
    return { service, plan: byPathId(ctx, kind.plans(ctx.state), "id", (p) => p.service_id === service.id) };
  };
  addCollectionRoutes(router, {
    path: kind.everywhere,
    names,
    items: (ctx) => kind.plans(ctx.state),
    render: kind.render,
  });
  addCollectionRoutes(router, {
    path: kind.path,
    names,
    items: (ctx) => productPlans(ctx, product(ctx)),
    render: kind.render,
    create: {
      attrs: kind.attrs,
      make: (ctx, params) => {
        const service = product(ctx);
        const input = params();
        const fields = kind.fields(input, null);
        const plan = {
          ...stamp(ctx.state),
          service_id: service.id,
          name: fields.name!,
          system_name: uniquePlanSystemName(input, fields.name!, productPlans(ctx, service)),
          state: fields.state!,
          approval_required: fields.approval_required ?? false,
          ...kind.extras(fields),
        } as T;
        kind.plans(ctx.state).push(plan);
        return plan;
      },
    },
  });
  router.add("PUT", `${kind.path}/{id}/default`, (ctx) => {
    const { service, plan } = scopedPlan(ctx);
    service[kind.defaultId] = plan.id;
    return ok({ [kind.key]: kind.render(ctx.state, plan) });
  });
  addMemberRoutes(router, {
    path: `${kind.path}/{id}`,
    key: kind.key,
    find: (ctx) => scopedPlan(ctx).plan,
    render: kind.render,
    update: { attrs: kind.attrs, apply: (_ctx, input, plan) => applyChanges(plan, kind.fields(input, plan)) },
    remove: (ctx, plan) => {
      kind.remove(ctx.state, plan);
      const service = ctx.state.products.find((p) => p.id === plan.service_id)!;
      if (service[kind.defaultId] === plan.id) service[kind.defaultId] = null;
    },
  });
}

function registerLimits(router: Router) {
  const perMetric = "/admin/api/application_plans/{application_plan_id}/metrics/{metric_id}/limits";
  const names = { plural: "limits", singular: "limit" };
  const planMetric = (ctx: RequestContext) => {
    const plan = appPlan(ctx, "application_plan_id");
    return { plan, metric: limitableMetric(ctx.state, plan, pathId(ctx, "metric_id")) };
  };
  addCollectionRoutes(router, {
    path: "/admin/api/application_plans/{application_plan_id}/limits",
    names,
    items: (ctx) => {
      const plan = appPlan(ctx, "application_plan_id");
      return ctx.state.limits.filter((l) => l.plan_id === plan.id);
    },
    render: renderLimit,
    pages: ADMIN_PAGES,
  });
  addCollectionRoutes(router, {
    path: perMetric,
    names,
    items: (ctx) => {
      const { metric } = planMetric(ctx);
      return ctx.state.limits.filter((l) => l.metric_id === metric.id);
    },
    render: renderLimit,
    create: {
      wrapper: "usage_limit",
      attrs: LIMIT_ATTRS,
      make: (ctx, params) => {
        const { plan, metric } = planMetric(ctx);
        const fields = limitFields(ctx.state, params(), plan.id, metric.id, null);
        const limit: Limit = {
          ...stamp(ctx.state),
          plan_id: plan.id,
          metric_id: metric.id,
          period: fields.period!,
          value: fields.value!,
        };
        ctx.state.limits.push(limit);
        return limit;
      },
    },
  });
  addMemberRoutes(router, {
    path: `${perMetric}/{id}`,
    key: "limit",
    // The per-metric endpoints look limits up through the metric, so they see every plan's limits (a 3scale quirk).
    find: (ctx) => {
      const { metric } = planMetric(ctx);
      return byPathId(ctx, ctx.state.limits, "id", (l) => l.metric_id === metric.id);
    },
    render: renderLimit,
    update: {
      wrapper: "usage_limit",
      attrs: LIMIT_ATTRS,
      apply: (ctx, input, limit) =>
        applyChanges(limit, limitFields(ctx.state, input, limit.plan_id, limit.metric_id, limit)),
    },
    remove: (ctx, limit) => {
      ctx.state.limits = ctx.state.limits.filter((l) => l !== limit);
    },
  });
}
