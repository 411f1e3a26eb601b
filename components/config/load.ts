/**
 * The one place that reads Pulumi config. Reads every `maas:` key, rejects unknown ones, applies the schema's defaults
 * (Pulumi.yaml defaults are applied by the CLI only, never under mocks) and validates everything before any resource
 * is registered.
 */
import * as pulumi from "@pulumi/pulumi";
import { PlatformConfig, SECRET_KEYS } from "./schema";
import { CONFIG_NAMESPACE, ConfigProblem, ConfigValidationError, decodeStackConfig, validateConfig } from "./validate";

export { ConfigValidationError, validateConfig, formatProblem, CONFIG_NAMESPACE } from "./validate";
export type { ConfigProblem, ValidationResult } from "./validate";

export interface LoadedConfig {
  config: PlatformConfig;
  secrets: { githubClientSecret?: pulumi.Output<string>; s3SecretAccessKey?: pulumi.Output<string> };
}

type SecretKey = (typeof SECRET_KEYS)[number];

/** The SDK's (internal) record of which config keys the CLI passed as secrets; absent → trust the value. */
function isConfigSecret(key: string): boolean {
  const runtimeConfig = require("@pulumi/pulumi/runtime/config") as { isConfigSecret?: (k: string) => boolean };
  return runtimeConfig.isConfigSecret?.(key) ?? true;
}

/** Reads and validates the stack config; throws ConfigValidationError listing every problem. */
export function loadConfig(): LoadedConfig {
  const all = pulumi.runtime.allConfig();
  const { raw, problems } = decodeStackConfig(all);
  const plaintextSecrets: ConfigProblem[] = SECRET_KEYS.filter(
    (k) => raw[k] !== undefined && raw[k] !== "" && !isConfigSecret(`${CONFIG_NAMESPACE}:${k}`),
  ).map((k) => ({
    key: `${CONFIG_NAMESPACE}:${k}`,
    message: "is stored in plaintext; set it with `pulumi config set --secret`",
    example: `pulumi config set --secret ${k} <value>`,
  }));
  const result = validateConfig(raw);
  const allProblems = [...problems, ...plaintextSecrets, ...(result.ok ? [] : result.problems)];
  if (!result.ok || allProblems.length > 0) throw new ConfigValidationError(allProblems);

  const cfg = new pulumi.Config(CONFIG_NAMESPACE);
  // An empty value (the Pulumi.yaml default) means "not set".
  const secret = (k: SecretKey) => (raw[k] === undefined || raw[k] === "" ? undefined : cfg.requireSecret(k));
  return {
    config: result.config,
    secrets: { githubClientSecret: secret("githubClientSecret"), s3SecretAccessKey: secret("s3SecretAccessKey") },
  };
}
