/** Provider account (access code), settings, developer-portal SSO, ActiveDocs, object status (§9, §10, §1). */
import {
  ApiError,
  BLANK,
  INVALID,
  NOT_INCLUDED,
  TAKEN,
  Validation,
  forbidden,
  missingParameter,
  notFound,
} from "../errors";
import { checkSystemName, systemNameFrom } from "../model";
import type { Params } from "../params";
import { has, ok, param, toBool, toInt, toStr, wrappedInput, type RequestContext, type Router } from "../router";
import type { ActiveDoc, AuthProvider, EmulatorState, ObjectType } from "../state";
import { stamp } from "../state";
import { activeDocErrors } from "../active-docs";
import { PLAN_CHANGE_PERMISSIONS } from "../formats";
import { DEFAULT_SETTINGS } from "../seed";
import { addCollectionRoutes, addMemberRoutes, applyChanges, byPathId } from "./resource";

// ---------- provider account ----------

const PROVIDER_ATTRS = ["from_email", "support_email", "finance_support_email", "site_access_code"] as const;

function renderProvider(state: EmulatorState) {
  const p = state.provider;
  const { adminDomain, portalDomain } = state.tenant;
  return {
    id: p.id,
    created_at: p.created_at,
    updated_at: p.updated_at,
    state: "approved",
    org_name: p.org_name,
    extra_fields: {},
    site_access_code: p.site_access_code,
    from_email: p.from_email,
    support_email: p.support_email,
    finance_support_email: p.finance_support_email,
    admin_domain: adminDomain,
    domain: portalDomain,
    admin_base_url: `https://${adminDomain}`,
    base_url: `https://${portalDomain}`,
    links: [{ rel: "self", href: `https://${adminDomain}/admin/api/provider` }],
  };
}

// ---------- settings ----------

/** The account plan that holds `account_approval_required` (porta settings.rb L52-55: the default, else the first). */
function approvalPlan(state: EmulatorState) {
  return state.accountPlans.find((p) => p.id === state.defaultAccountPlanId) ?? state.accountPlans[0];
}

/** porta SettingsRepresenter (2.16 adds `enforce_sso`, settings_representer.rb L18). */
function renderSettings(state: EmulatorState) {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(DEFAULT_SETTINGS)) {
    if (key === "enforce_sso" && state.release === "2.15") continue;
    out[key] = state.settings[key];
    if (key === "signups_enabled") out.account_approval_required = approvalPlan(state)?.approval_required ?? false;
  }
  return out;
}

/** Ruby truthiness of a permitted parameter: anything but nil and false (the string "false" is truthy). */
const truthy = (value: unknown) => value !== undefined && value !== null && value !== false;

function updateSettings(state: EmulatorState, input: Params) {
  const v = new Validation();
  const next: Record<string, unknown> = {};
  const is216 = state.release !== "2.15";
  // porta 2.15 settings_controller.rb L12-16 does not permit `enforce_sso` (dropped silently); 2.16 validates it
  // whenever it is truthy (L12, EnforceSSOValidator: published admin-portal SSO providers, which the emulator never
  // has), en.yml L456.
  if (is216 && truthy(input.enforce_sso)) {
    throw new ApiError(422, {
      errors: {
        enforce_sso: ["Password-based authentication could not be disabled. No published authentication providers."],
      },
    });
  }
  for (const [key, fallback] of Object.entries(DEFAULT_SETTINGS)) {
    if (!has(input, key) || (key === "enforce_sso" && !is216)) continue;
    // 2.16 settings.rb `sanitize_attributes`: an empty value for a NOT NULL column is ignored.
    if (is216 && toStr(input[key]) === "") continue;
    if (typeof fallback === "boolean") next[key] = toBool(input[key]);
    else {
      const value = toStr(input[key]) ?? "";
      // settings.rb L10: change_account_plan_permission, and from 2.16 change_service_plan_permission too.
      const checked = key === "change_account_plan_permission" || is216;
      if (!checked || (PLAN_CHANGE_PERMISSIONS as readonly string[]).includes(value)) next[key] = value;
      else v.add(key, NOT_INCLUDED);
    }
  }
  v.throwIfAny();
  Object.assign(state.settings, next);
  // account_approval_required lives on the default account plan, editable while there is exactly one account plan
  // (settings.rb L31-33). 2.15 (L38-46): `attributes.delete(:account_approval_required) || false`, so a PUT without
  // it resets the approval to false. 2.16: only a sent, non-empty value is written.
  const plan = approvalPlan(state);
  if (plan && state.accountPlans.length === 1) {
    const sent = input.account_approval_required;
    if (!is216) plan.approval_required = toBool(sent ?? false);
    else if (toStr(sent ?? "") !== "") plan.approval_required = toBool(sent);
  }
}

