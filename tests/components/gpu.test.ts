/**
 * The GPU layer: NFD and the NVIDIA GPU Operator through OLM (certified catalog) with their instances, or an existing
 * installation; the capacity check Job (its script run for real by `sh` against a stand-in `oc`); model serving waits
 * for both.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildGpuCapacityCheck, GPU_CAPACITY_SCRIPT, requiredGpus } from "../../components/gpu";
import { type RecordedResource, type RunResult, runProgram } from "../../scripts/plan/mock-runner";
import { customResourceOf, loadCrds } from "../support/crd-validate";

/** Runs the capacity script; `nodes[n]` is what `oc get nodes` prints at poll n (allocatable GPUs, one per line). */
function runCapacityCheck(required: number, nodes: string[]) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "gpu-check-"));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  nodes.forEach((text, i) => fs.writeFileSync(path.join(dir, `nodes-${i}`), text));
  fs.writeFileSync(
    path.join(bin, "oc"),
    `#!/bin/sh
echo "$*" >> "$STATE/calls"
n=$(cat "$STATE/steps" 2>/dev/null || echo 0)
[ "$*" = "get nodes -o jsonpath={range .items[*]}{.status.allocatable.nvidia\\.com/gpu}{\\"\\\\n\\"}{end}" ] || { echo "unexpected: $*" >&2; exit 1; }
cat "$STATE/nodes-$n" 2>/dev/null || cat "$STATE/nodes-${nodes.length - 1}"
`,
    { mode: 0o755 },
  );
  fs.writeFileSync(
    path.join(bin, "sleep"),
    `#!/bin/sh
n=$(( $(cat "$STATE/steps" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$STATE/steps"
[ "$n" -lt 6 ] || kill "$PPID"
exit 0
`,
    { mode: 0o755 },
  );
  const run = spawnSync("/bin/sh", ["-c", GPU_CAPACITY_SCRIPT], {
    env: { PATH: `${bin}:${process.env.PATH}`, STATE: dir, REQUIRED: String(required) },
    encoding: "utf8",
    timeout: 20_000,
  });
  const calls = fs.existsSync(path.join(dir, "calls")) ? fs.readFileSync(path.join(dir, "calls"), "utf8") : "";
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr, calls };
}

describe("capacity check script", () => {
  test("waits until the nodes advertise enough GPUs, logging each change once", () => {
    const r = runCapacityCheck(3, ["", "", "1\n\n", "1\n\n", "1\n2\n"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("the cluster advertises 3 allocatable nvidia.com/gpu; the models need 3");
    expect(r.stdout.match(/waiting for allocatable nvidia.com\/gpu: 0 of 3/g)).toHaveLength(1);
    expect(r.stdout.match(/waiting for allocatable nvidia.com\/gpu: 1 of 3/g)).toHaveLength(1);
  });

  test("never ends while the GPUs are missing (activeDeadlineSeconds stops it)", () => {
    const r = runCapacityCheck(2, ["1\n"]);
    expect(r.signal ?? r.status).not.toBe(0);
    expect(r.stdout).not.toContain("the cluster advertises");
  });
});

test("required GPUs: every model at its minimum replicas", () => {
  expect(
    requiredGpus([
      { gpus: 1, minReplicas: 2 },
      { gpus: 2, minReplicas: 1 },
      { gpus: 4, minReplicas: 0 },
    ]),
  ).toBe(4);
  const check = buildGpuCapacityCheck(4, "registry.example.com/cli@sha256:" + "a".repeat(64), 10);
  expect(check.job.metadata).toMatchObject({ name: "maas-gpu-capacity-4", namespace: "nvidia-gpu-operator" });
  expect(check.clusterRole.rules).toEqual([{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"] }]);
});

describe("in the program", () => {
  const runs: Record<string, RunResult> = {};
  beforeAll(async () => {
    runs.install = await runProgram({ stack: "prod", preview: true });
    runs.existing = await runProgram({ stack: "prod", config: { gpu: { operators: "existing" } }, preview: true });
  });
  const kind = (r: RecordedResource) => r.type.split(":").pop();
  const gpuLayer = (run: RunResult) => run.resources.filter((r) => r.urn.includes("maas:gpu:GpuEnablement"));

  test("installs NFD (redhat-operators) and the GPU operator (certified-operators) with schema-valid instances", () => {
    const subs = gpuLayer(runs.install).filter((r) => kind(r) === "Subscription");
    expect(subs.map((s) => [s.inputs.spec.name, s.inputs.spec.source, s.inputs.metadata.namespace]).sort()).toEqual([
      ["gpu-operator-certified", "certified-operators", "nvidia-gpu-operator"],
      ["nfd", "redhat-operators", "openshift-nfd"],
    ]);
    const crds = loadCrds();
    for (const r of gpuLayer(runs.install).filter((x) =>
      ["NodeFeatureDiscovery", "ClusterPolicy"].includes(kind(x)!),
    )) {
      const cr = customResourceOf(r.type, r.inputs)!;
      expect(crds.validate(cr.object as any, cr.patch)).toEqual([]);
    }
  });

  test("with existing operators only the capacity check remains; every InferenceService waits for it", () => {
    expect(gpuLayer(runs.existing).filter((r) => kind(r) === "Subscription")).toEqual([]);
    for (const run of Object.values(runs)) {
      const job = gpuLayer(run).find((r) => kind(r) === "Job")!;
      expect(job.inputs.metadata.name).toBe("maas-gpu-capacity-3");
      for (const isvc of run.byType("kubernetes:serving.kserve.io/v1beta1:InferenceService"))
        expect(isvc.dependencies).toContain(job.urn);
    }
  });

  test("a stack of CPU-only models has no GPU layer", async () => {
    const run = await runProgram({
      stack: "dev",
      config: {
        models: [
          {
            name: "cpu-model",
            gpus: 0,
            tolerations: [],
            huggingFace: { repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "7ae557604adf67be50417f59c2c2f167def9a775" },
          },
        ],
      },
      preview: true,
    });
    expect(gpuLayer(run)).toEqual([]);
  });
});
