/**
 * What Pulumi stores as a dynamic resource's provider (`__provider`, in its inputs and in its outputs): a reference
 * to the project's provider by type token, not the provider's code. Serialized by value, every 3scale resource
 * carried its provider plus the admin client and the kit, about 55 KB, twice; a ten-model stack's state was 47 MB
 * and the engine rewrote all of it at each checkpoint of an update (its first `up` took 390 s on the real engine,
 * most of it spent writing state). A reference is under 2 KB.
 *
 * The engine starts its dynamic-provider host in the project directory; the first call there loads
 * `dynamic-providers/registry.ts` through the project's ts-node (installed by `npm ci`, like the program's own).
 * A state written before holds providers by value: the host runs that text as before, and the next update stores
 * the reference.
 */
import type * as pulumi from "@pulumi/pulumi";

const METHODS = ["check", "diff", "create", "read", "update", "delete"] as const;
const references = new WeakMap<object, Map<string, pulumi.dynamic.ResourceProvider>>();

/**
 * A provider object with the methods `provider` has, each loading the registered provider for `token` (the
 * resource's type, e.g. `threescale:Product`) when first called. A `clientOptions` set on the reference (the test
 * engine shortens retries so) applies to the calls made through it.
 */
export function providerReference(
  token: string,
  provider: pulumi.dynamic.ResourceProvider,
): pulumi.dynamic.ResourceProvider {
  // One reference object per provider and token: Pulumi caches a provider's serialized text by object identity, and
  // serializing is the expensive part of registering a dynamic resource (tens of ms each).
  const byToken = references.get(provider) ?? new Map<string, pulumi.dynamic.ResourceProvider>();
  references.set(provider, byToken);
  const known = byToken.get(token);
  if (known) return known;
  const reference: Record<string, unknown> = {};
  for (const method of METHODS) {
    if (typeof provider[method] !== "function") continue;
    reference[method] = function (this: { clientOptions?: object }, ...args: unknown[]) {
      return registeredProvider(token, this?.clientOptions)[method](...args);
    };
  }
  const made = reference as unknown as pulumi.dynamic.ResourceProvider;
  byToken.set(token, made);
  return made;
}

/** Runs in the dynamic-provider host: the project's provider for `token`. */
function registeredProvider(token: string, clientOptions: object | undefined): Record<string, any> {
  const path = require("path");
  const root = process.cwd();
  if (!require.extensions[".ts"])
    require(require.resolve("ts-node", { paths: [root] })).register({
      transpileOnly: true,
      project: path.join(root, "tsconfig.json"),
    });
  const registry = path.join(root, "dynamic-providers", "registry.ts");
  let providers: Record<string, Record<string, any>>;
  try {
    providers = require(registry).PROVIDERS;
  } catch (e) {
    throw new Error(
      `cannot load the dynamic providers from ${registry} (run pulumi in the project directory, after npm ci): ${e}`,
    );
  }
  const provider = providers[token];
  if (!provider) throw new Error(`${registry} has no provider for ${token}`);
  if (!clientOptions) return provider;
  return Object.assign(Object.create(provider), { clientOptions: { ...provider.clientOptions, ...clientOptions } });
}
