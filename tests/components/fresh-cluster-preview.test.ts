/**
 * `pulumi preview` on a fresh cluster: reads run during preview, so the program may read only what every OpenShift
 * cluster has before `pulumi up`. The fixture cluster refuses any other read (scripts/plan/cluster-fixture.ts), as the
 * API server answers 404 for an object no operator has created yet.
 */
import * as k8s from "@pulumi/kubernetes";
import { ProgramError, runProgram } from "../../scripts/plan/mock-runner";

/** What a fresh cluster has: the ingress config, the default IngressController and its certificate, MachineSets. */
const PRE_EXISTING = [
  /^kubernetes:config\.openshift\.io\/v1:Ingress cluster$/,
  /^kubernetes:operator\.openshift\.io\/v1:IngressController openshift-ingress-operator\/default$/,
  /^kubernetes:core\/v1:Secret openshift-ingress\/[\w-]+$/,
  /^kubernetes:machine\.openshift\.io\/v1beta1:MachineSet openshift-machine-api\/[\w.-]+$/,
];

const VARIANTS: Array<[string, string, Record<string, unknown>]> = [
  ["dev", "as shipped", {}],
  ["prod", "as shipped", {}],
  ["dev", "RHBK", { sso: { flavor: "rhbk" } }],
  ["prod", "RH-SSO", { sso: { flavor: "rhsso", namespace: "rh-sso", instanceName: "rh-sso" } }],
  [
    "dev",
    "provided ingress certificate and a GPU MachineSet",
    {
      openshiftAi: { release: "2.16", ingressCertificate: "Provided" },
      capacity: { gpuMachineSet: { sourceMachineSet: "worker-a", name: "gpu-a", instanceType: "g5.2xlarge" } },
    },
  ],
];

test.each(VARIANTS)("stack %s (%s): preview reads only what a fresh cluster has", async (stack, _what, config) => {
  const run = await runProgram({ stack, config, preview: true });
  const reads = run.resources.filter((r) => r.read).map((r) => `${r.type} ${r.id}`);
  expect(reads.filter((read) => !PRE_EXISTING.some((p) => p.test(read)))).toEqual([]);
});

test("the fixture is a fresh cluster: reading an operator-generated Secret fails as on a real one", async () => {
  const failed = runProgram({
    stack: "dev",
    preview: true,
    program: () => ({ data: k8s.core.v1.Secret.get("admin", "keycloak/keycloak-initial-admin").data }),
  });
  await expect(failed).rejects.toThrow(ProgramError);
  await expect(failed).rejects.toThrow(/keycloak\/keycloak-initial-admin not found/);
});
