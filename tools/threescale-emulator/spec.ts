/**
 * Spec strictness: every request must hit a path documented in the OpenAPI files of the emulated 3scale release
 * (`.xml` paths also answer `.json`) and use only documented parameter names, plus the exceptions in
 * spec-exceptions.ts. The files are the project's structural copies in `contracts/3scale-api/` (2.15) and
 * `contracts/3scale-api/2.16/` (derived from 3scale porta by `npm run contracts`).
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { isPlainObject, type Params } from "./params";
import { compileTemplate } from "./router";
import { METHOD_EXCEPTIONS, PARAM_EXCEPTIONS } from "./spec-exceptions";
import type { Release } from "./state";

export const SPEC_FILES = ["account_management_api.json", "cms_api.json"];

/** Where a release's OpenAPI files are, relative to the contracts directory. */
export function specDir(release: Release): string {
  return release === "2.15" ? "3scale-api" : "3scale-api/2.16";
}

/** The project's derived contracts directory. */
export function contractsDir(): string {
  return path.resolve(__dirname, "../../contracts");
}

interface Operation {
  /** Documented names; null when the body schema allows additional properties. */
  bodyNames: Set<string> | null;
  queryNames: Set<string>;
}

interface SpecPath {
  template: string;
  regex: RegExp;
  params: number;
  operations: Map<string, Operation>;
}

function resolveSchema(doc: any, schema: any): any {
  if (schema?.$ref)
    return schema.$ref
      .split("/")
      .slice(1)
      .reduce((node: any, key: string) => node?.[key], doc);
  return schema;
}

function loadFile(file: string): SpecPath[] {
  const doc = JSON.parse(readFileSync(file, "utf8"));
  return Object.entries<any>(doc.paths).map(([rawPath, item]) => {
    const template = rawPath.replace(/\.(xml|json)$/, "");
    const operations = new Map<string, Operation>();
    for (const [method, op] of Object.entries<any>(item)) {
      if (!["get", "post", "put", "patch", "delete"].includes(method)) continue;
      const queryNames = new Set<string>(
        (op.parameters ?? []).filter((p: any) => p.in === "query").map((p: any) => p.name as string),
      );
      let bodyNames: Set<string> | null = new Set();
      for (const content of Object.values<any>(op.requestBody?.content ?? {})) {
        const schema = resolveSchema(doc, content.schema);
        if (schema?.additionalProperties) bodyNames = null;
        else for (const name of Object.keys(schema?.properties ?? {})) bodyNames?.add(name);
      }
      operations.set(method.toUpperCase(), { bodyNames, queryNames });
    }
    const { regex, paramNames } = compileTemplate(template);
    return { template, regex, params: paramNames.length, operations };
  });
}

export class SpecIndex {
  private readonly paths: SpecPath[];

  /** `dir` holds the release's files (default: those of 2.15). */
  constructor(dir = path.join(contractsDir(), specDir("2.15"))) {
    this.paths = SPEC_FILES.flatMap((f) => loadFile(path.join(dir, f))).sort((a, b) => a.params - b.params);
  }

  /** Documented path templates (format suffix removed). */
  templates(): string[] {
    return this.paths.map((p) => p.template);
  }

  /**
   * Null when the request conforms, else the emulator's 400 message. `requestPath` is the path as sent (with its
   * format suffix); `wrapper` is the Rails wrapper key whose nested fields count as top-level parameters.
   */
  violation(method: string, requestPath: string, query: Params, body: Params, wrapper?: string): string | null {
    const where = `emulator: ${method} ${requestPath}`;
    const bare = requestPath.replace(/\.(json|xml)$/, "");
    const specPath = this.paths.find((p) => p.regex.test(bare));
    if (!specPath) return `${where}: path is not in the OpenAPI spec`;
    const alias = METHOD_EXCEPTIONS.find((e) => e.method === method && e.path === specPath.template);
    const documentedMethod = alias?.documentedAs ?? method;
    const op = specPath.operations.get(documentedMethod);
    if (!op) return `${where}: method is not in the OpenAPI spec`;
    const allowed = new Set([...op.queryNames, ...(op.bodyNames ?? [])]);
    for (const e of PARAM_EXCEPTIONS) {
      const methodOk = e.method === "*" || e.method === method || e.method === documentedMethod;
      if (methodOk && (e.path === "*" || e.path === specPath.template)) e.params.forEach((p) => allowed.add(p));
    }
    // The wrapper key itself is always acceptable (a scalar there is the handler's 422 to give).
    const bodyNames = Object.keys(body).flatMap((k) =>
      k !== wrapper ? [k] : isPlainObject(body[k]) ? Object.keys(body[k] as Params) : [],
    );
    for (const name of Object.keys(query)) {
      if (!allowed.has(name)) return `${where}: parameter '${name}' is not in the OpenAPI spec`;
    }
    if (op.bodyNames === null) return null;
    for (const name of bodyNames) {
      if (!allowed.has(name)) return `${where}: parameter '${name}' is not in the OpenAPI spec`;
    }
    return null;
  }
}

const cached = new Map<string, SpecIndex>();

/** Specs are parsed once per process and release (300 KB of JSON each). */
export function specIndex(release: Release = "2.15"): SpecIndex {
  const dir = path.join(contractsDir(), specDir(release));
  let index = cached.get(dir);
  if (!index) cached.set(dir, (index = new SpecIndex(dir)));
  return index;
}
