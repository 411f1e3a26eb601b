/**
 * What a product measures and sells, wired into 3scale objects: metrics and methods (after the backend usages: 3scale
 * only saves a gateway configuration while the product has a backend, and a metric can only be deleted once no saved
 * configuration references it), mapping rules, the application plans and their limits. Shared by the per-model
 * products and the one-endpoint product; resource names derive from `name` and the system names.
 */
import * as pulumi from "@pulumi/pulumi";
import { ApplicationPlan } from "../../dynamic-providers/application-plan";
import { ProductMappingRule } from "../../dynamic-providers/mapping-rule";
import { ProductMethod, ProductMetric } from "../../dynamic-providers/metric";
import { PlanLimit } from "../../dynamic-providers/plan-limit";
import { PolicyChain } from "../../dynamic-providers/policy-chain";
import { ProxyPromotion } from "../../dynamic-providers/proxy-promotion";
import type { Connection } from "../../dynamic-providers/threescale/client";
import type { MeteringPolicy } from "../threescale/server";
import type { PlanSpec } from "./plans";
import type { PolicySpec } from "./policy-chain";
import { HITS, type MappingRuleSpec, type MetricSpec, type MethodSpec } from "./product-spec";

export interface CatalogSpec {
  metrics: MetricSpec[];
  methods: MethodSpec[];
  mappingRules: MappingRuleSpec[];
  plans: PlanSpec[];
}

export interface ProductCatalog {
  /** Metrics and methods that end up in the gateway configuration (the promotion follows their writes). */
  gatewayShapers: Array<pulumi.Resource & { appliedRevision: pulumi.Output<string> }>;
  /** Plan system name → plan id. */
  planIds: Record<string, pulumi.Output<number>>;
  /** The plans and their limits. */
  planResources: pulumi.Resource[];
}

export function wireProductCatalog(
  name: string,
  spec: CatalogSpec,
  product: {
    connection: pulumi.Input<Connection>;
    productId: pulumi.Output<number>;
    hitsMetricId: pulumi.Output<number>;
  },
  /** The backend usages: metrics come after them on create and go before them on delete. */
  usages: pulumi.Resource[],
  parent: pulumi.Resource,
): ProductCatalog {
  const { connection, productId } = product;
  const metricIds: Record<string, pulumi.Output<number>> = { [HITS]: product.hitsMetricId };
  const afterUsages = { parent, dependsOn: usages };
  const metrics = spec.metrics.map((m) => {
    const metric = new ProductMetric(`${name}-metric-${m.systemName}`, { connection, productId, ...m }, afterUsages);
    metricIds[m.systemName] = metric.metricId;
    return metric;
  });
  const methods = spec.methods.map((m) => {
    const method = new ProductMethod(`${name}-method-${m.systemName}`, { connection, productId, ...m }, afterUsages);
    metricIds[m.systemName] = method.metricId;
    return method;
  });
  const rules = spec.mappingRules.map(
    (r) =>
      new ProductMappingRule(
        `${name}-rule-${r.key ?? r.method}`,
        {
          connection,
          productId,
          httpMethod: r.httpMethod,
          pattern: r.pattern,
          delta: r.delta,
          metricId: metricIds[r.method],
        },
        { parent },
      ),
  );

  const planIds: Record<string, pulumi.Output<number>> = {};
  const planResources: pulumi.Resource[] = [];
  for (const plan of spec.plans) {
    const { limits, ...planArgs } = plan;
    const resource = new ApplicationPlan(
      `${name}-plan-${plan.systemName}`,
      { connection, productId, ...planArgs },
      {
        parent,
      },
    );
    planIds[plan.systemName] = resource.planId;
    planResources.push(resource);
    for (const limit of limits) {
      planResources.push(
        new PlanLimit(
          `${name}-limit-${plan.systemName}-${limit.metric}-${limit.period}`,
          {
            connection,
            planId: resource.planId,
            metricId: metricIds[limit.metric],
            period: limit.period,
            value: limit.value,
          },
          { parent, dependsOn: [...metrics, ...methods] },
        ),
      );
    }
  }
  return { gatewayShapers: [...metrics, ...methods, ...rules], planIds, planResources };
}

/** The product's policy chain; 3scale refuses a chain naming a policy it does not know yet: after the definition. */
export function wirePolicyChain(
  name: string,
  product: { connection: pulumi.Input<Connection>; productId: pulumi.Output<number> },
  policies: pulumi.Output<PolicySpec[]>,
  metering: MeteringPolicy,
  parent: pulumi.Resource,
): PolicyChain {
  return new PolicyChain(
    `${name}-policies`,
    {
      ...product,
      policies,
      schemas: { [metering.name]: metering.manifest.configuration as object },
    },
    { parent, dependsOn: [metering.definition] },
  );
}

/**
 * Deploys the staging configuration and promotes it when `revision` (the hash of what the gateway configuration holds)
 * changed, or when one of the `gatewayShapers` wrote (an update, or a repair after refresh: their appliedRevision
 * changes). Depends on everything, so it runs last on up; on destroy it goes first (its delete makes no call).
 */
export function wirePromotion(
  name: string,
  product: { connection: pulumi.Input<Connection>; productId: pulumi.Output<number> },
  revision: pulumi.Output<string>,
  gatewayShapers: Array<pulumi.Resource & { appliedRevision: pulumi.Output<string> }>,
  after: pulumi.Resource[],
  parent: pulumi.Resource,
): ProxyPromotion {
  return new ProxyPromotion(
    `${name}-promotion`,
    {
      ...product,
      revision,
      promoteToProduction: true,
      triggers: gatewayShapers.map((r) => r.appliedRevision),
    },
    { parent, dependsOn: [...gatewayShapers, ...after] },
  );
}
