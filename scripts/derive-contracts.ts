/**
 * Derives the project's structural contract schemas (`contracts/`) from the upstream CRDs and 3scale OpenAPI specs in
 * `${CONTRACTS_DIR:-../shared/contracts}`: `npm run contracts`.
 *
 * Upstream files are never copied. What is written keeps what validation and a Kubernetes API server need and drops
 * the prose:
 * - CRDs (`crds/*.yaml|yml`, `versions/<product>-<release>/*.yaml`) → `<same path>.json`: apiVersion, kind,
 *   metadata.name, spec (group, names, scope, conversion, ...) and per version name/served/storage/deprecated/
 *   subresources/selectableFields/additionalPrinterColumns (without descriptions) and the openAPIV3Schema with every
 *   JSON-Schema keyword and `x-kubernetes-*` extension except description, title, example and externalDocs.
 *   Annotations and labels (controller-gen version, release/capability markers) and status stubs are dropped;
 *   `api-approved.kubernetes.io` would be kept (the API server requires it for *.k8s.io groups).
 * - 3scale OpenAPI (`3scale-api/*.json` except the `-master` snapshots) → same path: openapi, info.version, per
 *   path and method the parameters (name, in, required, schema, style, explode), requestBody (content types, schemas,
 *   encoding), response codes with their schemas, and the components those reference.
 * - `contracts/SOURCES.md`: upstream repo/ref/commit/path (parsed from the upstream SOURCES.md) and the sha256 of the
 *   upstream file each derived file came from.
 *
 * Output is deterministic (upstream key order, no timestamps). tests/support/contracts.test.ts re-derives in memory
 * and fails when `contracts/` drifts from the upstream files.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import YAML from "yaml";

export const PROJECT_ROOT = path.resolve(__dirname, "..");
/** Where the derived files live (committed). */
export const DERIVED_DIR = path.join(PROJECT_ROOT, "contracts");
/** Where the upstream files are read from: `CONTRACTS_DIR`, else `../shared/contracts` beside the project. */
export const UPSTREAM_DIR = process.env.CONTRACTS_DIR
  ? path.resolve(process.env.CONTRACTS_DIR)
  : path.resolve(PROJECT_ROOT, "../shared/contracts");

/** Files of `contracts/` written by this script but not derived from one upstream file. */
export const GENERATED_DOCS = ["SOURCES.md"];
/** Hand-written files of `contracts/`. */
export const HAND_WRITTEN = ["README.md"];

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

class DeriveError extends Error {}
const fail = (where: string, msg: string): never => {
  throw new DeriveError(`${where}: ${msg}`);
};

// ---------------------------------------------------------------------------------------------------------------
// Upstream file list

export interface UpstreamFile {
  /** Path relative to the upstream directory, e.g. `crds/apps.3scale.net_apimanagers.yaml`. */
  rel: string;
  kind: "crd" | "openapi";
}

/** Upstream specs no test reads (3scale porta master): not derived. */
const SKIPPED = [/^3scale-api\/.*-master\.json$/];

export function upstreamFiles(dir: string): UpstreamFile[] {
  const walk = (rel: string): string[] =>
    fs
      .readdirSync(path.join(dir, rel), { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(path.posix.join(rel, e.name)) : [path.posix.join(rel, e.name)]));
  const out: UpstreamFile[] = [];
  for (const top of ["crds", "versions", "3scale-api"]) {
    if (!fs.existsSync(path.join(dir, top))) continue;
    for (const rel of walk(top).sort()) {
      if (SKIPPED.some((r) => r.test(rel))) continue;
      if (top === "3scale-api" && rel.endsWith(".json")) out.push({ rel, kind: "openapi" });
      else if (top !== "3scale-api" && /\.ya?ml$/.test(rel)) out.push({ rel, kind: "crd" });
      else fail(rel, "unexpected upstream file (neither a CRD YAML nor a 3scale OpenAPI JSON)");
    }
  }
  return out;
}

