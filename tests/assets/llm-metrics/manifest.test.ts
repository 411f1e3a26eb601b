/** The policy manifest: a valid APIcast manifest whose configuration schema accepts its examples and `{}`. */
import Ajv from "ajv";
import * as fs from "fs";
import * as path from "path";
import { POLICY_DIR } from "../../../tools/policy-gateway/nginx-fixture";

const manifest = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "apicast-policy.json"), "utf8"));
const ajv = new Ajv({ strict: true, strictTypes: true, allErrors: true, useDefaults: true });
const validate = ajv.compile(manifest.configuration);

test("identifies the policy as llm_metrics 1.0.0 loaded from the llm-metrics directory", () => {
  expect(manifest.$schema).toBe("http://apicast.io/policy-v1/schema#manifest#");
  expect(manifest.name).toBe("LLM token metering");
  expect(manifest.version).toBe("1.0.0");
  expect(fs.readFileSync(path.join(POLICY_DIR, "init.lua"), "utf8")).toMatch(/require\('llm_metrics'\)/);
  expect(fs.readFileSync(path.join(POLICY_DIR, "llm_metrics.lua"), "utf8")).toMatch(
    /policy\.new\('LLM token metering', '1\.0\.0'\)/,
  );
});

test("every example validates and {} gets all defaults", () => {
  expect(manifest.configuration.examples.length).toBeGreaterThanOrEqual(2);
  for (const example of manifest.configuration.examples) {
    if (!validate(structuredClone(example))) throw new Error(JSON.stringify(validate.errors));
  }
  const empty: Record<string, unknown> = {};
  expect(validate(empty)).toBe(true);
  expect(empty).toEqual({
    prompt_tokens_metric: "prompt_tokens",
    completion_tokens_metric: "completion_tokens",
    total_tokens_metric: "total_tokens",
    max_json_bytes: 1048576,
    request_usage_injection: true,
    report_to_backend: true,
    prometheus: true,
    report_interval_seconds: 5,
    batch_shared_dict: "",
  });
});

test.each([
  [{ prompt_tokens_metric: "" }, "prompt_tokens_metric"],
  [{ total_tokens_metric: "has space" }, "total_tokens_metric"],
  [{ max_json_bytes: 10 }, "max_json_bytes"],
  [{ max_json_bytes: 1.5 }, "max_json_bytes"],
  [{ prometheus: "yes" }, "prometheus"],
  [{ rules: [] }, "rules"],
  [{ report_interval_seconds: -1 }, "report_interval_seconds"],
  [{ report_interval_seconds: "5" }, "report_interval_seconds"],
  [{ batch_shared_dict: "no spaces" }, "batch_shared_dict"],
])("rejects %j", (config, field) => {
  expect(validate(config)).toBe(false);
  expect(JSON.stringify(validate.errors)).toContain(field);
});
