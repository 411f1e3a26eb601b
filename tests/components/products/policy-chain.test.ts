import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { corsAllowOrigin, llmMetricsConfiguration, policyChain } from "../../../components/products/policy-chain";
import type { PolicyManifest } from "../../../components/threescale/policy-bundle";
import { portalOrigin } from "../../../components/threescale/urls";

const manifest: PolicyManifest = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, "../../../assets/apicast-policies/llm-metrics/apicast-policy.json"), "utf8"),
);

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
