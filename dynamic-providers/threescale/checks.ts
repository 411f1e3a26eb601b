/**
 * What `check` reports: failures in one format (each names the input, says what is wrong and shows a right value),
 * and the field rules most inputs are judged by. A value not known yet (preview) is never judged.
 *
 * Serialized by value into each provider (like client.ts): no module-level state.
 */
import { isUnknown } from "./unknown";
import { SYSTEM_NAME } from "./vocabulary";

export type Failure = { property: string; reason: string };

/** One failure in the common format; `value` is quoted unless it is a credential. */
export function failure(property: string, problem: string, example: string, value?: unknown): Failure {
  const got = value === undefined ? "" : `; got ${JSON.stringify(value)}`;
  return { property, reason: `${problem}, e.g. ${example}${got}` };
}

export type FieldKind = "string" | "text" | "boolean" | "integer" | "number" | "id" | "systemName" | "url" | "path";

export interface FieldRule {
  kind: FieldKind;
  required?: boolean;
  /** Allowed values. */
  oneOf?: readonly string[];
  /** Bounds for integer/number/id. */
  min?: number;
  max?: number;
  /** URL schemes for kind "url" (default http, https). */
  schemes?: readonly string[];
  /** A right value, quoted in the failure message. */
  example: string;
  /** Never echo the value (credentials). */
  secret?: boolean;
}

function boundsProblem(rule: FieldRule, value: number, what: string): string | undefined {
  const min = rule.min ?? (rule.kind === "id" ? 1 : undefined);
  if (min !== undefined && rule.max !== undefined && (value < min || value > rule.max))
    return `must be ${what} from ${min} to ${rule.max}`;
  if (min !== undefined && value < min) return `must be ${what} ≥ ${min}`;
  if (rule.max !== undefined && value > rule.max) return `must be ${what} ≤ ${rule.max}`;
  return undefined;
}

function kindProblem(rule: FieldRule, value: unknown): string | undefined {
  switch (rule.kind) {
    case "string":
      return typeof value === "string" && value.trim() !== "" ? undefined : "must be a non-empty string";
    case "text":
      return typeof value === "string" ? undefined : "must be a string";
    case "boolean":
      return typeof value === "boolean" ? undefined : "must be true or false";
    case "integer":
    case "id": {
      const what = rule.kind === "id" ? "a 3scale object id (an integer)" : "an integer";
      return Number.isInteger(value) ? boundsProblem(rule, value as number, what) : `must be ${what}`;
    }
    case "number":
      return typeof value === "number" && Number.isFinite(value)
        ? boundsProblem(rule, value, "a number")
        : "must be a number";
    case "systemName":
      return typeof value === "string" && SYSTEM_NAME.test(value)
        ? undefined
        : 'must be a 3scale system_name: a letter, digit or "_" then 1-254 of those or "-" "/"';
    case "url": {
      const schemes = rule.schemes ?? ["http", "https"];
      const ok =
        typeof value === "string" && new RegExp(`^(${schemes.join("|")})://[^/\\s:]+(:\\d+)?([/?#]\\S*)?$`).test(value);
      return ok ? undefined : `must be a ${schemes.join("/")} URL`;
    }
    case "path":
      return typeof value === "string" && value.startsWith("/") && value.length <= 255 && !/\s/.test(value)
        ? undefined
        : 'must be a path starting with "/" (no spaces, at most 255 chars)';
  }
}

/**
 * `check` failures of `inputs` against `rules`. A value not known yet (preview) counts as given: it satisfies
 * `required` and is judged once known.
 */
export function fieldFailures(inputs: object, rules: Record<string, FieldRule>, prefix = ""): Failure[] {
  const values = inputs as Record<string, unknown>;
  const failures: Failure[] = [];
  for (const [key, rule] of Object.entries(rules)) {
    const value = values[key];
    if (isUnknown(value)) continue;
    let problem: string | undefined;
    if (value === undefined || value === null) problem = rule.required ? "is required" : undefined;
    // 3scale's inclusion message ("is not included in the list"), then the list itself
    else if (rule.oneOf && !rule.oneOf.includes(value as string))
      problem = `is not included in the list: must be one of ${rule.oneOf.join(", ")}`;
    else problem = kindProblem(rule, value);
    if (problem) failures.push(failure(prefix + key, problem, rule.example, rule.secret ? undefined : value));
  }
  return failures;
}
