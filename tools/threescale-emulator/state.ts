/**
 * The emulated tenant's live state. Tests may read and mutate it directly to simulate drift (someone editing the
 * tenant in the admin UI); handlers treat it as the database. Ids come from one increasing counter.
 */
export type OwnerType = "service" | "backend";
export interface Owner {
  type: OwnerType;
  id: number;
}

export interface Stamped {
  id: number;
  created_at: string;
  updated_at: string;
}

export interface Backend extends Stamped {
  name: string;
  system_name: string;
  description: string | null;
  /** Stored with an explicit port (`https://host:443`). */
  private_endpoint: string;
}

export interface PolicyEntry {
  name: string;
  version: string;
  configuration: Record<string, unknown>;
  /** Absent when the client omitted it (the policy is then inactive). */
  enabled?: boolean;
}

export interface Proxy {
  created_at: string;
  updated_at: string;
  lock_version: number;
  /** Writable integration settings (endpoint, sandbox_endpoint, credentials_location, error_* ...). */
  settings: Record<string, string | number | null>;
  policies_config: PolicyEntry[];
}

export interface Product extends Stamped {
  name: string;
  system_name: string;
  state: string;
  /** description, deployment_option, backend_version, support_email, the buyer_* switches ... */
  attributes: Record<string, unknown>;
  default_application_plan_id: number | null;
  default_service_plan_id: number | null;
  proxy: Proxy;
}

export interface Metric extends Stamped {
  owner: Owner;
  /** Plain name; backend metrics are rendered with a `.<backend id>` suffix. */
  system_name: string;
  friendly_name: string;
  unit: string | null;
  description: string | null;
  /** Set for methods (children of hits). */
  parent_id: number | null;
}

export interface MappingRule extends Stamped {
  owner: Owner;
  http_method: string;
  pattern: string;
  delta: number;
  metric_id: number;
  position: number;
  last: boolean;
}

export interface BackendUsage extends Stamped {
  service_id: number;
  backend_id: number;
  path: string;
}

export type ConfigEnvironment = "sandbox" | "production";
export interface ProxyConfig {
  id: number;
  service_id: number;
  environment: ConfigEnvironment;
  version: number;
  content: Record<string, unknown>;
  created_at: string;
}

export interface Plan extends Stamped {
  service_id: number;
  name: string;
  system_name: string;
  state: "hidden" | "published";
  approval_required: boolean;
}

export interface ApplicationPlan extends Plan {
  /** Written but never rendered (porta plan_representer.rb / application_plan_representer.rb have no description). */
  description: string | null;
  /** NULL when never set; rendered as `to_i` (0) by porta's plan_representer.rb. */
  trial_period_days: number | null;
  cost_per_month: number;
  setup_fee: number;
  cancellation_period: number;
}

/** An account plan of the tenant (porta AccountPlan); only what signup and the settings need. */
export interface AccountPlan extends Stamped {
  name: string;
  system_name: string;
  state: "hidden" | "published";
  approval_required: boolean;
}

export interface Limit extends Stamped {
  plan_id: number;
  metric_id: number;
  period: string;
  value: number;
}

export interface ActiveDoc extends Stamped {
  name: string;
  system_name: string;
  service_id: number | null;
  body: string;
  description: string | null;
  published: boolean;
  skip_swagger_validations: boolean;
}

export interface ProviderAccount {
  id: number;
  org_name: string;
  site_access_code: string | null;
  from_email: string | null;
  support_email: string | null;
  finance_support_email: string | null;
  created_at: string;
  updated_at: string;
}

export interface AuthProvider extends Stamped {
  kind: string;
  name: string;
  system_name: string;
  client_id: string | null;
  client_secret: string | null;
  site: string | null;
  token_url: string | null;
  user_info_url: string | null;
  authorize_url: string | null;
  identifier_key: string;
  username_key: string;
  trust_email: boolean;
  published: boolean;
  skip_ssl_certificate_verification: boolean;
  automatically_approve_accounts: boolean;
  branding_state: string | null;
}

export interface CmsSection extends Stamped {
  title: string;
  system_name: string;
  public: boolean;
  parent_id: number | null;
  partial_path: string;
  builtin: boolean;
}

export interface CmsFile extends Stamped {
  section_id: number;
  path: string;
  downloadable: boolean;
  title: string;
  content_type: string;
  data: Buffer;
  sha256: string;
}

