/**
 * A model product's APIcast policy chain: CORS for the developer portal, our LLM metering policy, the upstream read
 * timeout for long generations, then APIcast itself.
 */
import { TOKEN_METRICS } from "../config/schema";
import type { PolicyManifest } from "../threescale/policy-bundle";

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The CORS policy's `allow_origin`: one origin as is; several as an anchored regex alternation (APIcast matches the
 * request's Origin against it). Never `*`: the gateway allows credentials.
 */
export function corsAllowOrigin(origins: readonly string[]): string {
  const unique = [...new Set(origins.map(originOf))];
  if (unique.length === 0)
    throw new Error("threescale.corsAllowOrigins: no origin to allow; e.g. https://maas.apps.example.com");
  if (unique.length === 1) return unique[0];
  return `^(${unique.map(escapeRegex).join("|")})$`;
}

function originOf(url: string): string {
  if (url.trim() === "*") {
    throw new Error(
      'threescale.corsAllowOrigins: "*" is not allowed with credentials; e.g. https://maas.apps.example.com',
    );
  }
  try {
    return new URL(url).origin;
  } catch {
    throw new Error(`threescale.corsAllowOrigins: "${url}" is not a URL; e.g. https://maas.apps.example.com`);
  }
}

export interface PolicySpec {
  name: string;
  version: string;
  configuration: Record<string, unknown>;
  enabled: true;
}

/**
 * Configuration of the LLM metering policy that reports each token metric to the product metric of the same name.
 * The property names come from the policy's own manifest (`<metric>_metric`) so a renamed property fails here.
 */
export function llmMetricsConfiguration(manifest: PolicyManifest): Record<string, string> {
  const properties = manifest.configuration.properties ?? {};
  return Object.fromEntries(
    TOKEN_METRICS.map((metric) => {
      const property = `${metric}_metric`;
      if (!(property in properties)) {
        throw new Error(
          `The LLM metering policy manifest has no configuration property "${property}" ` +
            `(found: ${Object.keys(properties).join(", ") || "none"}); it must name the metric for ${metric}`,
        );
      }
      return [property, metric];
    }),
  );
}

export interface PolicyChainArgs {
  allowOrigin: string;
  /** HTTP methods the product serves (CORS preflight answers these plus OPTIONS). */
  httpMethods: readonly string[];
  metering: { name: string; version: string; configuration: Record<string, unknown> };
  /** APIcast upstream read timeout; 0 keeps APIcast's default and adds no policy. */
  upstreamTimeoutSeconds: number;
}

/** CORS → LLM metering → (upstream timeouts) → APIcast, every entry enabled. */
export function policyChain(args: PolicyChainArgs): PolicySpec[] {
  const cors: PolicySpec = {
    name: "cors",
    version: "builtin",
    enabled: true,
    configuration: {
      allow_origin: args.allowOrigin,
      allow_credentials: true,
      allow_headers: ["Authorization", "Content-Type", "Accept"],
      allow_methods: [...new Set([...args.httpMethods, "OPTIONS"])].sort(),
      max_age: 600,
    },
  };
  const metering: PolicySpec = { ...args.metering, enabled: true };
  const upstream: PolicySpec[] =
    args.upstreamTimeoutSeconds > 0
      ? [
          {
            name: "upstream_connection",
            version: "builtin",
            enabled: true,
            configuration: { read_timeout: args.upstreamTimeoutSeconds },
          },
        ]
      : [];
  return [cors, metering, ...upstream, { name: "apicast", version: "builtin", enabled: true, configuration: {} }];
}
