/**
 * The whole platform as one component. Layers are created in dependency order with explicit edges, so `pulumi up`
 * installs bottom-up and `pulumi destroy` tears down top-down:
 *   k8s provider → capacity → GPU enablement → operators + OpenShift AI → storage → 3scale server → SSO server
 *   → per model: serving, then its 3scale product → verification → developer portal (with the Keycloak realm config).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig, SecretConfig } from "./config/schema";
import { Capacity } from "./capacity";
import { GpuEnablement, requiredGpus } from "./gpu";
import { appsDomain, createKubernetesProvider, forceOwnership } from "./kubernetes";
import { ModelServing } from "./models/model-serving";
import { HashCache } from "./models/weights";
import { defaultDeploymentMode, OpenShiftAi } from "./openshift-ai";
import { DeveloperPortal } from "./portal/developer-portal";
import { ModelProduct } from "./products/model-product";
import { ModelsEndpoint } from "./products/models-endpoint";
import { corsAllowOrigin } from "./products/policy-chain";
import { Verification } from "./products/verification";
import { SsoServer } from "./sso";
import { Storage, threescaleSystemStorage } from "./storage";
import { ThreescaleServer } from "./threescale/server";
import { portalOrigin } from "./threescale/urls";

export interface PlatformArgs {
  config: PlatformConfig;
  secrets: SecretConfig<pulumi.Output<string>>;
}

/** One model's way through the platform: its serving in the cluster and its product in 3scale. */
export interface PlatformModel {
  model: PlatformConfig["models"][number];
  serving: ModelServing;
  product: ModelProduct;
}

export class Platform extends pulumi.ComponentResource {
  readonly provider: k8s.Provider;
  readonly appsDomain: pulumi.Output<string>;
  readonly capacity?: Capacity;
  readonly gpu?: GpuEnablement;
  readonly openshiftAi: OpenShiftAi;
  readonly storage: Storage;
  readonly threescale: ThreescaleServer;
  readonly sso: SsoServer;
  readonly models: PlatformModel[];
  /** The one-endpoint product, when `threescale.endpoint.enabled`. */
  readonly endpoint?: ModelsEndpoint;
  readonly verification?: Verification;
  readonly portal: DeveloperPortal;
  readonly adminUrl: pulumi.Output<string>;
  readonly portalUrl: pulumi.Output<string>;
  /** Model name → production gateway URL. */
  readonly modelEndpoints: pulumi.Output<Record<string, string>>;
  /** The one-endpoint product's gateway URL, when enabled. */
  readonly allModelsEndpoint?: pulumi.Output<string>;
  readonly realmUrl: pulumi.Output<string>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    // Component args are stored in state: pass none (they hold secret Outputs).
    super(
      "maas:index:Platform",
      name,
      {},
      {
        ...opts,
        transformations: [...(opts?.transformations ?? []), forceOwnership],
      },
    );
    const { config, secrets } = args;
    const provider = createKubernetesProvider(`${name}-k8s`, config.cluster, { parent: this });
    this.provider = provider;
    const layer = (dependsOn: pulumi.Resource[] = []) => ({ parent: this, providers: [provider], dependsOn });
    this.appsDomain = appsDomain(config.cluster, { parent: this, provider });
    const domain = this.appsDomain;

    const { releases } = config;
    const cliImage = config.cluster.cliImage;
    const capacityCfg = config.capacity;
    this.capacity =
      capacityCfg.machineSets.length > 0 || capacityCfg.gpuMachineSet
        ? new Capacity(`${name}-capacity`, { capacity: capacityCfg }, layer())
        : undefined;
    const gpus = requiredGpus(config.models);
    this.gpu =
      gpus > 0
        ? new GpuEnablement(
            `${name}-gpu`,
            {
              gpu: config.gpu,
              operators: { nfd: config.operators.nfd, gpu: config.operators.gpu },
              releases,
              requiredGpus: gpus,
              cliImage,
              capacity: this.capacity?.ready ?? [],
            },
            layer(),
          )
        : undefined;
    this.openshiftAi = new OpenShiftAi(
      `${name}-openshift-ai`,
      {
        releases,
        openshiftAi: config.openshiftAi,
        operators: config.operators,
        kserveDeploymentMode: defaultDeploymentMode(config.models),
        cliImage,
      },
      layer(),
    );
    const systemStorage = threescaleSystemStorage(config.threescale.systemStorage, config.storage);
    this.storage = new Storage(
      `${name}-storage`,
      {
        storage: config.storage,
        odfOperator: config.operators.odf,
        cliImage,
        threescaleBucket: systemStorage === "s3",
        s3SecretAccessKey: secrets.s3SecretAccessKey,
        appsDomain: domain,
      },
      layer(),
    );
    const storage = this.storage;
    const threescale = new ThreescaleServer(
      `${name}-threescale`,
      {
        releases,
        threescale: config.threescale,
        operator: config.operators.threescale,
        appsDomain: domain,
        cliImage,
        systemStorage:
          systemStorage === "pvc"
            ? { kind: "pvc", rwxStorageClass: storage.rwxStorageClass as string, ready: storage.rwxReady }
            : {
                kind: "s3",
                s3: storage.threescaleBucket!.connection,
                ready: storage.threescaleBucket!.ready,
              },
      },
      layer(),
    );
    this.threescale = threescale;
    this.sso = new SsoServer(
      `${name}-sso`,
      { releases, sso: config.sso, operator: config.operators[config.sso.flavor], appsDomain: domain, cliImage },
      layer(),
    );

