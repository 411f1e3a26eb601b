/** What a brand-new 3scale tenant contains before anyone configures it. */
import { createBackend, createProduct, systemNameFrom } from "./model";
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

/**
 * Developer-portal settings of a new tenant, in the order porta's SettingsRepresenter renders them.
 * `account_approval_required` is not stored here: porta reads and writes it on the default account plan
 * (settings.rb L52-55), and `enforce_sso` exists from 2.16 only.
 */
export const DEFAULT_SETTINGS: Record<string, unknown> = {
  useraccountarea_enabled: true,
  hide_service: true,
  signups_enabled: true,
  strong_passwords_enabled: false,
  public_search: false,
  account_plans_ui_visible: false,
  change_account_plan_permission: "request",
  service_plans_ui_visible: false,
  change_service_plan_permission: "request",
  enforce_sso: false,
};

/** A builtin section: `system_name` is the parameterized title, `partial_path` the URL prefix. */
interface BuiltinSectionSpec {
  title: string;
  path: string;
  parent?: string;
}

/** A builtin page: porta's system_name and title, its builtin section's title, and its layout. */
interface BuiltinPageSpec {
  systemName: string;
  title: string;
  section: string | null;
  layout?: "main_layout" | "error";
}

/**
 * The builtin sections, pages and partials a new 3scale 2.15 tenant gets (porta `SimpleLayout
 * #create_builtin_pages_and_partials!`, names in `CMS::Builtin::Page::ORIGINAL_PATHS` and
 * `CMS::Builtin::Partial::ORIGINAL_PATHS`). Pages porta adds only behind a switch are included when an on-premises
 * tenant has the switch on: `applications/new` (multiple applications), `applications/choose_service`
 * (multiple services) and `services/*` (service plans); the plan-changes wizard and the forum are left out.
 */
const BUILTIN_SECTIONS: BuiltinSectionSpec[] = [
  { title: "Password", path: "/password" },
  { title: "Login", path: "/login" },
  { title: "Signup", path: "/signup" },
  { title: "Messages", path: "/messages" },
  { title: "Outbox", path: "/messages/outbox", parent: "Messages" },
  { title: "Inbox", path: "/messages/inbox", parent: "Messages" },
  { title: "Trash", path: "/messages/trash", parent: "Messages" },
  { title: "Stats", path: "/stats" },
  { title: "Applications", path: "/applications" },
  { title: "Application Alerts", path: "/application/alerts" },
  { title: "Invoices", path: "/invoices" },
  { title: "Account Plans", path: "/account_plans" },
  { title: "Account", path: "/account" },
  { title: "Users", path: "/users" },
  { title: "User", path: "/user" },
  { title: "Search", path: "/search" },
  { title: "Services", path: "/services" },
  { title: "Invitations", path: "/invitations" },
  { title: "Payment Gateway", path: "/payment_gateway" },
  { title: "Errors", path: "/errors" },
  { title: "Invitee signups", path: "/invitee_signups" },
];

const BUILTIN_PAGE_SPECS: BuiltinPageSpec[] = [
  { systemName: "dashboards/show", title: "Dashboard", section: null },
  { systemName: "password/new", title: "Reset password", section: "Password" },
  { systemName: "password/show", title: "Reset password form", section: "Password" },
  { systemName: "login/new", title: "Login", section: "Login" },
  { systemName: "signup/show", title: "Signup Form", section: "Signup" },
  { systemName: "signup/success", title: "Signup Success", section: "Signup" },
  { systemName: "messages/outbox/index", title: "Outbox", section: "Outbox" },
  { systemName: "messages/outbox/show", title: "View Message", section: "Outbox" },
  { systemName: "messages/outbox/new", title: "Compose", section: "Outbox" },
  { systemName: "messages/inbox/index", title: "Inbox", section: "Inbox" },
  { systemName: "messages/inbox/show", title: "View Message", section: "Inbox" },
  { systemName: "messages/trash/index", title: "Trash", section: "Trash" },
  { systemName: "messages/trash/show", title: "View Message", section: "Trash" },
  { systemName: "stats/index", title: "Stats", section: "Stats" },
  { systemName: "applications/edit", title: "Edit Application", section: "Applications" },
  { systemName: "applications/show", title: "Application", section: "Applications" },
  { systemName: "applications/index", title: "List Applications", section: "Applications" },
  { systemName: "applications/new", title: "New Application", section: "Applications" },
  { systemName: "applications/choose_service", title: "Choose Service", section: "Applications" },
  { systemName: "applications/alerts/index", title: "List Alerts", section: "Application Alerts" },
  { systemName: "invoices/index", title: "Invoices list", section: "Invoices" },
  { systemName: "invoices/show", title: "Invoice details", section: "Invoices" },
  { systemName: "account_plans/index", title: "Change Plan", section: "Account Plans" },
  { systemName: "account/show", title: "Account Overview", section: "Account" },
  { systemName: "account/edit", title: "Edit Account Details", section: "Account" },
  { systemName: "accounts/users/index", title: "Users", section: "Users" },
  { systemName: "accounts/users/edit", title: "User Edit", section: "Users" },
  { systemName: "user/show", title: "Personal Details", section: "User" },
  { systemName: "search/index", title: "Search", section: "Search" },
  { systemName: "services/new", title: "Subscribe to a service", section: "Services" },
  { systemName: "services/index", title: "List services", section: "Services" },
  { systemName: "invitations/index", title: "Sent invitations", section: "Invitations" },
  { systemName: "invitations/new", title: "Create new invitations", section: "Invitations" },
  { systemName: "accounts/payment_gateways/edit", title: "Edit Billing Address Form", section: "Payment Gateway" },
  { systemName: "accounts/payment_gateways/show", title: "Show User's Payment Details", section: "Payment Gateway" },
  { systemName: "errors/not_found", title: "Not Found", section: "Errors", layout: "error" },
  { systemName: "errors/internal_server_error", title: "Internal Server Error", section: "Errors", layout: "error" },
  { systemName: "errors/forbidden", title: "Forbidden", section: "Errors", layout: "error" },
  { systemName: "accounts/invitee_signups/show", title: "Invitation signup form", section: "Invitee signups" },
];

