/**
 * Validates rendered custom resources against the CRD schemas in the project's `contracts/` (structural schemas derived
 * from the upstream CRDs by `npm run contracts`, see contracts/README.md).
 * Kubernetes' structural-schema extensions are converted to JSON Schema for ajv; fields a real API server would prune
 * (not declared, no x-kubernetes-preserve-unknown-fields) are errors here.
 *
 * Releases: `contracts/crds/` is the base set, one schema per kind (the base releases in RELEASE_PRODUCTS). Other
 * releases of some products' CRDs sit in `contracts/versions/<dir>-<release>/` (RHOAI, 3scale) or, for Keycloak, beside
 * the base file as `crds/<upstream name>-<release>.json`. `loadCrds({ rhoai: "2.25", threescale: "2.16" })` validates
 * those products' kinds against the named releases and everything else against the base set.
 */
import * as fs from "fs";
import * as path from "path";
import Ajv, { ValidateFunction } from "ajv";

/** The project's derived contracts (not the upstream files; those are only read by scripts/derive-contracts.ts). */
export const CONTRACTS_DIR = path.resolve(__dirname, "../../contracts");

/**
 * Products with more than one release of their CRDs: the release the base `crds/` set holds, and where the others
 * are (`versionsDir`: `versions/<versionsDir>-<release>/`; `group`: `crds/*-<release>.json` files of that API group).
 */
export const RELEASE_PRODUCTS = {
  /** DataScienceCluster, DSCInitialization and the KServe it ships (2.16: KServe 0.14, 2.25: KServe 0.15). */
  rhoai: { base: "2.16", versionsDir: "rhoai" },
  /** APIManager, CustomPolicyDefinition (3scale-operator 0.12 for 2.15, 0.13 for 2.16). */
  threescale: { base: "2.15", versionsDir: "3scale" },
  /** Red Hat build of Keycloak operator: Keycloak, KeycloakRealmImport (k8s.keycloak.org); 26.0.0 or 24.0.5. */
  rhbk: { base: "26.0.0", group: "k8s.keycloak.org" },
} as const satisfies Record<string, { base: string; versionsDir?: string; group?: string }>;

export type ReleaseProduct = keyof typeof RELEASE_PRODUCTS;
/** Release per product, e.g. `{ rhoai: "2.25", threescale: "2.16" }`; a product left out uses its base release. */
export type Releases = Partial<Record<ReleaseProduct, string>>;

type Schema = Record<string, any>;
type CrdFile = [file: string, crd: Schema];

/** `crds/<upstream name>-<x.y.z>.json`: another release of the CRD in `crds/<upstream name>.json`. */
const RELEASE_SUFFIX = /-(\d+\.\d+\.\d+)\.json$/;

/** `<sub>/*.json` CRDs in name order. */
function readCrdDir(dir: string, sub: string): CrdFile[] {
  return fs
    .readdirSync(path.join(dir, sub))
    .filter((n) => n.endsWith(".json"))
    .sort()
    .map((n) => [path.posix.join(sub, n), JSON.parse(fs.readFileSync(path.join(dir, sub, n), "utf8"))] as CrdFile)
    .filter(([, crd]) => crd.kind === "CustomResourceDefinition");
}

interface ReleaseLayout {
  base: CrdFile[];
  /** product → release → its CRD files (base release excluded). */
  others: Map<ReleaseProduct, Map<string, CrdFile[]>>;
}

function releaseLayout(dir: string): ReleaseLayout {
  const products = Object.entries(RELEASE_PRODUCTS) as [
    ReleaseProduct,
    { base: string; versionsDir?: string; group?: string },
  ][];
  const others = new Map<ReleaseProduct, Map<string, CrdFile[]>>(products.map(([p]) => [p, new Map()]));
  const add = (product: ReleaseProduct, release: string, f: CrdFile) => {
    const releases = others.get(product)!;
    releases.set(release, [...(releases.get(release) ?? []), f]);
  };
  const base: CrdFile[] = [];
  for (const f of readCrdDir(dir, "crds")) {
    const suffix = RELEASE_SUFFIX.exec(f[0]);
    if (!suffix) {
      base.push(f);
      continue;
    }
    const owner = products.find(([, p]) => p.group === f[1].spec.group);
    if (!owner)
      throw new Error(`${f[0]}: a release-suffixed CRD of ${f[1].spec.group}, which no RELEASE_PRODUCTS entry owns`);
    add(owner[0], suffix[1], f);
  }
  const versions = path.join(dir, "versions");
  for (const sub of fs.existsSync(versions) ? fs.readdirSync(versions).sort() : []) {
    const owner = products.find(([, p]) => p.versionsDir && sub.startsWith(`${p.versionsDir}-`));
    if (!owner) throw new Error(`versions/${sub}: no RELEASE_PRODUCTS entry has this directory prefix`);
    const release = sub.slice(owner[1].versionsDir!.length + 1);
    for (const f of readCrdDir(dir, path.posix.join("versions", sub))) add(owner[0], release, f);
  }
  return { base, others };
}

