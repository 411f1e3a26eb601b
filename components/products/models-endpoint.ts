/**
 * The one-endpoint product (`threescale.endpoint`): every model behind one OpenAI-compatible endpoint and one key.
 * Its own product and gateway routes, the models' backends mounted beside each other, per-model methods and token
 * metrics, plans listing their models, and our metering policy configured to route by the request's `model`, to
 * check limits before the model runs, to send OpenAI's rate-limit headers and to answer `/v1/models` and `/v1/usage`.
 * Thin wiring of `endpointSpec`; the per-model products stay as they are.
 */
import * as pulumi from "@pulumi/pulumi";
import { ActiveDoc } from "../../dynamic-providers/active-doc";
import { BackendUsage } from "../../dynamic-providers/backend-usage";
import { Product } from "../../dynamic-providers/product";
import type { ProxyPromotion } from "../../dynamic-providers/proxy-promotion";
import { ProxySettings } from "../../dynamic-providers/proxy-settings";
import type { Connection } from "../../dynamic-providers/threescale/client";
import type { PlatformConfig } from "../config/schema";
import type { MeteringPolicy } from "../threescale/server";
import { EndpointSpec, endpointPolicyConfiguration, endpointSpec, type EndpointModel } from "./endpoint-spec";
import { openApiDocument } from "./openapi";
import { verificationPlan } from "./plans";
import { llmMetricsConfiguration, policyChain } from "./policy-chain";
import { wirePolicyChain, wireProductCatalog, wirePromotion } from "./product-catalog";
import { revisionOf } from "./revision";

export interface ModelsEndpointArgs {
  endpoint: PlatformConfig["threescale"]["endpoint"];
  upstreamTimeoutSeconds: number;
  connection: pulumi.Input<Connection>;
  /** The models, each with its serving and its own product (whose backend this product mounts too). */
  models: Array<{
    model: EndpointModel;
    serving: { servedModelName: pulumi.Input<string>; inClusterUrl: pulumi.Input<string> };
    backendId: pulumi.Output<number>;
  }>;
  gatewayUrl: pulumi.Input<string>;
  allowOrigin: pulumi.Input<string>;
  metering: MeteringPolicy;
}

export class ModelsEndpoint extends pulumi.ComponentResource {
  readonly product: Product;
  readonly spec: EndpointSpec;
  readonly gatewayUrl: pulumi.Output<string>;
  readonly promotion: ProxyPromotion;
  readonly verificationPlanId: pulumi.Output<number>;
  readonly plans: pulumi.Resource[];

  constructor(name: string, args: ModelsEndpointArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:products:ModelsEndpoint", name, {}, opts);
    const { connection, metering, endpoint } = args;
    const spec = endpointSpec(
      endpoint,
      args.models.map((m) => m.model),
    );
    this.spec = spec;
    this.product = new Product(
      `${name}-product`,
      { connection, ...spec.product, removeDefaultMappingRule: true },
      { parent: this },
    );
    const productId = this.product.productId;
    const usages = args.models.map(
      (m, i) =>
        new BackendUsage(
          `${name}-usage-${m.model.name}`,
          { connection, productId, backendId: m.backendId, path: spec.usages[i].path },
          { parent: this },
        ),
    );
    const catalog = wireProductCatalog(
      name,
      spec,
      { connection, productId, hitsMetricId: this.product.hitsMetricId },
      usages,
      this,
    );
    const proxy = new ProxySettings(
      `${name}-proxy`,
      { connection, productId, credentialsLocation: "authorization", authUserKey: "Authorization" },
      { parent: this },
    );
    const upstreams = pulumi.all(
      args.models.map((m) =>
        pulumi.all([m.serving.servedModelName, m.serving.inClusterUrl]).apply(([n, u]) => ({ name: n, upstream: u })),
      ),
    );
    const policies = pulumi.all([args.allowOrigin, upstreams]).apply(([allowOrigin, routed]) =>
      policyChain({
        allowOrigin,
        httpMethods: [...new Set([...spec.endpoints.map((e) => e.method), "GET"])],
        metering: {
          name: metering.name,
          version: metering.version,
          configuration: endpointPolicyConfiguration(llmMetricsConfiguration(metering.manifest), endpoint, routed),
        },
        upstreamTimeoutSeconds: args.upstreamTimeoutSeconds,
      }),
    );
    const chain = wirePolicyChain(name, { connection, productId }, policies, metering, this);
    const plan = verificationPlan(spec.plans);
    this.verificationPlanId = plan ? catalog.planIds[plan.systemName] : pulumi.output(-1);
    this.plans = catalog.planResources;

    this.gatewayUrl = pulumi.output(args.gatewayUrl);
    const modelNames = pulumi.all(args.models.map((m) => m.serving.servedModelName));
    const activeDoc = new ActiveDoc(
      `${name}-doc`,
      {
        connection,
        productId,
        systemName: endpoint.systemName,
        name: endpoint.name,
        description: spec.product.description,
        published: true,
        body: pulumi.all([modelNames, this.gatewayUrl]).apply(([models, gatewayUrl]) =>
          JSON.stringify(
            openApiDocument({
              models,
              title: endpoint.name,
              description: spec.product.description,
              endpoints: spec.endpoints,
              gatewayUrl,
            }),
          ),
        ),
      },
      { parent: this },
    );

    const gatewayShapers = [this.product, ...usages, ...catalog.gatewayShapers, proxy, chain];
    // The gateway configuration: what the shapers write, hashed (plans and docs are not part of it).
    const revision = policies.apply((chainSpec) =>
      revisionOf({
        usages: spec.usages,
        metrics: spec.metrics.map((m) => m.systemName),
        methods: spec.methods.map((m) => m.systemName),
        mappingRules: spec.mappingRules,
        policies: chainSpec,
      }),
    );
    this.promotion = wirePromotion(
      name,
      { connection, productId },
      revision,
      gatewayShapers,
      [...catalog.planResources, activeDoc],
      this,
    );
    this.registerOutputs({ gatewayUrl: this.gatewayUrl });
  }
}
