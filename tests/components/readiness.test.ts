/**
 * Every wait the program renders ends when the real controller of the selected release reports ready, and not
 * before: each `pulumi.com/waitFor` of both stacks, and of a stack per supported release combination, is evaluated
 * (as pulumi-kubernetes does, tests/support/wait-for.ts) against the ready status of components/readiness.ts and
 * against the statuses written before ready.
 */
import type { ReleaseSet } from "../../components/config/releases";
import { decodeStackConfig, validateConfig } from "../../components/config/validate";
import { type ReadyKind, readyState } from "../../components/readiness";
import { type RecordedResource, runProgram } from "../../scripts/plan/mock-runner";
import { stackConfig, stackFilePath } from "../../scripts/plan/stack-config";
import { parseWaitFor, waitSatisfied } from "../support/wait-for";

const WAIT_FOR = "pulumi.com/waitFor";
const COMBINATIONS: ReleaseSet[] = [
  { openshiftAi: "2.16", threescale: "2.15", sso: "rhsso" },
  { openshiftAi: "2.25", threescale: "2.16", sso: "rhbk" },
  { openshiftAi: "2.16", threescale: "2.16", sso: "rhbk" },
  { openshiftAi: "2.25", threescale: "2.15", sso: "rhsso" },
];

/** The kind whose ready state a rendered object waits for (a `*Patch` waits for the object it patches). */
function readyKindOf(r: RecordedResource): ReadyKind {
  const kind = String(r.inputs.kind ?? r.type.split(":").pop()).replace(/Patch$/, "");
  return kind as ReadyKind;
}

const object = (status: Record<string, unknown>, generation = 3, annotations?: Record<string, string>) => ({
  metadata: { generation, ...(annotations ? { annotations } : {}) },
  status,
});

function releasesOf(stack: string, config: Record<string, unknown>): ReleaseSet {
  const { values } = stackConfig(stack, stackFilePath(stack), { config });
  const result = validateConfig(decodeStackConfig(values).raw);
  if (!result.ok) throw new Error(JSON.stringify(result.problems));
  return result.config.releases;
}

const withReleases = (r: ReleaseSet) => ({
  openshiftAi: { release: r.openshiftAi },
  threescale: { release: r.threescale },
  sso: r.sso === "rhsso" ? { flavor: "rhsso", namespace: "rh-sso", instanceName: "rh-sso" } : { flavor: "rhbk" },
});

const KINDS: ReadyKind[] = [
  "Job",
  "Subscription",
  "ClusterServiceVersion",
  "CustomResourceDefinition",
  "DSCInitialization",
  "DataScienceCluster",
  "InferenceService",
  "APIManager",
  "CustomPolicyDefinition",
  "Keycloak",
  "KeycloakRealm",
  "KeycloakRealmImport",
  "NodeFeatureDiscovery",
  "ClusterPolicy",
  "StorageCluster",
];

describe("the ready table agrees with itself", () => {
  test.each(COMBINATIONS.flatMap((r) => KINDS.map((k) => [k, r] as const)))(
    "%s (%j): the ready status ends the wait, every earlier status does not",
    (kind, releases) => {
      const state = readyState(kind, releases);
      expect(waitSatisfied(state.waitFor, object(state.ready({ name: "x", generation: 3 })))).toBe(true);
      for (const before of state.notReady)
        expect(waitSatisfied(state.waitFor, object(before({ name: "x", generation: 3 })))).toBe(false);
    },
  );

  test("the waits of 0.1 would hang on the real statuses (what this table fixes)", () => {
    const r216: ReleaseSet = { openshiftAi: "2.16", threescale: "2.15", sso: "rhsso" };
    const r225: ReleaseSet = { openshiftAi: "2.25", threescale: "2.16", sso: "rhbk" };
    const dsc216 = readyState("DataScienceCluster", r216).ready({ name: "default-dsc", generation: 1 });
    expect(waitSatisfied(["condition=Ready"], object(dsc216, 1))).toBe(false);
    const dsci225 = readyState("DSCInitialization", r225).ready({ name: "default-dsci", generation: 1 });
    expect(waitSatisfied(["condition=Ready"], object(dsci225, 1))).toBe(false);
    // 2.16 reports phase Ready with a failed KServe: the phase alone would pass a broken cluster.
    const broken = readyState("DataScienceCluster", r216).notReady[1]({ name: "default-dsc", generation: 1 });
    expect(waitSatisfied(["jsonpath={.status.phase}=Ready"], object(broken, 1))).toBe(true);
  });

  test("the generation gate: a condition observed for an older generation does not count", () => {
    const state = readyState("Keycloak", { openshiftAi: "2.25", threescale: "2.16", sso: "rhbk" });
    expect(waitSatisfied(state.waitFor, object(state.ready({ name: "k", generation: 2 }), 3))).toBe(false);
  });
});

const STACKS: Array<[string, Record<string, unknown>]> = [
  ["dev", {}],
  ["prod", {}],
  ...COMBINATIONS.map((r): [string, Record<string, unknown>] => ["dev", withReleases(r)]),
];

describe.each(STACKS)("stack %s %j", (stack, config) => {
  let waits: RecordedResource[];
  let releases: ReleaseSet;
  beforeAll(async () => {
    releases = releasesOf(stack, config);
    const run = await runProgram({ stack, config, preview: true });
    waits = run.resources.filter((r) => !r.read && r.inputs.metadata?.annotations?.[WAIT_FOR] !== undefined);
  });

  test("every rendered wait is one the ready table knows, and the ready status satisfies it", () => {
    expect(waits.length).toBeGreaterThan(10);
    const failures: string[] = [];
    for (const r of waits) {
      const kind = readyKindOf(r);
      if (!KINDS.includes(kind)) {
        failures.push(`${r.name}: ${kind} has a wait but no entry in components/readiness.ts`);
        continue;
      }
      const expressions = parseWaitFor(r.inputs.metadata.annotations[WAIT_FOR]);
      const state = readyState(kind, releases);
      const ready = state.ready({ name: r.inputs.metadata.name ?? r.name, generation: 1 });
      // The live object carries what the program applied (a readiness patch waits for its own annotations too).
      const applied = r.inputs.metadata.annotations as Record<string, string>;
      if (!waitSatisfied(expressions, object(ready, 1, applied)))
        failures.push(`${r.name}: ${JSON.stringify(expressions)} is not satisfied by the ${kind} ready status`);
      for (const before of state.notReady)
        if (waitSatisfied(expressions, object(before({ name: r.name, generation: 1 }), 1, applied)))
          failures.push(`${r.name}: ${JSON.stringify(expressions)} ends before ${kind} is ready`);
    }
    expect(failures).toEqual([]);
  });
});
