/** Developer accounts, their users and applications, enough for end-to-end smoke tests (reference §12). */
import { ApiError, BLANK, INVALID, TAKEN, Validation, notFound } from "../errors";
import type { Params } from "../params";
import {
  ADMIN_PAGES,
  created,
  deleted,
  findOr404,
  has,
  ok,
  param,
  randomHex,
  toBool,
  toInt,
  toStr,
  type RequestContext,
  type Router,
} from "../router";
import type {
  AccountPlan,
  Application,
  ApplicationPlan,
  DeveloperAccount,
  DeveloperUser,
  EmulatorState,
  Plan,
  Product,
} from "../state";
import { stamp } from "../state";
import { addMemberRoutes, applyChanges, byPathId, listReply } from "./resource";
import { renderPlan } from "./plans";

function renderAccount(state: EmulatorState, a: DeveloperAccount) {
  return {
    id: a.id,
    created_at: a.created_at,
    updated_at: a.updated_at,
    state: a.state,
    org_name: a.org_name,
    extra_fields: a.extra_fields,
    monthly_billing_enabled: a.monthly_billing_enabled,
    monthly_charging_enabled: a.monthly_charging_enabled,
    credit_card_stored: false,
    links: [{ rel: "self", href: `https://${state.tenant.adminDomain}/admin/api/accounts/${a.id}` }],
  };
}

function renderUser(state: EmulatorState, u: DeveloperUser) {
  const account = `https://${state.tenant.adminDomain}/admin/api/accounts/${u.account_id}`;
  return {
    id: u.id,
    created_at: u.created_at,
    updated_at: u.updated_at,
    account_id: u.account_id,
    state: u.state,
    role: u.role,
    username: u.username,
    email: u.email,
    extra_fields: {},
    links: [
      { rel: "account", href: account },
      { rel: "self", href: `${account}/users/${u.id}` },
    ],
  };
}

/**
 * Account update reads flat (unwrapped) params: `org_name`, the billing switches, and any other name as an extra
 * field. These names are never account attributes.
 */
const NOT_ACCOUNT_FIELDS = new Set(["access_token", "provider_key", "format", "id", "vat_rate", "account"]);
const BILLING_SWITCHES = ["monthly_billing_enabled", "monthly_charging_enabled"] as const;

function accountChanges(account: DeveloperAccount, input: Params): Partial<DeveloperAccount> {
  const next: Partial<DeveloperAccount> = {};
  const extra: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (NOT_ACCOUNT_FIELDS.has(key)) continue;
    if (key === "org_name") next.org_name = toStr(value) ?? "";
    else if ((BILLING_SWITCHES as readonly string[]).includes(key))
      next[key as (typeof BILLING_SWITCHES)[number]] = toBool(value);
    else extra[key] = value;
  }
  new Validation().check(next.org_name === undefined || next.org_name.trim() !== "", "org_name", BLANK).throwIfAny();
  if (Object.keys(extra).length > 0) next.extra_fields = { ...account.extra_fields, ...extra };
  return next;
}

function renderApplication(state: EmulatorState, app: Application) {
  const service = state.products.find((p) => p.id === app.service_id);
  const plan = state.applicationPlans.find((p) => p.id === app.plan_id);
  const account = state.accounts.find((a) => a.id === app.account_id);
  const credentials =
    service?.attributes.backend_version === "1"
      ? { user_key: app.user_key, provider_verification_key: providerVerificationKey(app.id) }
      : { application_id: app.application_id };
  return {
    id: app.id,
    state: app.state,
    enabled: app.state === "live",
    end_user_required: false,
    created_at: app.created_at,
    updated_at: app.updated_at,
    service_id: app.service_id,
    service_name: service?.name ?? null,
    plan_id: app.plan_id,
    plan_name: plan?.name ?? null,
    account_id: app.account_id,
    org_name: account?.org_name ?? null,
    first_traffic_at: null,
    first_daily_traffic_at: null,
    ...credentials,
    name: app.name,
    description: app.description,
  };
}

/** Stable per-application value (the real one is random; nothing depends on it). */
function providerVerificationKey(id: number): string {
  return (id * 2654435761).toString(16).padStart(32, "0").slice(-32);
}

const APP_ATTRS = ["name", "description", "user_key"] as const;
const APPLICATIONS = { plural: "applications", singular: "application" };

/**
 * The account's subscription to the product, made on the way when missing: porta
 * buyers_applications_controller.rb L138-142 and logic/contracting.rb L53-70 (the default service plan, else the
 * first one; none → 422 "You cannot subscribe to that service.").
 */
