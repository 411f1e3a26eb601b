/**
 * Validation of the raw stack config (everything under `maas:`): the zod schema plus the cross-field rules the schema
 * cannot express. Reports every problem at once, each naming the key path, what is wrong and an example of a right
 * value. Pure module: no Pulumi imports.
 */
import { z } from "zod";
import {
  CEPHFS_STORAGE_CLASS,
  configSchema,
  defaultEndpoints,
  DNS_LABEL,
  MODEL_NAME,
  PlatformConfig,
  SECRET_KEYS,
  SYSTEM_NAME,
  TOKEN_METRICS,
} from "./schema";
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

export type ValidationResult = { ok: true; config: PlatformConfig } | { ok: false; problems: ConfigProblem[] };

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

type Path = ReadonlyArray<PropertyKey>;

export function formatPath(path: Path): string {
  let out = "";
  for (const part of path)
    out += typeof part === "number" ? `[${part}]` : out === "" ? String(part) : `.${String(part)}`;
  return out;
}

function problem(path: Path, message: string, example?: unknown, exampleText?: string): ConfigProblem {
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

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Turns a zod issue into a problem with a plain-language message. */
function fromZodIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
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

// ---- cross-field rules (run on the raw input so they report alongside schema errors) ----

const isObj = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const obj = (v: unknown): Record<string, any> => (isObj(v) ? v : {});

/** Namespaces owned by the platform or the cluster, which a model must not use. */
const RESERVED_NAMESPACES = ["default", "istio-system", "knative-serving", "openshift-operators", "openshift-storage"];
const RESERVED_NAMESPACE_PREFIXES = ["openshift-", "kube-", "redhat-ods-"];
/** `<name>-predictor-<suffix>` host labels must stay within 63 characters. */
export const MAX_MODEL_NAME_LENGTH = 45;

function effectiveEndpoints(model: Record<string, any>): string[] {
  if (Array.isArray(model.endpoints)) return model.endpoints.filter((e): e is string => typeof e === "string");
  return defaultEndpoints(model.embeddings === true);
}

function duplicates<T>(items: T[], keyOf: (t: T) => string | undefined): Array<{ index: number; first: number }> {
  const seen = new Map<string, number>();
  const out: Array<{ index: number; first: number }> = [];
  items.forEach((item, index) => {
    const key = keyOf(item);
    if (key === undefined) return;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, index);
    else out.push({ index, first });
  });
  return out;
}

function planProblems(plans: unknown[], at: Path, models: Array<Record<string, any>>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const list = plans.map(obj);
  for (const { index, first } of duplicates(list, (p) => (typeof p.systemName === "string" ? p.systemName : undefined)))
    out.push(
      problem(
        [...at, index, "systemName"],
        `duplicate plan system name "${list[index].systemName}" (also ${formatPath([...at, first])})`,
        `${list[index].systemName}-2`,
      ),
    );
  const defaults = list.map((p, i) => (p.default === true ? i : -1)).filter((i) => i >= 0);
  for (const i of defaults.slice(1))
    out.push(
      problem(
        [...at, i, "default"],
        `more than one default plan (also ${formatPath([...at, defaults[0]])}); a product has at most one`,
        false,
      ),
    );
  list.forEach((plan, pi) => {
    const limits = arr(plan.limits).map(obj);
    for (const { index, first } of duplicates(limits, (l) =>
      typeof l.metric === "string" && typeof l.period === "string" ? `${l.metric}/${l.period}` : undefined,
    ))
      out.push(
        problem(
          [...at, pi, "limits", index],
          `duplicate limit for metric "${limits[index].metric}" per ${limits[index].period} ` +
            `(also ${formatPath([...at, pi, "limits", first])}); keep one value per metric and period`,
          { metric: limits[index].metric, period: "month", value: 1000 },
        ),
      );
    limits.forEach((limit, li) => {
      if (typeof limit.metric !== "string") return;
      for (const model of models) {
        const allowed = ["hits", ...TOKEN_METRICS, ...effectiveEndpoints(model)];
        if (!allowed.includes(limit.metric)) {
          out.push(
            problem(
              [...at, pi, "limits", li, "metric"],
              `metric "${limit.metric}" is not measured for model "${model.name}": use hits, a token metric ` +
                `(${TOKEN_METRICS.join(", ")}) or one of the model's endpoints (${effectiveEndpoints(model).join(", ")})`,
              "total_tokens",
            ),
          );
          break;
        }
      }
    });
  });
  return out;
}

