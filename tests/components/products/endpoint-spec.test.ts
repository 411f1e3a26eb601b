/** The one-endpoint product as plain data, and its policy configuration against the policy's own schema. */
import * as fs from "fs";
import * as path from "path";
import Ajv from "ajv";
import { parseConfig, type ConfigInput } from "../../../components/config/schema";
import { validateConfig } from "../../../components/config/validate";
import {
  endpointPolicyConfiguration,
  endpointSpec,
  modelKey,
  modelMethod,
  modelMetric,
} from "../../../components/products/endpoint-spec";
import { llmMetricsConfiguration } from "../../../components/products/policy-chain";
import { servedEndpoints } from "../../../components/products/product-spec";

const manifest = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, "../../../assets/apicast-policies/llm-metrics/apicast-policy.json"), "utf8"),
);
const QWEN = { repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "7ae557604adf67be50417f59c2c2f167def9a775" };
const models = [
  { name: "granite-33-8b", displayName: "Granite", endpoints: servedEndpoints({ embeddings: false }) },
  {
    name: "embedder",
    displayName: "Embedder",
    endpoints: servedEndpoints({ embeddings: true, endpoints: ["embeddings"] }),
  },
];
type EndpointPlans = NonNullable<NonNullable<NonNullable<ConfigInput["threescale"]>["endpoint"]>["plans"]>;
const endpoint = (plans: EndpointPlans) =>
  parseConfig({ models: [{ name: "m1", huggingFace: QWEN }], threescale: { endpoint: { enabled: true, plans } } })
    .threescale.endpoint;

test("the model key is what the policy derives from the name", () => {
  expect(modelKey("granite-3.3-8b-Instruct")).toBe("granite_3_3_8b_instruct");
  expect(modelMethod("granite-33-8b")).toBe("model_granite_33_8b");
  expect(modelMetric("embedder", "total_tokens")).toBe("embedder_total_tokens");
});

test("a method per model, token metrics per model beside the product's, rules on hits for routed endpoints", () => {
  const spec = endpointSpec(endpoint([]), models);
  expect(spec.methods.map((m) => m.systemName)).toEqual(["model_granite_33_8b", "model_embedder"]);
  expect(spec.metrics.map((m) => m.systemName)).toEqual([
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "granite_33_8b_prompt_tokens",
    "embedder_prompt_tokens",
    "granite_33_8b_completion_tokens",
    "embedder_completion_tokens",
    "granite_33_8b_total_tokens",
    "embedder_total_tokens",
  ]);
  expect(spec.mappingRules.every((r) => r.method === "hits")).toBe(true);
  expect(spec.mappingRules.map((r) => `${r.httpMethod} ${r.pattern}`).sort()).toEqual(
    [
      "POST /v1/chat/completions",
      "POST /v1/completions",
      "GET /v1/models",
      "POST /tokenize",
      "POST /detokenize",
      "POST /v1/embeddings",
      "GET /v1/usage",
    ].sort(),
  );
  expect(spec.usages).toEqual([
    { model: "granite-33-8b", path: "/granite-33-8b" },
    { model: "embedder", path: "/embedder" },
  ]);
});

test("plans: models left out get a limit of 0 on their method; model limits name that model's metric", () => {
  const spec = endpointSpec(
    endpoint([
      {
        systemName: "chat",
        name: "Chat",
        models: ["granite-33-8b"],
        limits: [
          { metric: "total_tokens", period: "day", value: 1000 },
          { metric: "total_tokens", period: "day", value: 100, model: "granite-33-8b" },
          { metric: "hits", period: "minute", value: 5, model: "granite-33-8b" },
        ],
      },
    ]),
    models,
  );
  expect(spec.plans[0].limits).toEqual([
    { metric: "total_tokens", period: "day", value: 1000 },
    { metric: "granite_33_8b_total_tokens", period: "day", value: 100 },
    { metric: "model_granite_33_8b", period: "minute", value: 5 },
    { metric: "model_embedder", period: "eternity", value: 0 },
  ]);
  expect(spec.plans[0].default).toBe(false);
});

test("the policy configuration validates against the policy's own configuration schema", () => {
  const config = endpointPolicyConfiguration(llmMetricsConfiguration(manifest), endpoint([]), [
    { name: "granite-33-8b", upstream: "http://granite-33-8b-predictor.g.svc.cluster.local:8080" },
  ]);
  const validate = new Ajv({ strict: false }).compile(manifest.configuration);
  expect(validate(config)).toBe(true);
  expect(config).toMatchObject({
    routing_models: [{ name: "granite-33-8b", system_name: "granite_33_8b" }],
    admission: false,
    admission_failure_mode: "open",
    rate_limit_headers: true,
    usage_path: "/v1/usage",
  });
});

test("config: plans name models of the stack; a model limit belongs to the plan's models", () => {
  const result = validateConfig({
    models: [{ name: "m1", huggingFace: QWEN }],
    threescale: {
      endpoint: {
        enabled: true,
        systemName: "m1",
        plans: [
          {
            systemName: "p",
            name: "P",
            models: ["m2"],
            limits: [{ metric: "hits", period: "day", value: 1, model: "m1" }],
          },
        ],
      },
    },
  });
  expect(result.ok).toBe(false);
  if (result.ok) return;
  const keys = result.problems.map((p) => `${p.key}: ${p.message}`);
  expect(keys).toEqual(
    expect.arrayContaining([
      'maas:threescale.endpoint.systemName: "m1" is also a model\'s product; give the one-endpoint product its own name',
      'maas:threescale.endpoint.plans[0].models[0]: "m2" is not a model of this stack: one of m1',
      'maas:threescale.endpoint.plans[0].limits[0].model: "m1" is not among the plan\'s models (m2); add it there or drop the limit',
    ]),
  );
});
