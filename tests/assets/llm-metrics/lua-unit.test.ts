/** Runs the busted suites of the llm-metrics policy (pure cores, and the policy with stubbed APIcast modules). */
import { spawnSync } from "child_process";
import * as path from "path";
import { APICAST_SHIM_DIR, POLICY_DIR, PROJECT_ROOT, requireTool } from "../../../tools/policy-gateway/nginx-fixture";

/** Stubs first: in the unit specs they shadow the shim's network-backed stand-ins. */
const LUA_SPEC_DIR = path.join(__dirname, "lua");
const LUA_PATH = `${[POLICY_DIR, path.join(LUA_SPEC_DIR, "stubs"), APICAST_SHIM_DIR, LUA_SPEC_DIR]
  .map((dir) => `${dir}/?.lua`)
  .join(";")};;`;

function busted(spec: string) {
  requireTool("busted", ["--version"], "busted (Debian package lua-busted)");
  requireTool("lua5.1", ["-e", "require('cjson')"], "lua5.1 with lua-cjson");
  const run = spawnSync("busted", ["--lua=lua5.1", "-o", "TAP", path.join(LUA_SPEC_DIR, spec)], {
    cwd: PROJECT_ROOT,
    encoding: "utf8",
    env: { ...process.env, LUA_PATH, LLM_POLICY_DIR: POLICY_DIR },
  });
  const output = `${run.stdout}\n${run.stderr}`;
  return { status: run.status, output, passed: (output.match(/^ok \d+/gm) ?? []).length };
}

test.each([
  ["llm_metrics_usage_spec.lua", 32],
  ["llm_metrics_limits_spec.lua", 26],
  ["llm_metrics_policy_spec.lua", 55],
])("busted %s passes", (spec, atLeast) => {
  const result = busted(spec);
  if (result.status !== 0) throw new Error(`busted ${spec} failed:\n${result.output}`);
  expect(result.output).not.toMatch(/^not ok/m);
  expect(result.passed).toBeGreaterThanOrEqual(atLeast);
});
