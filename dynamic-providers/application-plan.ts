/**
 * A product's application plan: attributes, published/hidden state (changed only when it differs: 3scale rejects a
 * redundant state event) and the product's default plan (moved here only when it must change; 3scale cannot unset
 * a default, so `default: false` is not acted upon).
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { productPath } from "./threescale/catalog";
import { Failure, fieldFailures } from "./threescale/checks";
import { ApiObject, ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";
import { ThreescaleResource } from "./threescale/resource";

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

const plansPath = (productId: number) => `${productPath(productId)}/application_plans`;

export class ApplicationPlanProvider extends ObjectProvider<ApplicationPlanInputs> {
  protected readonly createOnly = ["productId", "systemName"];
  protected readonly keyIsUnique = true;
  protected readonly idOutput = "planId";
  protected readonly envelope = "application_plan";
  protected readonly fields = {
    name: "name",
    description: "description",
    approvalRequired: "approval_required",
    trialPeriodDays: "trial_period_days",
    setupFee: "setup_fee",
    costPerMonth: "cost_per_month",
  };
  // porta plan_representer.rb / application_plan_representer.rb render no `description` (it is still written).
  protected readonly writeOnly = ["description"];

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

  protected path(inputs: ApplicationPlanInputs, item: { id: number | string }): string {
    return `${plansPath(inputs.productId)}/${item.id}`;
  }

  protected async find(client: AdminClient, inputs: ApplicationPlanInputs) {
    const plans = await client.list(`${plansPath(inputs.productId)}.json`, "plans", "application_plan");
    return plans.find((p) => p.system_name === inputs.systemName);
  }

  /** Name and system name only: attributes, state and the default flag follow in `sync`, like on adoption. */
  protected async post(client: AdminClient, inputs: ApplicationPlanInputs) {
    const body = { name: inputs.name, system_name: inputs.systemName };
    return (await client.post(`${plansPath(inputs.productId)}.json`, body)).application_plan;
  }

  protected refresh(props: Record<string, any>, plan: ApiObject): Record<string, any> {
    return {
      ...super.refresh(props, plan),
      published: plan.state === "published",
      ...(props.default === undefined ? {} : { default: plan.default === true }),
    };
  }

  /** Writes only what differs from the plan as 3scale has it: attributes, then state, then the default flag. */
  protected async sync(
    client: AdminClient,
    inputs: ApplicationPlanInputs,
    plan: ApiObject,
    written?: Record<string, any>,
  ): Promise<ApiObject> {
    const current = await super.sync(client, inputs, plan, written);
    const path = this.path(inputs, plan);
    const wanted = inputs.published ? "published" : "hidden";
    if (current.state !== wanted) {
      try {
        await client.put(`${path}.json`, { state_event: inputs.published ? "publish" : "hide" });
      } catch (err) {
        // A retried event whose first attempt went through is refused as invalid: fine if the state is right now.
        if ((await this.fetch(client, inputs, String(plan.id)))?.state !== wanted) throw err;
      }
    }
    if (inputs.default === true && current.default !== true) await client.put(`${path}/default.json`);
    return current;
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

export class ApplicationPlan extends ThreescaleResource {
  declare public readonly planId: pulumi.Output<number>;

  constructor(name: string, args: ApplicationPlanArgs, opts?: pulumi.CustomResourceOptions) {
    super(applicationPlanProvider, "ApplicationPlan", name, args, ["planId"], opts);
  }
}
