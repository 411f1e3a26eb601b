/** Developer accounts and applications, enough for end-to-end smoke tests (reference §12). */
import { ApiError, BLANK, INVALID, TAKEN, Validation, notFound } from "../errors";
import type { Params } from "../params";
import {
  ADMIN_PAGES,
  collection,
  created,
  deleted,
  findOr404,
  has,
  ok,
  paginate,
  param,
  pathId,
  randomHex,
  toInt,
  toStr,
  wrappedInput,
  type RequestContext,
  type Router,
} from "../router";
import type { Application, DeveloperAccount, EmulatorState } from "../state";
import { stamp } from "../state";
import { applyChanges } from "./catalog";

function renderAccount(state: EmulatorState, a: DeveloperAccount) {
  return {
    id: a.id,
    created_at: a.created_at,
    updated_at: a.updated_at,
    state: a.state,
    org_name: a.org_name,
    extra_fields: a.extra_fields,
    monthly_billing_enabled: true,
    monthly_charging_enabled: true,
    credit_card_stored: false,
    links: [{ rel: "self", href: `https://${state.tenant.adminDomain}/admin/api/accounts/${a.id}` }],
  };
}

function renderApplication(state: EmulatorState, app: Application) {
  const service = state.products.find((p) => p.id === app.service_id);
  const plan = state.applicationPlans.find((p) => p.id === app.plan_id);
  const account = state.accounts.find((a) => a.id === app.account_id);
  const credentials =
    service?.attributes.backend_version === "1"
      ? { user_key: app.user_key, provider_verification_key: randomHexFrom(app.id) }
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
function randomHexFrom(id: number): string {
  return (id * 2654435761).toString(16).padStart(32, "0").slice(-32);
}

const APP_ATTRS = ["name", "description", "user_key"] as const;

function createApplication(
  ctx: RequestContext,
  account: DeveloperAccount,
  planId: number | null,
  input: Params,
): Application {
  const plan = ctx.state.applicationPlans.find((p) => p.id === planId);
  if (!plan) throw notFound();
  const service = ctx.state.products.find((p) => p.id === plan.service_id)!;
  if (!service.default_service_plan_id) throw new ApiError(422, { error: "You cannot subscribe to that service." });
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

export function registerAccounts(router: Router): void {
  const account = (ctx: RequestContext, name = "id") => findOr404(ctx.state.accounts, pathId(ctx, name));
  router
    .add("POST", "/admin/api/signup", (ctx) => {
      const input = ctx.body;
      const v = new Validation();
      for (const field of ["org_name", "username", "email", "password"]) v.check(!!toStr(input[field]), field, BLANK);
      const username = toStr(input.username) ?? "";
      v.check(!ctx.state.accounts.some((a) => a.username === username), "username", TAKEN);
      v.throwIfAny();
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
        state: ctx.state.settings.account_approval_required ? "pending" : "approved",
        username,
        email: toStr(input.email)!,
        extra_fields: Object.fromEntries(Object.entries(input).filter(([k]) => !known.has(k))),
      };
      ctx.state.accounts.push(a);
      if (has(input, "application_plan_id"))
        createApplication(ctx, a, toInt(input.application_plan_id), { name: "API signup" });
      return created({ account: renderAccount(ctx.state, a) });
    })
    .add("GET", "/admin/api/accounts", (ctx) => {
      const state = toStr(param(ctx, "state"));
      const items = ctx.state.accounts.filter((a) => !state || a.state === state);
      return ok(
        collection("accounts", "account", paginate(ctx, items, ADMIN_PAGES), (a) => renderAccount(ctx.state, a)),
      );
    })
    .add("GET", "/admin/api/accounts/find", (ctx) => {
      const username = toStr(param(ctx, "username"));
      const email = toStr(param(ctx, "email"));
      const found = ctx.state.accounts.find(
        (a) => (username !== null && a.username === username) || (email !== null && a.email === email),
      );
      if (!found) throw notFound();
      return ok({ account: renderAccount(ctx.state, found) });
    })
    .add("GET", "/admin/api/accounts/{id}", (ctx) => ok({ account: renderAccount(ctx.state, account(ctx)) }))
    .add("DELETE", "/admin/api/accounts/{id}", (ctx) => {
      const a = account(ctx);
      ctx.state.accounts = ctx.state.accounts.filter((x) => x !== a);
      ctx.state.applications = ctx.state.applications.filter((x) => x.account_id !== a.id);
      return deleted();
    });

  const apps = "/admin/api/accounts/{account_id}/applications";
  const application = (ctx: RequestContext) => {
    const a = account(ctx, "account_id");
    return findOr404(ctx.state.applications, pathId(ctx), (x) => x.account_id === a.id);
  };
  router
    .add("GET", apps, (ctx) => {
      const a = account(ctx, "account_id");
      const items = ctx.state.applications.filter((x) => x.account_id === a.id);
      return ok(collection("applications", "application", { items }, (x) => renderApplication(ctx.state, x)));
    })
    .add("POST", apps, (ctx) => {
      const a = account(ctx, "account_id");
      const app = createApplication(ctx, a, toInt(ctx.body.plan_id), ctx.body);
      return created({ application: renderApplication(ctx.state, app) });
    })
    .add("GET", `${apps}/{id}`, (ctx) => ok({ application: renderApplication(ctx.state, application(ctx)) }))
    .add(
      "PUT",
      `${apps}/{id}`,
      (ctx) => {
        const app = application(ctx);
        const input = wrappedInput(ctx, "application", APP_ATTRS);
        const next: Partial<Application> = {};
        if (has(input, "name")) next.name = toStr(input.name) ?? "";
        if (has(input, "description")) next.description = toStr(input.description);
        if (has(input, "user_key")) next.user_key = toStr(input.user_key);
        new Validation().check(next.name === undefined || next.name.trim() !== "", "name", BLANK).throwIfAny();
        applyChanges(app, next);
        return ok({ application: renderApplication(ctx.state, app) });
      },
      "application",
    )
    .add("DELETE", `${apps}/{id}`, (ctx) => {
      const app = application(ctx);
      ctx.state.applications = ctx.state.applications.filter((x) => x !== app);
      return deleted();
    })
    .add("GET", "/admin/api/applications", (ctx) => {
      const serviceId = toInt(param(ctx, "service_id"));
      const planId = toInt(param(ctx, "plan_id"));
      const items = ctx.state.applications.filter(
        (x) => (serviceId === null || x.service_id === serviceId) && (planId === null || x.plan_id === planId),
      );
      return ok(
        collection("applications", "application", paginate(ctx, items, ADMIN_PAGES), (x) =>
          renderApplication(ctx.state, x),
        ),
      );
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
}
