import { buildScalePatch, cloneGpuMachineSet } from "../../components/capacity";
import { fixtureMachineSet } from "../../scripts/plan/cluster-fixture";
import { runProgram } from "../../scripts/plan/mock-runner";
import { customResourceOf, loadCrds } from "../support/crd-validate";

test("capacity: scale patch and GPU clone validate; clone has new selector, instance type and GPU taint", () => {
  const crds = loadCrds();
  const clone = cloneGpuMachineSet(fixtureMachineSet("worker-a"), {
    sourceMachineSet: "worker-a",
    name: "gpu-a",
    instanceType: "g5.2xlarge",
    replicas: 1,
    taintGpu: true,
  }) as any;
  expect(crds.validate(clone)).toEqual([]);
  expect(crds.validate(buildScalePatch("worker-a", 3), true)).toEqual([]);
  expect(clone.spec.selector.matchLabels["machine.openshift.io/cluster-api-machineset"]).toBe("gpu-a");
  expect(clone.spec.template.metadata.labels["machine.openshift.io/cluster-api-machineset"]).toBe("gpu-a");
  expect(clone.spec.template.spec.providerSpec.value.instanceType).toBe("g5.2xlarge");
  expect(clone.spec.template.spec.taints).toEqual([{ key: "nvidia.com/gpu", effect: "NoSchedule" }]);
  expect(() => cloneGpuMachineSet({ spec: {} }, { sourceMachineSet: "x" } as any)).toThrow(/sourceMachineSet/);
});

test("capacity through the program: a scale patch and a clone created from the read source, both schema-valid", async () => {
  const run = await runProgram({
    stack: "dev",
    config: {
      capacity: {
        machineSets: [{ name: "worker-a", replicas: 3 }],
        gpuMachineSet: { sourceMachineSet: "worker-a", name: "gpu-a", instanceType: "g5.2xlarge" },
      },
    },
  });
  const crds = loadCrds();
  const ms = run.resources.filter((r) => !r.read && r.type.includes("machine.openshift.io"));
  expect(ms.map((r) => r.type).sort()).toEqual([
    "kubernetes:machine.openshift.io/v1beta1:MachineSet",
    "kubernetes:machine.openshift.io/v1beta1:MachineSetPatch",
  ]);
  for (const r of ms) {
    const cr = customResourceOf(r.type, r.inputs)!;
    expect(crds.validate(cr.object as any, cr.patch)).toEqual([]);
  }
});

describe("the GPU clone names the machine type where each cloud keeps it", () => {
  const cfg = { sourceMachineSet: "w", name: "gpu", instanceType: "big-gpu", replicas: 1, taintGpu: true };
  const withProvider = (value: Record<string, unknown>) => {
    const source = fixtureMachineSet("w");
    source.spec.template.spec.providerSpec.value = value as any;
    return source;
  };

  test.each([
    ["AWSMachineProviderConfig", "instanceType"],
    ["AzureMachineProviderSpec", "vmSize"],
    ["GCPMachineProviderSpec", "machineType"],
  ])("%s: %s", (kind, field) => {
    const clone = cloneGpuMachineSet(withProvider({ kind, [field]: "small" }), cfg) as any;
    expect(clone.spec.template.spec.providerSpec.value[field]).toBe("big-gpu");
    expect(Object.keys(clone.spec.template.spec.providerSpec.value).sort()).toEqual([field, "kind"].sort());
  });

  test("other platforms are refused, naming the config key", () => {
    expect(() => cloneGpuMachineSet(withProvider({ kind: "VSphereMachineProviderSpec", numCPUs: 8 }), cfg)).toThrow(
      /^maas:capacity\.gpuMachineSet\.sourceMachineSet: MachineSet "w" has a VSphereMachineProviderSpec provider spec; a GPU MachineSet can be cloned on AWS, Azure and GCP only/,
    );
  });
});
