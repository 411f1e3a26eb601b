/**
 * Field mapping between the resources' camelCase inputs and the admin API's snake_case fields, and what follows from
 * it: the body of an update ("only what differs") and the refreshed properties (3scale's values, so refresh shows
 * drift).
 *
 * Serialized by value into each provider (like client.ts): no module-level state.
 */
import { looseEqual, withDefaultPort } from "./equality";

/** camelCase input name → 3scale API field name. */
export type FieldMap = Record<string, string>;

/** Adjusts a value of the API field `field` before comparison (e.g. adds the default URL port). */
export type FieldNormalizer = (field: string, value: unknown) => unknown;

const asIs: FieldNormalizer = (_field, value) => value;

/** `fooBarBaz` → `foo_bar_baz`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** API body of the given inputs; inputs left undefined are not managed and therefore not sent. */
export function toApi(inputs: object, fields: FieldMap): Record<string, unknown> {
  const values = inputs as Record<string, unknown>;
  const body: Record<string, unknown> = {};
  for (const [input, api] of Object.entries(fields)) if (values[input] !== undefined) body[api] = values[input];
  return body;
}

/** The part of a desired API body that differs from 3scale's current representation (what an update must send). */
export function differences(
  desired: Record<string, unknown>,
  actual: Record<string, any> | undefined,
  normalize: FieldNormalizer = asIs,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(desired).filter(([k, v]) => !looseEqual(normalize(k, v), normalize(k, actual?.[k]))),
  );
}

/** The update body for `inputs`: managed fields whose value differs from `actual` (all of them without `actual`). */
export function differingBody(
  inputs: object,
  actual: Record<string, any> | undefined,
  fields: FieldMap,
  normalize: FieldNormalizer = asIs,
): Record<string, unknown> {
  return differences(toApi(inputs, fields), actual, normalize);
}

/**
 * The part of `inputs` that differs from what was last written, for fields 3scale accepts but never returns
 * (write-only: reading them back would always look like drift). `written` is the stored state after the last
 * successful write (undefined: never written, so every given field is sent).
 */
export function unwrittenBody(
  inputs: object,
  written: Record<string, any> | undefined,
  fields: FieldMap,
): Record<string, unknown> {
  const desired = toApi(inputs, fields);
  if (written === undefined) return desired;
  const last = toApi(written, fields);
  return Object.fromEntries(Object.entries(desired).filter(([k, v]) => !looseEqual(v, last[k])));
}

/** `fields` without the given input names. */
export function withoutFields(fields: FieldMap, inputs: readonly string[]): FieldMap {
  return Object.fromEntries(Object.entries(fields).filter(([input]) => !inputs.includes(input)));
}

/** Only the given input names of `fields`. */
export function onlyFields(fields: FieldMap, inputs: readonly string[]): FieldMap {
  return Object.fromEntries(Object.entries(fields).filter(([input]) => inputs.includes(input)));
}

export function hasAny(body: Record<string, unknown>): boolean {
  return Object.keys(body).length > 0;
}

/**
 * `props` with every managed field (defined in props) set to 3scale's value, so refresh shows drift. A value that
 * means the same as the stored one (null vs "", 5 vs "5", a default port) keeps the stored form: no false drift.
 */
export function refreshed(
  props: Record<string, any>,
  actual: Record<string, any>,
  fields: FieldMap,
  normalize: FieldNormalizer = asIs,
): Record<string, any> {
  const out = { ...props };
  for (const [input, api] of Object.entries(fields)) {
    if (props[input] === undefined) continue;
    const same = looseEqual(normalize(api, props[input]), normalize(api, actual[api]));
    out[input] = same ? props[input] : (actual[api] ?? null);
  }
  return out;
}

/** Normaliser for URL fields that 3scale stores with an explicit default port. */
export function urlPorts(apiFields: string[]): FieldNormalizer {
  return (field, value) => (apiFields.includes(field) && typeof value === "string" ? withDefaultPort(value) : value);
}
