/**
 * A usage limit of an application plan on one metric and period. (plan, metric, period) identify it; only the value
 * changes in place. Reads use the plan-wide list: the per-metric endpoints return the metric's limits of every plan.
 */
import * as pulumi from "@pulumi/pulumi";
import { type AdminClient, type Connection, unlessGone } from "./threescale/client";
import { Failure, fieldFailures } from "./threescale/checks";
import { ApiObject, ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";
import { LIMIT_PERIODS, type LimitPeriod } from "./threescale/vocabulary";
import { ThreescaleResource } from "./threescale/resource";

export interface PlanLimitInputs extends ConnectionInputs {
  planId: number;
  metricId: number;
  period: LimitPeriod;
  /** Allowed usage per period; 0 blocks the metric. */
  value: number;
}

export interface PlanLimitOutputs extends PlanLimitInputs {
  limitId: number;
}

const limitsPath = (inputs: PlanLimitInputs) =>
  `/admin/api/application_plans/${inputs.planId}/metrics/${inputs.metricId}/limits`;

export class PlanLimitProvider extends ObjectProvider<PlanLimitInputs> {
  protected readonly createOnly = ["planId", "metricId", "period"];
  protected readonly keyIsUnique = true;
  protected readonly idOutput = "limitId";
  protected readonly envelope = "limit";
  protected readonly fields = { value: "value" };

  protected validate(inputs: PlanLimitInputs): Failure[] {
    return fieldFailures(inputs, {
      planId: { kind: "id", required: true, example: "42 (an ApplicationPlan's planId)" },
      metricId: { kind: "id", required: true, example: "43 (a metric's metricId)" },
      period: { kind: "string", required: true, oneOf: LIMIT_PERIODS, example: '"day"' },
      value: { kind: "integer", required: true, min: 0, example: "100000" },
    });
  }

  protected path(inputs: PlanLimitInputs, item: { id: number | string }): string {
    return `${limitsPath(inputs)}/${item.id}`;
  }

  protected find(client: AdminClient, inputs: PlanLimitInputs) {
    return this.findInPlan(client, inputs, (l) => l.metric_id === inputs.metricId && l.period === inputs.period);
  }

  protected async post(client: AdminClient, inputs: PlanLimitInputs) {
    const body = { period: inputs.period, value: inputs.value };
    return (await client.post(`${limitsPath(inputs)}.json`, body)).limit;
  }

  /** From the plan-wide list (the per-metric endpoints return the metric's limits of every plan); 404: plan gone. */
  protected fetch(client: AdminClient, inputs: PlanLimitInputs, id: string) {
    return unlessGone(() => this.findInPlan(client, inputs, (l) => String(l.id) === id));
  }

  private async findInPlan(
    client: AdminClient,
    inputs: PlanLimitInputs,
    match: (limit: ApiObject) => boolean,
  ): Promise<ApiObject | undefined> {
    const limits = await client.list(`/admin/api/application_plans/${inputs.planId}/limits.json`, "limits", "limit");
    return limits.find((l) => (l.plan_id === undefined || l.plan_id === inputs.planId) && match(l));
  }
}

export const planLimitProvider = new PlanLimitProvider();

export interface PlanLimitArgs {
  connection: pulumi.Input<Connection>;
  planId: pulumi.Input<number>;
  metricId: pulumi.Input<number>;
  period: pulumi.Input<LimitPeriod>;
  value: pulumi.Input<number>;
}

export class PlanLimit extends ThreescaleResource {
  declare public readonly limitId: pulumi.Output<number>;

  constructor(name: string, args: PlanLimitArgs, opts?: pulumi.CustomResourceOptions) {
    super(planLimitProvider, "PlanLimit", name, args, ["limitId"], opts);
  }
}
