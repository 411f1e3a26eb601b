/**
 * A usage limit of an application plan on one metric and period. (plan, metric, period) identify it; only the value
 * changes in place. Reads use the plan-wide list: the per-metric endpoints return the metric's limits of every plan.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { ConnectionInputs, Failure, ThreescaleProvider } from "./threescale/provider-kit";
import { fieldFailures, findOrCreate, looseEqual } from "./threescale/provider-helpers";

/** The periods 3scale accepts for a limit. */
export const LIMIT_PERIODS = ["eternity", "year", "month", "week", "day", "hour", "minute"] as const;
export type LimitPeriod = (typeof LIMIT_PERIODS)[number];

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

const limitPath = (planId: number, metricId: number) =>
  `/admin/api/application_plans/${planId}/metrics/${metricId}/limits`;

export class PlanLimitProvider extends ThreescaleProvider<PlanLimitInputs> {
  protected readonly createOnly = ["planId", "metricId", "period"];

  protected validate(inputs: PlanLimitInputs): Failure[] {
    return fieldFailures(inputs, {
      planId: { kind: "id", required: true, example: "42 (an ApplicationPlan's planId)" },
      metricId: { kind: "id", required: true, example: "43 (a metric's metricId)" },
      period: { kind: "string", required: true, oneOf: LIMIT_PERIODS, example: '"day"' },
      value: { kind: "integer", required: true, min: 0, example: "100000" },
    });
  }

  async create(inputs: PlanLimitInputs): Promise<pulumi.dynamic.CreateResult> {
    const limit = await findOrCreate(
      inputs.connection,
      this.clientOptions,
      (client) => this.find(client, inputs, (l) => l.metric_id === inputs.metricId && l.period === inputs.period),
      async (client) =>
        (
          await client.post(`${limitPath(inputs.planId, inputs.metricId)}.json`, {
            period: inputs.period,
            value: inputs.value,
          })
        ).limit,
    );
    await this.sync(this.client(inputs), limit, inputs);
    return { id: String(limit.id), outs: { ...inputs, limitId: limit.id } };
  }

  async read(id: string, props: PlanLimitOutputs): Promise<pulumi.dynamic.ReadResult> {
    const limit = await this.find(this.client(props), props, (l) => String(l.id) === id);
    if (!limit) return {};
    return { id, props: { ...props, value: limit.value, limitId: limit.id } };
  }

  async update(id: string, _olds: PlanLimitOutputs, news: PlanLimitInputs) {
    const client = this.client(news);
    const limit = await this.find(client, news, (l) => String(l.id) === id);
    if (!limit) throw new Error(`3scale limit ${id} of plan ${news.planId} no longer exists; run pulumi refresh`);
    await this.sync(client, limit, news);
    return { outs: { ...news, limitId: Number(id) } };
  }

  async delete(id: string, props: PlanLimitOutputs): Promise<void> {
    await this.client(props).deleteIfExists(`${limitPath(props.planId, props.metricId)}/${id}.json`);
  }

  private async find(client: AdminClient, inputs: PlanLimitInputs, match: (limit: any) => boolean) {
    const limits = await client.list(`/admin/api/application_plans/${inputs.planId}/limits.json`, "limits", "limit");
    return limits.find((l) => (l.plan_id === undefined || l.plan_id === inputs.planId) && match(l));
  }

  private async sync(client: AdminClient, limit: any, inputs: PlanLimitInputs): Promise<void> {
    if (looseEqual(inputs.value, limit.value)) return;
    await client.put(`${limitPath(inputs.planId, inputs.metricId)}/${limit.id}.json`, {
      period: inputs.period,
      value: inputs.value,
    });
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

export class PlanLimit extends pulumi.dynamic.Resource {
  declare public readonly limitId: pulumi.Output<number>;

  constructor(name: string, args: PlanLimitArgs, opts?: pulumi.CustomResourceOptions) {
    super(planLimitProvider, name, { ...args, limitId: undefined }, opts, "threescale", "PlanLimit");
  }
}
