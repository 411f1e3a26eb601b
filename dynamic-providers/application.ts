/**
 * A developer account's application on an application plan; its `userKey` is the credential API calls present at
 * the gateway, so it is a secret output. Application names are not unique in 3scale: create adopts by
 * (account, name), and findOrCreate never re-sends a create blindly, so retries cannot make duplicates.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { Failure, fieldFailures } from "./threescale/checks";
import { toApi } from "./threescale/fields";
import { ApiObject, ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";
import { ThreescaleResource, withSecretOutputs } from "./threescale/resource";

export interface ApplicationInputs extends ConnectionInputs {
  accountId: number;
  planId: number;
  name: string;
  description?: string;
}

export interface ApplicationOutputs extends ApplicationInputs {
  applicationId: number;
  /** Secret. */
  userKey: string;
}

const appsPath = (accountId: number) => `/admin/api/accounts/${accountId}/applications`;

export class ApplicationProvider extends ObjectProvider<ApplicationInputs> {
  protected readonly createOnly = ["accountId"];
  protected readonly idOutput = "applicationId";
  protected readonly envelope = "application";
  protected readonly fields = { name: "name", description: "description" };

  protected validate(inputs: ApplicationInputs): Failure[] {
    return fieldFailures(inputs, {
      accountId: { kind: "id", required: true, example: "42 (a DeveloperAccount's accountId)" },
      planId: { kind: "id", required: true, example: "43 (an ApplicationPlan's planId)" },
      name: { kind: "string", required: true, example: '"granite-e2e"' },
      description: { kind: "text", example: '"end-to-end test application"' },
    });
  }

  protected path(inputs: ApplicationInputs, item: { id: number | string }): string {
    return `${appsPath(inputs.accountId)}/${item.id}`;
  }

  /** Applications have no system name: the account's application of the same name is ours. */
  protected async find(client: AdminClient, inputs: ApplicationInputs) {
    const apps = await client.list(`${appsPath(inputs.accountId)}.json`, "applications", "application");
    return apps.find((a) => a.name === inputs.name);
  }

  protected async post(client: AdminClient, inputs: ApplicationInputs) {
    const body = { plan_id: inputs.planId, ...toApi(inputs, this.fields) };
    return (await client.post(`${appsPath(inputs.accountId)}.json`, body)).application;
  }

  /** Name/description where they differ, then a plan change when the application is on another plan. */
  protected async sync(
    client: AdminClient,
    inputs: ApplicationInputs,
    app: ApiObject,
    written?: Record<string, any>,
  ): Promise<ApiObject> {
    const current = await super.sync(client, inputs, app, written);
    if (current.plan_id === inputs.planId) return current;
    // The answer's shape varies (the application or its new plan): read the application back.
    await client.put(`${this.path(inputs, app)}/change_plan.json`, { plan_id: inputs.planId });
    return (await this.fetch(client, inputs, String(app.id))) ?? current;
  }

  protected refresh(props: Record<string, any>, app: ApiObject): Record<string, any> {
    return { ...super.refresh(props, app), planId: app.plan_id };
  }

  protected outputs(inputs: Record<string, any>, app: ApiObject): Record<string, any> {
    return { ...super.outputs(inputs, app), userKey: app.user_key };
  }
}

export const applicationProvider = new ApplicationProvider();

export interface ApplicationArgs {
  connection: pulumi.Input<Connection>;
  accountId: pulumi.Input<number>;
  planId: pulumi.Input<number>;
  name: pulumi.Input<string>;
  description?: pulumi.Input<string>;
}

export class Application extends ThreescaleResource {
  declare public readonly applicationId: pulumi.Output<number>;
  declare public readonly userKey: pulumi.Output<string>;

  constructor(name: string, args: ApplicationArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      applicationProvider,
      "Application",
      name,
      args,
      ["applicationId", "userKey"],
      withSecretOutputs(opts, ["userKey"]),
    );
  }
}