// ---------- developer-portal authentication providers ----------

const KIND_NAMES: Record<string, string> = { keycloak: "Red Hat Single Sign-On", auth0: "Auth0", github: "GitHub" };
const AUTH_CREATE_ATTRS = [
  "kind",
  "name",
  "system_name",
  "client_id",
  "client_secret",
  "site",
  "token_url",
  "user_info_url",
  "authorize_url",
  "identifier_key",
  "username_key",
  "trust_email",
  "published",
  "branding_state_event",
  "skip_ssl_certificate_verification",
  "automatically_approve_accounts",
] as const;
const AUTH_UPDATE_ATTRS = [
  "client_id",
  "client_secret",
  "site",
  "published",
  "skip_ssl_certificate_verification",
  "automatically_approve_accounts",
] as const;

function renderAuthProvider(state: EmulatorState, a: AuthProvider) {
  return {
    id: a.id,
    kind: a.kind,
    account_type: "developer",
    name: a.name,
    system_name: a.system_name,
    client_id: a.client_id,
    client_secret: a.client_secret,
    site: a.site,
    token_url: a.token_url,
    user_info_url: a.user_info_url,
    authorize_url: a.authorize_url,
    skip_ssl_certificate_verification: a.skip_ssl_certificate_verification,
    automatically_approve_accounts: a.automatically_approve_accounts,
    branding_state: a.branding_state,
    account_id: state.provider.id,
    username_key: a.username_key,
    identifier_key: a.identifier_key,
    trust_email: a.trust_email,
    published: a.published,
    created_at: a.created_at,
    updated_at: a.updated_at,
    callback_url: `https://${state.tenant.portalDomain}/auth/${a.system_name}/callback`,
  };
}

function validateCredentials(v: Validation, a: Pick<AuthProvider, "kind" | "client_id" | "client_secret" | "site">) {
  if (!(a.kind in KIND_NAMES)) return;
  v.check(!!a.client_id, "client_id", BLANK);
  v.check(!!a.client_secret, "client_secret", BLANK);
  if (a.kind === "keycloak") {
    if (!a.site) v.add("site", BLANK);
    else v.check(!/\s/.test(a.site) && /^https?:\/\/\S+$/.test(a.site), "site", INVALID);
  }
}

// ---------- ActiveDocs ----------

const DOC_ATTRS = [
  "name",
  "system_name",
  "service_id",
  "body",
  "description",
  "published",
  "skip_swagger_validations",
] as const;

function renderDoc(_state: EmulatorState, d: ActiveDoc) {
  return {
    id: d.id,
    name: d.name,
    system_name: d.system_name,
    description: d.description,
    published: d.published,
    skip_swagger_validations: d.skip_swagger_validations,
    body: d.body,
    service_id: d.service_id,
    created_at: d.created_at,
    updated_at: d.updated_at,
  };
}

