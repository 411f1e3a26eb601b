import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { configSchema, ConfigInput, OPENAI_ENDPOINTS } from "../../../components/config/schema";
import {
  corsAllowOrigin,
  gatewayRevision,
  llmMetricsConfiguration,
  openApiDocument,
  policyChain,
  PolicyManifest,
  portalOrigin,
  productPlans,
  productSpec,
  servedEndpoints,
  stableJson,
} from "../../../components/products/builders";

const manifest: PolicyManifest = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, "../../../assets/apicast-policies/llm-metrics/apicast-policy.json"), "utf8"),
);

function platform(input: Partial<ConfigInput> = {}) {
  return configSchema.parse({ models: [{ name: "granite-33-2b-instruct" }], ...input });
}

describe("servedEndpoints", () => {
  it("serves everything but embeddings by default, in catalogue order", () => {
    expect(servedEndpoints({ embeddings: false }).map((e) => e.name)).toEqual([
      "chat_completions",
      "completions",
      "list_models",
      "tokenize",
      "detokenize",
      "health",
      "version",
    ]);
  });

  it("adds embeddings when the model enables them", () => {
    expect(servedEndpoints({ embeddings: true }).map((e) => e.name)).toContain("embeddings");
  });

  it("honours an explicit endpoint list, keeping the catalogue order", () => {
    const names = servedEndpoints({ embeddings: true, endpoints: ["list_models", "chat_completions"] }).map(
      (e) => e.name,
    );
    expect(names).toEqual(["chat_completions", "list_models"]);
  });
});

