/**
 * The whole platform as one component. Layers are created in dependency order with explicit edges, so `pulumi up`
 * installs bottom-up and `pulumi destroy` tears down top-down:
 *   k8s provider → capacity → operators + OpenShift AI → storage → models → 3scale platform → SSO platform
 *   → 3scale products per model → Keycloak realm config, SSO integration, portal content.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config/load";
import type { PlatformConfig, SecretConfig } from "./config/schema";
import { Capacity } from "./capacity";
import { appsDomain, createKubernetesProvider } from "./kubernetes";
import { ModelServing } from "./models/model-serving";
import { OpenShiftAi } from "./openshift-ai";
import { DeveloperPortal } from "./portal/developer-portal";
import { Sso } from "./sso";
import { Storage } from "./storage";
import { ThreescalePlatform } from "./threescale/server";
import { ThreescaleConfiguration } from "./products/tenant-configuration";

export interface PlatformArgs {
  config: PlatformConfig;
  secrets: SecretConfig<pulumi.Output<string>>;
}

export interface PlatformOutputs {
  adminUrl: pulumi.Output<string>;
  portalUrl: pulumi.Output<string>;
  /** Model name → production gateway URL. */
  modelEndpoints: pulumi.Output<Record<string, string>>;
  realmUrl: pulumi.Output<string>;
}

export class Platform extends pulumi.ComponentResource implements PlatformOutputs {
  readonly provider: k8s.Provider;
  readonly appsDomain: pulumi.Output<string>;
  readonly capacity?: Capacity;
  readonly openshiftAi: OpenShiftAi;
  readonly storage: Storage;
  /** Model name → its serving component. */
  readonly models: Record<string, ModelServing>;
  readonly threescale: ThreescalePlatform;
  readonly sso: Sso;
  /** Products per model, tenant portal settings and the post-deploy verification. */
  readonly threescaleConfiguration: ThreescaleConfiguration;
  readonly adminUrl: pulumi.Output<string>;
  readonly portalUrl: pulumi.Output<string>;
  readonly modelEndpoints: pulumi.Output<Record<string, string>>;
  readonly realmUrl: pulumi.Output<string>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    // Component args are stored in state: pass none (they hold secret Outputs).
    super("maas:index:Platform", name, {}, opts);
    const { config, secrets } = args;
    const provider = createKubernetesProvider(`${name}-k8s`, config.cluster, { parent: this });
    this.provider = provider;
    const layer = (dependsOn: pulumi.Resource[] = []) => ({ parent: this, providers: [provider], dependsOn });
    this.appsDomain = appsDomain(config.cluster, { parent: this, provider });
    const domain = this.appsDomain;

    const capacityCfg = config.capacity;
    const capacity =
      capacityCfg.machineSets.length > 0 || capacityCfg.gpuMachineSet
        ? new Capacity(`${name}-capacity`, { capacity: capacityCfg }, layer())
        : undefined;
    this.capacity = capacity;
    this.openshiftAi = new OpenShiftAi(`${name}-openshift-ai`, { config }, layer());
    const storage = new Storage(`${name}-storage`, { config, secrets, appsDomain: domain }, layer());
    this.storage = storage;

    const models: Record<string, ModelServing> = {};
    config.models.forEach((model, index) => {
      models[model.name] = new ModelServing(
        `${name}-model-${model.name}`,
        {
          model,
          index,
          s3: storage.connection,
          awsProvider: storage.awsProvider,
          bucketReady: storage.bucketReady,
          servingPlatform: [this.openshiftAi.dsc, ...(capacity?.ready ?? [])],
        },
        layer(),
      );
    });
    this.models = models;

    const threescale = new ThreescalePlatform(
      `${name}-threescale`,
      { config, appsDomain: domain, rwxStorageClass: storage.rwxStorageClass, storageReady: storage.rwxReady },
      layer(),
    );
    this.threescale = threescale;
    const sso = new Sso(`${name}-sso`, { config, appsDomain: domain }, layer());
    this.sso = sso;

    // 3scale admin configuration: a product per model, tenant portal settings, post-deploy verification.
    this.threescaleConfiguration = new ThreescaleConfiguration(
      `${name}-3scale-config`,
      { config, tenant: threescale, models, k8sProvider: provider },
      layer([threescale.apiManager, sso.ready]),
    );

    // Developer portal content, its SSO integration and the Keycloak realm configuration behind it.
    new DeveloperPortal(
      `${name}-portal`,
      {
        config,
        tenant: threescale,
        sso,
        githubClientSecret: secrets.githubClientSecret,
        products: Object.values(this.threescaleConfiguration.products).map((p) => p.product),
      },
      layer([threescale.apiManager, sso.ready]),
    );

    this.adminUrl = threescale.adminUrl;
    this.portalUrl = threescale.portalUrl;
    this.realmUrl = sso.realmUrl;
    this.modelEndpoints = pulumi
      .all(config.models.map((m) => threescale.gatewayUrl(m.name).apply((url) => [m.name, url] as const)))
      .apply((pairs) => Object.fromEntries(pairs));
    this.registerOutputs({
      adminUrl: this.adminUrl,
      portalUrl: this.portalUrl,
      realmUrl: this.realmUrl,
      modelEndpoints: this.modelEndpoints,
    });
  }
}

/** Program entry: loads and validates the stack config, then builds the platform. */
export function definePlatform(): PlatformOutputs {
  const loaded = loadConfig();
  const p = new Platform("maas", { config: loaded.config, secrets: loaded.secrets });
  return { adminUrl: p.adminUrl, portalUrl: p.portalUrl, modelEndpoints: p.modelEndpoints, realmUrl: p.realmUrl };
}
