/** Lifecycle of the catalog resource types (products, backends, metrics, rules, usages, settings, policy chain). */
import { BackendProvider, backendProvider } from "../../dynamic-providers/backend";
import { BackendUsageProvider, backendUsageProvider } from "../../dynamic-providers/backend-usage";
import { MappingRuleProvider, productRuleProvider } from "../../dynamic-providers/mapping-rule";
import { MetricProvider, productMethodProvider, productMetricProvider } from "../../dynamic-providers/metric";
import { PolicyChainProvider, policyChainProvider } from "../../dynamic-providers/policy-chain";
import { ProductProvider, productProvider } from "../../dynamic-providers/product";
import { ProxySettingsProvider, proxySettingsProvider } from "../../dynamic-providers/proxy-settings";
import type { Connection } from "../../dynamic-providers/threescale/client";
import type { EmulatorState } from "../../tools/threescale-emulator";
import { lifecycleSuite, LifecycleSpec } from "./lifecycle";
import { buildWorld, World } from "./support";

const byId = <T extends { id: number }>(items: T[], id: number): T => {
  const found = items.find((i) => i.id === id);
  if (!found) throw new Error(`no object ${id} in the emulator state`);
  return found;
};

/** Inputs built on a fresh world (product, backends, method) in the emulator. */
const onWorld =
  (build: (w: World) => Record<string, any>) =>
  async (connection: Connection): Promise<Record<string, any>> =>
    build(await buildWorld(connection));

const metricCount = (s: EmulatorState, i: Record<string, any>) =>
  s.metrics.filter((m) => m.owner.type === "service" && m.owner.id === i.productId && m.system_name === i.systemName)
    .length;

const ruleCount = (s: EmulatorState, i: Record<string, any>) =>
  s.mappingRules.filter(
    (r) =>
      r.owner.type === "service" &&
      r.owner.id === i.productId &&
      r.http_method === i.httpMethod &&
      r.pattern === i.pattern,
  ).length;

const CASES: LifecycleSpec[] = [
  {
    type: "Product",
    shared: productProvider,
    make: (o) => new ProductProvider(o),
    inputs: async () => ({ systemName: "llama_3", name: "Llama 3", description: "chat model" }),
    changed: (i) => ({ ...i, description: "chat model, 8B" }),
    drift: (s, id) => (byId(s.products, id).name = "Renamed in the UI"),
    count: (s, i) => s.products.filter((p) => p.system_name === i.systemName).length,
    expectApplied: (s, id, i) => {
      expect(byId(s.products, id).name).toBe(i.name);
      expect(byId(s.products, id).attributes.description).toBe(i.description);
    },
  },
  {
    type: "Backend",
    shared: backendProvider,
    make: (o) => new BackendProvider(o),
    inputs: async () => ({
      systemName: "llama_be",
      name: "Llama backend",
      privateEndpoint: "https://llama.models.svc",
    }),
    changed: (i) => ({ ...i, privateEndpoint: "https://llama.models.svc:8443/v1" }),
    drift: (s, id) => (byId(s.backends, id).private_endpoint = "http://elsewhere.svc:80"),
    count: (s, i) => s.backends.filter((b) => b.system_name === i.systemName).length,
  },
  {
    type: "ProductMetric",
    shared: productMetricProvider,
    make: (o) => new MetricProvider("metric", o),
    inputs: onWorld((w) => ({
      productId: w.productId,
      systemName: "total_tokens",
      friendlyName: "Total tokens",
      unit: "token",
    })),
    changed: (i) => ({ ...i, description: "prompt + completion" }),
    drift: (s, id) => (byId(s.metrics, id).friendly_name = "Tokens (edited)"),
    count: metricCount,
  },
  {
    type: "ProductMethod",
    shared: productMethodProvider,
    make: (o) => new MetricProvider("method", o),
    inputs: onWorld((w) => ({ productId: w.productId, systemName: "embeddings", friendlyName: "Embeddings" })),
    changed: (i) => ({ ...i, friendlyName: "Embeddings API" }),
    drift: (s, id) => (byId(s.metrics, id).friendly_name = "Edited in the UI"),
    count: metricCount,
  },
  {
    type: "ProductMappingRule",
    shared: productRuleProvider,
    make: (o) => new MappingRuleProvider(o),
    inputs: onWorld((w) => ({
      productId: w.productId,
      httpMethod: "POST",
      pattern: "/v1/embeddings$",
      metricId: w.methodId,
      delta: 1,
    })),
    changed: (i) => ({ ...i, delta: 3, last: true }),
    drift: (s, id) => (byId(s.mappingRules, id).metric_id = s.metrics.find((m) => m.system_name === "hits")!.id),
    count: ruleCount,
  },
  {
    type: "BackendUsage",
    shared: backendUsageProvider,
    make: (o) => new BackendUsageProvider(o),
    inputs: onWorld((w) => ({ productId: w.productId, backendId: w.spareBackendId, path: "/v2/" })),
    changed: (i) => ({ ...i, path: "/v3" }),
    drift: (s, id) => (byId(s.backendUsages, id).path = "/moved"),
    count: (s, i) => s.backendUsages.filter((u) => u.service_id === i.productId && u.backend_id === i.backendId).length,
  },
  {
    type: "ProxySettings",
    shared: proxySettingsProvider,
    make: (o) => new ProxySettingsProvider(o),
    inputs: onWorld((w) => ({
      productId: w.productId,
      credentialsLocation: "authorization",
      errorStatusAuthFailed: 401,
    })),
    changed: (i) => ({ ...i, errorAuthFailed: "Invalid API key", errorStatusLimitsExceeded: 429 }),
    drift: (s, id) => (byId(s.products, id).proxy.settings.credentials_location = "query"),
    expectApplied: (s, id, i) =>
      expect(byId(s.products, id).proxy.settings).toMatchObject({
        credentials_location: i.credentialsLocation,
        error_status_auth_failed: i.errorStatusAuthFailed,
      }),
    afterDelete: (s, i) =>
      expect(byId(s.products, i.productId).proxy.settings.credentials_location).toBe("authorization"),
  },
  {
    type: "PolicyChain",
    shared: policyChainProvider,
    make: (o) => new PolicyChainProvider(o),
    inputs: onWorld((w) => ({
      productId: w.productId,
      policies: [{ name: "cors", version: "builtin", configuration: { allow_origin: "*", allow_methods: ["POST"] } }],
    })),
    changed: (i) => ({
      ...i,
      policies: [
        ...i.policies,
        { name: "upstream_connection", version: "builtin", configuration: { read_timeout: 300 } },
      ],
    }),
    drift: (s, id) => (byId(s.products, id).proxy.policies_config[0].configuration = { allow_origin: "evil.example" }),
    expectApplied: (s, id, i) =>
      expect(byId(s.products, id).proxy.policies_config.map((p) => p.name)).toEqual([
        ...i.policies.map((p: { name: string }) => p.name),
        "apicast",
      ]),
    afterDelete: (s, i) =>
      expect(byId(s.products, i.productId).proxy.policies_config).toEqual([
        { name: "apicast", version: "builtin", configuration: {}, enabled: true },
      ]),
  },
];

describe.each(CASES)("$type", (spec) => lifecycleSuite(spec));
