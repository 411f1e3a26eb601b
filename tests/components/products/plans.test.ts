import { ConfigInput, ModelConfig, parseConfig, TOKEN_METRICS } from "../../../components/config/schema";
import { productPlans, verificationPlan } from "../../../components/products/plans";
import { HITS, servedEndpoints } from "../../../components/products/product-spec";

const QWEN = { repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "7ae557604adf67be50417f59c2c2f167def9a775" };
function platform(input: Partial<ConfigInput> = {}) {
  const models = (input.models ?? [{ name: "granite-33-2b-instruct" }]).map((m) => ({ huggingFace: QWEN, ...m }));
  return parseConfig({ ...input, models });
}

/** What a model's product measures: hits, the token metrics and one method per served endpoint. */
const measured = (model: ModelConfig) => [HITS, ...TOKEN_METRICS, ...servedEndpoints(model).map((e) => e.name)];

describe("productPlans", () => {
  const config = platform();
  const endpoints = measured(config.models[0]);

  it("falls back to threescale.defaultPlans, none of them the default plan (as the deployment guide sets it)", () => {
    const plans = productPlans(config.models[0], config.threescale.defaultPlans, endpoints);
    expect(plans.map((p) => [p.systemName, p.default, p.published])).toEqual([["basic", false, true]]);
    expect(verificationPlan(plans)?.systemName).toBe("basic");
    expect(plans[0].limits).toEqual([
      { metric: "hits", period: "minute", value: 60 },
      { metric: "total_tokens", period: "day", value: 200000 },
    ]);
  });

  it("prefers the model's plans; only a marked plan is the default, the verification takes it or the first", () => {
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
    const plans = productPlans(model, config.threescale.defaultPlans, measured(model));
    expect(plans.map((p) => [p.systemName, p.default])).toEqual([
      ["free", false],
      ["gold", false],
    ]);
    expect(verificationPlan(plans)?.systemName).toBe("free");
    const marked = { ...model, plans: model.plans!.map((p) => ({ ...p, default: p.systemName === "gold" })) };
    const markedPlans = productPlans(marked, [], measured(model));
    expect(markedPlans.map((p) => p.default)).toEqual([false, true]);
    expect(verificationPlan(markedPlans)?.systemName).toBe("gold");
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
    expect(() => productPlans(model, [], measured(model))).toThrow(
      /models\[name=m1\] plan "pro": limit metric "embeddings".*e\.g\. one of hits, prompt_tokens/,
    );
  });
});
