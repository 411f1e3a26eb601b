/**
 * `appliedRevision`: an output that changes exactly when a create or update wrote to 3scale. Whatever depends on
 * those writes (the gateway promotion) takes it as a trigger, so a repaired drift is promoted in the same
 * `pulumi up`, and a no-op `pulumi up` changes nothing.
 *
 * Serialized by value into each provider (like client.ts): no module-level state, packages required inside functions.
 */
import type { AdminClient } from "./client";
import { canonical } from "./equality";

/** A new `appliedRevision`: a hash of what was written and when. */
export function writeRevision(written: Record<string, unknown>): string {
  const { connection: _credentials, appliedRevision: _previous, ...data } = written;
  const stamp = `${Date.now()}:${require("crypto").randomBytes(4).toString("hex")}`;
  return require("crypto")
    .createHash("sha256")
    .update(`${canonical(data)}@${stamp}`)
    .digest("hex")
    .slice(0, 16);
}

/** `outs` plus `appliedRevision`: a new one when `client` wrote (or none was stored yet), else the stored one. */
export function withAppliedRevision(
  outs: Record<string, any>,
  client: AdminClient,
  olds?: Record<string, any>,
): Record<string, any> {
  const stored: unknown = olds?.appliedRevision;
  const appliedRevision = client.writes > 0 || typeof stored !== "string" ? writeRevision(outs) : stored;
  return { ...outs, appliedRevision };
}
