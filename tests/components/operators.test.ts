import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseConfig } from "../../components/config/schema";
import {
  APPROVER_SCRIPT,
  buildInstallPlanApprover,
  buildOperatorManifests,
  operatorSpec,
} from "../../components/operators";
import { RecordedResource, RunResult, runProgram } from "../../scripts/plan/mock-runner";

const operators = (raw: Record<string, unknown>) =>
  parseConfig({ models: [{ name: "m1", s3Prefix: "m1" }], operators: raw }).operators;
const kindOf = (r: RecordedResource) => r.type.split(":").pop();
const CLI = `registry.example.com/openshift/cli@sha256:${"c".repeat(64)}`;

describe("buildInstallPlanApprover", () => {
  test("Automatic approval needs no approver", () => {
    expect(buildInstallPlanApprover(operatorSpec("openshiftAi"), operators({}).openshiftAi, CLI)).toBeUndefined();
  });

  test("Manual with a starting CSV: a Job allowed to read the Subscription and approve InstallPlans", () => {
    const cfg = operators({
      rhbk: { installPlanApproval: "Manual", startingCSV: "rhbk-operator.v24.0.6-opr.1", installTimeoutMinutes: 7 },
    }).rhbk;
    const approver = buildInstallPlanApprover(operatorSpec("rhbk", "keycloak"), cfg, CLI)!;
    const manifests = [approver.serviceAccount, approver.role, approver.roleBinding, approver.job] as any[];
    expect(manifests.map((m) => m.kind)).toEqual(["ServiceAccount", "Role", "RoleBinding", "Job"]);
    for (const m of manifests)
      expect(m.metadata).toMatchObject({ name: "rhbk-operator-installplan-approver", namespace: "keycloak" });
    const [, role, binding, job] = manifests;
    expect(role.rules).toEqual([
      { apiGroups: ["operators.coreos.com"], resources: ["installplans"], verbs: ["get", "list", "patch"] },
      {
        apiGroups: ["operators.coreos.com"],
        resources: ["subscriptions"],
        resourceNames: ["rhbk-operator"],
        verbs: ["get"],
      },
    ]);
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: job.metadata.name, namespace: "keycloak" }]);
    expect(binding.roleRef.name).toBe(role.metadata.name);
    const pod = job.spec.template.spec;
    expect(pod.serviceAccountName).toBe(job.metadata.name);
    expect(pod.restartPolicy).toBe("Never");
    expect(job.spec.activeDeadlineSeconds).toBe(7 * 60);
    const [container] = pod.containers;
    expect(container.image).toBe(CLI);
    expect(container.command).toEqual(["/bin/sh", "-c", APPROVER_SCRIPT]);
    expect(Object.fromEntries(container.env.map((e: any) => [e.name, e.value]))).toMatchObject({
      NAMESPACE: "keycloak",
      SUBSCRIPTION: "rhbk-operator",
      STARTING_CSV: "rhbk-operator.v24.0.6-opr.1",
    });
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, runAsNonRoot: true });
  });

  test("Manual without a starting CSV is refused, naming the config key", () => {
    const cfg = operators({ threescale: { installPlanApproval: "Manual" } }).threescale;
    expect(() => buildInstallPlanApprover(operatorSpec("threescale", "3scale"), cfg, CLI)).toThrow(
      /^maas:operators\.threescale\.startingCSV: required when installPlanApproval is Manual.*e\.g\. "3scale-operator\./,
    );
  });
});

/**
 * The approver script run for real by `sh`, with `oc` and `sleep` replaced by stand-ins that serve a fake
 * Subscription/InstallPlan from files and record every call. `sleep` advances a step counter; a file `step-<n>`
 * (shell) changes the cluster at that step, and after `maxSteps` it stops the script like activeDeadlineSeconds would.
 */