export type TemplateType = "page" | "layout" | "partial" | "builtin_page" | "builtin_partial";
export interface CmsTemplate extends Stamped {
  type: TemplateType;
  system_name: string | null;
  title: string | null;
  path: string | null;
  section_id: number | null;
  layout_id: number | null;
  content_type: string | null;
  /** NULL when the API created the template without it (porta cms_templates.liquid_enabled has no default). */
  liquid_enabled: boolean | null;
  handler: string | null;
  hidden: boolean;
  draft: string | null;
  published: string | null;
}

export interface DeveloperAccount extends Stamped {
  org_name: string;
  state: string;
  username: string;
  email: string;
  extra_fields: Record<string, unknown>;
  monthly_billing_enabled: boolean;
  monthly_charging_enabled: boolean;
}

/** A user of a developer account; signup creates its active admin. */
export interface DeveloperUser extends Stamped {
  account_id: number;
  username: string;
  email: string;
  state: "pending" | "active" | "suspended";
  role: "admin" | "member";
}

/** A developer account's subscription to a product through one of its service plans (porta ServiceContract). */
export interface ServiceContract extends Stamped {
  account_id: number;
  service_id: number;
  plan_id: number;
}

export interface Application extends Stamped {
  account_id: number;
  plan_id: number;
  service_id: number;
  name: string;
  description: string | null;
  state: string;
  user_key: string | null;
  application_id: string | null;
  application_keys: string[];
}

export type ObjectType = "service" | "backend_api" | "account" | "proxy";

/** An object deleted through the API that the background worker (DeleteObjectHierarchyWorker) has not destroyed yet. */
export interface PendingDeletion {
  objectType: ObjectType;
  id: number;
  /** Still reserved while pending (a namesake create answers 422). */
  systemName: string | null;
  /** Emulator clock (ms) at which the worker destroys the row. */
  goneAt: number;
}

/** The 3scale releases the emulator reproduces. */
export type Release = "2.15" | "2.16";

export interface Tenant {
  name: string;
  adminDomain: string;
  portalDomain: string;
  wildcardDomain: string;
}

export interface EmulatorState {
  tenant: Tenant;
  provider: ProviderAccount;
  settings: Record<string, unknown>;
  backends: Backend[];
  products: Product[];
  metrics: Metric[];
  mappingRules: MappingRule[];
  backendUsages: BackendUsage[];
  proxyConfigs: ProxyConfig[];
  servicePlans: Plan[];
  applicationPlans: ApplicationPlan[];
  accountPlans: AccountPlan[];
  /** The provider's default account plan (signup needs one: porta signup/plans_with_defaults.rb). */
  defaultAccountPlanId: number | null;
  limits: Limit[];
  activeDocs: ActiveDoc[];
  authProviders: AuthProvider[];
  cmsSections: CmsSection[];
  cmsFiles: CmsFile[];
  cmsTemplates: CmsTemplate[];
  accounts: DeveloperAccount[];
  users: DeveloperUser[];
  serviceContracts: ServiceContract[];
  applications: Application[];
  pendingDeletions: PendingDeletion[];
  /** How long (ms) an asynchronous deletion stays pending: the background worker's delay. */
  deletionLagMs: number;
  /** The release whose behaviour the emulator reproduces. */
  release: Release;
  /** The emulator's clock (ms); tests may replace it to move time. */
  clock: () => number;
  nextId: number;
}

export function newId(state: EmulatorState): number {
  return state.nextId++;
}

/** Rails-style timestamp with offset, second precision. */
export function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

export function stamp(state: EmulatorState): Stamped {
  const t = now();
  return { id: newId(state), created_at: t, updated_at: t };
}

export function emptyState(
  tenant: Tenant,
  options: { deletionLagMs: number; release: Release; clock: () => number },
): EmulatorState {
  const t = now();
  return {
    tenant,
    provider: {
      id: 2,
      org_name: tenant.name,
      site_access_code: null,
      from_email: `no-reply@${tenant.portalDomain}`,
      support_email: `admin@${tenant.portalDomain}`,
      finance_support_email: `admin@${tenant.portalDomain}`,
      created_at: t,
      updated_at: t,
    },
    settings: {},
    backends: [],
    products: [],
    metrics: [],
    mappingRules: [],
    backendUsages: [],
    proxyConfigs: [],
    servicePlans: [],
    applicationPlans: [],
    accountPlans: [],
    defaultAccountPlanId: null,
    limits: [],
    activeDocs: [],
    authProviders: [],
    cmsSections: [],
    cmsFiles: [],
    cmsTemplates: [],
    accounts: [],
    users: [],
    serviceContracts: [],
    applications: [],
    pendingDeletions: [],
    deletionLagMs: options.deletionLagMs,
    release: options.release,
    clock: options.clock,
    nextId: 10,
  };
}