function findOrCreateServiceContract(ctx: RequestContext, account: DeveloperAccount, service: Product): boolean {
  if (ctx.state.serviceContracts.some((c) => c.account_id === account.id && c.service_id === service.id)) return true;
  const plans = ctx.state.servicePlans.filter((p) => p.service_id === service.id);
  const plan = plans.find((p) => p.id === service.default_service_plan_id) ?? plans[0];
  if (!plan) return false;
  ctx.state.serviceContracts.push({
    ...stamp(ctx.state),
    account_id: account.id,
    service_id: service.id,
    plan_id: plan.id,
  });
  return true;
}

function createApplication(
  ctx: RequestContext,
  account: DeveloperAccount,
  planId: number | null,
  input: Params,
): Application {
  const plan = ctx.state.applicationPlans.find((p) => p.id === planId);
  if (!plan) throw notFound();
  const service = ctx.state.products.find((p) => p.id === plan.service_id)!;
  if (!findOrCreateServiceContract(ctx, account, service))
    throw new ApiError(422, { error: "You cannot subscribe to that service." });
  return newApplication(ctx, account, plan, service, input);
}

function newApplication(
  ctx: RequestContext,
  account: DeveloperAccount,
  plan: ApplicationPlan,
  service: Product,
  input: Params,
): Application {
  const v = new Validation();
  const name = toStr(input.name) ?? "";
  v.check(name.trim() !== "", "name", BLANK);
  const userKey = toStr(input.user_key) || randomHex(ctx.random, 32);
  if (!/^[\w.-]+$/.test(userKey)) v.add("user_key", INVALID);
  else v.check(!ctx.state.applications.some((a) => a.user_key === userKey), "user_key", TAKEN);
  v.throwIfAny();
  const app: Application = {
    ...stamp(ctx.state),
    account_id: account.id,
    plan_id: plan.id,
    service_id: service.id,
    name,
    description: toStr(input.description),
    state: plan.approval_required ? "pending" : "live",
    user_key: service.attributes.backend_version === "1" ? userKey : null,
    application_id: toStr(input.application_id) || randomHex(ctx.random, 8),
    application_keys: [],
  };
  ctx.state.applications.push(app);
  return app;
}

/** The plans a signup subscribes the new account to, or porta's error (which the controller turns into a 404). */
interface SignupPlans {
  accountPlan: AccountPlan | undefined;
  servicePlans: Plan[];
  applicationPlans: ApplicationPlan[];
  errors: string[];
}

/**
 * porta signups_controller.rb L41-51 (the `*_plan_id` params among the provider's plans; unknown ids are dropped) and
 * signup/plans_with_defaults.rb L14-18, L62-113: the default account plan, and for every product its default
 * service plan and default application plan. A product without a default service plan still gets its default
 * application plan with its first published service plan while service plans are not shown in the portal
 * (`contract_first_published_service_plan?`; the `published_service_plan_signup` switch is on for on-premises,
 * config/examples/rolling_updates.yml L15).
 */
function signupPlans(state: EmulatorState, input: Params): SignupPlans {
  const ids = ["service_plan_id", "account_plan_id", "application_plan_id"].map((k) => toInt(input[k]));
  const chosen = (p: { id: number }) => ids.includes(p.id);
  const accountPlans = state.accountPlans.filter(chosen);
  const servicePlans = state.servicePlans.filter(chosen);
  const applicationPlans = state.applicationPlans.filter(chosen);
  if (accountPlans.length === 0) {
    const fallback = state.accountPlans.find((p) => p.id === state.defaultAccountPlanId);
    if (fallback) accountPlans.push(fallback);
  }
  const firstPublishedFallback = state.settings.service_plans_ui_visible !== true;
  for (const service of state.products) {
    const own = (p: Plan) => p.service_id === service.id;
    let hasServicePlan = servicePlans.some(own);
    if (!hasServicePlan) {
      const fallback = state.servicePlans.find((p) => p.id === service.default_service_plan_id);
      if (fallback) {
        servicePlans.push(fallback);
        hasServicePlan = true;
      } else if (!firstPublishedFallback) continue;
    }
    if (!applicationPlans.some(own)) {
      const fallback = state.applicationPlans.find((p) => p.id === service.default_application_plan_id);
      if (!fallback) continue;
      applicationPlans.push(fallback);
    }
    if (!firstPublishedFallback || hasServicePlan) continue;
    const published = state.servicePlans.find((p) => own(p) && p.state === "published");
    if (published) servicePlans.push(published);
  }
  const errors: string[] = [];
  if (accountPlans.length === 0) errors.push("Account Plan is required");
  for (const serviceId of new Set(applicationPlans.map((p) => p.service_id))) {
    if (!servicePlans.some((p) => p.service_id === serviceId)) {
      const name = state.products.find((p) => p.id === serviceId)?.name;
      errors.push(`Couldn't find a Service Plan for ${name}. Please contact the API administrator to fix this.`);
    }
  }
  for (const serviceId of new Set(servicePlans.map((p) => p.service_id))) {
    if (servicePlans.filter((p) => p.service_id === serviceId).length > 1)
      errors.push("Can subscribe only one plan per service");
  }
  return { accountPlan: accountPlans[0], servicePlans, applicationPlans, errors };
}

