/**
 * Validates rendered custom resources against the upstream CRD schemas in `<contracts>/crds`.
 * Kubernetes' structural-schema extensions are converted to JSON Schema for ajv; fields a real API server would prune
 * (not declared, no x-kubernetes-preserve-unknown-fields) are errors here.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv, { ValidateFunction } from "ajv";
import YAML from "yaml";

export const CONTRACTS_DIR = process.env.CONTRACTS_DIR ?? path.resolve(__dirname, "../../../shared/contracts");

type Schema = Record<string, any>;

/** Converts one openAPIV3Schema node (recursively) to a strict JSON Schema. `partial` drops `required` (patches). */
export function toJsonSchema(node: Schema, partial = false): Schema {
  if (!node || typeof node !== "object") return node;
  const out: Schema = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith("x-kubernetes-") || v === null) continue;
    if (k === "required" && partial) continue;
    if (k === "properties")
      out.properties = Object.fromEntries(
        Object.entries(v as Schema).map(([p, s]) => [p, toJsonSchema(s as Schema, partial)]),
      );
    else if (k === "items" || k === "not")
      out[k] = Array.isArray(v) ? v.map((s) => toJsonSchema(s, partial)) : toJsonSchema(v as Schema, partial);
    else if (k === "additionalProperties" && typeof v === "object") out[k] = toJsonSchema(v as Schema, partial);
    else if (k === "allOf" || k === "anyOf" || k === "oneOf")
      out[k] = (v as Schema[]).map((s) => toJsonSchema(s, partial));
    else out[k] = v;
  }
  if (node["x-kubernetes-int-or-string"]) {
    delete out.type;
    out.anyOf = [{ type: "integer" }, { type: "string" }, ...(out.anyOf ?? [])];
  }
  const preserve = node["x-kubernetes-preserve-unknown-fields"] === true;
  if (node["x-kubernetes-embedded-resource"]) {
    out.properties = {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      ...(out.properties ?? {}),
    };
  }
  if (out.properties && !preserve && out.additionalProperties === undefined) out.additionalProperties = false;
  return out;
}

const ROOT_FIELDS = { apiVersion: { type: "string" }, kind: { type: "string" }, metadata: { type: "object" } };

/** Compiled on first use: compiling every version of every CRD up front takes seconds. */
interface Entry {
  schema: Schema;
  compiled: { full?: ValidateFunction; partial?: ValidateFunction };
}

export interface CrdIndex {
  /** Key `<apiVersion>/<Kind>`, e.g. `serving.kserve.io/v1beta1/InferenceService`. */
  has(apiVersion: string, kind: string): boolean;
  /** Error messages (empty when valid). `partial` for patches: required fields are not enforced. */
  validate(obj: { apiVersion: string; kind: string; [k: string]: unknown }, partial?: boolean): string[];
  keys(): string[];
}

/**
 * CRD patterns are Go (RE2) regular expressions. Inline flags like `(?i)` become JS flags; a pattern JS cannot parse
 * at all is not enforced (it would otherwise stop the whole schema from compiling).
 */
function goRegExp(pattern: string, flags: string): { test(s: string): boolean } {
  let p = pattern;
  let f = flags;
  const inline = /^\(\?([a-z]+)\)/.exec(p);
  if (inline) {
    p = p.slice(inline[0].length);
    if (inline[1].includes("i")) f += "i";
  }
  for (const candidate of [f, f.replace("u", "")]) {
    try {
      return new RegExp(p, candidate);
    } catch {
      // try the next flag set
    }
  }
  return { test: () => true };
}

function documents(file: string): Schema[] {
  return YAML.parseAllDocuments(fs.readFileSync(file, "utf8"))
    .map((d) => d.toJS())
    .filter((d) => d && d.kind === "CustomResourceDefinition");
}

/** Loads every CRD file (YAML, multi-document) in `<dir>/crds`. */
export function loadCrds(dir: string = CONTRACTS_DIR): CrdIndex {
  const crdDir = path.join(dir, "crds");
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { regExp: goRegExp as any } });
  const index = new Map<string, Entry>();
  for (const f of fs.readdirSync(crdDir).filter((n) => /\.ya?ml$/.test(n))) {
    for (const crd of documents(path.join(crdDir, f))) {
      const { group, names } = crd.spec;
      const versions: Schema[] = crd.spec.versions ?? [{ name: crd.spec.version, schema: crd.spec.validation }];
      for (const v of versions) {
        const schema = v.schema?.openAPIV3Schema ?? crd.spec.validation?.openAPIV3Schema;
        if (!schema) continue;
        const key = `${group}/${v.name}/${names.kind}`;
        if (index.has(key)) continue;
        // Every object has apiVersion/kind/metadata, whether or not the CRD's root schema declares them.
        const root = { ...schema, properties: { ...ROOT_FIELDS, ...(schema.properties ?? {}) } };
        index.set(key, { schema: root, compiled: {} });
      }
    }
  }
  return {
    has: (apiVersion, kind) => index.has(`${apiVersion}/${kind}`),
    keys: () => [...index.keys()],
    validate(obj: { apiVersion: string; kind: string }, partial = false): string[] {
      const entry = index.get(`${obj.apiVersion}/${obj.kind}`);
      if (!entry) return [`no CRD schema for ${obj.apiVersion} ${obj.kind}`];
      const mode = partial ? "partial" : "full";
      const fn = (entry.compiled[mode] ??= ajv.compile(toJsonSchema(entry.schema, partial)));
      const kind = obj.kind;
      if (fn(obj)) return [];
      return (fn.errors ?? []).map((e) => {
        const extra = e.keyword === "additionalProperties" ? ` (${(e.params as any).additionalProperty})` : "";
        const allowed = e.keyword === "enum" ? ` (${(e.params as any).allowedValues.join("|")})` : "";
        return `${kind}${e.instancePath || "/"}: ${e.message}${extra}${allowed}`;
      });
    },
  };
}

/** Kubernetes built-ins registered through the typed SDK classes: no CRD schema needed. */
const BUILTIN_GROUPS = [
  "core/",
  "apps/",
  "batch/",
  "rbac.authorization.k8s.io/",
  "apiextensions.k8s.io/",
  "networking.k8s.io/",
  "storage.k8s.io/",
  "policy/",
];

/** For a recorded `kubernetes:<apiVersion>:<Kind>` type: the object to validate, or undefined for built-ins. */
export function customResourceOf(type: string, inputs: Record<string, any>) {
  const m = /^kubernetes:(.+):([A-Za-z0-9]+)$/.exec(type);
  if (!m || BUILTIN_GROUPS.some((g) => m[1].startsWith(g))) return undefined;
  const patch = m[2].endsWith("Patch");
  const kind = patch ? m[2].slice(0, -"Patch".length) : m[2];
  const { apiVersion: _a, kind: _k, status: _s, ...rest } = inputs;
  return { patch, object: { apiVersion: m[1], kind, ...rest } };
}