function runApprover(opts: {
  installed?: string;
  plan?: string;
  planCsvs?: string;
  steps?: Record<number, string>;
  maxSteps?: number;
}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "approver-"));
  const bin = path.join(dir, "bin");
  const state = path.join(dir, "state");
  fs.mkdirSync(bin);
  fs.mkdirSync(state);
  const write = (name: string, text: string | undefined) => {
    if (text !== undefined) fs.writeFileSync(path.join(state, name), text);
  };
  write("installed", opts.installed);
  write("plan", opts.plan);
  write("plan-csvs", opts.planCsvs);
  for (const [n, script] of Object.entries(opts.steps ?? {})) write(`step-${n}`, script);
  fs.writeFileSync(
    path.join(bin, "oc"),
    `#!/bin/sh
echo "$*" >> "$STATE/calls"
case "$*" in
  "get subscriptions.operators.coreos.com/$SUBSCRIPTION -n $NAMESPACE -o jsonpath={.status.installedCSV}") cat "$STATE/installed" 2>/dev/null ;;
  "get subscriptions.operators.coreos.com/$SUBSCRIPTION -n $NAMESPACE -o jsonpath={.status.installPlanRef.name}") cat "$STATE/plan" 2>/dev/null ;;
  "get installplans.operators.coreos.com/"*" -n $NAMESPACE -o jsonpath={.spec.clusterServiceVersionNames[*]}") cat "$STATE/plan-csvs" ;;
  "patch installplans.operators.coreos.com/"*" -n $NAMESPACE --type merge -p "*) echo "$*" > "$STATE/approved" ;;
  *) echo "fake oc: unexpected call: $*" >&2; exit 1 ;;
esac
`,
    { mode: 0o755 },
  );
  fs.writeFileSync(
    path.join(bin, "sleep"),
    `#!/bin/sh
n=$(( $(cat "$STATE/steps" 2>/dev/null || echo 0) + 1 ))
echo "$n" > "$STATE/steps"
[ -f "$STATE/step-$n" ] && . "$STATE/step-$n"
[ "$n" -lt ${opts.maxSteps ?? 5} ] || kill "$PPID"
exit 0
`,
    { mode: 0o755 },
  );
  const run = spawnSync("/bin/sh", ["-c", APPROVER_SCRIPT], {
    env: {
      PATH: `${bin}:${process.env.PATH}`,
      STATE: state,
      NAMESPACE: "redhat-ods-operator",
      SUBSCRIPTION: "rhods-operator",
      STARTING_CSV: "rhods-operator.2.16.2",
    },
    encoding: "utf8",
    timeout: 20_000,
  });
  const read = (name: string) =>
    fs.existsSync(path.join(state, name)) ? fs.readFileSync(path.join(state, name), "utf8") : undefined;
  const result = {
    status: run.status,
    signal: run.signal,
    stdout: run.stdout,
    approved: read("approved"),
    calls: read("calls"),
  };
  fs.rmSync(dir, { recursive: true, force: true });
  return result;
}

