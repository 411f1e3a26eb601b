/**
 * Validation of the raw stack config (everything under `maas:`): the zod schema plus the cross-field rules the schema
 * cannot express (./rules). Reports every problem at once. Pure module: no Pulumi imports.
 */
import { configSchema, PlatformConfig, resolveConfig, SECRET_KEYS } from "./schema";
import { CONFIG_NAMESPACE, ConfigProblem, describeValue, fromZodIssue, problem } from "./problems";
import { configKeyDocs } from "./reference";
import { crossFieldProblems } from "./rules";

export { CONFIG_NAMESPACE, ConfigValidationError, formatProblem } from "./problems";
export type { ConfigProblem } from "./problems";

export type ValidationResult = { ok: true; config: PlatformConfig } | { ok: false; problems: ConfigProblem[] };

/**
 * Validates everything under `maas:` (already JSON-decoded; secret keys may be present with any value) and returns the
 * config with defaults applied, or every problem found.
 */
export function validateConfig(raw: Record<string, unknown>): ValidationResult {
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) if (!(SECRET_KEYS as readonly string[]).includes(k)) plain[k] = v;
  const parsed = configSchema.safeParse(plain, { reportInput: true });
  const byKey = new Map<string, ConfigProblem>();
  if (!parsed.success)
    for (const p of parsed.error.issues.flatMap(fromZodIssue)) if (!byKey.has(p.key)) byKey.set(p.key, p);
  // Cross-field messages are more specific than the schema's for the same key.
  for (const p of crossFieldProblems(raw)) byKey.set(p.key, p);
  if (byKey.size > 0 || !parsed.success) return { ok: false, problems: [...byKey.values()] };
  return { ok: true, config: resolveConfig(parsed.data) };
}

/** Top-level keys whose stack value is a plain string (all others arrive as JSON text). */
export function stringKeys(): string[] {
  return configKeyDocs()
    .filter((d) => !d.path.includes(".") && !d.path.includes("[") && d.type === "string")
    .map((d) => d.path);
}

/**
 * Decodes the `maas:` entries of Pulumi's flat config map (`maas:key` → string) into raw values; values that should be
 * JSON but are not become problems.
 */
export function decodeStackConfig(all: Record<string, string>): {
  raw: Record<string, unknown>;
  problems: ConfigProblem[];
} {
  const raw: Record<string, unknown> = {};
  const problems: ConfigProblem[] = [];
  const plainStrings = new Set([...stringKeys(), ...SECRET_KEYS]);
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(`${CONFIG_NAMESPACE}:`)) continue;
    const key = fullKey.slice(CONFIG_NAMESPACE.length + 1);
    if (plainStrings.has(key)) {
      raw[key] = text;
      continue;
    }
    try {
      raw[key] = JSON.parse(text);
    } catch {
      // Unknown keys are reported by the schema; keep the text so they are.
      raw[key] = text;
      if (configSchema.shape[key as keyof typeof configSchema.shape] !== undefined)
        problems.push(problem([key], `must be structured YAML/JSON (${describeValue(text)} is not)`));
    }
  }
  return { raw, problems };
}