describe("corsAllowOrigin", () => {
  it("uses a single origin as is, without path or trailing slash", () => {
    expect(corsAllowOrigin(["https://maas.apps.example.com/some/page"])).toBe("https://maas.apps.example.com");
  });

  it("turns several origins into an anchored alternation that matches only those origins", () => {
    const allow = corsAllowOrigin([
      "https://maas.apps.example.com",
      "https://chat.example.org:8443/",
      "https://maas.apps.example.com",
    ]);
    const re = new RegExp(allow);
    expect(re.test("https://maas.apps.example.com")).toBe(true);
    expect(re.test("https://chat.example.org:8443")).toBe(true);
    expect(re.test("https://maas.apps.example.com.evil.net")).toBe(false);
    expect(re.test("https://maasXapps.example.com")).toBe(false);
    expect(re.test("https://evil.net/https://chat.example.org:8443")).toBe(false);
    expect(allow.startsWith("^(") && allow.endsWith(")$")).toBe(true);
  });

  it("refuses * and non-URLs with the config key and an example", () => {
    expect(() => corsAllowOrigin(["*"])).toThrow(/threescale.corsAllowOrigins.*e\.g\. https:\/\//);
    expect(() => corsAllowOrigin(["not a url"])).toThrow(/threescale.corsAllowOrigins: "not a url"/);
    expect(() => corsAllowOrigin([])).toThrow(/threescale.corsAllowOrigins/);
  });

  it("derives the portal origin from tenant and wildcard domain", () => {
    expect(portalOrigin("maas", "apps.example.com")).toBe("https://maas.apps.example.com");
  });
});

describe("llmMetricsConfiguration", () => {
  it("maps every token metric through the policy manifest's own property names", () => {
    const configuration = llmMetricsConfiguration(manifest);
    expect(configuration).toEqual({
      prompt_tokens_metric: "prompt_tokens",
      completion_tokens_metric: "completion_tokens",
      total_tokens_metric: "total_tokens",
    });
    // Each key is a declared property whose value satisfies the declared pattern.
    const ajv = new Ajv({ strict: false });
    expect(ajv.validate(manifest.configuration, configuration)).toBe(true);
  });

  it("fails naming the missing property when the manifest renames it", () => {
    const renamed = {
      version: "1.0.0",
      configuration: { properties: { prompt_metric: {}, completion_tokens_metric: {} } },
    };
    expect(() => llmMetricsConfiguration(renamed)).toThrow(/"prompt_tokens_metric".*found: prompt_metric/);
  });
});

describe("policyChain", () => {
  const metering = { name: "llm_metrics", version: "1.0.0", configuration: llmMetricsConfiguration(manifest) };

  it("orders CORS, metering, upstream timeouts, then APIcast, all enabled", () => {
    const chain = policyChain({
      allowOrigin: "https://maas.apps.example.com",
      httpMethods: ["POST", "GET", "POST"],
      metering,
      upstreamTimeoutSeconds: 300,
    });
    expect(chain.map((p) => `${p.name}@${p.version}`)).toEqual([
      "cors@builtin",
      "llm_metrics@1.0.0",
      "upstream_connection@builtin",
      "apicast@builtin",
    ]);
    expect(chain.every((p) => p.enabled === true)).toBe(true);
    expect(chain[0].configuration).toMatchObject({
      allow_origin: "https://maas.apps.example.com",
      allow_credentials: true,
      allow_methods: ["GET", "OPTIONS", "POST"],
    });
    expect(chain[1].configuration).toEqual(metering.configuration);
    expect(chain[2].configuration).toEqual({ read_timeout: 300 });
  });

  it("leaves APIcast's upstream timeouts alone when the timeout is 0", () => {
    const chain = policyChain({
      allowOrigin: "https://a.example.com",
      httpMethods: ["GET"],
      metering,
      upstreamTimeoutSeconds: 0,
    });
    expect(chain.map((p) => p.name)).toEqual(["cors", "llm_metrics", "apicast"]);
  });
});

describe("productPlans", () => {
  const config = platform();
  const endpoints = servedEndpoints(config.models[0]);

  it("falls back to threescale.defaultPlans and keeps one default plan", () => {
    const plans = productPlans(config.models[0], config.threescale.defaultPlans, endpoints);
    expect(plans.map((p) => [p.systemName, p.default, p.published])).toEqual([["basic", true, true]]);
    expect(plans[0].limits).toEqual([
      { metric: "hits", period: "minute", value: 60 },
      { metric: "total_tokens", period: "day", value: 200000 },
    ]);
  });

  it("prefers the model's plans, defaulting to the first when none is marked default", () => {
    const model = platform({
      models: [
        {
          name: "m1",
          plans: [
            { systemName: "free", name: "Free", limits: [{ metric: "chat_completions", period: "hour", value: 10 }] },
            { systemName: "gold", name: "Gold" },
          ],
        },
      ],
    }).models[0];
    const plans = productPlans(model, config.threescale.defaultPlans, servedEndpoints(model));
    expect(plans.map((p) => [p.systemName, p.default])).toEqual([
      ["free", true],
      ["gold", false],
    ]);
    const marked = { ...model, plans: model.plans!.map((p) => ({ ...p, default: p.systemName === "gold" })) };
    expect(productPlans(marked, [], servedEndpoints(model)).map((p) => p.default)).toEqual([false, true]);
  });

  it("rejects a limit on a metric the model does not measure, naming the model, plan and alternatives", () => {
    const model = platform({
      models: [
        {
          name: "m1",
          plans: [{ systemName: "pro", name: "P", limits: [{ metric: "embeddings", period: "day", value: 1 }] }],
        },
      ],
    }).models[0];
    expect(() => productPlans(model, [], servedEndpoints(model))).toThrow(
      /models\[name=m1\] plan "pro": limit metric "embeddings".*e\.g\. one of hits, prompt_tokens/,
    );
  });
});

describe("productSpec", () => {
  it("describes backend, product, metrics, one method and rule per served endpoint, auth and the ActiveDoc", () => {
    const config = platform({
      models: [{ name: "granite", displayName: "Granite 3.3", description: "Small model", embeddings: true }],
    });
    const spec = productSpec(config.models[0], config.threescale);
    expect(spec.product).toEqual({ systemName: "granite", description: "Small model" });
    expect(spec.backend.systemName).toBe("granite-backend");
    expect(spec.metrics.map((m) => [m.systemName, m.unit])).toEqual([
      ["prompt_tokens", "token"],
      ["completion_tokens", "token"],
      ["total_tokens", "token"],
    ]);
    expect(spec.methods).toHaveLength(OPENAI_ENDPOINTS.length);
    expect(spec.mappingRules).toContainEqual({
      method: "embeddings",
      httpMethod: "POST",
      pattern: "/v1/embeddings",
      delta: 1,
    });
    expect(spec.mappingRules.every((r) => r.pattern.startsWith("/"))).toBe(true);
    expect(spec.proxy).toEqual({ credentialsLocation: "authorization", authUserKey: "Authorization" });
    expect(new Set(spec.methods.map((m) => m.friendlyName)).size).toBe(spec.methods.length);
  });
});

describe("gatewayRevision", () => {
  const config = platform();
  const spec = productSpec(config.models[0], config.threescale);
  const metering = { name: "llm_metrics", version: "1.0.0", configuration: llmMetricsConfiguration(manifest) };
  const chain = (origin: string) =>
    policyChain({ allowOrigin: origin, httpMethods: ["GET"], metering, upstreamTimeoutSeconds: 0 });
  const privateEndpoint = "http://granite-33-2b-instruct-predictor.granite.svc.cluster.local:8080";

  it("is stable and changes with anything in the gateway configuration", () => {
    const base = gatewayRevision(spec, { privateEndpoint, policies: chain("https://a.example.com") });
    expect(gatewayRevision(spec, { privateEndpoint, policies: chain("https://a.example.com") })).toBe(base);
    expect(gatewayRevision(spec, { privateEndpoint, policies: chain("https://b.example.com") })).not.toBe(base);
    expect(
      gatewayRevision(spec, { privateEndpoint: privateEndpoint + "0", policies: chain("https://a.example.com") }),
    ).not.toBe(base);
    const fewerRules = { ...spec, mappingRules: spec.mappingRules.slice(1) };
    expect(gatewayRevision(fewerRules, { privateEndpoint, policies: chain("https://a.example.com") })).not.toBe(base);
  });

  it("ignores plans and limits, which are not part of the gateway configuration", () => {
    const base = gatewayRevision(spec, { privateEndpoint, policies: chain("https://a.example.com") });
    const otherLimits = { ...spec, plans: spec.plans.map((p) => ({ ...p, limits: [] })) };
    expect(gatewayRevision(otherLimits, { privateEndpoint, policies: chain("https://a.example.com") })).toBe(base);
  });

  it("hashes objects independently of key order", () => {
    expect(stableJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 2 }] } })).toBe('{"a":{"c":[3,{"e":2,"f":1}],"d":2},"b":1}');
  });
});