    // Until this layout the products, the verification and the portal settings were children of one
    // "3scale configuration" component; aliases keep their state.
    const formerConfigurationName = `${name}-3scale-config`;
    const formerConfiguration = pulumi.createUrn(
      formerConfigurationName,
      "maas:threescale:ThreescaleConfiguration",
      this,
    );
    const ts = config.threescale;
    const allowOrigin =
      ts.corsAllowOrigins.length > 0
        ? pulumi.output(corsAllowOrigin(ts.corsAllowOrigins))
        : domain.apply((d) => portalOrigin(ts.tenantName, d));
    const servingPlatform = [this.openshiftAi.dsc, ...(this.capacity?.ready ?? []), ...(this.gpu?.ready ?? [])];
    const hashes = new HashCache();

    this.models = config.models.map((model, index) => {
      const serving = new ModelServing(
        `${name}-model-${model.name}`,
        {
          model,
          index,
          releases,
          storage,
          servingPlatform,
          hashes,
          huggingFaceToken: secrets.huggingFaceToken,
        },
        layer(),
      );
      const product = new ModelProduct(
        `${formerConfigurationName}-${model.name}`,
        {
          model,
          threescale: ts,
          connection: threescale.connection,
          serving,
          gatewayUrl: threescale.gatewayUrl(model.name),
          allowOrigin,
          metering: threescale.policy,
        },
        {
          ...layer([threescale.apiManager]),
          aliases: [{ type: "maas:threescale:ModelProduct", parent: formerConfiguration }],
        },
      );
      return { model, serving, product };
    });

    if (ts.endpoint.enabled) {
      this.endpoint = new ModelsEndpoint(
        `${name}-endpoint`,
        {
          endpoint: ts.endpoint,
          upstreamTimeoutSeconds: ts.upstreamTimeoutSeconds,
          connection: threescale.connection,
          models: this.models.map(({ model, serving, product }) => ({
            model: {
              name: model.name,
              displayName: model.displayName ?? model.name,
              endpoints: product.spec.endpoints,
            },
            serving,
            backendId: product.backendId,
          })),
          gatewayUrl: threescale.gatewayUrl(ts.endpoint.systemName),
          allowOrigin,
          metering: threescale.policy,
        },
        layer([threescale.apiManager]),
      );
    }
    const endpoint = this.endpoint;

    if (ts.verification) {
      // The one-endpoint product is verified like a model: through its gateway, to the first model.
      const verified = endpoint
        ? [
            ...this.models,
            {
              serving: this.models[0].serving,
              product: {
                spec: { model: ts.endpoint.systemName, endpoints: endpoint.spec.endpoints },
                verificationPlanId: endpoint.verificationPlanId,
                gatewayUrl: endpoint.gatewayUrl,
                promotion: endpoint.promotion,
                plans: endpoint.plans,
              },
            },
          ]
        : this.models;
      this.verification = new Verification(
        `${formerConfigurationName}-verification`,
        {
          namespace: ts.namespace,
          connection: threescale.connection,
          verifyTls: ts.verifyTls,
          models: verified,
        },
        { ...layer(), aliases: [{ type: "maas:verification:Verification", parent: formerConfiguration }] },
      );
    }

    this.portal = new DeveloperPortal(
      `${name}-portal`,
      {
        threescale: ts,
        sso: config.sso,
        tenant: {
          connection: threescale.connection,
          portalUrl: threescale.portalUrl,
          apiManager: threescale.apiManager,
        },
        ssoServer: this.sso,
        models: this.models,
        endpoint: endpoint && {
          name: ts.endpoint.name,
          systemName: ts.endpoint.systemName,
          usage: ts.endpoint.usage,
          gatewayUrl: endpoint.gatewayUrl,
          product: endpoint.product,
        },
        githubClientSecret: secrets.githubClientSecret,
        formerSettings: { parent: formerConfiguration, name: formerConfigurationName },
      },
      layer([threescale.apiManager, this.sso.ready]),
    );

    this.adminUrl = threescale.adminUrl;
    this.portalUrl = threescale.portalUrl;
    this.realmUrl = this.sso.realmUrl;
    this.modelEndpoints = pulumi
      .all(this.models.map(({ model, product }) => product.gatewayUrl.apply((url) => [model.name, url] as const)))
      .apply((pairs) => Object.fromEntries(pairs));
    this.allModelsEndpoint = endpoint?.gatewayUrl;
    this.registerOutputs({
      adminUrl: this.adminUrl,
      portalUrl: this.portalUrl,
      realmUrl: this.realmUrl,
      modelEndpoints: this.modelEndpoints,
      allModelsEndpoint: this.allModelsEndpoint,
    });
  }
}