describe("approver script", () => {
  test("approves the InstallPlan that installs the starting CSV, once it is referenced", () => {
    const r = runApprover({
      steps: { 2: `echo install-rhods-1 > "$STATE/plan"; echo "rhods-operator.2.16.2" > "$STATE/plan-csvs"` },
    });
    expect(r.status).toBe(0);
    expect(r.approved).toBe(
      'patch installplans.operators.coreos.com/install-rhods-1 -n redhat-ods-operator --type merge -p {"spec":{"approved":true}}\n',
    );
    expect(r.stdout).toContain("approved InstallPlan install-rhods-1 (rhods-operator.2.16.2)");
    // Waiting is reported once, not at every poll.
    expect(r.stdout.match(/waiting for rhods-operator to reference an InstallPlan/g)).toHaveLength(1);
  });

  test("approves a plan that installs the starting CSV together with others", () => {
    const r = runApprover({ plan: "install-abc", planCsvs: "dependency.v1.0.0 rhods-operator.2.16.2" });
    expect(r.status).toBe(0);
    expect(r.approved).toContain("installplans.operators.coreos.com/install-abc");
  });

  test("never approves another CSV (an upgrade), and keeps waiting until stopped", () => {
    const r = runApprover({ plan: "install-upgrade", planCsvs: "rhods-operator.2.16.20", maxSteps: 3 });
    expect(r.approved).toBeUndefined();
    expect(r.signal ?? r.status).not.toBe(0);
    expect(
      r.stdout.match(
        /InstallPlan install-upgrade installs 'rhods-operator\.2\.16\.20', not rhods-operator\.2\.16\.2: not approving it/g,
      ),
    ).toHaveLength(1);
  });

  test("an installed CSV means nothing to approve: exits at once without touching InstallPlans", () => {
    const r = runApprover({ installed: "rhods-operator.2.16.2", plan: "install-x", planCsvs: "rhods-operator.2.16.2" });
    expect(r.status).toBe(0);
    expect(r.approved).toBeUndefined();
    expect(r.calls).not.toContain("installplans");
  });
});

describe("approver in the program", () => {
  const runs: Record<string, RunResult> = {};
  beforeAll(async () => {
    runs.dev = await runProgram({ stack: "dev" });
    runs.prod = await runProgram({ stack: "prod" });
  });
  const approverObjects = (run: RunResult) =>
    run.resources.filter((r) => !r.read && String(r.inputs.metadata?.name).endsWith("-installplan-approver"));

  test("dev (all Automatic) has no approver", () => {
    expect(approverObjects(runs.dev)).toEqual([]);
  });

  test("prod: only OpenShift AI (Manual + startingCSV) gets one, gating its CSV wait but not its Subscription", () => {
    const run = runs.prod;
    const objects = approverObjects(run);
    expect(objects.map((r) => `${kindOf(r)} ${r.inputs.metadata.namespace}`).sort()).toEqual([
      "Job redhat-ods-operator",
      "Role redhat-ods-operator",
      "RoleBinding redhat-ods-operator",
      "ServiceAccount redhat-ods-operator",
    ]);
    const job = objects.find((r) => kindOf(r) === "Job")!;
    const env = job.inputs.spec.template.spec.containers[0].env;
    expect(env).toContainEqual({ name: "STARTING_CSV", value: "rhods-operator.2.25.10" });
    const csvGate = run.resources.find(
      (r) => kindOf(r) === "ClusterServiceVersionPatch" && r.name.includes("-rhods-"),
    )!;
    expect(csvGate.dependencies).toContain(job.urn);
    // The Subscription's own wait (installedCSV) ends only after approval: it must not wait for the Job.
    const subscription = run.resources.find(
      (r) => kindOf(r) === "Subscription" && r.inputs.metadata.name === "rhods-operator",
    )!;
    expect(subscription.dependencies).not.toContain(job.urn);
    const binding = objects.find((r) => kindOf(r) === "RoleBinding")!;
    expect(job.dependencies).toContain(binding.urn);
  });
});

test("operators: none OperatorGroup in openshift-operators, OwnNamespace targets its namespace", () => {
  const mesh = buildOperatorManifests(operatorSpec("serviceMesh"), operators({}).serviceMesh);
  expect(mesh.namespace).toBeUndefined();
  expect(mesh.operatorGroup).toBeUndefined();
  const ts = buildOperatorManifests(operatorSpec("threescale", "apis"), operators({}).threescale);
  expect(ts.operatorGroup?.spec).toEqual({ targetNamespaces: ["apis"] });
  expect(ts.subscription.metadata.namespace).toBe(ts.operatorGroup?.metadata.namespace);
  const rhoai = buildOperatorManifests(operatorSpec("openshiftAi"), operators({}).openshiftAi);
  expect((rhoai.subscription.spec as any).config.env).toEqual([{ name: "DISABLE_DSC_CONFIG", value: "true" }]);
});
