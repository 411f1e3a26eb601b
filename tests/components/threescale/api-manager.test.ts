/** The APIManager of each 3scale release, and the databases 3scale 2.16 needs outside it. */
import { buildApiManager, systemStorageS3Values } from "../../../components/threescale/api-manager";
import { databaseSecretValues } from "../../../components/threescale/databases";
import { type RunResult, runProgram } from "../../../scripts/plan/mock-runner";
import { customResourceOf, loadCrds } from "../../support/crd-validate";

const inputs = (threescale: "2.15" | "2.16") => ({
  releases: { openshiftAi: "2.25" as const, threescale, sso: "rhbk" as const },
  namespace: "3scale",
  tenantName: "maas",
  wildcardDomain: "apps.example.com",
  systemStorage: { kind: "pvc" as const, storageClassName: "nfs" },
  apicastReplicas: 1,
  readyTimeoutMinutes: 30,
  policy: { name: "llm_metrics", version: "1.0.0", secretName: "llm-metrics-abc" },
});

test("2.16 declares its system database and both Redis external (the operator refuses to install otherwise)", () => {
  expect((buildApiManager(inputs("2.16")).spec as any).externalComponents).toEqual({
    backend: { redis: true },
    system: { database: true, redis: true },
  });
  expect((buildApiManager(inputs("2.15")).spec as any).externalComponents).toBeUndefined();
});

test("the database Secrets carry the keys 3scale's operator guide names", () => {
  const v = databaseSecretValues("3scale", "pw-mysql", "pw-redis");
  expect(Object.keys(v["system-database"]).sort()).toEqual(["DB_PASSWORD", "DB_USER", "URL"]);
  expect(v["system-database"].URL).toBe("mysql2://root:pw-mysql@maas-system-mysql.3scale.svc:3306/system");
  expect(v["backend-redis"]).toEqual({
    REDIS_STORAGE_URL: "redis://:pw-redis@maas-redis.3scale.svc:6379/0",
    REDIS_QUEUES_URL: "redis://:pw-redis@maas-redis.3scale.svc:6379/1",
  });
  expect(v["system-redis"]).toEqual({ URL: "redis://:pw-redis@maas-redis.3scale.svc:6379/2" });
});

test("S3 system storage: protocol and host:port from the endpoint, path style", () => {
  const s3 = { region: "r", bucket: "b", accessKeyId: "k", secretAccessKey: "s" };
  expect(systemStorageS3Values({ ...s3, endpoint: "https://s3.example.com" })).toMatchObject({
    AWS_PROTOCOL: "https",
    AWS_HOSTNAME: "s3.example.com",
  });
  expect(systemStorageS3Values({ ...s3, endpoint: "http://minio.ns.svc.cluster.local:9000" })).toMatchObject({
    AWS_PROTOCOL: "http",
    AWS_HOSTNAME: "minio.ns.svc.cluster.local:9000",
    AWS_PATH_STYLE: "true",
  });
});

describe("prod (3scale 2.16)", () => {
  let run: RunResult;
  beforeAll(async () => {
    run = await runProgram({ stack: "prod", preview: true });
  });

  test("MySQL, Redis and their Secrets come before the APIManager, which validates against the 2.16 CRD", () => {
    const apiManager = run.byType("kubernetes:apps.3scale.net/v1alpha1:APIManager")[0];
    const names = (urns: string[]) =>
      run.resources.filter((r) => urns.includes(r.urn)).map((r) => r.inputs.metadata?.name);
    expect(names(apiManager.dependencies)).toEqual(
      expect.arrayContaining(["maas-system-mysql", "maas-redis", "system-database", "backend-redis", "system-redis"]),
    );
    const cr = customResourceOf(apiManager.type, apiManager.inputs)!;
    expect(loadCrds({ threescale: "2.16" }).validate(cr.object as any, cr.patch)).toEqual([]);
  });

  test("every policy chain waits for the CustomPolicyDefinition", () => {
    const definition = run.byType("kubernetes:capabilities.3scale.net/v1beta1:CustomPolicyDefinition")[0];
    const chains = run.byType("pulumi-nodejs:dynamic/threescale:PolicyChain");
    // One per model and one for the all-models endpoint.
    expect(chains.length).toBe(4);
    for (const chain of chains) expect(chain.dependencies).toContain(definition.urn);
  });
});
