import { ConfigInput, parseConfig, OPENAI_ENDPOINTS } from "../../../components/config/schema";
import { productSpec, servedEndpoints } from "../../../components/products/product-spec";

function platform(input: Partial<ConfigInput> = {}) {
  return parseConfig({ models: [{ name: "granite-33-2b-instruct" }], ...input });
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
