import { customResourceOf, loadCrds } from "../support/crd-validate";
import { FIXTURE_APPS_DOMAIN, FIXTURE_SECRETS } from "../../scripts/plan/cluster-fixture";
import { deleteOrder, RecordedResource, RunResult, runProgram } from "../../scripts/plan/mock-runner";

const crds = loadCrds();
const runs: Record<string, RunResult> = {};
beforeAll(async () => {
  runs.dev = await runProgram({ stack: "dev" });
  runs.prod = await runProgram({ stack: "prod" });
});

const kindOf = (r: RecordedResource) => r.type.split(":").pop();
const managed = (run: RunResult) => run.resources.filter((r) => !r.read && r.custom);
const find = (run: RunResult, kind: string, name: string) => {
  const hit = managed(run).find((r) => kindOf(r) === kind && r.inputs.metadata?.name === name);
  if (!hit) throw new Error(`no ${kind} ${name}`);
  return hit;
};
/** Position in a valid delete order: smaller = deleted earlier. */
const deletePosition = (run: RunResult) => {
  const order = deleteOrder(run.resources);
  return (r: RecordedResource) => order.findIndex((o) => o.urn === r.urn);
};
const deletedBefore = (run: RunResult, first: RecordedResource, then: RecordedResource) => {
  const pos = deletePosition(run);
  expect(pos(first)).toBeLessThan(pos(then));
};

describe.each(["dev", "prod"])("%s stack", (stack) => {
  test("every rendered custom resource validates against its upstream CRD", () => {
    const problems: string[] = [];
    for (const r of managed(runs[stack])) {
      const cr = customResourceOf(r.type, r.inputs);
      if (!cr) continue;
      problems.push(...crds.validate(cr.object as any, cr.patch).map((p) => `${r.name}: ${p}`));
    }
    expect(problems).toEqual([]);
  });

  test("every layer is present with its key objects", () => {
    const run = runs[stack];
    expect(find(run, "Subscription", "rhods-operator").inputs.spec.channel).toBe(
      stack === "dev" ? "stable-2.16" : "stable-2.25",
    );
    expect(find(run, "Subscription", "3scale-operator").inputs.metadata.namespace).toBe("3scale");
    expect(find(run, "DSCInitialization", "default-dsci").inputs.spec.serviceMesh.managementState).toBe("Managed");
    const dsc = find(run, "DataScienceCluster", "default-dsc").inputs.spec.components;
    expect(dsc.kserve.serving.ingressGateway.certificate.type).toBe("OpenshiftDefaultIngress");
    expect(dsc.dashboard.managementState).toBe("Managed");
    expect(dsc.workbenches.managementState).toBe("Removed");
    const apim = find(run, "APIManager", "apimanager").inputs;
    expect(apim.spec.wildcardDomain).toBe(stack === "dev" ? FIXTURE_APPS_DOMAIN : "apps.prod.example.com");
    expect(apim.spec.apicast.productionSpec.customPolicies[0]).toMatchObject({ name: "llm_metrics", version: "1.0.0" });
    const policySecret = apim.spec.apicast.productionSpec.customPolicies[0].secretRef.name;
    expect(policySecret).toMatch(/^llm-metrics-[0-9a-f]{8}$/);
    expect(find(run, "Secret", policySecret).inputs.metadata.labels).toEqual({
      "apimanager.apps.3scale.net/watched-by": "apimanager",
    });
    expect(
      find(run, "CustomPolicyDefinition", "llm-metrics").inputs.spec.schema.configuration.properties,
    ).toBeDefined();
    expect(find(run, "Route", "minio-s3").inputs.spec.tls.termination).toBe("edge");
    // dev keeps 3scale's system files in S3 (no RWX class), prod on ODF's CephFS.
    expect(run.byType("aws:s3/bucket:Bucket")).toHaveLength(stack === "dev" ? 2 : 1);
  });

  test("one namespace, data connection, runtime and InferenceService per model", () => {
    const run = runs[stack];
    const isvcs = managed(run).filter((r) => kindOf(r) === "InferenceService");
    const models = isvcs.map((r) => r.inputs.metadata.name).sort();
    for (const name of models) {
      const isvc = find(run, "InferenceService", name).inputs;
      expect(isvc.spec.predictor.model.storage.key).toBe(`aws-connection-${name}`);
      const conn = find(run, "Secret", `aws-connection-${name}`);
      expect(conn.inputs.metadata.annotations["opendatahub.io/connection-type-ref"]).toBe("s3");
      expect(conn.secretInputKeys).toContain("stringData");
      expect(find(run, "ServingRuntime", name).inputs.metadata.namespace).toBe(isvc.metadata.namespace);
    }
    expect(models.length).toBe(stack === "dev" ? 1 : 3);
  });

  test("teardown order: ISVC before DSC before DSCI, CRs before their operators, realm before Keycloak", () => {
    const run = runs[stack];
    const dsc = find(run, "DataScienceCluster", "default-dsc");
    const dsci = find(run, "DSCInitialization", "default-dsci");
    for (const isvc of managed(run).filter((r) => kindOf(r) === "InferenceService")) deletedBefore(run, isvc, dsc);
    deletedBefore(run, dsc, dsci);
    deletedBefore(run, dsci, find(run, "Subscription", "rhods-operator"));
    deletedBefore(run, dsc, find(run, "Subscription", "servicemeshoperator"));
    deletedBefore(run, find(run, "APIManager", "apimanager"), find(run, "Subscription", "3scale-operator"));
    deletedBefore(run, find(run, "CustomPolicyDefinition", "llm-metrics"), find(run, "APIManager", "apimanager"));
    const keycloakKind = stack === "dev" ? "KeycloakRealm" : "KeycloakRealmImport";
    const realm = managed(run).find((r) => kindOf(r) === keycloakKind)!;
    deletedBefore(
      run,
      realm,
      managed(run).find((r) => kindOf(r) === "Keycloak")!,
    );
    // Storage last: the bucket outlives the models' uploads and connections.
    const isvc = managed(run).find((r) => kindOf(r) === "InferenceService")!;
    deletedBefore(run, isvc, run.byType("aws:s3/bucket:Bucket")[0]);
  });

  test("shared objects are never deleted: no namespace or OperatorGroup in openshift-operators, CRDs retained", () => {
    const run = runs[stack];
    const inShared = managed(run).filter(
      (r) =>
        r.inputs.metadata?.namespace === "openshift-operators" &&
        kindOf(r) !== "Subscription" &&
        !kindOf(r)!.endsWith("Patch"),
    );
    expect(inShared).toEqual([]);
    expect(
      managed(run).some((r) => kindOf(r) === "Namespace" && r.inputs.metadata.name === "openshift-operators"),
    ).toBe(false);
  });

  test("no known secret value sits in a non-secret input", () => {
    const run = runs[stack];
    const known = new Set<string>(Object.values(FIXTURE_SECRETS));
    for (const r of run.resources) {
      if (r.type.startsWith("random:")) known.add(r.outputs.result);
    }
    const leaks: string[] = [];
    const walk = (v: unknown, where: string) => {
      if (typeof v === "string") {
        for (const s of known) if (v.includes(s) || v.includes(Buffer.from(s).toString("base64"))) leaks.push(where);
      } else if (v && typeof v === "object") for (const [k, x] of Object.entries(v)) walk(x, `${where}.${k}`);
    };
    for (const r of run.resources) {
      if (r.type.startsWith("random:")) continue;
      for (const [k, v] of Object.entries(r.inputs)) if (!r.secretInputKeys.includes(k)) walk(v, `${r.name}.${k}`);
    }
    expect(known.size).toBeGreaterThan(Object.keys(FIXTURE_SECRETS).length);
    expect(leaks).toEqual([]);
  });
});

