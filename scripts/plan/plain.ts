/**
 * Converts the SDK's wire form of resource properties (secret, resource, asset and output-value envelopes) into plain
 * JSON-friendly values, and remembers which top-level keys held secrets.
 */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7";
const OUTPUT_VALUE_SIG = "d0e6a833031e9bbcd3f4e8bde6ca49a4";

/** Returns the plain value and whether any part of it was secret. */
function convert(value: unknown): { value: any; secret: boolean } {
  if (Array.isArray(value)) {
    const items = value.map(convert);
    return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
  }
  if (value === null || typeof value !== "object") return { value, secret: false };
  const v = value as Record<string, any>;
  switch (v[SIG_KEY]) {
    case SECRET_SIG:
      return { value: convert(v.value).value, secret: true };
    case RESOURCE_SIG:
      // A resource reference: its id for custom resources, else its URN.
      return { value: v.id !== undefined && v.id !== "" ? v.id : v.urn, secret: false };
    case ASSET_SIG:
      return { value: { asset: v.path ?? v.text ?? v.uri }, secret: false };
    case ARCHIVE_SIG:
      return { value: { archive: v.path ?? v.uri ?? Object.keys(v.assets ?? {}) }, secret: false };
    case OUTPUT_VALUE_SIG: {
      const inner = v.value === undefined ? { value: undefined, secret: false } : convert(v.value);
      return { value: inner.value, secret: inner.secret || v.secret === true };
    }
  }
  const out: Record<string, any> = {};
  let secret = false;
  for (const [k, item] of Object.entries(v)) {
    if (item === undefined) continue;
    const c = convert(item);
    out[k] = c.value;
    secret = secret || c.secret;
  }
  return { value: out, secret };
}

/** Plain top-level properties plus the keys whose value was (or contained) a secret. */
export function toPlain(props: Record<string, unknown>): { inputs: Record<string, any>; secretKeys: string[] } {
  const inputs: Record<string, any> = {};
  const secretKeys: string[] = [];
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined) continue;
    const c = convert(v);
    inputs[k] = c.value;
    if (c.secret) secretKeys.push(k);
  }
  return { inputs, secretKeys };
}
