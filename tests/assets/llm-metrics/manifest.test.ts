/**
 * The policy manifest and module layout against the rules APIcast 3.15 (3scale/APIcast branch 3scale-2.15-stable,
 * commit 8c8b2cae) applies to a custom policy:
 * - the manifest schema `gateway/src/apicast/policy/manifest-schema.json` (reproduced below, not copied);
 * - `gateway/src/apicast/policy_order_checker.lua`: a custom policy's `order` crashes the checker;
 * - `gateway/src/resty/sandbox.lua`: module names already loaded globally shadow the policy's own files;
 * and the configuration schema against its own examples and defaults.
 */
import Ajv from "ajv";
import * as fs from "fs";
import * as path from "path";
import { POLICY_DIR } from "../../../tools/policy-gateway/nginx-fixture";

const manifestText = fs.readFileSync(path.join(POLICY_DIR, "apicast-policy.json"), "utf8");
const manifest = JSON.parse(manifestText);
const ajv = new Ajv({ strict: true, strictTypes: true, allErrors: true, useDefaults: true });
const validate = ajv.compile(manifest.configuration);

/**
 * APIcast's manifest rules, reproduced from manifest-schema.json (3scale-2.15-stable @8c8b2cae; identical on
 * 3scale-2.16-stable): required members L113; name: string, minLength 1 (L24-33); summary: string, maxLength 75
 * (L34-43); description: a non-empty string or a non-empty array of strings (L44-59); order.before/after: arrays of
 * {name, version} (L60-105); version: pattern of L11-21 referenced at L106-108; configuration: any draft-07 schema
 * (L6-10, L109-111). The schema sets no additionalProperties (extra members such as $schema are allowed).
 */
const APICAST_MANIFEST_RULES = {
  type: "object",
  required: ["name", "version", "configuration", "summary"],
  properties: {
    $schema: { type: "string" },
    name: { type: "string", minLength: 1 },
    summary: { type: "string", maxLength: 75 },
    description: {
      oneOf: [
        { type: "string", minLength: 1 },
        { type: "array", items: { type: "string" }, minItems: 1 },
      ],
    },
    order: { type: "object" },
    version: { type: "string", pattern: "^((\\d+\\.)?(\\d+\\.)?(\\*|\\d+))|builtin$" },
    configuration: { type: "object" },
  },
};

describe("APIcast's manifest rules", () => {
  const compiled = new Ajv({ strict: false, allErrors: true }).compile(APICAST_MANIFEST_RULES);
  const checkManifest = (data: unknown): boolean => compiled(data);

  test("the manifest satisfies the structural rules of manifest-schema.json", () => {
    if (!checkManifest(manifest)) throw new Error(JSON.stringify(compiled.errors));
    expect(manifest.summary.length).toBeLessThanOrEqual(75);
  });

  test.each<[string, Record<string, unknown>]>([
    ["no summary", { summary: undefined }],
    ["a summary over 75 characters", { summary: "x".repeat(76) }],
    ["an empty name", { name: "" }],
    ["an empty description list", { description: [] }],
    ["a version that is not a version", { version: "v1" }],
    ["no configuration", { configuration: undefined }],
  ])("the reproduced rules reject a manifest with %s", (_, change) => {
    expect(checkManifest({ ...manifest, ...change })).toBe(false);
  });

  test("the configuration is a valid draft-07 JSON schema (manifest-schema.json L6-10)", () => {
    expect(new Ajv({ strict: false }).validateSchema(manifest.configuration)).toBe(true);
  });

  test("declares no order: APIcast's order checker crashes on a custom policy's order", () => {
    // policy_order_checker.lua L19-21 loads the manifest's policy as builtin (no version) -> nil name; L39-47 then
    // inserts a restriction under that nil name and L72 raises "table index is nil" for every service (2.15: while
    // parsing any configuration; 2.16.3: when apicast.policy_chain loads). Placement is documented instead.
    expect(manifest).not.toHaveProperty("order");
    expect(manifestText).not.toMatch(/"order"\s*:/);
    expect(manifest.description.join("")).toMatch(/before the 3scale APIcast policy/);
  });

  test("$schema is APIcast 3.15's manifest schema id, which APIcast never reads", () => {
    // manifest-schema.json L2 "$id": "http://apicast.io/policy-v1.1/schema#manifest"; APIcast reads only name,
    // version, order and configuration of a manifest (policy_manifests_loader.lua, policy_loader.lua).
    expect(manifest.$schema).toBe("http://apicast.io/policy-v1.1/schema#manifest#");
  });

  test("identifies the policy as llm_metrics 1.0.0 loaded from the llm-metrics directory", () => {
    expect(manifest.name).toBe("LLM token metering");
    expect(manifest.version).toBe("1.0.0");
    expect(fs.readFileSync(path.join(POLICY_DIR, "init.lua"), "utf8")).toMatch(/require\('llm_metrics'\)/);
    expect(fs.readFileSync(path.join(POLICY_DIR, "llm_metrics.lua"), "utf8")).toMatch(
      /policy\.new\('LLM token metering', '1\.0\.0'\)/,
    );
  });
});

