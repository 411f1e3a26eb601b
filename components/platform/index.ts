/**
 * The whole platform as one component: every layer is created here, in dependency order, with explicit edges so
 * `pulumi up` installs bottom-up and `pulumi destroy` tears down top-down.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "../config/load";
import type { PlatformConfig, SecretConfig } from "../config/schema";
import { appsDomain, createKubernetesProvider } from "../k8s";

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
  readonly adminUrl!: pulumi.Output<string>;
  readonly portalUrl!: pulumi.Output<string>;
  readonly modelEndpoints!: pulumi.Output<Record<string, string>>;
  readonly realmUrl!: pulumi.Output<string>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    // Component args are stored in state: pass nothing (the config holds secrets' siblings and is large).
    super("maas:index:Platform", name, {}, opts);
    const { config } = args;
    this.provider = createKubernetesProvider(`${name}-k8s`, config.cluster, { parent: this });
    this.appsDomain = appsDomain(config.cluster, { parent: this, provider: this.provider });
    this.registerOutputs({});
  }
}

/** Program entry: loads and validates the stack config, then builds the platform. */
export function definePlatform(): PlatformOutputs {
  const loaded = loadConfig();
  return new Platform("maas", { config: loaded.config, secrets: loaded.secrets });
}
