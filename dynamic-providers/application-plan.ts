/**
 * A product's application plan: attributes, published/hidden state (changed only when it differs: 3scale rejects a
 * redundant state event) and the product's default plan (moved here only when it must change; 3scale cannot unset
 * a default, so `default: false` is not acted upon).
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

export interface ApplicationPlanInputs extends ConnectionInputs {
  productId: number;
  systemName: string;
  name: string;
  description?: string;
  published: boolean;
  approvalRequired?: boolean;
  /** true: make this the product's default plan. */
  default?: boolean;
  trialPeriodDays?: number;
  setupFee?: number;
  costPerMonth?: number;
}

export interface ApplicationPlanOutputs extends ApplicationPlanInputs {
  planId: number;
}

const ATTRIBUTES = {
  name: "name",
  description: "description",
  approvalRequired: "approval_required",
  trialPeriodDays: "trial_period_days",
  setupFee: "setup_fee",
  costPerMonth: "cost_per_month",
};

const plansPath = (productId: number) => `/admin/api/services/${productId}/application_plans`;

export class ApplicationPlanProvider extends ThreescaleProvider<ApplicationPlanInputs> {
  protected readonly createOnly = ["productId", "systemName"];

  protected validate(inputs: ApplicationPlanInputs): Failure[] {
    return fieldFailures(inputs, {
      productId: { kind: "id", required: true, example: "42 (a Product's productId)" },
      systemName: { kind: "systemName", required: true, example: '"basic"' },
      name: { kind: "string", required: true, example: '"Basic"' },
      description: { kind: "text", example: '"1000 tokens a day"' },
      published: { kind: "boolean", required: true, example: "true" },
      approvalRequired: { kind: "boolean", example: "false" },
      default: { kind: "boolean", example: "true" },
      trialPeriodDays: { kind: "integer", min: 0, example: "0" },
      setupFee: { kind: "number", min: 0, example: "0" },
      costPerMonth: { kind: "number", min: 0, example: "0" },
    });
  }

  async create(inputs: ApplicationPlanInputs): Promise<pulumi.dynamic.CreateResult> {
    const path = plansPath(inputs.productId);
    const plan = await findOrCreate(
      inputs.connection,
      this.clientOptions,
      async (client) =>
        (await client.list(`${path}.json`, "plans", "application_plan")).find(
          (p) => p.system_name === inputs.systemName,
        ),
      async (client) =>
        (await client.post(`${path}.json`, { name: inputs.name, system_name: inputs.systemName })).application_plan,
    );
    await this.sync(this.client(inputs), plan, inputs);
    return { id: String(plan.id), outs: { ...inputs, planId: plan.id } };
  }

  async read(id: string, props: ApplicationPlanOutputs): Promise<pulumi.dynamic.ReadResult> {
    const plan = await unlessGone(() => this.fetch(this.client(props), props.productId, id));
    if (!plan) return {};
    const actual = {
      ...fromApi(plan, ATTRIBUTES, props),
      published: plan.state === "published",
      ...(props.default === undefined ? {} : { default: plan.default === true }),
    };
    return { id, props: { ...props, ...actual, planId: plan.id } };
  }

  async update(id: string, _olds: ApplicationPlanOutputs, news: ApplicationPlanInputs) {
    const client = this.client(news);
    await this.sync(client, await this.fetch(client, news.productId, id), news);
    return { outs: { ...news, planId: Number(id) } };
  }

  async delete(id: string, props: ApplicationPlanOutputs): Promise<void> {
    await this.client(props).deleteIfExists(`${plansPath(props.productId)}/${id}.json`);
  }

  private async fetch(client: AdminClient, productId: number, id: string): Promise<any> {
    return (await client.get(`${plansPath(productId)}/${id}.json`)).application_plan;
  }

  /** Writes only what differs from the plan as 3scale has it: attributes, then state, then the default flag. */
  private async sync(client: AdminClient, plan: any, inputs: ApplicationPlanInputs): Promise<void> {
    const path = `${plansPath(inputs.productId)}/${plan.id}`;
    const changed = differences(toApi(inputs, ATTRIBUTES), plan);
    if (hasAny(changed)) await client.put(`${path}.json`, changed);

    const wanted = inputs.published ? "published" : "hidden";
    if (plan.state !== wanted) {
      try {
        await client.put(`${path}.json`, { state_event: inputs.published ? "publish" : "hide" });
      } catch (err) {
        // A retried event whose first attempt went through is refused as invalid: fine if the state is right now.
        if ((await this.fetch(client, inputs.productId, String(plan.id))).state !== wanted) throw err;
      }
    }
    if (inputs.default === true && plan.default !== true) await client.put(`${path}/default.json`);
  }
}

export const applicationPlanProvider = new ApplicationPlanProvider();

export interface ApplicationPlanArgs {
  connection: pulumi.Input<Connection>;
  productId: pulumi.Input<number>;
  systemName: pulumi.Input<string>;
  name: pulumi.Input<string>;
  description?: pulumi.Input<string>;
  published: pulumi.Input<boolean>;
  approvalRequired?: pulumi.Input<boolean>;
  default?: pulumi.Input<boolean>;
  trialPeriodDays?: pulumi.Input<number>;
  setupFee?: pulumi.Input<number>;
  costPerMonth?: pulumi.Input<number>;
}

export class ApplicationPlan extends pulumi.dynamic.Resource {
  declare public readonly planId: pulumi.Output<number>;

  constructor(name: string, args: ApplicationPlanArgs, opts?: pulumi.CustomResourceOptions) {
    super(applicationPlanProvider, name, { ...args, planId: undefined }, opts, "threescale", "ApplicationPlan");
  }
}