describe("module names", () => {
  const luaFiles = fs.readdirSync(POLICY_DIR).filter((f) => f.endsWith(".lua"));
  /** Modules of APIcast and OpenResty the policy may share (sandbox.lua L92-138: global package.loaded first). */
  const SHARED = new Set([
    "apicast.policy",
    "apicast.prometheus",
    "apicast.backend_client",
    "apicast.policy.3scale_batcher.reports_batch",
    "apicast.usage",
    "apicast.upstream",
    "resty.http_ng.backend.resty",
    "resty.http",
    "resty.env",
    "cjson.safe",
  ]);

  test("every module of the policy has a name only this policy uses", () => {
    // A module name already loaded globally (string, table, cjson, resty.*, apicast.*, usage modules of other
    // policies...) would be returned instead of the policy's file: the sandbox consults package.loaded first.
    for (const file of luaFiles) {
      if (file !== "init.lua") expect(file).toMatch(/^llm_metrics(_[a-z]+)?\.lua$/);
    }
  });

  test("every require names a module of the policy or an APIcast/OpenResty module", () => {
    const own = new Set(luaFiles.map((f) => f.replace(/\.lua$/, "")));
    const required = new Set<string>();
    for (const file of luaFiles) {
      const text = fs.readFileSync(path.join(POLICY_DIR, file), "utf8");
      for (const m of text.matchAll(/require\(\s*'([^']+)'\s*\)/g)) required.add(m[1]);
    }
    expect([...required].filter((name) => !own.has(name) && !SHARED.has(name))).toEqual([]);
    expect(required).toContain("llm_metrics_usage");
    expect(required).toContain("llm_metrics_reports");
    expect(required).not.toContain("usage");
    expect(required).not.toContain("token_reports");
    expect(required).not.toContain("zlib");
  });
});

describe("configuration schema", () => {
  test("every example validates and {} gets all defaults", () => {
    expect(manifest.configuration.examples.length).toBeGreaterThanOrEqual(5);
    for (const example of manifest.configuration.examples) {
      if (!validate(structuredClone(example))) throw new Error(JSON.stringify(validate.errors));
    }
    const empty: Record<string, unknown> = {};
    expect(validate(empty)).toBe(true);
    expect(empty).toEqual({
      prompt_tokens_metric: "prompt_tokens",
      completion_tokens_metric: "completion_tokens",
      total_tokens_metric: "total_tokens",
      cached_prompt_tokens_metric: "",
      reasoning_tokens_metric: "",
      max_json_bytes: 1048576,
      max_request_body_bytes: 8388608,
      request_usage_injection: true,
      report_to_backend: true,
      prometheus: true,
      report_interval_seconds: 5,
      batch_shared_dict: "",
      routing_models: [],
      models_path: "/v1/models",
      admission: false,
      admission_chars_per_token: 4,
      admission_default_max_tokens: 1024,
      admission_failure_mode: "open",
      rate_limit_headers: false,
      usage_path: "",
      limits_cache_seconds: 5,
      limits_backend_timeout_ms: 500,
      limits_shared_dict: "rate_limit_headers",
    });
  });

  test("a routing model gets its defaults", () => {
    const config = { routing_models: [{ name: "granite", upstream: "http://granite-predictor:8080" }] };
    expect(validate(config)).toBe(true);
    expect(config.routing_models[0]).toEqual({
      name: "granite",
      upstream: "http://granite-predictor:8080",
      owned_by: "vllm",
      created: 0,
    });
  });

  test.each([
    [{ prompt_tokens_metric: "" }, "prompt_tokens_metric"],
    [{ total_tokens_metric: "has space" }, "total_tokens_metric"],
    [{ cached_prompt_tokens_metric: "has space" }, "cached_prompt_tokens_metric"],
    [{ max_json_bytes: 10 }, "max_json_bytes"],
    [{ max_json_bytes: 1.5 }, "max_json_bytes"],
    [{ max_request_body_bytes: -1 }, "max_request_body_bytes"],
    [{ prometheus: "yes" }, "prometheus"],
    [{ rules: [] }, "rules"],
    [{ report_interval_seconds: -1 }, "report_interval_seconds"],
    [{ report_interval_seconds: "5" }, "report_interval_seconds"],
    [{ batch_shared_dict: "no spaces" }, "batch_shared_dict"],
    [{ routing_models: [{ name: "m" }] }, "routing_models"],
    [{ routing_models: [{ name: "m", upstream: "ftp://x" }] }, "routing_models"],
    [{ routing_models: [{ name: "m", upstream: "http://x", system_name: "a-b" }] }, "routing_models"],
    [{ routing_models: [{ name: "m", upstream: "http://x", port: 1 }] }, "routing_models"],
    [{ models_path: "v1/models" }, "models_path"],
    [{ admission: "on" }, "admission"],
    [{ admission_chars_per_token: 0 }, "admission_chars_per_token"],
    [{ admission_default_max_tokens: -5 }, "admission_default_max_tokens"],
    [{ admission_failure_mode: "maybe" }, "admission_failure_mode"],
    [{ usage_path: "usage" }, "usage_path"],
    [{ limits_cache_seconds: 301 }, "limits_cache_seconds"],
    [{ limits_backend_timeout_ms: 0 }, "limits_backend_timeout_ms"],
    [{ limits_shared_dict: "" }, "limits_shared_dict"],
  ])("rejects %j", (config, field) => {
    expect(validate(config)).toBe(false);
    expect(JSON.stringify(validate.errors)).toContain(field);
  });
});