export function registerAccounts(router: Router): void {
  const account = (ctx: RequestContext, name = "id") => byPathId(ctx, ctx.state.accounts, name);
  router
    .add("POST", "/admin/api/signup", (ctx) => {
      const input = ctx.body;
      const v = new Validation();
      for (const field of ["org_name", "username", "email", "password"]) v.check(!!toStr(input[field]), field, BLANK);
      const username = toStr(input.username) ?? "";
      v.check(!ctx.state.users.some((u) => u.username === username), "username", TAKEN);
      // Invalid account or user: 422 before the plans are looked at (porta signup/account_manager.rb L11-15).
      v.throwIfAny();
      const plans = signupPlans(ctx.state, input);
      // Any plan error: `raise ActiveRecord::RecordNotFound` (signups_controller.rb L26) → 404.
      if (plans.errors.length > 0) throw notFound();
      const known = new Set([
        "org_name",
        "username",
        "email",
        "password",
        "access_token",
        "account_plan_id",
        "service_plan_id",
        "application_plan_id",
      ]);
      const a: DeveloperAccount = {
        ...stamp(ctx.state),
        org_name: toStr(input.org_name)!,
        state: plans.accountPlan?.approval_required ? "pending" : "approved",
        username,
        email: toStr(input.email)!,
        extra_fields: Object.fromEntries(Object.entries(input).filter(([k]) => !known.has(k))),
        monthly_billing_enabled: true,
        monthly_charging_enabled: true,
      };
      ctx.state.accounts.push(a);
      // An API signup is "minimal": its admin user is active at once.
      ctx.state.users.push({
        ...stamp(ctx.state),
        account_id: a.id,
        username,
        email: a.email,
        state: "active",
        role: "admin",
      });
      // porta account_manager.rb L64-69 with signups_controller.rb L37-39 defaults: one subscription per service
      // plan and one application named "API signup" (description "API signup") per application plan.
      for (const plan of plans.servicePlans)
        ctx.state.serviceContracts.push({
          ...stamp(ctx.state),
          account_id: a.id,
          service_id: plan.service_id,
          plan_id: plan.id,
        });
      for (const plan of plans.applicationPlans) {
        const service = ctx.state.products.find((p) => p.id === plan.service_id)!;
        newApplication(ctx, a, plan, service, { name: "API signup", description: "API signup" });
      }
      // The applications are not in the answer: AccountRepresenter ignores `with_apps` (L34-45).
      return created({ account: renderAccount(ctx.state, a) });
    })
    .add("GET", "/admin/api/accounts", (ctx) => {
      const state = toStr(param(ctx, "state"));
      const items = ctx.state.accounts.filter((a) => !state || a.state === state);
      return listReply(
        ctx,
        { plural: "accounts", singular: "account" },
        items,
        (a) => renderAccount(ctx.state, a),
        ADMIN_PAGES,
      );
    })
    .add("GET", "/admin/api/accounts/find", (ctx) => {
      // Looked up through the account's users, in this order of precedence (porta AccountsController#find).
      const username = toStr(param(ctx, "username"));
      const userId = toInt(param(ctx, "user_id"));
      const email = toStr(param(ctx, "email"));
      const users = ctx.state.users;
      const user =
        username !== null
          ? users.find((u) => u.username === username)
          : userId !== null
            ? users.find((u) => u.id === userId)
            : email
              ? users.find((u) => u.email === email)
              : undefined;
      const found = user && ctx.state.accounts.find((a) => a.id === user.account_id);
      if (!found) throw notFound();
      return ok({ account: renderAccount(ctx.state, found) });
    })
    .add("GET", "/admin/api/accounts/{id}", (ctx) => ok({ account: renderAccount(ctx.state, account(ctx)) }))
    .add("PUT", "/admin/api/accounts/{id}", (ctx) => {
      const a = account(ctx);
      applyChanges(a, accountChanges(a, { ...ctx.query, ...ctx.body }));
      return ok({ account: renderAccount(ctx.state, a) });
    })
    .add("DELETE", "/admin/api/accounts/{id}", (ctx) => {
      const a = account(ctx);
      ctx.state.accounts = ctx.state.accounts.filter((x) => x !== a);
      ctx.state.users = ctx.state.users.filter((x) => x.account_id !== a.id);
      ctx.state.applications = ctx.state.applications.filter((x) => x.account_id !== a.id);
      ctx.state.serviceContracts = ctx.state.serviceContracts.filter((x) => x.account_id !== a.id);
      return deleted();
    });

  const users = "/admin/api/accounts/{account_id}/users";
  router
    .add("GET", users, (ctx) => {
      const a = account(ctx, "account_id");
      const state = toStr(param(ctx, "state"));
      const role = toStr(param(ctx, "role"));
      const items = ctx.state.users.filter(
        (u) => u.account_id === a.id && (!state || u.state === state) && (!role || u.role === role),
      );
      return listReply(ctx, { plural: "users", singular: "user" }, items, (u) => renderUser(ctx.state, u));
    })
    .add("GET", `${users}/{id}`, (ctx) => {
      const a = account(ctx, "account_id");
      const user = byPathId(ctx, ctx.state.users, "id", (u) => u.account_id === a.id);
      return ok({ user: renderUser(ctx.state, user) });
    });

  const apps = "/admin/api/accounts/{account_id}/applications";
  const application = (ctx: RequestContext) => {
    const a = account(ctx, "account_id");
    return byPathId(ctx, ctx.state.applications, "id", (x) => x.account_id === a.id);
  };
  router
    .add("GET", apps, (ctx) => {
      const a = account(ctx, "account_id");
      const items = ctx.state.applications.filter((x) => x.account_id === a.id);
      return listReply(ctx, APPLICATIONS, items, (x) => renderApplication(ctx.state, x));
    })
    .add("POST", apps, (ctx) => {
      const a = account(ctx, "account_id");
      const app = createApplication(ctx, a, toInt(ctx.body.plan_id), ctx.body);
      return created({ application: renderApplication(ctx.state, app) });
    })
    .add("PUT", `${apps}/{id}/change_plan`, (ctx) => {
      // Any plan of the tenant is found (else 404); one of another product is refused. The answer is the plan.
      const app = application(ctx);
      const plan = findOr404(ctx.state.applicationPlans, toInt(param(ctx, "plan_id")) ?? -1);
      new Validation().check(plan.service_id === app.service_id, "plan", "not allowed in this context").throwIfAny();
      applyChanges(app, { plan_id: plan.id });
      return ok({ application_plan: renderPlan(ctx.state, plan) });
    })
    .add("GET", "/admin/api/applications", (ctx) => {
      const serviceId = toInt(param(ctx, "service_id"));
      const planId = toInt(param(ctx, "plan_id"));
      const items = ctx.state.applications.filter(
        (x) => (serviceId === null || x.service_id === serviceId) && (planId === null || x.plan_id === planId),
      );
      return listReply(ctx, APPLICATIONS, items, (x) => renderApplication(ctx.state, x), ADMIN_PAGES);
    })
    .add("GET", "/admin/api/applications/find", (ctx) => {
      const userKey = toStr(param(ctx, "user_key"));
      const appId = toStr(param(ctx, "app_id"));
      const id = toInt(param(ctx, "application_id"));
      const serviceId = toInt(param(ctx, "service_id"));
      const found = ctx.state.applications.find(
        (x) =>
          (serviceId === null || x.service_id === serviceId) &&
          ((userKey !== null && x.user_key === userKey) ||
            (appId !== null && x.application_id === appId) ||
            (id !== null && x.id === id)),
      );
      if (!found) throw notFound();
      return ok({ application: renderApplication(ctx.state, found) });
    });
  addMemberRoutes(router, {
    path: `${apps}/{id}`,
    key: "application",
    find: application,
    render: renderApplication,
    update: {
      attrs: APP_ATTRS,
      apply: (_ctx, input, app) => {
        const next: Partial<Application> = {};
        if (has(input, "name")) next.name = toStr(input.name) ?? "";
        if (has(input, "description")) next.description = toStr(input.description);
        if (has(input, "user_key")) next.user_key = toStr(input.user_key);
        new Validation().check(next.name === undefined || next.name.trim() !== "", "name", BLANK).throwIfAny();
        applyChanges(app, next);
      },
    },
    remove: (ctx, app) => {
      ctx.state.applications = ctx.state.applications.filter((x) => x !== app);
    },
  });
}
