import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { buildScalePatch, cloneGpuMachineSet } from "../../components/capacity";
import { configSchema } from "../../components/config/schema";
import { inClusterUrl, listModelFiles } from "../../components/models/model-serving";
import { buildDsc, buildKnativeCertSecret, routerCertificateSecretName } from "../../components/openshift-ai";
import { buildOperatorManifests, operatorSpec } from "../../components/operators";
import { readPolicyBundle } from "../../components/threescale/server";
import { customResourceOf, loadCrds } from "../support/crd-validate";
import { fixtureMachineSet } from "../../scripts/plan/cluster-fixture";
import { runProgram } from "../../scripts/plan/mock-runner";

const config = (extra: Record<string, unknown> = {}) => configSchema.parse({ models: [{ name: "m1" }], ...extra });

test("operators: none OperatorGroup in openshift-operators, OwnNamespace targets its namespace", () => {
  const mesh = buildOperatorManifests(operatorSpec("serviceMesh"), config().operators.serviceMesh);
  expect(mesh.namespace).toBeUndefined();
  expect(mesh.operatorGroup).toBeUndefined();
  const ts = buildOperatorManifests(operatorSpec("threescale", "apis"), config().operators.threescale);
  expect(ts.operatorGroup?.spec).toEqual({ targetNamespaces: ["apis"] });
  expect(ts.subscription.metadata.namespace).toBe(ts.operatorGroup?.metadata.namespace);
  const rhoai = buildOperatorManifests(operatorSpec("openshiftAi"), config().operators.openshiftAi);
  expect((rhoai.subscription.spec as any).config.env).toEqual([{ name: "DISABLE_DSC_CONFIG", value: "true" }]);
});

test("Provided certificate: DSC references the copied secret; the copy needs tls.crt and tls.key", () => {
  const dsc = buildDsc(config({ openshiftAi: { ingressCertificate: "Provided" } })) as any;
  expect(dsc.spec.components.kserve.serving.ingressGateway.certificate).toEqual({
    type: "Provided",
    secretName: "knative-serving-cert",
  });
  expect(routerCertificateSecretName({ defaultCertificate: { name: "custom" } })).toBe("custom");
  expect(routerCertificateSecretName({})).toBe("router-certs-default");
  expect(() => buildKnativeCertSecret({ "tls.crt": "x" })).toThrow(/tls.key/);
});

test("Provided certificate through the program: copied secret is secret data in istio-system", async () => {
  const run = await runProgram({ stack: "dev", config: { openshiftAi: { ingressCertificate: "Provided" } } });
  const copy = run.resources.find((r) => !r.read && r.inputs.metadata?.name === "knative-serving-cert")!;
  expect(copy.inputs.metadata.namespace).toBe("istio-system");
  expect(copy.secretInputKeys).toContain("data");
  expect(run.resources.some((r) => r.read && r.id === "openshift-ingress/router-certs-default")).toBe(true);
});

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

test("models: RawDeployment and Serverless backend URLs; uploads skip hidden files", () => {
  const m = config().models[0];
  expect(inClusterUrl(m)).toBe("http://m1-predictor.m1.svc.cluster.local:8080");
  expect(inClusterUrl({ ...m, deploymentMode: "Serverless", namespace: "ns" })).toBe("http://m1.ns.svc.cluster.local");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-"));
  fs.mkdirSync(path.join(dir, ".git"));
  fs.writeFileSync(path.join(dir, ".git", "HEAD"), "x");
  fs.mkdirSync(path.join(dir, "tok"));
  fs.writeFileSync(path.join(dir, "tok", "vocab.json"), "{}");
  fs.writeFileSync(path.join(dir, "config.json"), "{}");
  expect(listModelFiles(dir, "k").map((f) => f.relativePath)).toEqual(["config.json", "tok/vocab.json"]);
  expect(() => listModelFiles(path.join(dir, "missing"), "maas:models[0].localPath")).toThrow(
    /maas:models\[0\]\.localPath/,
  );
  fs.rmSync(dir, { recursive: true });
});

test("policy bundle: every file, content-hashed secret name", () => {
  const b = readPolicyBundle();
  expect(Object.keys(b.files)).toContain("apicast-policy.json");
  expect(b.secretName).toMatch(/^llm-metrics-[0-9a-f]{8}$/);
});