/** `crds/x.yaml` → `crds/x.json`; JSON paths unchanged. */
export const derivedPath = (rel: string) => rel.replace(/\.ya?ml$/, ".json");

// ---------------------------------------------------------------------------------------------------------------
// YAML

/**
 * Parses upstream YAML the way the Go YAML parser behind kubectl does. The one leniency needed: continuation lines
 * of a multi-line quoted scalar indented no deeper than its key (knative-operator's generated CRD) are accepted by
 * libyaml/go-yaml but not by the strict `yaml` package. Leading whitespace of such lines is folded away, so raising
 * their indentation leaves the value unchanged.
 */
export function parseYamlDocuments(text: string, where: string): Json[] {
  let source = text;
  for (let attempt = 0; ; attempt++) {
    const docs = YAML.parseAllDocuments(source);
    const errors = docs.flatMap((d) => d.errors);
    if (errors.length === 0) return docs.map((d) => d.toJS({ maxAliasCount: -1 }) as Json).filter((d) => d !== null);
    const quoteErrors = errors.filter((e) => e.code === "MISSING_CHAR" && e.linePos);
    if (attempt > 0 || quoteErrors.length === 0)
      fail(where, `YAML error: ${errors[0].message.split("\n")[0]} (${errors.length} error(s))`);
    source = reindentQuotedContinuations(
      source,
      quoteErrors.map((e) => e.linePos![0].line),
      where,
    );
  }
}