export function crossFieldProblems(raw: Record<string, unknown>): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const models = arr(raw.models).map(obj);
  const threescale = obj(raw.threescale);
  const storage = obj(raw.storage);
  const sso = obj(raw.sso);
  const platformNamespaces = new Map<string, string>([
    [typeof threescale.namespace === "string" ? threescale.namespace : "3scale", "threescale.namespace"],
    [typeof sso.namespace === "string" ? sso.namespace : "rh-sso", "sso.namespace"],
    [obj(storage.minio).namespace ?? "ai-models", "storage.minio.namespace"],
  ]);

  for (const { index, first } of duplicates(models, (m) => (typeof m.name === "string" ? m.name : undefined)))
    out.push(
      problem(
        ["models", index, "name"],
        `duplicate model name "${models[index].name}" (also models[${first}]); names must be unique`,
        MODEL_NAME.test(String(models[index].name)) ? `${models[index].name}-v2` : undefined,
      ),
    );

  models.forEach((m, i) => {
    if (typeof m.name === "string" && DNS_LABEL.test(m.name)) {
      if (!/^[a-z]/.test(m.name))
        out.push(problem(["models", i, "name"], `must start with a letter (KServe service names), got "${m.name}"`));
      else if (!SYSTEM_NAME.test(m.name))
        out.push(problem(["models", i, "name"], `must have at least two characters (3scale system name)`));
      else if (m.name.length > MAX_MODEL_NAME_LENGTH)
        out.push(
          problem(
            ["models", i, "name"],
            `must be at most ${MAX_MODEL_NAME_LENGTH} characters so derived host names fit 63, got ${m.name.length}`,
          ),
        );
    }
    const ns = typeof m.namespace === "string" ? m.namespace : typeof m.name === "string" ? m.name : undefined;
    const nsPath = m.namespace === undefined ? ["models", i, "name"] : ["models", i, "namespace"];
    if (ns !== undefined && platformNamespaces.has(ns))
      out.push(
        problem(
          nsPath,
          `model namespace "${ns}" is already used by ${platformNamespaces.get(ns)}; give the model its own namespace`,
          `${ns}-model`,
        ),
      );
    else if (
      ns !== undefined &&
      (RESERVED_NAMESPACES.includes(ns) || RESERVED_NAMESPACE_PREFIXES.some((p) => ns.startsWith(p)))
    )
      out.push(problem(nsPath, `namespace "${ns}" belongs to the cluster or an operator`, "granite-models"));

    if (typeof m.minReplicas === "number" && m.minReplicas > (typeof m.maxReplicas === "number" ? m.maxReplicas : 1))
      out.push(
        problem(
          ["models", i, "minReplicas"],
          `minReplicas (${m.minReplicas}) must not exceed maxReplicas (${m.maxReplicas ?? 1})`,
          typeof m.maxReplicas === "number" ? m.maxReplicas : 1,
        ),
      );
    const endpoints = arr(m.endpoints);
    if (endpoints.includes("embeddings") && m.embeddings !== true)
      out.push(
        problem(
          ["models", i, "endpoints", endpoints.indexOf("embeddings")],
          `lists the embeddings endpoint but models[${i}].embeddings is not true; set embeddings: true or drop it`,
          "chat_completions",
        ),
      );
    for (const { index } of duplicates(endpoints, (e) => (typeof e === "string" ? e : undefined)))
      out.push(problem(["models", i, "endpoints", index], `duplicate endpoint "${endpoints[index]}"`, "completions"));
    if (Array.isArray(m.plans)) out.push(...planProblems(m.plans, ["models", i, "plans"], [m]));
  });

  const usingDefaultPlans = models.filter((m) => !Array.isArray(m.plans));
  if (Array.isArray(threescale.defaultPlans))
    out.push(...planProblems(threescale.defaultPlans, ["threescale", "defaultPlans"], usingDefaultPlans));

  arr(threescale.corsAllowOrigins).forEach((origin, i) => {
    if (typeof origin !== "string") return;
    if (origin.includes("*"))
      out.push(
        problem(
          ["threescale", "corsAllowOrigins", i],
          `"${origin}" is not allowed: the gateway sends credentials, so list exact origins`,
          "https://portal.apps.example.com",
        ),
      );
    else if (/^https?:\/\/[^/]+\/.+/.test(origin) || /^https?:\/\/[^/]+\/$/.test(origin))
      out.push(
        problem(
          ["threescale", "corsAllowOrigins", i],
          `"${origin}" is not an origin: scheme and host only, no path or trailing slash`,
          origin.replace(/^(https?:\/\/[^/]+).*$/, "$1"),
        ),
      );
  });

  if (storage.kind === "external") {
    if (!isObj(storage.external))
      out.push(
        problem(["storage", "external"], "is required when storage.kind is external", {
          endpoint: "https://s3.example.com",
          accessKeyId: "AKIAEXAMPLE",
        }),
      );
    if (!hasValue(raw.s3SecretAccessKey))
      out.push(
        problem(
          ["s3SecretAccessKey"],
          "is required when storage.kind is external: run `pulumi config set --secret s3SecretAccessKey <key>`",
          "<secret>",
        ),
      );
  } else if (storage.external !== undefined) {
    out.push(problem(["storage", "kind"], "is not external, but storage.external is set; choose one", "external"));
  }

  const odf = obj(storage.odf);
  if (odf.enabled === true) {
    const nodes = arr(odf.nodes);
    if (nodes.length < 3)
      out.push(
        problem(["storage", "odf", "nodes"], `ODF needs at least 3 storage nodes, got ${nodes.length}`, [
          "worker-a",
          "worker-b",
          "worker-c",
        ]),
      );
    for (const { index } of duplicates(nodes, (n) => (typeof n === "string" ? n : undefined)))
      out.push(problem(["storage", "odf", "nodes", index], `duplicate node "${nodes[index]}"`, "worker-d"));
  }

  if (odf.enabled !== true && !hasValue(storage.rwxStorageClass))
    out.push(
      problem(
        ["storage", "rwxStorageClass"],
        "is required when storage.odf.enabled is not true: 3scale's system storage needs a ReadWriteMany class " +
          "(ODF's CephFS, NFS, EFS...); name one that exists, or enable ODF",
        CEPHFS_STORAGE_CLASS,
      ),
    );

  for (const [key, operator] of Object.entries(obj(raw.operators))) {
    if (!isObj(operator) || operator.installPlanApproval !== "Manual" || hasValue(operator.startingCSV)) continue;
    out.push(
      problem(
        ["operators", key, "startingCSV"],
        "is required when installPlanApproval is Manual: the program approves only the InstallPlan that installs " +
          "this CSV (later upgrades wait for an admin); list them with `oc get packagemanifest <package> -o yaml`",
        STARTING_CSV_EXAMPLES[key] ?? STARTING_CSV_EXAMPLES.openshiftAi,
      ),
    );
  }

  const github = obj(sso.github);
  if (github.enabled === true) {
    if (typeof github.clientId !== "string" || github.clientId === "")
      out.push(problem(["sso", "github", "clientId"], "is required when sso.github.enabled is true"));
    if (!hasValue(raw.githubClientSecret))
      out.push(
        problem(
          ["githubClientSecret"],
          "is required when sso.github.enabled is true: run `pulumi config set --secret githubClientSecret <secret>`",
          "<secret>",
        ),
      );
  }

  const machineSets = arr(obj(raw.capacity).machineSets).map(obj);
  for (const { index } of duplicates(machineSets, (m) => (typeof m.name === "string" ? m.name : undefined)))
    out.push(problem(["capacity", "machineSets", index, "name"], `duplicate MachineSet "${machineSets[index].name}"`));
  return out;
}

const hasValue = (v: unknown) => v !== undefined && v !== null && v !== "";

/** A real CSV name per operator, in that package's naming scheme. */
const STARTING_CSV_EXAMPLES: Record<string, string> = {
  openshiftAi: "rhods-operator.2.16.2",
  serviceMesh: "servicemeshoperator.v2.6.1",
  serverless: "serverless-operator.v1.35.0",
  threescale: "3scale-operator.v0.11.12",
  rhsso: "rhsso-operator.7.6.11-opr-004",
  rhbk: "rhbk-operator.v24.0.6-opr.1",
  odf: "odf-operator.v4.18.2-rhodf",
};

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
  return { ok: true, config: parsed.data };
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