/** Builtin pages/partials are part of every tenant; the API can edit their drafts but never delete them. */
export const BUILTIN_PAGES: readonly string[] = BUILTIN_PAGE_SPECS.map((p) => p.systemName);
export const BUILTIN_PARTIALS: readonly string[] = [
  "field",
  "shared/pagination",
  "shared/swagger_ui",
  "submenu",
  "menu_item",
  "users_menu",
  "login/sso",
  "signup/cas",
  "messages/menu",
  "stats/chart",
  "applications/form",
];

/** Stand-in for porta's shipped template text (the emulator never renders it). */
const builtinContent = (kind: string, systemName: string) => `<!-- 3scale builtin ${kind} ${systemName} -->`;

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
  // porta ServiceCreator: product "API" whose backend is built from it ("API Backend", "Backend of API", and the
  // product's system name `api`); the product gets the `GET /` rule, the backend only its hits metric.
  const backend = createBackend(state, {
    name: "API Backend",
    system_name: "api",
    description: "Backend of API",
    private_endpoint: "https://echo-api.3scale.net:443",
  });
  const product = createProduct(state, "API", "api", { description: "API" }, random);
  state.backendUsages.push({ ...stamp(state), service_id: product.id, backend_id: backend.id, path: "/" });
  // porta logic/provider_signup.rb SampleData#create! L23-35 (run for every new tenant): a "Default" account plan made
  // the default (signup needs one), and the sample product's "Default" service plan made its default. The rest of
  // the sample data (Basic/Unlimited plans, a developer, the Echo ActiveDoc) is not seeded.
  const accountPlan = { ...stamp(state), name: "Default", system_name: "default", state: "published" as const };
  state.accountPlans.push({ ...accountPlan, approval_required: false });
  state.defaultAccountPlanId = accountPlan.id;
  product.default_service_plan_id = state.servicePlans.find((p) => p.service_id === product.id)!.id;

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
      // Tenant templates are made by SimpleLayout with Liquid on; builtins always report true (builtin.rb L152-154).
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
  const error = template("layout", { system_name: "error", title: "Error layout", published: ERROR_LAYOUT });
  const page = { section_id: root.id, layout_id: main.id, content_type: "text/html" };
  template("page", { ...page, title: "Homepage", system_name: "homepage", path: "/", published: "<h1>Welcome</h1>" });
  template("page", {
    ...page,
    title: "Documentation",
    system_name: "documentation",
    path: "/docs",
    published: "<h1>Documentation</h1>",
  });
  const sectionIds = new Map<string, number>();
  for (const spec of BUILTIN_SECTIONS) {
    const section = {
      ...stamp(state),
      title: spec.title,
      system_name: systemNameFrom(spec.title).replace(/_/g, "-"),
      public: true,
      parent_id: spec.parent ? sectionIds.get(spec.parent)! : root.id,
      partial_path: spec.path,
      builtin: true,
    };
    state.cmsSections.push(section);
    sectionIds.set(spec.title, section.id);
  }
  const layouts = { main_layout: main.id, error: error.id };
  for (const spec of BUILTIN_PAGE_SPECS) {
    template("builtin_page", {
      system_name: spec.systemName,
      title: spec.title,
      layout_id: layouts[spec.layout ?? "main_layout"],
      section_id: spec.section ? sectionIds.get(spec.section)! : root.id,
      content_type: "text/html",
      published: builtinContent("page", spec.systemName),
    });
  }
  for (const name of BUILTIN_PARTIALS)
    template("builtin_partial", { system_name: name, published: builtinContent("partial", name) });
}