function reindentQuotedContinuations(text: string, startLines: number[], where: string): string {
  const lines = text.split("\n");
  for (const lineNo of startLines) {
    const i = lineNo - 1;
    // Group 1 runs up to the key (a sequence entry's "- " included): continuation lines must be deeper than that.
    const m = /^(\s*(?:- )?)[^\s'"][^:]*:\s+(['"])/.exec(lines[i]);
    if (!m) fail(where, `line ${lineNo}: cannot locate the quoted scalar to repair`);
    const indent = m![1].length;
    const quote = m![2];
    // Scan from the opening quote to the closing one ('' escapes ' in single quotes, \ escapes in double quotes).
    let j = i;
    let col = m![0].length;
    for (;;) {
      const line = lines[j];
      let closed = false;
      for (; col < line.length; col++) {
        const c = line[col];
        if (quote === "'" && c === "'") {
          if (line[col + 1] === "'") col++;
          else {
            closed = true;
            break;
          }
        } else if (quote === '"' && c === "\\") col++;
        else if (quote === '"' && c === '"') {
          closed = true;
          break;
        }
      }
      if (closed) break;
      j++;
      if (j >= lines.length) fail(where, `line ${lineNo}: unterminated quoted scalar`);
      const lead = /^\s*/.exec(lines[j])![0].length;
      if (lead <= indent) lines[j] = " ".repeat(indent + 2 - lead) + lines[j];
      col = 0;
    }
  }
  return lines.join("\n");
}

function checkNumbers(node: Json, where: string): void {
  if (typeof node === "number" && Number.isInteger(node) && !Number.isSafeInteger(node))
    fail(where, `integer ${node} cannot be represented exactly`);
  else if (Array.isArray(node)) node.forEach((n) => checkNumbers(n, where));
  else if (isObj(node)) Object.values(node).forEach((n) => checkNumbers(n, where));
}

// ---------------------------------------------------------------------------------------------------------------
// CRDs

/** Keys of apiextensions.k8s.io/v1 JSONSchemaProps, by how their value is treated. */
const SCHEMA_PROSE = new Set(["description", "title", "example", "externalDocs"]);
const SCHEMA_LEAF = new Set([
  "id",
  "$schema",
  "$ref",
  "type",
  "format",
  "default",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "maxLength",
  "minLength",
  "pattern",
  "maxItems",
  "minItems",
  "uniqueItems",
  "multipleOf",
  "enum",
  "maxProperties",
  "minProperties",
  "required",
  "nullable",
]);
const SCHEMA_MAP = new Set(["properties", "patternProperties", "definitions"]);
const SCHEMA_LIST = new Set(["allOf", "anyOf", "oneOf"]);
const SCHEMA_ONE = new Set(["not"]);
const SCHEMA_BOOL_OR_ONE = new Set(["additionalProperties", "additionalItems"]);

/** Strips prose from one openAPIV3Schema node, recursively; unknown keywords are an error (reviewed, not guessed). */
export function stripCrdSchema(node: Json, where: string): Json {
  if (!isObj(node)) return fail(where, "schema is not an object");
  const out: Obj = {};
  for (const [k, v] of Object.entries(node)) {
    const at = `${where}.${k}`;
    if (SCHEMA_PROSE.has(k)) continue;
    if (SCHEMA_LEAF.has(k) || k.startsWith("x-kubernetes-")) out[k] = v;
    else if (SCHEMA_MAP.has(k)) {
      if (!isObj(v)) fail(at, "expected a map of schemas");
      out[k] = Object.fromEntries(Object.entries(v as Obj).map(([p, s]) => [p, stripCrdSchema(s, `${at}.${p}`)]));
    } else if (SCHEMA_LIST.has(k))
      // `anyOf: null` occurs upstream (openshift/api Route); the API server reads it as absent. Kept as is.
      out[k] = v === null ? null : asArray(v, at).map((s, i) => stripCrdSchema(s, `${at}[${i}]`));
    else if (SCHEMA_ONE.has(k)) out[k] = stripCrdSchema(v, at);
    else if (SCHEMA_BOOL_OR_ONE.has(k)) out[k] = typeof v === "boolean" ? v : stripCrdSchema(v, at);
    else if (k === "items")
      out[k] = Array.isArray(v) ? v.map((s, i) => stripCrdSchema(s, `${at}[${i}]`)) : stripCrdSchema(v, at);
    else if (k === "dependencies") {
      if (!isObj(v)) fail(at, "expected a map");
      out[k] = Object.fromEntries(
        Object.entries(v as Obj).map(([p, s]) => [p, Array.isArray(s) ? s : stripCrdSchema(s, `${at}.${p}`)]),
      );
    } else fail(at, "unknown JSONSchemaProps keyword (add it to scripts/derive-contracts.ts deliberately)");
  }
  return out;
}

const asArray = (v: Json, where: string): Json[] => (Array.isArray(v) ? v : fail(where, "expected a list"));

/** Annotations the API server itself acts on. */
const KEPT_ANNOTATIONS = ["api-approved.kubernetes.io"];
const VERSION_KEYS = new Set(["name", "served", "storage", "deprecated", "subresources", "selectableFields"]);
const VERSION_PROSE = new Set(["deprecationWarning"]);
const SPEC_KEYS = new Set(["group", "names", "scope", "conversion", "preserveUnknownFields"]);

export function deriveCrd(doc: Json, where: string): Obj {
  if (!isObj(doc)) return fail(where, "not a YAML mapping");
  if (doc.apiVersion !== "apiextensions.k8s.io/v1" || doc.kind !== "CustomResourceDefinition")
    fail(where, `not an apiextensions.k8s.io/v1 CustomResourceDefinition (${doc.apiVersion} ${doc.kind})`);
  const meta = doc.metadata as Obj;
  const spec = doc.spec as Obj;
  if (!isObj(meta) || typeof meta.name !== "string" || !isObj(spec)) return fail(where, "no metadata.name or spec");
  const metadata: Obj = { name: meta.name };
  const annotations = Object.fromEntries(
    Object.entries((meta.annotations as Obj) ?? {}).filter(([k]) => KEPT_ANNOTATIONS.includes(k)),
  );
  if (Object.keys(annotations).length) metadata.annotations = annotations;
  const outSpec: Obj = {};
  for (const [k, v] of Object.entries(spec)) {
    if (SPEC_KEYS.has(k)) outSpec[k] = v;
    else if (k === "versions")
      outSpec.versions = asArray(v, `${where}.spec.versions`).map((ver, i) =>
        deriveVersion(ver, `${where}.spec.versions[${i}]`),
      );
    else fail(`${where}.spec.${k}`, "unknown CRD spec field");
  }
  return { apiVersion: doc.apiVersion, kind: doc.kind, metadata, spec: outSpec };
}

function deriveVersion(v: Json, where: string): Obj {
  if (!isObj(v)) return fail(where, "not a mapping");
  const out: Obj = {};
  for (const [k, val] of Object.entries(v)) {
    if (VERSION_PROSE.has(k)) continue;
    if (VERSION_KEYS.has(k)) out[k] = val;
    else if (k === "schema") {
      const s = val as Obj;
      if (!isObj(s) || !isObj(s.openAPIV3Schema)) fail(`${where}.schema`, "no openAPIV3Schema");
      out.schema = { openAPIV3Schema: stripCrdSchema(s.openAPIV3Schema, `${where}.schema.openAPIV3Schema`) };
    } else if (k === "additionalPrinterColumns")
      out[k] = asArray(val, `${where}.${k}`).map((c) =>
        Object.fromEntries(Object.entries(c as Obj).filter(([ck]) => ck !== "description")),
      );
    else fail(`${where}.${k}`, "unknown CRD version field");
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// OpenAPI (3scale porta ActiveDocs, 3.0.x and 3.1.x)

const OA_SCHEMA_PROSE = new Set([
  "description",
  "title",
  "example",
  "examples",
  "externalDocs",
  "x-data-threescale-name",
]);
const OA_SCHEMA_LEAF = new Set([
  "$ref",
  "type",
  "format",
  "default",
  "enum",
  "const",
  "required",
  "nullable",
  "pattern",
  "maximum",
  "exclusiveMaximum",
  "minimum",
  "exclusiveMinimum",
  "maxLength",
  "minLength",
  "maxItems",
  "minItems",
  "uniqueItems",
  "maxProperties",
  "minProperties",
  "multipleOf",
  "readOnly",
  "writeOnly",
  "deprecated",
  "contentMediaType",
  "contentEncoding",
]);
const HTTP_METHODS = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"]);

export function stripOpenApiSchema(node: Json, where: string): Json {
  if (typeof node === "boolean") return node;
  if (!isObj(node)) return fail(where, "schema is not an object");
  const out: Obj = {};
  for (const [k, v] of Object.entries(node)) {
    const at = `${where}.${k}`;
    if (OA_SCHEMA_PROSE.has(k)) continue;
    if (OA_SCHEMA_LEAF.has(k)) out[k] = v;
    else if (k === "properties" || k === "patternProperties") {
      if (!isObj(v)) fail(at, "expected a map of schemas");
      out[k] = Object.fromEntries(Object.entries(v as Obj).map(([p, s]) => [p, stripOpenApiSchema(s, `${at}.${p}`)]));
    } else if (SCHEMA_LIST.has(k)) out[k] = asArray(v, at).map((s, i) => stripOpenApiSchema(s, `${at}[${i}]`));
    else if (k === "items" || k === "not" || k === "additionalProperties")
      out[k] = typeof v === "boolean" ? v : stripOpenApiSchema(v, at);
    else fail(at, "unknown schema keyword (add it to scripts/derive-contracts.ts deliberately)");
  }
  return out;
}

const PARAM_KEYS = ["name", "in", "required", "style", "explode", "allowEmptyValue", "allowReserved", "deprecated"];
const PARAM_PROSE = new Set(["description", "example", "examples", "x-data-threescale-name"]);

function deriveParameter(p: Json, where: string): Obj {
  if (!isObj(p)) return fail(where, "not an object");
  if (typeof p.$ref === "string") return { $ref: p.$ref };
  const out: Obj = {};
  for (const [k, v] of Object.entries(p)) {
    if (PARAM_PROSE.has(k)) continue;
    if (PARAM_KEYS.includes(k)) out[k] = v;
    else if (k === "schema") out.schema = stripOpenApiSchema(v, `${where}.schema`);
    else if (k === "content") out.content = deriveContent(v, `${where}.content`);
    else fail(`${where}.${k}`, "unknown parameter field");
  }
  return out;
}

function deriveContent(content: Json, where: string): Obj {
  if (!isObj(content)) return fail(where, "not an object");
  const out: Obj = {};
  for (const [type, media] of Object.entries(content)) {
    if (!isObj(media)) fail(`${where}.${type}`, "not an object");
    const m: Obj = {};
    for (const [k, v] of Object.entries(media as Obj)) {
      if (k === "example" || k === "examples") continue;
      if (k === "schema") m.schema = stripOpenApiSchema(v, `${where}.${type}.schema`);
      else if (k === "encoding")
        m.encoding = Object.fromEntries(
          Object.entries(v as Obj).map(([prop, enc]) => [
            prop,
            Object.fromEntries(
              Object.entries(enc as Obj).filter(([ek]) =>
                ["contentType", "style", "explode", "allowReserved"].includes(ek),
              ),
            ),
          ]),
        );
      else fail(`${where}.${type}.${k}`, "unknown media type field");
    }
    out[type] = m;
  }
  return out;
}

function deriveOperation(op: Json, where: string): Obj {
  if (!isObj(op)) return fail(where, "not an object");
  const out: Obj = {};
  for (const [k, v] of Object.entries(op)) {
    const at = `${where}.${k}`;
    if (["summary", "description", "tags", "externalDocs", "operationId", "deprecated", "servers"].includes(k)) {
      if (k === "deprecated") out[k] = v;
      continue;
    }
    if (k === "parameters") out.parameters = asArray(v, at).map((p, i) => deriveParameter(p, `${at}[${i}]`));
    else if (k === "requestBody") {
      const rb = v as Obj;
      if (!isObj(rb)) fail(at, "not an object");
      out.requestBody =
        typeof rb.$ref === "string"
          ? { $ref: rb.$ref }
          : {
              ...(rb.required !== undefined ? { required: rb.required } : {}),
              content: deriveContent(rb.content ?? {}, `${at}.content`),
            };
    } else if (k === "responses") {
      if (!isObj(v)) fail(at, "not an object");
      out.responses = Object.fromEntries(
        Object.entries(v as Obj).map(([code, r]) => {
          const resp = r as Obj;
          if (typeof resp?.$ref === "string") return [code, { $ref: resp.$ref }];
          const withSchema = Object.entries((resp?.content as Obj) ?? {}).filter(([, m]) => isObj(m) && m.schema);
          return [
            code,
            withSchema.length ? { content: deriveContent(Object.fromEntries(withSchema), `${at}.${code}`) } : {},
          ];
        }),
      );
    } else fail(at, "unknown operation field");
  }
  return out;
}

/** Every `#/components/...` reference in a derived node. */
function refsIn(node: Json, acc: Set<string>): Set<string> {
  if (Array.isArray(node)) node.forEach((n) => refsIn(n, acc));
  else if (isObj(node))
    for (const [k, v] of Object.entries(node)) {
      if (k === "$ref" && typeof v === "string") acc.add(v);
      else refsIn(v, acc);
    }
  return acc;
}

export function deriveOpenApi(doc: Json, where: string): Obj {
  if (!isObj(doc) || typeof doc.openapi !== "string" || !isObj(doc.paths)) return fail(where, "not an OpenAPI 3 doc");
  const paths: Obj = {};
  for (const [p, item] of Object.entries(doc.paths as Obj)) {
    if (!isObj(item)) fail(`${where}.paths.${p}`, "not an object");
    const out: Obj = {};
    for (const [k, v] of Object.entries(item as Obj)) {
      const at = `${where}.paths.${p}.${k}`;
      if (k === "summary" || k === "description") continue;
      if (HTTP_METHODS.has(k)) out[k] = deriveOperation(v, at);
      else if (k === "parameters") out.parameters = asArray(v, at).map((x, i) => deriveParameter(x, `${at}[${i}]`));
      else fail(at, "unknown path item field");
    }
    paths[p] = out;
  }
  const result: Obj = { openapi: doc.openapi, info: { version: (doc.info as Obj)?.version ?? null }, paths };
  // Components referenced from the kept parts, transitively, in upstream order.
  const components = (doc.components as Obj) ?? {};
  const wanted = new Set<string>();
  const pending = [...refsIn(paths, new Set())];
  while (pending.length) {
    const ref = pending.pop()!;
    if (wanted.has(ref)) continue;
    const m = /^#\/components\/(\w+)\/([^/]+)$/.exec(ref);
    if (!m || !isObj(components[m[1]]) || !(m[2] in (components[m[1]] as Obj))) fail(where, `unresolved $ref ${ref}`);
    wanted.add(ref);
    const [, section, name] = m!;
    const target = (components[section] as Obj)[name];
    const derived = section === "schemas" ? stripOpenApiSchema(target, `${where}.${ref}`) : target;
    pending.push(...refsIn(derived, new Set()));
  }
  if (wanted.size) {
    const outComponents: Obj = {};
    for (const [section, entries] of Object.entries(components)) {
      if (section !== "schemas" && [...wanted].some((r) => r.startsWith(`#/components/${section}/`)))
        fail(where, `components.${section} references are not supported yet`);
      const kept = Object.entries(entries as Obj).filter(([name]) => wanted.has(`#/components/${section}/${name}`));
      if (kept.length)
        outComponents[section] = Object.fromEntries(
          kept.map(([name, s]) => [name, stripOpenApiSchema(s, `${where}.components.${section}.${name}`)]),
        );
    }
    result.components = outComponents;
  }
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// JSON layout: an object or array goes on one line when that line fits in 120 columns, else one member per line.
// Small leaves stay compact (the files stay small) and a changed field shows as a one-line diff.

const WIDTH = 120;

/** The one-line form, or null once it would be longer than `budget`. */
function flat(value: Json, budget: number): string | null {
  if (!isObj(value) && !Array.isArray(value)) {
    const s = JSON.stringify(value);
    return s.length <= budget ? s : null;
  }
  const parts: string[] = [];
  let used = 2;
  const entries: [string | null, Json][] = Array.isArray(value)
    ? value.map((v) => [null, v])
    : Object.entries(value).map(([k, v]) => [k, v]);
  for (const [k, v] of entries) {
    const key = k === null ? "" : `${JSON.stringify(k)}:`;
    const s = flat(v, budget - used - key.length - 1);
    if (s === null) return null;
    parts.push(key + s);
    used += key.length + s.length + 1;
    if (used > budget) return null;
  }
  return Array.isArray(value) ? `[${parts.join(",")}]` : `{${parts.join(",")}}`;
}

function layout(value: Json, indent: string, prefix: number): string {
  if (!isObj(value) && !Array.isArray(value)) return JSON.stringify(value);
  const one = flat(value, WIDTH - indent.length - prefix);
  if (one !== null) return one;
  const inner = indent + " ";
  if (Array.isArray(value)) return `[\n${value.map((v) => inner + layout(v, inner, 0)).join(",\n")}\n${indent}]`;
  const entries = Object.entries(value as Obj).map(([k, v]) => {
    const key = `${JSON.stringify(k)}: `;
    return inner + key + layout(v, inner, key.length);
  });
  return `{\n${entries.join(",\n")}\n${indent}}`;
}

export const formatJson = (value: Json) => layout(value, "", 0) + "\n";

// ---------------------------------------------------------------------------------------------------------------
// SOURCES.md

export interface SourceRow {
  rel: string;
  repo: string;
  ref: string;
  commit: string;
  upstreamPath: string;
  license: string;
}

const cell = (s: string) => /`([^`]+)`/.exec(s)?.[1] ?? s.trim();

/** Reads every table of the upstream SOURCES.md whose header has File/Upstream repo/Ref/Commit/Upstream path. */
export function parseSources(markdown: string): Map<string, SourceRow> {
  const rows = new Map<string, SourceRow>();
  let header: string[] | null = null;
  let previous: SourceRow | null = null;
  const split = (line: string) =>
    line
      .trim()
      .replace(/^\|/, "")
      .replace(/\|$/, "")
      .split("|")
      .map((c) => c.trim());
  for (const line of markdown.split("\n")) {
    if (!line.trim().startsWith("|")) {
      header = null;
      previous = null;
      continue;
    }
    const cells = split(line);
    if (!header) {
      header = cells.map((c) => c.toLowerCase());
      continue;
    }
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    const col = (name: string) => header!.indexOf(name);
    const get = (name: string) => (col(name) >= 0 ? cells[col(name)] : "");
    if (col("file") < 0 || col("upstream repo") < 0 || col("commit") < 0) continue;
    const commitCell = get("commit");
    const commit = /\b[0-9a-f]{40}\b/.exec(commitCell)?.[0] ?? (/^same\b/i.test(commitCell) ? previous?.commit : "");
    const row: SourceRow = {
      rel: cell(get("file")),
      repo: get("upstream repo"),
      ref: cell(get("ref")),
      commit: commit ?? "",
      upstreamPath: cell(get("upstream path")),
      license: get("license").split(/\s/)[0] ?? "",
    };
    if (!row.commit) fail("SOURCES.md", `no commit for ${row.rel}`);
    rows.set(row.rel, row);
    previous = row;
  }
  // Rows without a License column inherit the licence recorded for the same repository elsewhere.
  for (const row of rows.values())
    if (!row.license) row.license = [...rows.values()].find((r) => r.repo === row.repo && r.license)?.license ?? "";
  return rows;
}

function sourceRow({ derived, source: s, sha256 }: { derived: string; source: SourceRow; sha256: string }): string {
  return `| \`${derived}\` | ${s.repo} | \`${s.ref}\` | \`${s.commit}\` | \`${s.upstreamPath}\` | ${s.license} | \`${sha256}\` |`;
}

function sourcesMarkdown(rows: string[]): string {
  const lines = [
    "# Derived contract schemas — sources",
    "",
    "Generated by `npm run contracts` (scripts/derive-contracts.ts); do not edit. Each file is a structural schema",
    "derived from the upstream file named here (prose removed, see contracts/README.md). `Upstream sha256` is the",
    "SHA-256 of that upstream file as read; tests/support/contracts.test.ts compares it when the upstream files are",
    "present.",
    "",
    "| Derived file | Upstream repo | Ref | Commit | Upstream path | License | Upstream sha256 |",
    "|---|---|---|---|---|---|---|",
  ];
  lines.push(...rows.sort());
  return lines.join("\n") + "\n";
}

/** `| \`<derived>\` | ... | \`<sha256>\` |` rows of a derived SOURCES.md: derived path → upstream sha256. */
export function parseDerivedSources(markdown: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of markdown.matchAll(/^\| `([^`]+)` \|.*\| `([0-9a-f]{64})` \|$/gm)) out.set(m[1], m[2]);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Whole set

/**
 * Every derived file (path relative to `contracts/` → content), SOURCES.md included. A file derived earlier whose
 * upstream file is not in `upstreamDir` is kept as it is, with its SOURCES.md row: the upstream directory is a
 * snapshot that may hold a subset (the NFD and GPU Operator CRDs left it), and a schema the tests still validate
 * against must not vanish with it. Retiring such a file is a deliberate `git rm`.
 */
export function deriveAll(upstreamDir: string = UPSTREAM_DIR, keptDir: string = DERIVED_DIR): Map<string, string> {
  const sources = parseSources(fs.readFileSync(path.join(upstreamDir, "SOURCES.md"), "utf8"));
  const out = new Map<string, string>();
  const rows: string[] = [];
  for (const f of upstreamFiles(upstreamDir)) {
    const buf = fs.readFileSync(path.join(upstreamDir, f.rel));
    const source = sources.get(f.rel) ?? fail(f.rel, "not listed in the upstream SOURCES.md");
    let derived: Json;
    if (f.kind === "openapi") {
      const doc = JSON.parse(buf.toString("utf8")) as Json;
      checkNumbers(doc, f.rel);
      derived = deriveOpenApi(doc, f.rel);
    } else {
      const docs = parseYamlDocuments(buf.toString("utf8"), f.rel);
      docs.forEach((d) => checkNumbers(d, f.rel));
      if (docs.length !== 1) fail(f.rel, `expected one CRD document, found ${docs.length}`);
      derived = deriveCrd(docs[0], f.rel);
    }
    const rel = derivedPath(f.rel);
    out.set(rel, formatJson(derived));
    rows.push(sourceRow({ derived: rel, source, sha256: createHash("sha256").update(buf).digest("hex") }));
  }
  const keptSources = path.join(keptDir, "SOURCES.md");
  const earlier = fs.existsSync(keptSources) ? fs.readFileSync(keptSources, "utf8") : "";
  for (const rel of parseDerivedSources(earlier).keys()) {
    if (out.has(rel) || !fs.existsSync(path.join(keptDir, rel))) continue;
    out.set(rel, fs.readFileSync(path.join(keptDir, rel), "utf8"));
    rows.push(earlier.split("\n").find((line) => line.startsWith(`| \`${rel}\` |`))!);
  }
  out.set("SOURCES.md", sourcesMarkdown(rows));
  return out;
}

