/**
 * Tenant-wide developer-portal state:
 * - `DeveloperPortalAccess`: the portal access code and the portal settings (sign-ups, approval, ...). The values
 *   found before the first write are kept in `previous` and written back on delete, so destroy returns the tenant to
 *   what it was.
 * - `TenantDefaults`: removes the sample product and backend every new tenant starts with (recorded in `removed` and
 *   recreated on delete). 3scale refuses to delete a tenant's last product, so this must depend on another product.
 *   The sample backend is found through the sample product's backend usage: 3scale names it after the product.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { ThreescaleApiError } from "./threescale/client";
import {
  BACKENDS_PATH,
  CatalogOwner,
  differences,
  failure,
  Failure,
  fieldFailures,
  FieldRule,
  hasAny,
  listBackends,
  listBackendUsages,
  listOwnerMetrics,
  listProducts,
  looseEqual,
  plainMetricName,
  productPath,
  UNKNOWN,
} from "./threescale/common";
import {
  recordBackend,
  RecordedBackend,
  RecordedProduct,
  recordProduct,
  restoreBackend,
  restoreProduct,
} from "./threescale/product-record";
import { ConnectionInputs, ThreescaleProvider } from "./threescale/provider-kit";
import { withSecretOutputs } from "./threescale/resource";

/** Developer-portal switches of /admin/api/settings.json, by input name. */
export const PORTAL_SETTINGS: Record<string, { api: string; rule: FieldRule }> = {
  useraccountareaEnabled: { api: "useraccountarea_enabled", rule: { kind: "boolean", example: "true" } },
  hideService: { api: "hide_service", rule: { kind: "boolean", example: "false" } },
  signupsEnabled: { api: "signups_enabled", rule: { kind: "boolean", example: "true" } },
  accountApprovalRequired: { api: "account_approval_required", rule: { kind: "boolean", example: "false" } },
  strongPasswordsEnabled: { api: "strong_passwords_enabled", rule: { kind: "boolean", example: "true" } },
  publicSearch: { api: "public_search", rule: { kind: "boolean", example: "false" } },
  accountPlansUiVisible: { api: "account_plans_ui_visible", rule: { kind: "boolean", example: "false" } },
  changeAccountPlanPermission: { api: "change_account_plan_permission", rule: { kind: "boolean", example: "false" } },
  servicePlansUiVisible: { api: "service_plans_ui_visible", rule: { kind: "boolean", example: "false" } },
  changeServicePlanPermission: {
    api: "change_service_plan_permission",
    rule: { kind: "string", example: '"request"' },
  },
};

export type PortalSettings = Partial<Record<keyof typeof PORTAL_SETTINGS, boolean | string>>;

export interface DeveloperPortalAccessInputs extends ConnectionInputs {
  /** Portal access code; "" removes it (the portal is then open). */
  siteAccessCode?: string;
  settings?: PortalSettings;
}

export interface PortalState {
  siteAccessCode?: string;
  settings?: PortalSettings;
}

export interface DeveloperPortalAccessOutputs extends DeveloperPortalAccessInputs {
  /** The tenant's values before this resource first wrote them; restored on delete. */
  previous: PortalState;
}

const PROVIDER_PATH = "/admin/api/provider.json";
const SETTINGS_PATH = "/admin/api/settings.json";

function settingsToApi(settings: PortalSettings = {}): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(settings)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [PORTAL_SETTINGS[k].api, v]),
  );
}

export class DeveloperPortalAccessProvider extends ThreescaleProvider<DeveloperPortalAccessInputs> {
  protected readonly createOnly: string[] = [];

  protected validate(inputs: DeveloperPortalAccessInputs): Failure[] {
    const failures = fieldFailures(inputs, {
      siteAccessCode: { kind: "text", example: '"" (no code) or "d3v-portal"' },
    });
    // A settings object not known yet (preview) is checked once it is; its known values are checked now.
    const raw: unknown = inputs.settings;
    const settings: PortalSettings = raw && typeof raw === "object" ? (raw as PortalSettings) : {};
    if (raw !== undefined && raw !== UNKNOWN && !(raw && typeof raw === "object")) {
      failures.push(failure("settings", "must be an object of portal settings", "{ signupsEnabled: false }"));
    }
    for (const key of Object.keys(settings)) {
      if (!PORTAL_SETTINGS[key]) {
        failures.push({
          property: `settings.${key}`,
          reason: `is not a developer-portal setting; known: ${Object.keys(PORTAL_SETTINGS).join(", ")}`,
        });
      }
    }
    const rules = Object.fromEntries(
      Object.keys(settings)
        .filter((k) => PORTAL_SETTINGS[k])
        .map((k) => [k, PORTAL_SETTINGS[k].rule]),
    );
    return [...failures, ...fieldFailures(settings, rules, "settings.")];
  }

