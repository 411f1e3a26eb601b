/** What a brand-new 3scale tenant contains before anyone configures it. */
import { createBackend, createProduct } from "./model";
import { randomHex } from "./router";
import type { CmsTemplate, EmulatorState, TemplateType } from "./state";
import { stamp } from "./state";

const MAIN_LAYOUT = `<!DOCTYPE html>
<html>
  <head><title>{{ provider.name }}</title></head>
  <body>{% content %}</body>
</html>`;
const ERROR_LAYOUT = `<!DOCTYPE html>
<html><body><h1>{{ error.status }}</h1>{% content %}</body></html>`;

/** Developer-portal settings of a new tenant. */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  useraccountarea_enabled: true,
  hide_service: true,
  signups_enabled: true,
  account_approval_required: false,
  strong_passwords_enabled: false,
  public_search: false,
  account_plans_ui_visible: false,
  change_account_plan_permission: "request",
  service_plans_ui_visible: false,
  change_service_plan_permission: "request",
  enforce_sso: false,
};

/** Builtin pages/partials are part of every tenant; the API can edit their drafts but never delete them. */
export const BUILTIN_PAGES = [
  "login/new",
  "signup/show",
  "accounts/show",
  "applications/index",
  "applications/show",
  "dashboards/show",
  "search/index",
];
export const BUILTIN_PARTIALS = ["shared/pagination", "submenu", "field", "login/sso"];

/** What every tenant has, even an otherwise empty one: settings and the root CMS section. */
export function seedInfrastructure(state: EmulatorState): void {
  Object.assign(state.settings, DEFAULT_SETTINGS);
  state.cmsSections.push({
    ...stamp(state),
    title: "Root",
    system_name: "root",
    public: true,
    parent_id: null,
    partial_path: "/",
    builtin: true,
  });
}

/** The content a new tenant starts with: default product and backend, access code, portal templates. */
export function seedTenant(state: EmulatorState, random: () => number): void {
  state.provider.site_access_code = randomHex(random, 10);
  const backend = createBackend(state, {
    name: "API Backend",
    system_name: "api_backend",
    description: "API Backend",
    private_endpoint: "https://echo-api.3scale.net:443",
  });
  const product = createProduct(state, "API", "api", { description: "API" }, random);
  const hits = state.metrics.find((m) => m.owner.type === "backend" && m.owner.id === backend.id)!;
  state.backendUsages.push({ ...stamp(state), service_id: product.id, backend_id: backend.id, path: "/" });
  state.mappingRules.push({
    ...stamp(state),
    owner: { type: "backend", id: backend.id },
    http_method: "GET",
    pattern: "/",
    delta: 1,
    metric_id: hits.id,
    position: 1,
    last: false,
  });

  const root = state.cmsSections.find((s) => s.system_name === "root")!;
  const template = (type: TemplateType, fields: Partial<CmsTemplate>): CmsTemplate => {
    const t: CmsTemplate = {
      ...stamp(state),
      type,
      system_name: null,
      title: null,
      path: null,
      section_id: null,
      layout_id: null,
      content_type: null,
      liquid_enabled: true,
      handler: null,
      hidden: false,
      draft: null,
      published: null,
      ...fields,
    };
    state.cmsTemplates.push(t);
    return t;
  };
  const main = template("layout", { system_name: "main_layout", title: "Main layout", published: MAIN_LAYOUT });
  template("layout", { system_name: "error", title: "Error layout", published: ERROR_LAYOUT });
  const page = { section_id: root.id, layout_id: main.id, content_type: "text/html" };
  template("page", { ...page, title: "Homepage", system_name: "homepage", path: "/", published: "<h1>Welcome</h1>" });
  template("page", {
    ...page,
    title: "Documentation",
    system_name: "documentation",
    path: "/docs",
    published: "<h1>Documentation</h1>",
  });
  for (const name of BUILTIN_PAGES) {
    template("builtin_page", {
      system_name: name,
      title: name,
      layout_id: main.id,
      section_id: root.id,
      published: "",
    });
  }
  for (const name of BUILTIN_PARTIALS) template("builtin_partial", { system_name: name, published: "" });
}