/** Derived files currently in `contracts/` (relative paths), hand-written ones excluded. */
export function committedFiles(dir: string = DERIVED_DIR): string[] {
  if (!fs.existsSync(dir)) return [];
  const walk = (rel: string): string[] =>
    fs
      .readdirSync(path.join(dir, rel), { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? walk(path.posix.join(rel, e.name)) : [path.posix.join(rel, e.name)]));
  return walk("")
    .map((p) => p.replace(/^\//, ""))
    .filter((p) => !HAND_WRITTEN.includes(p))
    .sort();
}

function main(): void {
  const started = Date.now();
  if (!fs.existsSync(path.join(UPSTREAM_DIR, "SOURCES.md"))) {
    console.error(`upstream contracts not found at ${UPSTREAM_DIR} (set CONTRACTS_DIR)`);
    process.exit(1);
  }
  const files = deriveAll(UPSTREAM_DIR);
  let bytes = 0;
  for (const [rel, content] of files) {
    const target = path.join(DERIVED_DIR, rel);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    if (!fs.existsSync(target) || fs.readFileSync(target, "utf8") !== content) fs.writeFileSync(target, content);
    bytes += Buffer.byteLength(content);
  }
  console.log(
    `derived ${files.size - GENERATED_DOCS.length} files from ${UPSTREAM_DIR} into contracts/ ` +
      `(${(bytes / 1024).toFixed(0)} KiB) in ${Date.now() - started} ms`,
  );
}

if (require.main === module) {
  try {
    main();
  } catch (e) {
    if (e instanceof DeriveError) {
      console.error(`derive-contracts: ${e.message}`);
      process.exit(1);
    }
    throw e;
  }
}