  async create(inputs: DeveloperPortalAccessInputs): Promise<pulumi.dynamic.CreateResult> {
    const client = this.client(inputs);
    const current = await this.current(client, inputs);
    await this.apply(client, inputs, current);
    return { id: "developer-portal-access", outs: { ...inputs, previous: current } };
  }

  async read(id: string, props: DeveloperPortalAccessOutputs): Promise<pulumi.dynamic.ReadResult> {
    const current = await this.current(this.client(props), props);
    return { id, props: { ...props, ...current } };
  }

  async update(_id: string, olds: DeveloperPortalAccessOutputs, news: DeveloperPortalAccessInputs) {
    const client = this.client(news);
    const current = await this.current(client, news);
    // Newly managed values get their pre-existing value recorded; already recorded ones keep the original.
    const previous: PortalState = { ...olds.previous };
    if (previous.siteAccessCode === undefined) previous.siteAccessCode = current.siteAccessCode;
    if (current.settings) previous.settings = { ...current.settings, ...olds.previous?.settings };
    await this.apply(client, news, current);
    return { outs: { ...news, previous } };
  }

  async delete(_id: string, props: DeveloperPortalAccessOutputs): Promise<void> {
    const client = this.client(props);
    const previous = props.previous ?? {};
    await this.apply(client, previous, await this.current(client, previous));
  }

  /** The tenant's current values of the managed fields (those present in `managed`). */
  private async current(client: AdminClient, managed: PortalState): Promise<PortalState> {
    const state: PortalState = {};
    if (managed.siteAccessCode !== undefined) {
      const account = (await client.get(PROVIDER_PATH)).account;
      state.siteAccessCode = account.site_access_code ?? "";
    }
    if (managed.settings !== undefined) {
      const settings = (await client.get(SETTINGS_PATH)).settings ?? {};
      state.settings = Object.fromEntries(
        Object.keys(managed.settings).map((k) => [k, settings[PORTAL_SETTINGS[k]?.api ?? k]]),
      );
    }
    return state;
  }

  private async apply(client: AdminClient, desired: PortalState, current: PortalState): Promise<void> {
    if (desired.siteAccessCode !== undefined && !looseEqual(desired.siteAccessCode, current.siteAccessCode)) {
      await client.put(PROVIDER_PATH, { site_access_code: desired.siteAccessCode });
    }
    const changed = differences(settingsToApi(desired.settings), settingsToApi(current.settings));
    if (hasAny(changed)) await client.put(SETTINGS_PATH, changed);
  }
}

export const developerPortalAccessProvider = new DeveloperPortalAccessProvider();

export interface DeveloperPortalAccessArgs {
  connection: pulumi.Input<Connection>;
  siteAccessCode?: pulumi.Input<string>;
  settings?: pulumi.Input<PortalSettings>;
}

export class DeveloperPortalAccess extends pulumi.dynamic.Resource {
  declare public readonly previous: pulumi.Output<PortalState>;

