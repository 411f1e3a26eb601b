/**
 * Values not known yet: during preview, anything computed from another resource (an id of an object not created
 * yet, for instance) reaches `check` and `diff` as one sentinel string, possibly nested in a list or object.
 *
 * Serialized by value into each provider (like client.ts): no module-level state.
 */

/** The sentinel Pulumi passes for values that are not known yet (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when the value is, or contains, a value not known yet. */
export function isUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(isUnknown);
  if (value && typeof value === "object") return Object.values(value).some(isUnknown);
  return false;
}

/** A value that is given and fully known: the only kind a custom check may judge. */
export function known(value: unknown): boolean {
  return value !== undefined && value !== null && !isUnknown(value);
}
