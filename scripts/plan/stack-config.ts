/**
 * Reads a `Pulumi.<stack>.yaml` the way the Pulumi CLI hands it to a program: a flat map of namespaced keys to strings
 * (structured values as JSON text), with `secure:` values replaced by fake values marked secret.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { CONFIG_NAMESPACE } from "../../components/config/validate";

export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

export function stackFilePath(stack: string): string {
  return path.join(PROJECT_ROOT, `Pulumi.${stack}.yaml`);
}

export interface StackConfig {
  /** `maas:models` → JSON text, `kubernetes:context` → string, ... */
  values: Record<string, string>;
  /** Namespaced keys whose values are secret. */
  secretKeys: string[];
}

export interface StackConfigOptions {
  /** Replaces whole top-level keys (bare keys are in the project namespace); `undefined` removes the key. */
  config?: Record<string, unknown>;
  /** Values for `secure:` keys (bare or namespaced), also adds secrets the file lacks. */
  secrets?: Record<string, string>;
}

const namespaced = (key: string) => (key.includes(":") ? key : `${CONFIG_NAMESPACE}:${key}`);

/** A deterministic stand-in for a `secure:` value, recognisable in leak checks. */
export function fakeSecretValue(stack: string, key: string): string {
  const digest = crypto.createHash("sha256").update(`${stack}/${key}`).digest("hex").slice(0, 12);
  return `fake-secret-${digest}`;
}

const isSecure = (v: unknown): v is { secure: string } =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 1 && "secure" in v;

/** Parses stack YAML text; throws with the file name when it is not a YAML map with a `config:` map. */
export function parseStackYaml(text: string, file: string): Record<string, unknown> {
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (e) {
    throw new Error(`${file}: not valid YAML: ${(e as Error).message}`);
  }
  const config = (doc as { config?: unknown } | null)?.config ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config))
    throw new Error(`${file}: "config" must be a map of keys to values, e.g. "config: { maas:environment: dev }"`);
  return config as Record<string, unknown>;
}

export function stackConfig(stack: string, file: string, opts: StackConfigOptions = {}): StackConfig {
  const entries = new Map<string, unknown>(
    Object.entries(parseStackYaml(fs.readFileSync(file, "utf8"), file)).map(([k, v]) => [namespaced(k), v]),
  );
  for (const [k, v] of Object.entries(opts.config ?? {})) {
    if (v === undefined) entries.delete(namespaced(k));
    else entries.set(namespaced(k), v);
  }
  const secrets = new Map(Object.entries(opts.secrets ?? {}).map(([k, v]) => [namespaced(k), v]));
  for (const k of secrets.keys()) if (!entries.has(k)) entries.set(k, { secure: "supplied-by-test" });

  const values: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of entries) {
    if (isSecure(value)) {
      values[key] = secrets.get(key) ?? fakeSecretValue(stack, key);
      secretKeys.push(key);
    } else {
      values[key] = typeof value === "string" ? value : JSON.stringify(value);
    }
  }
  return { values, secretKeys };
}
