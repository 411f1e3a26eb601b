/**
 * A developer account's application on an application plan; its `userKey` is the credential API calls present at
 * the gateway, so it is a secret output. Application names are not unique in 3scale: create adopts by
 * (account, name), and findOrCreate never re-sends a create blindly, so retries cannot make duplicates.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { ConnectionInputs, Failure, ThreescaleProvider } from "./threescale/provider-kit";
import {
  differences,
  fieldFailures,
  findOrCreate,
  fromApi,
  hasAny,
  toApi,
  unlessGone,
} from "./threescale/provider-helpers";

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

const ATTRIBUTES = { name: "name", description: "description" };

const appsPath = (accountId: number) => `/admin/api/accounts/${accountId}/applications`;

export class ApplicationProvider extends ThreescaleProvider<ApplicationInputs> {
  protected readonly createOnly = ["accountId"];

  protected validate(inputs: ApplicationInputs): Failure[] {
    return fieldFailures(inputs, {
      accountId: { kind: "id", required: true, example: "42 (a DeveloperAccount's accountId)" },
      planId: { kind: "id", required: true, example: "43 (an ApplicationPlan's planId)" },
      name: { kind: "string", required: true, example: '"granite-e2e"' },
      description: { kind: "text", example: '"end-to-end test application"' },
    });
  }

  async create(inputs: ApplicationInputs): Promise<pulumi.dynamic.CreateResult> {
    const path = appsPath(inputs.accountId);
    const app = await findOrCreate(
      inputs.connection,
      this.clientOptions,
      async (client) =>
        (await client.list(`${path}.json`, "applications", "application")).find((a) => a.name === inputs.name),
      async (client) =>
        (await client.post(`${path}.json`, { plan_id: inputs.planId, ...toApi(inputs, ATTRIBUTES) })).application,
    );
    const synced = await this.sync(this.client(inputs), app, inputs);
    return { id: String(app.id), outs: this.outputs(inputs, synced) };
  }

  async read(id: string, props: ApplicationOutputs): Promise<pulumi.dynamic.ReadResult> {
    const app = await unlessGone(() => this.fetch(this.client(props), props.accountId, id));
    if (!app) return {};
    return { id, props: this.outputs({ ...props, ...fromApi(app, ATTRIBUTES, props), planId: app.plan_id }, app) };
  }

  async update(id: string, _olds: ApplicationOutputs, news: ApplicationInputs) {
    const client = this.client(news);
    const app = await this.sync(client, await this.fetch(client, news.accountId, id), news);
    return { outs: this.outputs(news, app) };
  }

  async delete(id: string, props: ApplicationOutputs): Promise<void> {
    await this.client(props).deleteIfExists(`${appsPath(props.accountId)}/${id}.json`);
  }

  private async fetch(client: AdminClient, accountId: number, id: string): Promise<any> {
    return (await client.get(`${appsPath(accountId)}/${id}.json`)).application;
  }

  /** Name/description where they differ, then a plan change when the application is on another plan. */
  private async sync(client: AdminClient, app: any, inputs: ApplicationInputs): Promise<any> {
    const path = `${appsPath(inputs.accountId)}/${app.id}`;
    let current = app;
    const changed = differences(toApi(inputs, ATTRIBUTES), current);
    if (hasAny(changed)) current = (await client.put(`${path}.json`, changed)).application;
    if (current.plan_id !== inputs.planId) {
      current = (await client.put(`${path}/change_plan.json`, { plan_id: inputs.planId })).application;
    }
    return current;
  }

  private outputs(inputs: ApplicationInputs, app: any): ApplicationOutputs {
    return { ...inputs, applicationId: app.id, userKey: app.user_key };
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

export class Application extends pulumi.dynamic.Resource {
  declare public readonly applicationId: pulumi.Output<number>;
  declare public readonly userKey: pulumi.Output<string>;

  constructor(name: string, args: ApplicationArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      applicationProvider,
      name,
      { ...args, applicationId: undefined, userKey: undefined },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "userKey"] },
      "threescale",
      "Application",
    );
  }
}
