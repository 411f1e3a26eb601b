/**
 * Plumbing for the `pulumi.dynamic.Resource` classes (never serialized into a provider: only the provider
 * instances are).
 */
import * as pulumi from "@pulumi/pulumi";
import { providerReference } from "../provider-reference";

/**
 * Base of every 3scale resource: registers `inputs` with `provider` as type `threescale:<type>`, with the `outputs`
 * left for the provider to fill in. Existing stacks know each resource by its type: a new one would replace them.
 * The state holds a reference to the provider (dynamic-providers/registry.ts), not its code.
 */
export abstract class ThreescaleResource extends pulumi.dynamic.Resource {
  protected constructor(
    provider: pulumi.dynamic.ResourceProvider,
    type: string,
    name: string,
    inputs: object,
    outputs: string[],
    opts?: pulumi.CustomResourceOptions,
  ) {
    const unset = Object.fromEntries(outputs.map((output) => [output, undefined]));
    super(providerReference(`threescale:${type}`, provider), name, { ...inputs, ...unset }, opts, "threescale", type);
  }
}

/** `opts` plus output keys the engine must store as secrets (outputs derived from a secret, e.g. a user key). */
export function withSecretOutputs(
  opts: pulumi.CustomResourceOptions | undefined,
  keys: string[],
): pulumi.CustomResourceOptions {
  return { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...keys] };
}
