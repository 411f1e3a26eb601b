/**
 * Plumbing for the `pulumi.dynamic.Resource` classes (never serialized into a provider: only the provider
 * instances are).
 */
import type * as pulumi from "@pulumi/pulumi";

/** `opts` plus output keys the engine must store as secrets (outputs derived from a secret, e.g. a user key). */
export function withSecretOutputs(
  opts: pulumi.CustomResourceOptions | undefined,
  keys: string[],
): pulumi.CustomResourceOptions {
  return { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...keys] };
}