/** Releases present for each product, the base one first. */
export function availableReleases(dir: string = CONTRACTS_DIR): Record<ReleaseProduct, string[]> {
  const { others } = releaseLayout(dir);
  return Object.fromEntries(
    [...others].map(([product, releases]) => [product, [RELEASE_PRODUCTS[product].base, ...releases.keys()]]),
  ) as Record<ReleaseProduct, string[]>;
}

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
  /** The contracts file it came from, relative to the contracts directory. */
  file: string;
  compiled: { full?: ValidateFunction; partial?: ValidateFunction };
}

export interface CrdIndex {
  /** Key `<apiVersion>/<Kind>`, e.g. `serving.kserve.io/v1beta1/InferenceService`. */
  has(apiVersion: string, kind: string): boolean;
  /** Error messages (empty when valid). `partial` for patches: required fields are not enforced. */
  validate(obj: { apiVersion: string; kind: string; [k: string]: unknown }, partial?: boolean): string[];
  keys(): string[];
  /** The contracts file (e.g. `versions/rhoai-2.25/...json`) whose schema validates this kind. */
  fileOf(apiVersion: string, kind: string): string | undefined;
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

/**
 * Loads the base CRDs (`<dir>/crds`), then replaces, by CRD name, those of each selected release. Unknown products or
 * releases throw, naming what exists.
 */
export function loadCrds(releases: Releases = {}, dir: string = CONTRACTS_DIR): CrdIndex {
  const layout = releaseLayout(dir);
  const crds = new Map<string, CrdFile>();
  for (const f of layout.base) {
    const name = f[1].metadata.name;
    if (crds.has(name)) throw new Error(`${f[0]} and ${crds.get(name)![0]} both define ${name} in the base set`);
    crds.set(name, f);
  }
  for (const [product, release] of Object.entries(releases) as [string, string | undefined][]) {
    if (!(product in RELEASE_PRODUCTS))
      throw new Error(`loadCrds: unknown product '${product}' (known: ${Object.keys(RELEASE_PRODUCTS).join(", ")})`);
    const { base } = RELEASE_PRODUCTS[product as ReleaseProduct];
    if (release === undefined || release === base) continue;
    const files = layout.others.get(product as ReleaseProduct)!.get(release);
    if (!files)
      throw new Error(
        `loadCrds: no ${product} ${release} schemas in ${dir} ` +
          `(available: ${availableReleases(dir)[product as ReleaseProduct].join(", ")})`,
      );
    for (const f of files) crds.set(f[1].metadata.name, f);
  }
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, code: { regExp: goRegExp as any } });
  const index = new Map<string, Entry>();
  for (const [file, crd] of crds.values()) {
    const { group, names } = crd.spec;
    for (const v of crd.spec.versions as Schema[]) {
      const schema = v.schema?.openAPIV3Schema;
      if (!schema) continue;
      const key = `${group}/${v.name}/${names.kind}`;
      if (index.has(key)) continue;
      // Every object has apiVersion/kind/metadata, whether or not the CRD's root schema declares them.
      const root = { ...schema, properties: { ...ROOT_FIELDS, ...(schema.properties ?? {}) } };
      index.set(key, { schema: root, file, compiled: {} });
    }
  }
  return {
    has: (apiVersion, kind) => index.has(`${apiVersion}/${kind}`),
    keys: () => [...index.keys()],
    fileOf: (apiVersion, kind) => index.get(`${apiVersion}/${kind}`)?.file,
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