describe("openApiDocument", () => {
  const endpoints = servedEndpoints({ embeddings: false });
  const doc = openApiDocument({
    model: "granite",
    title: "Granite",
    description: "d",
    endpoints,
    gatewayUrl: "https://granite-maas-apicast-production.apps.example.com:443",
  }) as any;

  it("documents only the served endpoints with bearer auth and the production gateway as server", () => {
    expect(doc.openapi).toBe("3.0.3");
    expect(doc.servers).toEqual([{ url: "https://granite-maas-apicast-production.apps.example.com:443" }]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(Object.keys(doc.paths).sort()).toEqual(endpoints.map((e) => e.path).sort());
    expect(doc.paths["/v1/embeddings"]).toBeUndefined();
    for (const e of endpoints) expect(doc.paths[e.path][e.method.toLowerCase()].operationId).toBe(e.name);
  });

  it("has request examples that satisfy their own schemas", () => {
    const ajv = new Ajv({ strict: false });
    const bodies = endpoints
      .map((e) => doc.paths[e.path][e.method.toLowerCase()].requestBody?.content["application/json"])
      .filter(Boolean);
    expect(bodies.length).toBe(endpoints.filter((e) => e.method === "POST").length);
    for (const body of bodies) expect(ajv.validate(body.schema, body.example)).toBe(true);
    const chat = doc.paths["/v1/chat/completions"].post.requestBody.content["application/json"];
    expect(ajv.validate(chat.schema, { model: "other", messages: [] })).toBe(false);
  });
});
