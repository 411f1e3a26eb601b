/**
 * Validation of APIcast policy configurations against their JSON schema, so a wrong field fails in `pulumi preview`
 * instead of in the gateway. Covers the JSON-schema subset policy manifests use (type, properties,
 * additionalProperties, required, enum, items, pattern, minimum/maximum); a small pure function rather than a
 * validator package because it runs inside the serialized provider.
 */

export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean;
  required?: string[];
  enum?: unknown[];
  items?: JsonSchema;
  pattern?: string;
  minimum?: number;
  maximum?: number;
};

/** Configuration schemas of the builtin policies this project configures (APIcast's own manifests). */
export const BUILTIN_POLICY_SCHEMAS: Record<string, JsonSchema> = {
  cors: {
    type: "object",
    additionalProperties: false,
    properties: {
      allow_headers: { type: "array", items: { type: "string" } },
      allow_methods: {
        type: "array",
        items: {
          type: "string",
          enum: ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT"],
        },
      },
      allow_origin: { type: "string" },
      allow_credentials: { type: "boolean" },
      max_age: { type: "integer" },
    },
  },
  upstream_connection: {
    type: "object",
    additionalProperties: false,
    properties: {
      connect_timeout: { type: "integer" },
      send_timeout: { type: "integer" },
      read_timeout: { type: "integer" },
    },
  },
  apicast: { type: "object" },
};

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function typeMatches(expected: string, actual: string): boolean {
  return expected === actual || (expected === "number" && actual === "integer");
}

/** Every problem of `value` against `schema`, each as "<path>: <what is wrong>". */
export function schemaProblems(value: unknown, schema: JsonSchema, at = "configuration"): string[] {
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const allowed = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!allowed.some((t) => typeMatches(t, actual))) {
      return [`${at}: must be of type ${allowed.join(" or ")}, got ${actual} ${JSON.stringify(value)}`];
    }
  }
  const problems: string[] = [];
  if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    problems.push(
      `${at}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}, got ${JSON.stringify(value)}`,
    );
  }
  if (typeof value === "string" && schema.pattern && !new RegExp(schema.pattern).test(value)) {
    problems.push(`${at}: must match ${schema.pattern}, got ${JSON.stringify(value)}`);
  }
  if (typeof value === "number") {
    if (schema.minimum !== undefined && value < schema.minimum)
      problems.push(`${at}: must be >= ${schema.minimum}, got ${value}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      problems.push(`${at}: must be <= ${schema.maximum}, got ${value}`);
  }
  if (Array.isArray(value) && schema.items) {
    value.forEach((item, i) => problems.push(...schemaProblems(item, schema.items!, `${at}[${i}]`)));
  }
  if (actual === "object") {
    const object = value as Record<string, unknown>;
    const properties = schema.properties ?? {};
    for (const key of schema.required ?? []) {
      if (object[key] === undefined) problems.push(`${at}.${key}: is required`);
    }
    for (const [key, field] of Object.entries(object)) {
      if (properties[key]) problems.push(...schemaProblems(field, properties[key], `${at}.${key}`));
      else if (schema.additionalProperties === false) {
        problems.push(
          `${at}.${key}: is not a field of this policy (known: ${Object.keys(properties).join(", ") || "none"})`,
        );
      }
    }
  }
  return problems;
}