function docFields(ctx: RequestContext, input: Params, existing: ActiveDoc | null): Partial<ActiveDoc> {
  const v = new Validation();
  const next: Partial<ActiveDoc> = {};
  if (!existing || has(input, "name")) {
    next.name = toStr(input.name) ?? "";
    v.check(next.name.trim() !== "", "name", BLANK);
  }
  if (has(input, "description")) next.description = toStr(input.description);
  if (has(input, "published")) next.published = toBool(input.published);
  if (has(input, "skip_swagger_validations")) next.skip_swagger_validations = toBool(input.skip_swagger_validations);
  if (has(input, "service_id")) {
    const serviceId = input.service_id === "" || input.service_id === null ? null : toInt(input.service_id);
    // api_docs_services_controller.rb `new_service_id_permitted`: a product the caller cannot see → plain 422.
    if (serviceId !== null && !ctx.state.products.some((p) => p.id === serviceId))
      throw new ApiError(422, { error: "Service not found" });
    next.service_id = serviceId;
  }
  if (!existing || has(input, "body")) next.body = toStr(input.body) ?? "";
  const body = next.body ?? existing?.body ?? "";
  if (body.trim() === "") v.add("body", BLANK);
  else {
    const skip = next.skip_swagger_validations ?? existing?.skip_swagger_validations ?? false;
    for (const [key, messages] of Object.entries(activeDocErrors(body, skip, ctx.state.release)))
      for (const message of messages) v.add(key, message);
  }
  if (!existing) {
    const systemName = toStr(input.system_name) || systemNameFrom(next.name ?? "");
    if (next.name)
      checkSystemName(
        v,
        systemName,
        ctx.state.activeDocs.some((d) => d.system_name === systemName),
      );
    next.system_name = systemName;
  }
  v.throwIfAny();
  return next;
}

// ---------- object status ----------

/** porta objects_controller.rb L7 `ALLOWED_OBJECTS`. */
const OBJECT_TYPES: ObjectType[] = ["service", "account", "proxy", "backend_api"];

/** `Model.unscoped.find(id)`: the row, also while it waits for the deletion worker. */
function objectExists(state: EmulatorState, type: ObjectType, id: number): boolean {
  if (state.pendingDeletions.some((p) => p.objectType === type && p.id === id)) return true;
  if (type === "proxy" && state.pendingDeletions.some((p) => p.objectType === "service" && p.id === id)) return true;
  switch (type) {
    case "service":
    case "proxy":
      return state.products.some((p) => p.id === id);
    case "backend_api":
      return state.backends.some((b) => b.id === id);
    case "account":
      return state.accounts.some((a) => a.id === id);
  }
}

