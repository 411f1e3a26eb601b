/**
 * The tenant's 3scale configuration: one ModelProduct per model, the tenant-wide developer portal settings (access
 * code, the default "API" product a new tenant ships with) and the post-deploy verification.
 */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config/schema";
import type { Connection } from "../../dynamic-providers/threescale/client";
import { DeveloperPortalAccess, TenantDefaults } from "../../dynamic-providers/developer-portal";
import { Verification } from "./verification";
import { corsAllowOrigin, portalOrigin, servedEndpoints } from "./builders";
import { ModelProduct } from "./model-product";

export { ModelProduct } from "./model-product";

/** What this layer needs from the 3scale platform component. */
export interface TenantAccess {
  adminUrl: pulumi.Input<string>;
  /** Secret. */
  adminAccessToken: pulumi.Input<string>;
  tenantName: pulumi.Input<string>;
  wildcardDomain: pulumi.Input<string>;
  policy: { name: string; version: string };
  /** The APIManager: the tenant exists once it is ready. */
  apiManager: pulumi.Resource;
  gatewayUrl(productSystemName: string): pulumi.Output<string>;
}

/** What this layer needs from each model's serving component. */
export interface ServedModel {
  inClusterUrl: pulumi.Input<string>;
  servedModelName: pulumi.Input<string>;
  /** Verification calls the predictor, so it waits for it. */
  inferenceService?: pulumi.Resource;
}

export interface ThreescaleConfigurationArgs {
  config: PlatformConfig;
  tenant: TenantAccess;
  /** Model name → its serving component. */
  models: Record<string, ServedModel>;
  k8sProvider?: k8s.Provider;
}

/** The admin API connection every dynamic resource takes, as one secret. */
export function tenantConnection(tenant: TenantAccess, verifyTls: boolean): pulumi.Output<Connection> {
  return pulumi.secret(
    pulumi
      .all([tenant.adminUrl, tenant.adminAccessToken])
      .apply(([adminUrl, accessToken]) => ({ adminUrl, accessToken, verifyTls })),
  );
}

export class ThreescaleConfiguration extends pulumi.ComponentResource {
  readonly products: Record<string, ModelProduct> = {};
  readonly verification?: Verification;

  constructor(name: string, args: ThreescaleConfigurationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:threescale:ThreescaleConfiguration", name, {}, opts);
    const { config, tenant } = args;
    const ts = config.threescale;
    const connection = tenantConnection(tenant, ts.verifyTls);
    const allowOrigin =
      ts.corsAllowOrigins.length > 0
        ? pulumi.output(corsAllowOrigin(ts.corsAllowOrigins))
        : pulumi.all([tenant.tenantName, tenant.wildcardDomain]).apply(([t, d]) => portalOrigin(t, d));
    const afterTenant = { parent: this, dependsOn: [tenant.apiManager] };

    for (const model of config.models) {
      const served = args.models[model.name];
      if (!served) throw new Error(`maas:models: no serving component for model "${model.name}"`);
      this.products[model.name] = new ModelProduct(
        `${name}-${model.name}`,
        {
          model,
          threescale: ts,
          connection,
          inClusterUrl: served.inClusterUrl,
          servedModelName: served.servedModelName,
          gatewayUrl: tenant.gatewayUrl(model.name),
          allowOrigin,
          metering: tenant.policy,
        },
        afterTenant,
      );
    }
    const products = Object.values(this.products);

    if (ts.removeAccessCode) {
      new DeveloperPortalAccess(`${name}-portal-access`, { connection, siteAccessCode: "" }, afterTenant);
    }
    if (ts.removeDefaultProduct) {
      // 3scale refuses to delete a tenant's last product: run after ours exist, and be destroyed before them.
      new TenantDefaults(
        `${name}-tenant-defaults`,
        { connection, removeDefaultProduct: true, productSystemName: "api" },
        { parent: this, dependsOn: [tenant.apiManager, ...products.map((p) => p.product)] },
      );
    }

    if (ts.verification) {
      this.verification = new Verification(
        `${name}-verification`,
        {
          namespace: ts.namespace,
          connection,
          verifyTls: ts.verifyTls,
          k8sProvider: args.k8sProvider,
          models: config.models.map((model) => {
            const product = this.products[model.name];
            const served = args.models[model.name];
            return {
              model: model.name,
              servedModelName: served.servedModelName,
              endpoints: servedEndpoints(model),
              planId: product.defaultPlanId,
              gatewayUrl: product.gatewayUrl,
              predictorUrl: served.inClusterUrl,
              promotion: product.promotion,
              ready: served.inferenceService ? [served.inferenceService] : [],
            };
          }),
        },
        { parent: this },
      );
    }
    this.registerOutputs({});
  }
}
