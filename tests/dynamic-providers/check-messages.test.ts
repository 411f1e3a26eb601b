/** Bad inputs fail in check with a message naming the input and a right value, and without any API call. */
import * as fs from "fs";
import * as path from "path";
import { BackendProvider } from "../../dynamic-providers/backend";
import { MappingRuleProvider } from "../../dynamic-providers/mapping-rule";
import { PolicyChainProvider } from "../../dynamic-providers/policy-chain";
import { ProductProvider } from "../../dynamic-providers/product";
import { ProxySettingsProvider } from "../../dynamic-providers/proxy-settings";
import { UNKNOWN } from "../../dynamic-providers/threescale/unknown";
import { buildWorld, expectNoToken, FAST_CLIENT, useEmulator } from "./support";

describe("check", () => {
  const env = useEmulator();
  const llmSchema = JSON.parse(
    fs.readFileSync(path.resolve(__dirname, "../../assets/apicast-policies/llm-metrics/apicast-policy.json"), "utf8"),
  ).configuration;

  const bad: Array<[string, () => { provider: any; inputs: Record<string, any>; property: string; says: RegExp }]> = [
    ["bad admin URL", () => ({ provider: new ProductProvider(), inputs: { connection: { adminUrl: "maas-admin", accessToken: "t" }, systemName: "p", name: "P" }, property: "connection.adminUrl", says: /e\.g\. "https:\/\// })],
    ["bad backend URL", () => ({ provider: new BackendProvider(), inputs: { systemName: "b", name: "B", privateEndpoint: "ftp://llm" }, property: "privateEndpoint", says: /http\/https\/ws\/wss URL, e\.g\./ })],
    ["bad system name", () => ({ provider: new ProductProvider(), inputs: { systemName: "has space", name: "P" }, property: "systemName", says: /e\.g\. "llama_3_8b"/ })],
    ["bad HTTP method", () => ({ provider: new MappingRuleProvider(), inputs: { productId: 1, httpMethod: "FETCH", pattern: "/x", metricId: 2, delta: 1 }, property: "httpMethod", says: /one of GET, POST.*e\.g\. "POST"/ })],
    ["pattern without leading slash", () => ({ provider: new MappingRuleProvider(), inputs: { productId: 1, httpMethod: "GET", pattern: "v1/models", metricId: 2, delta: 1 }, property: "pattern", says: /starting with "\/"/ })],
    ["delta 0", () => ({ provider: new MappingRuleProvider(), inputs: { productId: 1, httpMethod: "GET", pattern: "/", metricId: 2, delta: 0 }, property: "delta", says: /an integer ≥ 1, e\.g\. 1/ })],
    ["credentials location", () => ({ provider: new ProxySettingsProvider(), inputs: { productId: 1, credentialsLocation: "cookie" }, property: "credentialsLocation", says: /headers, query, authorization/ })],
    ["cors field of the wrong type", () => ({ provider: new PolicyChainProvider(), inputs: { productId: 1, policies: [{ name: "cors", version: "builtin", configuration: { max_age: "ten" } }] }, property: "policies[0].configuration", says: /max_age: must be of type integer/ })],
    ["unknown llm_metrics field", () => ({ provider: new PolicyChainProvider(), inputs: { productId: 1, schemas: { llm_metrics: llmSchema }, policies: [{ name: "llm_metrics", version: "1.0.0", configuration: { prompt_metric: "x" } }] }, property: "policies[0].configuration", says: /prompt_metric: is not a field of this policy/ })],
    ["llm_metrics value out of range", () => ({ provider: new PolicyChainProvider(), inputs: { productId: 1, schemas: { llm_metrics: llmSchema }, policies: [{ name: "llm_metrics", version: "1.0.0", configuration: { max_json_bytes: 12 } }] }, property: "policies[0].configuration", says: /max_json_bytes: must be >= 1024/ })],
  ]; // prettier-ignore

  test.each(bad)("%s fails in check with a clear message and no API call", async (_name, make) => {
    const { provider, inputs, property, says } = make();
    const { failures } = await provider.check({}, { connection: env.connection, ...inputs });
    const failure = failures.find((f: any) => f.property === property);
    expect(failure?.reason).toMatch(says);
    expectNoToken(JSON.stringify(failures), env.emulator.accessToken);
    expect(env.emulator.calls).toEqual([]);
  });

  test("unknown values (preview) are tolerated", async () => {
    const rules = new MappingRuleProvider();
    const inputs = {
      connection: env.connection,
      productId: UNKNOWN,
      httpMethod: "GET",
      pattern: "/",
      metricId: UNKNOWN,
      delta: 1,
    };
    expect((await rules.check({}, inputs)).failures ?? []).toEqual([]);
    const chain = new PolicyChainProvider();
    expect(
      (await chain.check({}, { connection: env.connection, productId: UNKNOWN, policies: UNKNOWN })).failures ?? [],
    ).toEqual([]);
    expect(env.emulator.calls).toEqual([]);
  });

  test("a valid llm_metrics chain passes and is placed before apicast", async () => {
    const chain = new PolicyChainProvider(FAST_CLIENT);
    const { productId } = await buildWorld(env.connection);
    const inputs = {
      connection: env.connection,
      productId,
      schemas: { llm_metrics: llmSchema },
      policies: [{ name: "llm_metrics", version: "1.0.0", configuration: { total_tokens_metric: "tokens" } }],
    };
    expect((await chain.check({}, inputs)).failures ?? []).toEqual([]);
    await chain.create(inputs);
    const product = env.emulator.state.products.find((p) => p.id === productId)!;
    expect(product.proxy.policies_config.map((p) => [p.name, p.enabled])).toEqual([
      ["llm_metrics", true],
      ["apicast", true],
    ]);
  });
});
