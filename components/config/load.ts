/**
 * The one place that reads Pulumi config. Reads every `maas:` key, rejects unknown ones, applies the schema's defaults
 * (Pulumi.yaml defaults are applied by the CLI only, never under mocks) and validates everything before any resource
 * is registered. Uses the SDK's public API only.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { PlatformConfig, SECRET_KEYS, SecretConfig } from "./schema";
import { CONFIG_NAMESPACE, ConfigProblem, ConfigValidationError, decodeStackConfig, validateConfig } from "./validate";

export interface LoadedConfig {
  config: PlatformConfig;
  secrets: SecretConfig<pulumi.Output<string>>;
}

/**
 * Secret keys stored in plaintext in a stack file (`maas:<key>: value` instead of `secure: ...`). The SDK does not
 * say which keys the CLI decrypted, so the program reads the stack file it runs with, when there is one.
 */
export function plaintextSecretKeys(stackFileText: string): string[] {
  const config = (YAML.parse(stackFileText)?.config ?? {}) as Record<string, unknown>;
  return SECRET_KEYS.filter((k) => {
    const value = config[`${CONFIG_NAMESPACE}:${k}`];
    return typeof value === "string" && value !== "";
  });
}

function stackFileProblems(): ConfigProblem[] {
  const file = path.join(process.cwd(), `Pulumi.${pulumi.getStack()}.yaml`);
  if (!fs.existsSync(file)) return [];
  return plaintextSecretKeys(fs.readFileSync(file, "utf8")).map((k) => ({
    key: `${CONFIG_NAMESPACE}:${k}`,
    message: `is stored in plaintext in ${path.basename(file)}; set it with \`pulumi config set --secret\``,
    example: `pulumi config set --secret ${k} <value>`,
  }));
}

/** Reads and validates the stack config; throws ConfigValidationError listing every problem. */
export function loadConfig(): LoadedConfig {
  const { raw, problems } = decodeStackConfig(pulumi.runtime.allConfig());
  const result = validateConfig(raw);
  const allProblems = [...problems, ...stackFileProblems(), ...(result.ok ? [] : result.problems)];
  if (!result.ok || allProblems.length > 0) throw new ConfigValidationError(allProblems);

  const cfg = new pulumi.Config(CONFIG_NAMESPACE);
  // An empty value (the Pulumi.yaml default) means "not set".
  const secrets: SecretConfig<pulumi.Output<string>> = {};
  for (const k of SECRET_KEYS) if (raw[k] !== undefined && raw[k] !== "") secrets[k] = cfg.requireSecret(k);
  return { config: result.config, secrets };
}
