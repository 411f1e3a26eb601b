/** What a brand-new 3scale tenant contains before anyone configures it. */
import { createBackend, createProduct } from "./model";
import { randomHex } from "./router";
import { DEFAULT_SETTINGS } from "./routes/portal";
import type { CmsTemplate, EmulatorState, TemplateType } from "./state";
import { stamp } from "./state";

const MAIN_LAYOUT = `<!DOCTYPE html>
<html>
  <head><title>{{ provider.name }}</title></head>
  <body>{% content %}</body>
</html>`;
const ERROR_LAYOUT = `<!DOCTYPE html>
<html><body><h1>{{ error.status }}</h1>{% content %}</body></html>`;

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

export function seedTenant(state: EmulatorState, random: () => number): void {
  state.provider.site_access_code = randomHex(random, 10);
  Object.assign(state.settings, DEFAULT_SETTINGS);
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

  const root = {
    ...stamp(state),
    title: "Root",
    system_name: "root",
    public: true,
    parent_id: null,
    partial_path: "/",
    builtin: true,
  };
  state.cmsSections.push(root);
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
