/** A model's serving: the runtime image and flags of its release, where its weights come from, what waits for what. */
import { RELEASES, supportsForceIncludeUsage } from "../../../components/config/releases";
import { parseConfig } from "../../../components/config/schema";
import { buildServingRuntime, modelPrefix, vllmVersionOf } from "../../../components/models/model-serving";
import { buildHuggingFaceDownload } from "../../../components/models/weights";
import { type RunResult, runProgram } from "../../../scripts/plan/mock-runner";

const QWEN = { repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "7ae557604adf67be50417f59c2c2f167def9a775" };
const config = (extra: Record<string, unknown> = {}) =>
  parseConfig({ models: [{ name: "m1", huggingFace: QWEN }], ...extra });

test("the runtime image defaults to the one the selected OpenShift AI release ships", () => {
  expect(config({ openshiftAi: { release: "2.16" } }).models[0].runtimeImage).toBe(RELEASES.vllmImage["2.16"]);
  expect(config({ openshiftAi: { release: "2.25" } }).models[0].runtimeImage).toBe(RELEASES.vllmImage["2.25"]);
  // A pinned channel selects the release when none is set.
  expect(config({ operators: { openshiftAi: { channel: "stable-2.16" } } }).releases.openshiftAi).toBe("2.16");
});

test("--enable-force-include-usage from vLLM 0.9.2 only (older servers exit on an unknown flag)", () => {
  expect([
    supportsForceIncludeUsage("0.6.3"),
    supportsForceIncludeUsage("0.9.1"),
    supportsForceIncludeUsage("0.9.2"),
  ]).toEqual([false, false, true]);
  const args = (release: "2.16" | "2.25") => {
    const c = config({ openshiftAi: { release } });
    return (buildServingRuntime(c.models[0], vllmVersionOf(c.models[0], c.releases)).spec as any).containers[0].args;
  };
  expect(args("2.16")).not.toContain("--enable-force-include-usage");
  expect(args("2.25")).toContain("--enable-force-include-usage");
  const custom = parseConfig({
    models: [{ name: "m1", huggingFace: QWEN, runtimeImage: "quay.io/example/vllm:0.11.0" }],
    openshiftAi: { release: "2.25" },
  });
  // A custom image has no known version unless the stack says it.
  expect(vllmVersionOf(custom.models[0], custom.releases)).toBeUndefined();
});

test("a Hugging Face revision lands under its own prefix, downloaded by a Job named after repo@revision", () => {
  const model = config().models[0];
  expect(modelPrefix(model)).toBe("hf/Qwen/Qwen2.5-0.5B-Instruct/7ae557604adf67be50417f59c2c2f167def9a775");
  const a = buildHuggingFaceDownload(model, "m1", "aws-connection-m1", undefined, "script");
  const again = buildHuggingFaceDownload(model, "m1", "aws-connection-m1", undefined, "script");
  const other = buildHuggingFaceDownload(
    { ...model, huggingFace: { ...QWEN, revision: "0".repeat(40) } },
    "m1",
    "aws-connection-m1",
    undefined,
    "script",
  );
  expect(a.job.metadata).toEqual(again.job.metadata);
  expect((a.job.metadata as any).name).toMatch(/^download-m1-[0-9a-f]{8}$/);
  expect((other.job.metadata as any).name).not.toBe((a.job.metadata as any).name);
  const container = (a.job.spec as any).template.spec.containers[0];
  expect(container.image).toBe(model.runtimeImage);
  expect(container.envFrom).toEqual([{ secretRef: { name: "aws-connection-m1" } }]);
  expect(container.env.find((e: any) => e.name === "HF_TOKEN")).toBeUndefined();
  const gated = buildHuggingFaceDownload(model, "m1", "aws-connection-m1", "hf-token", "script");
  expect((gated.job.spec as any).template.spec.containers[0].env).toContainEqual({
    name: "HF_TOKEN",
    valueFrom: { secretKeyRef: { name: "hf-token", key: "HF_TOKEN" } },
  });
});

describe("in the dev stack", () => {
  let run: RunResult;
  beforeAll(async () => {
    run = await runProgram({ stack: "dev", preview: true });
  });

  test("the InferenceService reads the downloaded prefix and waits for the download Job", () => {
    const isvc = run.byType("kubernetes:serving.kserve.io/v1beta1:InferenceService")[0];
    const job = run.resources.find((r) => r.type === "kubernetes:batch/v1:Job" && r.name.endsWith("-download"))!;
    expect(isvc.inputs.spec.predictor.model.storage.path).toBe(
      job.inputs.spec.template.spec.containers[0].env[2].value,
    );
    expect(isvc.dependencies).toContain(job.urn);
    expect(job.inputs.spec.template.spec.containers[0].env[0]).toEqual({ name: "HF_REPO", value: QWEN.repo });
  });

  test("the model's namespace is adopted, never deleted", () => {
    const ns = run.resources.filter((r) => r.inputs.kind === "Namespace" || r.type.includes("Namespace"));
    expect(ns.length).toBeGreaterThan(3);
    expect(ns.filter((r) => r.type !== "kubernetes:core/v1:NamespacePatch")).toEqual([]);
  });
});
