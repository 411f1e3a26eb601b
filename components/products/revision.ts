/** When a product's gateway configuration must be deployed and promoted. */
import { createHash } from "crypto";
import { canonical } from "../../dynamic-providers/threescale/equality";
import type { PolicySpec } from "./policy-chain";
import type { ProductSpec } from "./product-spec";

/**
 * Revision of a product's gateway configuration: a hash of exactly what APIcast's proxy config contains (backend URL,
 * usage, methods, rules, auth settings, policy chain). Plans, limits and docs are not part of it, so changing them
 * never deploys or promotes a new gateway configuration.
 */
export function gatewayRevision(
  spec: ProductSpec,
  resolved: { privateEndpoint: string; policies: PolicySpec[] },
): string {
  return revisionOf({
    privateEndpoint: resolved.privateEndpoint,
    usagePath: spec.usagePath,
    metrics: spec.metrics.map((m) => m.systemName),
    methods: spec.methods.map((m) => m.systemName),
    mappingRules: spec.mappingRules,
    proxy: spec.proxy,
    policies: resolved.policies,
  });
}

/** A short hash of what a gateway configuration contains, independent of key order. */
export function revisionOf(gateway: Record<string, unknown>): string {
  return createHash("sha256").update(canonical(gateway)).digest("hex").slice(0, 32);
}
