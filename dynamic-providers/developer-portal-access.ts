/**
 * `DeveloperPortalAccess`: the tenant's developer-portal access code and portal settings (sign-ups, approval, ...).
 * The values found before the first write are kept in `previous` and written back on delete, so destroy returns the
 * tenant to what it was.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { failure, Failure, fieldFailures, FieldRule } from "./threescale/checks";
import { looseEqual } from "./threescale/equality";
import { differences, hasAny } from "./threescale/fields";
import { ConnectionInputs, ThreescaleProvider } from "./threescale/provider-kit";
import { PLAN_CHANGE_PERMISSIONS } from "./threescale/vocabulary";
import { UNKNOWN } from "./threescale/unknown";
import { ThreescaleResource } from "./threescale/resource";

/** Developer-portal switches of /admin/api/settings.json, by input name. */
export const PORTAL_SETTINGS: Record<string, { api: string; rule: FieldRule }> = {
  useraccountareaEnabled: { api: "useraccountarea_enabled", rule: { kind: "boolean", example: "true" } },
  hideService: { api: "hide_service", rule: { kind: "boolean", example: "false" } },
  signupsEnabled: { api: "signups_enabled", rule: { kind: "boolean", example: "true" } },
  accountApprovalRequired: { api: "account_approval_required", rule: { kind: "boolean", example: "false" } },
  strongPasswordsEnabled: { api: "strong_passwords_enabled", rule: { kind: "boolean", example: "true" } },
  publicSearch: { api: "public_search", rule: { kind: "boolean", example: "false" } },
  accountPlansUiVisible: { api: "account_plans_ui_visible", rule: { kind: "boolean", example: "false" } },
  // porta settings.rb L10 (2.16 checks the service-plan permission against the same list)
  changeAccountPlanPermission: {
    api: "change_account_plan_permission",
    rule: { kind: "string", oneOf: PLAN_CHANGE_PERMISSIONS, example: '"request"' },
  },
  servicePlansUiVisible: { api: "service_plans_ui_visible", rule: { kind: "boolean", example: "false" } },
  changeServicePlanPermission: {
    api: "change_service_plan_permission",
    rule: { kind: "string", oneOf: PLAN_CHANGE_PERMISSIONS, example: '"request"' },
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
    return { id: "developer-portal-access", outs: { ...inputs, previous: current.state } };
  }

  async read(id: string, props: DeveloperPortalAccessOutputs): Promise<pulumi.dynamic.ReadResult> {
    const current = await this.current(this.client(props), props);
    return { id, props: { ...props, ...current.state } };
  }

  async update(_id: string, olds: DeveloperPortalAccessOutputs, news: DeveloperPortalAccessInputs) {
    const client = this.client(news);
    const current = await this.current(client, news);
    // Newly managed values get their pre-existing value recorded; already recorded ones keep the original.
    const previous: PortalState = { ...olds.previous };
    if (previous.siteAccessCode === undefined) previous.siteAccessCode = current.state.siteAccessCode;
    if (current.state.settings) previous.settings = { ...current.state.settings, ...olds.previous?.settings };
    await this.apply(client, news, current);
    return { outs: { ...news, previous } };
  }

  async delete(_id: string, props: DeveloperPortalAccessOutputs): Promise<void> {
    const client = this.client(props);
    const previous = props.previous ?? {};
    await this.apply(client, previous, await this.current(client, previous));
  }

  /**
   * The tenant's current values of the managed fields (those present in `managed`), and its
   * `account_approval_required` whenever the settings are read (an update must send it back, see `apply`).
   */
  private async current(
    client: AdminClient,
    managed: PortalState,
  ): Promise<{ state: PortalState; approvalRequired?: unknown }> {
    const state: PortalState = {};
    let approvalRequired: unknown;
    if (managed.siteAccessCode !== undefined) {
      const account = (await client.get(PROVIDER_PATH)).account;
      state.siteAccessCode = account.site_access_code ?? "";
    }
    if (managed.settings !== undefined) {
      const settings = (await client.get(SETTINGS_PATH)).settings ?? {};
      approvalRequired = settings.account_approval_required;
      state.settings = Object.fromEntries(
        Object.keys(managed.settings).map((k) => [k, settings[PORTAL_SETTINGS[k]?.api ?? k]]),
      );
    }
    return { state, approvalRequired };
  }

  private async apply(
    client: AdminClient,
    desired: PortalState,
    current: { state: PortalState; approvalRequired?: unknown },
  ): Promise<void> {
    const now = current.state;
    if (desired.siteAccessCode !== undefined && !looseEqual(desired.siteAccessCode, now.siteAccessCode)) {
      await client.put(PROVIDER_PATH, { site_access_code: desired.siteAccessCode });
    }
    const changed = differences(settingsToApi(desired.settings), settingsToApi(now.settings));
    if (!hasAny(changed)) return;
    // 3scale 2.15 resets the account approval to false on every settings update that omits it (porta 2.15
    // settings.rb L38-46): send the value that must stay, whatever the release.
    if (!("account_approval_required" in changed) && typeof current.approvalRequired === "boolean")
      changed.account_approval_required = current.approvalRequired;
    await client.put(SETTINGS_PATH, changed);
  }
}

export const developerPortalAccessProvider = new DeveloperPortalAccessProvider();

export interface DeveloperPortalAccessArgs {
  connection: pulumi.Input<Connection>;
  siteAccessCode?: pulumi.Input<string>;
  settings?: pulumi.Input<PortalSettings>;
}

export class DeveloperPortalAccess extends ThreescaleResource {
  declare public readonly previous: pulumi.Output<PortalState>;

  constructor(name: string, args: DeveloperPortalAccessArgs, opts?: pulumi.CustomResourceOptions) {
    super(developerPortalAccessProvider, "DeveloperPortalAccess", name, args, ["previous"], opts);
  }
}
