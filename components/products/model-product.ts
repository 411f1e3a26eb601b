/**
 * One model exposed through 3scale: backend → product → usage, token metrics, a method and mapping rule per served
 * endpoint, auth settings, policy chain, plans and limits, the ActiveDoc, and last the promotion of the gateway
 * configuration to staging and production. Thin wiring of `productSpec`/`policyChain`/`openApiDocument`.
 */
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "../../dynamic-providers/threescale/client";
import { ActiveDoc } from "../../dynamic-providers/active-doc";
import { Backend } from "../../dynamic-providers/backend";
import { BackendUsage } from "../../dynamic-providers/backend-usage";
import { Product } from "../../dynamic-providers/product";
import type { ProxyPromotion } from "../../dynamic-providers/proxy-promotion";
import { ProxySettings } from "../../dynamic-providers/proxy-settings";
import type { ModelConfig, PlatformConfig } from "../config/schema";
import type { MeteringPolicy } from "../threescale/server";
import { openApiDocument } from "./openapi";
import { llmMetricsConfiguration, policyChain } from "./policy-chain";
import { wirePolicyChain, wireProductCatalog, wirePromotion } from "./product-catalog";
import { ProductSpec, productSpec, servedEndpoints } from "./product-spec";
import { verificationPlan } from "./plans";
import { gatewayRevision } from "./revision";

export interface ModelProductArgs {
  model: ModelConfig;
  /** Default plans and the upstream timeout. */
  threescale: Pick<PlatformConfig["threescale"], "defaultPlans" | "upstreamTimeoutSeconds">;
  /** Tenant admin API; a Pulumi secret (it holds the access token). */
  connection: pulumi.Input<Connection>;
  /** The model's serving: its predictor is the backend. */
  serving: {
    /** The predictor's in-cluster URL (the backend's private base URL). */
    inClusterUrl: pulumi.Input<string>;
    /** The `model` value clients send; also the product name the portal shows as "Model Name". */
    servedModelName: pulumi.Input<string>;
  };
  /** Production public base URL of this product's gateway (ActiveDoc server). */
  gatewayUrl: pulumi.Input<string>;
  /** CORS `allow_origin` (see `corsAllowOrigin`). */
  allowOrigin: pulumi.Input<string>;
  /** Our metering policy as deployed on APIcast. */
  metering: MeteringPolicy;
}

export class ModelProduct extends pulumi.ComponentResource {
  readonly product: Product;
  readonly productId: pulumi.Output<number>;
  /** The model's backend (the one-endpoint product mounts it too). */
  readonly backendId: pulumi.Output<number>;
  readonly promotion: ProxyPromotion;
  /** Plan system name → plan id. */
  readonly planIds: Record<string, pulumi.Output<number>>;
  /** The plan the post-deploy verification signs up to (`verificationPlan`). */
  readonly verificationPlanId: pulumi.Output<number>;
  /** The plans and their limits: accounts are created after them and deleted before them. */
  readonly plans: pulumi.Resource[];
  readonly gatewayUrl: pulumi.Output<string>;
  /** What the product is made of (endpoints, metrics, plans), for the layers that present it. */
  readonly spec: ProductSpec;

  constructor(name: string, args: ModelProductArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:products:ModelProduct", name, {}, opts);
    const spec = productSpec(args.model, args.threescale);
    this.spec = spec;
    const endpoints = servedEndpoints(args.model);
    const { connection, serving, metering } = args;
    const child = { parent: this };

    const backend = new Backend(
      `${name}-backend`,
      { connection, ...spec.backend, privateEndpoint: serving.inClusterUrl },
      child,
    );
    this.backendId = backend.backendId;
    this.product = new Product(
      `${name}-product`,
      { connection, ...spec.product, name: serving.servedModelName, removeDefaultMappingRule: true },
      child,
    );
    const productId = this.product.productId;
    this.productId = productId;
    const usage = new BackendUsage(
      `${name}-usage`,
      { connection, productId, backendId: backend.backendId, path: spec.usagePath },
      child,
    );
    const catalog = wireProductCatalog(
      name,
      spec,
      { connection, productId, hitsMetricId: this.product.hitsMetricId },
      [usage],
      this,
    );
    const proxy = new ProxySettings(`${name}-proxy`, { connection, productId, ...spec.proxy }, child);
    const policies = pulumi.output(args.allowOrigin).apply((allowOrigin) =>
      policyChain({
        allowOrigin,
        httpMethods: endpoints.map((e) => e.method),
        metering: {
          name: metering.name,
          version: metering.version,
          configuration: llmMetricsConfiguration(metering.manifest),
        },
        upstreamTimeoutSeconds: args.threescale.upstreamTimeoutSeconds,
      }),
    );
    const chain = wirePolicyChain(name, { connection, productId }, policies, metering, this);

    this.planIds = catalog.planIds;
    const planResources = catalog.planResources;
    const plan = verificationPlan(spec.plans);
    this.verificationPlanId = plan ? this.planIds[plan.systemName] : pulumi.output(-1);
    this.plans = planResources;

    this.gatewayUrl = pulumi.output(args.gatewayUrl);
    const activeDoc = new ActiveDoc(
      `${name}-doc`,
      {
        connection,
        productId,
        systemName: spec.activeDoc.systemName,
        name: serving.servedModelName,
        description: spec.activeDoc.description,
        published: true,
        body: pulumi.all([serving.servedModelName, this.gatewayUrl]).apply(([served, gatewayUrl]) =>
          JSON.stringify(
            openApiDocument({
              models: [served],
              title: args.model.displayName ?? served,
              description: args.model.description || spec.activeDoc.description,
              endpoints,
              gatewayUrl,
            }),
          ),
        ),
      },
      child,
    );

    const revision = pulumi
      .all([serving.inClusterUrl, policies])
      .apply(([privateEndpoint, chainSpec]) => gatewayRevision(spec, { privateEndpoint, policies: chainSpec }));
    const gatewayShapers = [backend, this.product, usage, ...catalog.gatewayShapers, proxy, chain];
    this.promotion = wirePromotion(
      name,
      { connection, productId },
      revision,
      gatewayShapers,
      [...planResources, activeDoc],
      this,
    );
    this.registerOutputs({ productId: this.productId, gatewayUrl: this.gatewayUrl });
  }
}