  constructor(name: string, args: DeveloperPortalAccessArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      developerPortalAccessProvider,
      name,
      { ...args, previous: undefined },
      opts,
      "threescale",
      "DeveloperPortalAccess",
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------

export interface TenantDefaultsInputs extends ConnectionInputs {
  removeDefaultProduct: boolean;
  productSystemName: string;
  /** The backend to remove; by default the one the default product uses (3scale gives it the product's name). */
  backendSystemName?: string;
}

/** What was removed, enough to recreate it faithfully (a secret output: it holds the product's secret_token). */
export interface RemovedDefaults {
  product?: RecordedProduct;
  backend?: RecordedBackend;
  /** System name of the product's backend when another product still used it (kept; the usage is restored). */
  keptBackend?: string;
  /** Path of the product's usage of the backend. */
  usagePath?: string;
}

export interface TenantDefaultsOutputs extends TenantDefaultsInputs {
  removed: RemovedDefaults;
}

/** A backend the restored product is to use again: its id, and its metric ids for the plans' limits. */
interface UsableBackend {
  backendId: number;
  systemName: string;
  metricIds: Map<string, number>;
}

export class TenantDefaultsProvider extends ThreescaleProvider<TenantDefaultsInputs> {
  protected readonly createOnly = ["productSystemName", "backendSystemName"];

  protected validate(inputs: TenantDefaultsInputs): Failure[] {
    return fieldFailures(inputs, {
      removeDefaultProduct: { kind: "boolean", required: true, example: "true" },
      productSystemName: { kind: "systemName", required: true, example: '"api"' },
      backendSystemName: { kind: "systemName", example: '"api"' },
    });
  }

  async create(inputs: TenantDefaultsInputs): Promise<pulumi.dynamic.CreateResult> {
    const removed = inputs.removeDefaultProduct ? await this.remove(this.client(inputs), inputs) : {};
    return { id: `tenant-defaults-${inputs.productSystemName}`, outs: { ...inputs, removed } };
  }

  /** Nothing to read: what matters is the record of what was removed, which only this resource has. */
  async read(id: string, props: TenantDefaultsOutputs): Promise<pulumi.dynamic.ReadResult> {
    return { id, props };
  }

  async update(_id: string, olds: TenantDefaultsOutputs, news: TenantDefaultsInputs) {
    const client = this.client(news);
    if (news.removeDefaultProduct) {
      const removedNow = await this.remove(client, news);
      return { outs: { ...news, removed: { ...removedNow, ...olds.removed } } };
    }
    await this.restore(news, olds.removed ?? {});
    return { outs: { ...news, removed: {} } };
  }

  async delete(_id: string, props: TenantDefaultsOutputs): Promise<void> {
    await this.restore(props, props.removed ?? {});
  }

  /**
   * Records the default product and backend in full, then deletes the product's backend usages, the product, and
   * the backend when nothing else uses it.
   */
  private async remove(client: AdminClient, inputs: TenantDefaultsInputs): Promise<RemovedDefaults> {
    const removed: RemovedDefaults = {};
    const product = (await listProducts(client)).find((s) => s.system_name === inputs.productSystemName);
    const usages = product ? await listBackendUsages(client, product.id) : [];
    const backend = (await listBackends(client)).find((b) =>
      inputs.backendSystemName === undefined
        ? b.id === defaultBackendId(usages)
        : b.system_name === inputs.backendSystemName,
    );
    const productRecord = product
      ? await recordProduct(client, product, new Map(backend ? [[backend.id, backend.system_name]] : []))
      : undefined;
    const backendRecord = backend ? await recordBackend(client, backend) : undefined;
    if (product) {
      for (const usage of usages) {
        if (backend && usage.backend_id === backend.id) removed.usagePath = usage.path;
        await client.deleteIfExists(`${productPath(product.id)}/backend_usages/${usage.id}.json`);
      }
      await client.deleteIfExists(`${productPath(product.id)}.json`);
      removed.product = productRecord;
    }
    if (backend) {
      try {
        await client.deleteIfExists(`${BACKENDS_PATH}/${backend.id}.json`);
        removed.backend = backendRecord;
      } catch (err) {
        // Still used by a product someone else made: it is not a leftover default, so it stays.
        if (!(err instanceof ThreescaleApiError && err.status === 403)) throw err;
        removed.keptBackend = backend.system_name;
      }
    }
    return removed;
  }

  /**
   * Recreates what `remove` deleted. A just-deleted name stays reserved until 3scale's background deletion ends
   * (422 "has already been taken"), which findOrCreate waits out within its retry budget.
   */
  private async restore(inputs: TenantDefaultsInputs, removed: RemovedDefaults): Promise<void> {
    const client = this.client(inputs);
    const patient = client.withOptions({ maxAttempts: Math.max(client.maxAttempts, 10) });
    const backend = removed.backend
      ? await this.restoredBackend(patient, removed.backend)
      : await this.keptBackend(patient, removed.keptBackend);
    if (!removed.product) return;
    await restoreProduct(patient, removed.product, backend ? [{ ...backend, path: removed.usagePath ?? "/" }] : []);
  }

  private async restoredBackend(client: AdminClient, record: RecordedBackend): Promise<UsableBackend> {
    const { id, metricIds } = await restoreBackend(client, record);
    return { backendId: id, systemName: record.systemName, metricIds };
  }

  /** The kept backend as it is now (no record of it to restore); undefined when it is gone meanwhile. */
  private async keptBackend(client: AdminClient, systemName?: string): Promise<UsableBackend | undefined> {
    if (systemName === undefined) return undefined;
    const backend = (await listBackends(client)).find((b) => b.system_name === systemName);
    if (!backend) return undefined;
    const owner: CatalogOwner = { kind: "backend", id: backend.id };
    const metrics = await listOwnerMetrics(client, owner);
    const metricIds = new Map<string, number>(metrics.map((m) => [plainMetricName(owner, m.system_name), m.id]));
    return { backendId: backend.id, systemName, metricIds };
  }
}

/**
 * The backend 3scale created with the default product: the one of its first backend usage (lowest id), since the
 * admin may have added others since. Undefined when the product uses none.
 */
export function defaultBackendId(usages: Array<{ id: number; backend_id: number }>): number | undefined {
  const first = [...usages].sort((a, b) => a.id - b.id)[0];
  return first?.backend_id;
}

export const tenantDefaultsProvider = new TenantDefaultsProvider();

export interface TenantDefaultsArgs {
  connection: pulumi.Input<Connection>;
  removeDefaultProduct: pulumi.Input<boolean>;
  productSystemName: pulumi.Input<string>;
  /** Defaults to the backend the default product uses. */
  backendSystemName?: pulumi.Input<string>;
}

export class TenantDefaults extends pulumi.dynamic.Resource {
  declare public readonly removed: pulumi.Output<RemovedDefaults>;

  constructor(name: string, args: TenantDefaultsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      tenantDefaultsProvider,
      name,
      { ...args, removed: undefined },
      withSecretOutputs(opts, ["removed"]),
      "threescale",
      "TenantDefaults",
    );
  }
}
