/**
 * When two values are the same: as data (key order ignored), and as 3scale means it (null ≈ "", 5 ≈ "5", a URL with
 * or without its default port).
 *
 * Serialized by value into each provider (like client.ts): no module-level state.
 */

/** Stable JSON: object keys sorted and undefined fields dropped, so comparisons ignore key order, not array order. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((k) => (value as any)[k] !== undefined)
        .map((k) => [k, sortKeys((value as any)[k])]),
    );
  }
  return value;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

const isBlank = (v: unknown) => v === null || v === undefined || v === "";

/** Equality as 3scale means it: null ≈ "" (cleared text), 5 ≈ 5.0 ≈ "5", true ≈ "true"; objects compared as data. */
export function looseEqual(desired: unknown, actual: unknown): boolean {
  if (desired === actual || (isBlank(desired) && isBlank(actual))) return true;
  if (isBlank(desired) || isBlank(actual)) return false;
  if (typeof desired === "number" || typeof actual === "number") return Number(desired) === Number(actual);
  if (typeof desired === "boolean" || typeof actual === "boolean") return String(desired) === String(actual);
  return sameValue(desired, actual);
}

/** `https://host` → `https://host:443`, as 3scale stores endpoints; other URLs unchanged. */
export function withDefaultPort(url: string): string {
  const match = /^(https?):\/\/([^/:?#]+)(:\d+)?(.*)$/.exec(url);
  if (!match) return url;
  const [, scheme, host, port, rest] = match;
  return `${scheme}://${host}${port ?? (scheme === "https" ? ":443" : ":80")}${rest}`;
}