export function registerPortal(router: Router): void {
  router
    .add("GET", "/admin/api/provider", (ctx) => ok({ account: renderProvider(ctx.state) }))
    .add(
      "PUT",
      "/admin/api/provider",
      (ctx) => {
        const input = wrappedInput(ctx, "account", PROVIDER_ATTRS);
        const p = ctx.state.provider;
        const next: Partial<typeof p> = {};
        for (const key of PROVIDER_ATTRS) if (has(input, key)) next[key] = toStr(input[key]) || null;
        applyChanges(p, next);
        return ok({ account: renderProvider(ctx.state) });
      },
      "account",
    )
    .add("GET", "/admin/api/settings", (ctx) => ok({ settings: renderSettings(ctx.state) }))
    .add(
      "PUT",
      "/admin/api/settings",
      (ctx) => {
        const attrs = [...Object.keys(DEFAULT_SETTINGS), "account_approval_required"];
        updateSettings(ctx.state, wrappedInput(ctx, "settings", attrs));
        return ok({ settings: renderSettings(ctx.state) });
      },
      "settings",
    );

  addCollectionRoutes(router, {
    path: "/admin/api/authentication_providers",
    names: { plural: "authentication_providers", singular: "authentication_provider" },
    items: (ctx) => ctx.state.authProviders,
    render: renderAuthProvider,
    create: {
      attrs: AUTH_CREATE_ATTRS,
      make: (ctx, params) => {
        const input = params();
        const v = new Validation();
        const kind = toStr(input.kind) ?? "";
        if (kind === "") v.add("kind", BLANK);
        else v.check(!ctx.state.authProviders.some((a) => a.kind === kind), "kind", TAKEN);
        const systemName = toStr(input.system_name) || kind;
        if (kind !== "")
          checkSystemName(
            v,
            systemName,
            ctx.state.authProviders.some((a) => a.system_name === systemName),
          );
        const a: AuthProvider = {
          ...stamp(ctx.state),
          kind,
          name: toStr(input.name) || KIND_NAMES[kind] || kind,
          system_name: systemName,
          client_id: toStr(input.client_id),
          client_secret: toStr(input.client_secret),
          site: toStr(input.site),
          token_url: toStr(input.token_url),
          user_info_url: toStr(input.user_info_url),
          authorize_url: toStr(input.authorize_url),
          identifier_key: toStr(input.identifier_key) || "id",
          username_key: toStr(input.username_key) || "login",
          trust_email: toBool(input.trust_email),
          published: toBool(input.published),
          skip_ssl_certificate_verification: toBool(input.skip_ssl_certificate_verification),
          automatically_approve_accounts: toBool(input.automatically_approve_accounts),
          branding_state: kind === "github" ? "threescale_branded" : null,
        };
        validateCredentials(v, a);
        v.throwIfAny();
        ctx.state.authProviders.push(a);
        return a;
      },
    },
  });
  addMemberRoutes(router, {
    path: "/admin/api/authentication_providers/{id}",
    key: "authentication_provider",
    find: (ctx) => byPathId(ctx, ctx.state.authProviders),
    render: renderAuthProvider,
    update: {
      attrs: AUTH_UPDATE_ATTRS,
      apply: (_ctx, input, a) => {
        const next: Partial<AuthProvider> = {};
        for (const key of ["client_id", "client_secret", "site"] as const) {
          if (has(input, key)) next[key] = toStr(input[key]);
        }
        for (const key of [
          "published",
          "skip_ssl_certificate_verification",
          "automatically_approve_accounts",
        ] as const) {
          if (has(input, key)) next[key] = toBool(input[key]);
        }
        const v = new Validation();
        validateCredentials(v, { ...a, ...next });
        v.throwIfAny();
        applyChanges(a, next);
      },
    },
  });

  addCollectionRoutes(router, {
    path: "/admin/api/active_docs",
    // Requests wrap under `api_docs_service` (api_docs_services_controller.rb L9, L56-59); answers under `api_doc`
    // (ApiDocs::ServiceRepresenter `wraps_resource :api_doc`).
    names: { plural: "api_docs", singular: "api_doc" },
    items: (ctx) => ctx.state.activeDocs,
    render: renderDoc,
    create: {
      wrapper: "api_docs_service",
      attrs: DOC_ATTRS,
      make: (ctx, params) => {
        const f = docFields(ctx, params(), null);
        const d: ActiveDoc = {
          ...stamp(ctx.state),
          name: f.name!,
          system_name: f.system_name!,
          service_id: f.service_id ?? null,
          body: f.body!,
          description: f.description ?? null,
          published: f.published ?? false,
          skip_swagger_validations: f.skip_swagger_validations ?? false,
        };
        ctx.state.activeDocs.push(d);
        return d;
      },
    },
  });
  addMemberRoutes(router, {
    path: "/admin/api/active_docs/{id}",
    key: "api_doc",
    find: (ctx) => byPathId(ctx, ctx.state.activeDocs),
    render: renderDoc,
    update: {
      wrapper: "api_docs_service",
      attrs: DOC_ATTRS.filter((a) => a !== "system_name"),
      apply: (ctx, input, d) => applyChanges(d, docFields(ctx, input, d)),
    },
    remove: (ctx, d) => {
      ctx.state.activeDocs = ctx.state.activeDocs.filter((x) => x !== d);
    },
  });

  router.add("GET", "/admin/api/objects/status", (ctx) => {
    // porta objects_controller.rb: required params (400 plain text), unknown type → CanCan::AccessDenied (403),
    // the row found even in state "deleted" → `head(:ok)` (200, empty body), no row → 404.
    const type = param(ctx, "object_type");
    const rawId = param(ctx, "object_id");
    if (type === undefined || type === "") throw missingParameter("object_type");
    if (rawId === undefined || rawId === "") throw missingParameter("object_id");
    if (!OBJECT_TYPES.includes(toStr(type) as ObjectType)) throw forbidden();
    const id = toInt(rawId);
    if (id === null || !objectExists(ctx.state, toStr(type) as ObjectType, id)) throw notFound();
    return ok(null);
  });
}
