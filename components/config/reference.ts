/**
 * Describes every stack config key, derived from the zod schema alone: types, defaults, required keys, and the
 * descriptions and examples written beside each type. One source for the config reference doc, the `config:` block of
 * Pulumi.yaml and the loader's hints. Pure module: no Pulumi imports.
 */
import { z } from "zod";
import { configSchema, SECRET_KEYS, SECRETS } from "./schema";

export type ConfigKeyType = "string" | "integer" | "number" | "boolean" | "array" | "object";

export interface ConfigKeyDoc {
  /** Dotted path below `maas:`; array elements are written `[]`, e.g. `models[].plans[].limits[].metric`. */
  path: string;
  type: ConfigKeyType;
  /** Element type of arrays. */
  items?: ConfigKeyType;
  description: string;
  /** Default applied by the loader (absent when the key is optional without default, or required). */
  default?: unknown;
  required: boolean;
  /** Allowed values of enum-like keys (or of array elements). */
  allowed?: readonly string[];
  example: unknown;
  secret: boolean;
}

type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: string[];
  default?: unknown;
  description?: string;
  example?: unknown;
};

function exampleFor(node: JsonSchema): unknown {
  if (node.example !== undefined) return node.example;
  const d = node.default;
  const emptyObject = typeof d === "object" && d !== null && Object.keys(d).length === 0;
  if (d !== undefined && d !== "" && !emptyObject) return d;
  if (node.enum) return node.enum[0];
  if (node.type === "array" && node.items) return [exampleFor(node.items)];
  if (node.properties) {
    // An object's example lists its required keys, or all keys when none is required.
    const keys = node.required?.length ? node.required : Object.keys(node.properties);
    return Object.fromEntries(keys.map((k) => [k, exampleFor(node.properties![k])]));
  }
  return undefined;
}

/** Every key of the schema (sections, arrays and leaves), depth first, plus the secret keys. */
export function configKeyDocs(): ConfigKeyDoc[] {
  const root = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const out: ConfigKeyDoc[] = [];
  const visit = (node: JsonSchema, path: string, required: boolean) => {
    const type = (node.type ?? "object") as ConfigKeyType;
    const itemsNode = type === "array" ? node.items : undefined;
    out.push({
      path,
      type,
      items: itemsNode?.type as ConfigKeyType | undefined,
      description: node.description ?? itemsNode?.description ?? "",
      default: sectionDefault(path, node),
      required: required && node.default === undefined,
      allowed: node.enum ?? itemsNode?.enum,
      example: exampleFor(node),
      secret: false,
    });
    const children = type === "object" ? node.properties : itemsNode?.type === "object" ? itemsNode.properties : null;
    const childRequired = type === "object" ? node.required : itemsNode?.required;
    const prefix = type === "array" ? `${path}[]` : path;
    for (const [k, child] of Object.entries(children ?? {})) {
      visit(child, `${prefix}.${k}`, (childRequired ?? []).includes(k));
    }
  };
  for (const [k, child] of Object.entries(root.properties ?? {})) visit(child, k, (root.required ?? []).includes(k));
  for (const k of SECRET_KEYS) {
    const entry = SECRETS[k];
    out.push({
      path: k,
      type: "string",
      description: entry.description,
      required: false,
      example: entry.example,
      secret: true,
    });
  }
  return out;
}

/** A section's default is the fully defaulted object the loader produces, not the `{}` the schema starts from. */
function sectionDefault(path: string, node: JsonSchema): unknown {
  if (node.default === undefined || path.includes("[]") || path.includes(".")) return node.default;
  const field = configSchema.shape[path as keyof typeof configSchema.shape];
  return field.parse(undefined);
}

/** Keys without a description in the schema. */
export function undocumentedKeys(): string[] {
  return configKeyDocs()
    .filter((d) => d.description === "")
    .map((d) => d.path);
}

let cachedDocs: ConfigKeyDoc[] | undefined;
const docsByPath = () => (cachedDocs ??= configKeyDocs());

/** The example value for a key path (concrete indices allowed), or undefined. */
export function exampleForPath(path: string): unknown {
  const key = path.replace(/\[\d+\]/g, "[]");
  return docsByPath().find((d) => d.path === key)?.example;
}
