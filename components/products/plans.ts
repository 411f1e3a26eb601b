/** A model's application plans and their limits, validated against the metrics the product measures. */
import type { ModelConfig, PlanConfig } from "../config/schema";

export interface LimitSpec {
  /** `hits`, a token metric or an endpoint method, by system name. */
  metric: string;
  period: PlanConfig["limits"][number]["period"];
  value: number;
}

export interface PlanSpec {
  systemName: string;
  name: string;
  description?: string;
  published: boolean;
  approvalRequired: boolean;
  default: boolean;
  limits: LimitSpec[];
}

/**
 * The model's application plans (`model.plans`, else `threescale.defaultPlans`). Only a plan marked `default` is the
 * product's default plan: 3scale subscribes every new developer account to it (the deployment guide sets none).
 */
export function productPlans(
  model: ModelConfig,
  defaultPlans: PlanConfig[],
  /** System names of the metrics and methods the product measures. */
  metrics: string[],
): PlanSpec[] {
  const plans = model.plans ?? defaultPlans;
  return plans.map((plan) => {
    for (const limit of plan.limits) {
      if (!metrics.includes(limit.metric)) {
        throw new Error(
          `maas:models[name=${model.name}] plan "${plan.systemName}": limit metric "${limit.metric}" is not measured ` +
            `by this model; e.g. one of ${metrics.join(", ")}`,
        );
      }
    }
    return {
      ...planHeader(plan),
      limits: plan.limits.map((l) => ({ metric: l.metric, period: l.period, value: l.value })),
    };
  });
}

/** The plan the post-deploy verification signs its application up to: the default plan, else the first. */
export function verificationPlan(plans: PlanSpec[]): PlanSpec | undefined {
  return plans.find((p) => p.default) ?? plans[0];
}

/** A plan's fields other than its limits, as 3scale takes them (no `description` key when none is given). */
export function planHeader(plan: Omit<PlanSpec, "limits">): Omit<PlanSpec, "limits"> {
  return {
    systemName: plan.systemName,
    name: plan.name,
    ...(plan.description !== undefined ? { description: plan.description } : {}),
    published: plan.published,
    approvalRequired: plan.approvalRequired,
    default: plan.default,
  };
}
