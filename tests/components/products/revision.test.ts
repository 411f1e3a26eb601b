import * as fs from "fs";
import * as path from "path";
import { canonical } from "../../../dynamic-providers/threescale/equality";
import { ConfigInput, parseConfig } from "../../../components/config/schema";
import { llmMetricsConfiguration, policyChain } from "../../../components/products/policy-chain";
import { productSpec } from "../../../components/products/product-spec";
import { gatewayRevision } from "../../../components/products/revision";
import type { PolicyManifest } from "../../../components/threescale/policy-bundle";

const manifest: PolicyManifest = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, "../../../assets/apicast-policies/llm-metrics/apicast-policy.json"), "utf8"),
);

function platform(input: Partial<ConfigInput> = {}) {
  return parseConfig({ models: [{ name: "granite-33-2b-instruct" }], ...input });
}

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

  it("hashes objects independently of key order, as it always has (existing stacks keep their revision)", () => {
    expect(canonical({ b: 1, a: { d: 2, c: [3, { f: 1, e: 2 }] } })).toBe('{"a":{"c":[3,{"e":2,"f":1}],"d":2},"b":1}');
    const reordered = Object.fromEntries(Object.entries(spec).reverse()) as typeof spec;
    expect(gatewayRevision(reordered, { privateEndpoint, policies: chain("https://a.example.com") })).toBe(
      gatewayRevision(spec, { privateEndpoint, policies: chain("https://a.example.com") }),
    );
  });
});