test("prod: ODF labels three nodes, StorageCluster gates the APIManager, RHBK gets generated admin credentials", () => {
  const run = runs.prod;
  expect(run.byType("kubernetes:core/v1:NodePatch")).toHaveLength(3);
  deletedBefore(run, find(run, "APIManager", "apimanager"), find(run, "StorageCluster", "ocs-storagecluster"));
  expect(
    find(run, "APIManager", "apimanager").inputs.spec.system.fileStorage.persistentVolumeClaim.storageClassName,
  ).toBe("ocs-storagecluster-cephfs");
  // Nothing operator-generated is read back (a fresh cluster has none of it at preview).
  expect(run.resources.filter((r) => r.read && r.type === "kubernetes:core/v1:Secret")).toEqual([]);
  const admin = find(run, "Secret", "keycloak-bootstrap-admin");
  expect(admin.inputs.type).toBe("kubernetes.io/basic-auth");
  expect(admin.secretInputKeys).toContain("stringData");
  expect(find(run, "Keycloak", "keycloak").inputs.spec.bootstrapAdmin).toEqual({
    user: { secret: "keycloak-bootstrap-admin" },
  });
  expect(run.outputs.realmUrl).toBe("https://keycloak-keycloak.apps.prod.example.com/realms/maas");
});

test("a model added to the stack adds exactly its own resources", async () => {
  const source = { repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "7ae557604adf67be50417f59c2c2f167def9a775" };
  const extra = { name: "extra-model", huggingFace: source, gpus: 0, tolerations: [] };
  const models = [{ name: "qwen25-05b-instruct", huggingFace: source }, extra];
  const one = await runProgram({ stack: "dev", config: { models: models.slice(0, 1) } });
  const two = await runProgram({ stack: "dev", config: { models } });
  const urns = (r: RunResult) => new Set(r.resources.map((x) => x.urn));
  const added = [...urns(two)].filter((u) => !urns(one).has(u));
  const removed = [...urns(one)].filter((u) => !urns(two).has(u));
  expect(removed).toEqual([]);
  expect(added.length).toBeGreaterThan(0);
  // Every new resource belongs to the new model (its serving layer and its 3scale product).
  expect(added.filter((u) => !u.split("::").pop()!.includes("-extra-model"))).toEqual([]);
  expect(added.some((u) => u.includes("maas-model-extra-model-isvc"))).toBe(true);
  expect(two.outputs.modelEndpoints["extra-model"]).toBe(
    `https://extra-model-maas-apicast-production.${FIXTURE_APPS_DOMAIN}:443`,
  );
});
