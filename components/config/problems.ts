/**
 * A config problem names the key path, what is wrong and an example of a right value. This module turns zod issues into
 * problems in plain language (with a "did you mean" for misspelt keys). Pure module: no Pulumi imports.
 */
import { z } from "zod";
import { configKeyDocs, exampleForPath } from "./reference";

/** Config keys live in the project namespace `maas:`. */
export const CONFIG_NAMESPACE = "maas";

export interface ConfigProblem {
  /** Full key path, e.g. `maas:models[1].name`. */
  key: string;
  /** What is wrong, e.g. `duplicate model name "granite"`. */
  message: string;
  /** An example of a right value, rendered as JSON (e.g. `"granite-33-2b-instruct"`). */
  example: string;
}

/** `maas:models[1].name: <message>; e.g. <example>` */
export function formatProblem(p: ConfigProblem): string {
  return `${p.key}: ${p.message}; e.g. ${p.example}`;
}

export class ConfigValidationError extends Error {
  constructor(public readonly problems: ConfigProblem[]) {
    super(
      `Invalid stack configuration (${problems.length} problem${problems.length === 1 ? "" : "s"}):\n` +
        problems.map((p) => `  - ${formatProblem(p)}`).join("\n"),
    );
    this.name = "ConfigValidationError";
  }
}

export type Path = ReadonlyArray<PropertyKey>;

export function formatPath(path: Path): string {
  let out = "";
  for (const part of path)
    out += typeof part === "number" ? `[${part}]` : out === "" ? String(part) : `.${String(part)}`;
  return out;
}

export function problem(path: Path, message: string, example?: unknown, exampleText?: string): ConfigProblem {
  const p = formatPath(path);
  if (exampleText !== undefined) return { key: `${CONFIG_NAMESPACE}:${p}`, message, example: exampleText };
  const ex = example ?? exampleForPath(p) ?? exampleForPath(p.replace(/\[\d+\]$/, ""));
  const exampleValue = Array.isArray(ex) && /\[\d+\]$/.test(p) && example === undefined ? ex[0] : ex;
  return {
    key: `${CONFIG_NAMESPACE}:${p}`,
    message,
    example: exampleValue === undefined ? "(see docs/config-reference.md)" : JSON.stringify(exampleValue),
  };
}

export function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Turns a zod issue into a problem with a plain-language message. */
export function fromZodIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case "unrecognized_keys": {
      const known = knownKeysAt(issue.path);
      return issue.keys.map((k) => {
        const guess = closest(k, known);
        const hint = guess === undefined ? "" : ` (did you mean "${guess}"?)`;
        return problem(
          [...issue.path, k],
          `unknown key${hint}; known keys here: ${known.join(", ")}`,
          guess ?? known[0],
        );
      });
    }
    case "invalid_type":
      if (input === undefined) return [problem(issue.path, "is required")];
      return [problem(issue.path, `must be ${article(issue.expected)}, got ${describeValue(input)}`)];
    case "invalid_value":
      return [
        problem(
          issue.path,
          `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${describeValue(input)}`,
          issue.values[0],
        ),
      ];
    default: {
      const got = input === undefined || typeof input === "object" ? "" : ` (got ${JSON.stringify(input)})`;
      // Schema messages may end with their own example: move it to the example slot.
      const withExample = /^(.*?),? e\.g\. (.+)$/.exec(issue.message);
      if (withExample) return [problem(issue.path, `${withExample[1]}${got}`, undefined, withExample[2])];
      return [problem(issue.path, `${issue.message}${got}`)];
    }
  }
}

/** The known key closest to a misspelt one (edit distance at most 2), if any. */
function closest(key: string, known: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
      let prev = row[0];
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const next = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
        prev = row[j];
        row[j] = next;
      }
    }
    return row[b.length];
  };
  const ranked = known.map((k) => ({ k, d: distance(key.toLowerCase(), k.toLowerCase()) })).sort((x, y) => x.d - y.d);
  return ranked[0] && ranked[0].d <= 2 ? ranked[0].k : undefined;
}

function article(expected: string): string {
  const names: Record<string, string> = {
    number: "a number",
    int: "a whole number",
    string: "a string",
    boolean: "true or false",
    array: "a list",
    object: "an object",
  };
  return names[expected] ?? expected;
}

/** Known child keys of the object at `path` (concrete indices allowed), for unknown-key hints. */
function knownKeysAt(path: Path): string[] {
  const prefix = formatPath(path).replace(/\[\d+\]/g, "[]");
  const depth = prefix === "" ? 0 : prefix.split(".").length;
  return configKeyDocs()
    .map((d) => d.path)
    .filter((p) => (prefix === "" ? !p.includes(".") : p.startsWith(`${prefix}.`)))
    .filter((p) => p.split(".").length === depth + 1)
    .map((p) => p.split(".").pop() as string);
}
