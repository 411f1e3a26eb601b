/** Storage: the S3 buckets, 3scale's system storage choice, and what `destroy` may delete. */
import { parseConfig } from "../../components/config/schema";
import { rwxStorageClass, threescaleSystemStorage } from "../../components/storage";
import { runProgram } from "../../scripts/plan/mock-runner";

const storageOf = (storage: Record<string, unknown>) =>
  parseConfig({ models: [{ name: "m1", s3Prefix: "m1" }], storage: { kind: "external", ...storage } }).storage;

test("3scale's system storage: the RWX class when there is one, else S3", () => {
  expect(threescaleSystemStorage("auto", storageOf({}))).toBe("s3");
  expect(threescaleSystemStorage("auto", storageOf({ rwxStorageClass: "nfs" }))).toBe("pvc");
  expect(threescaleSystemStorage("auto", storageOf({ odf: { enabled: true } }))).toBe("pvc");
  expect(threescaleSystemStorage("s3", storageOf({ rwxStorageClass: "nfs" }))).toBe("s3");
  expect(rwxStorageClass(storageOf({ odf: { enabled: true } }))).toBe("ocs-storagecluster-cephfs");
  expect(rwxStorageClass(storageOf({}))).toBeUndefined();
});

test("dev (no RWX class): 3scale keeps its files in a MinIO bucket of its own, both buckets force-destroyed", async () => {
  const run = await runProgram({ stack: "dev", preview: true });
  const buckets = run.byType("aws:s3/bucket:Bucket").map((b) => [b.inputs.bucket, b.inputs.forceDestroy]);
  expect(buckets).toEqual([
    ["models", true],
    ["models-3scale", true],
  ]);
  const apiManager = run.byType("kubernetes:apps.3scale.net/v1alpha1:APIManager")[0];
  expect(apiManager.inputs.spec.system.fileStorage).toEqual({
    simpleStorageService: { configurationSecretRef: { name: "system-s3-storage" } },
  });
  const secret = run.resources.find((r) => r.inputs.metadata?.name === "system-s3-storage")!;
  expect(secret.secretInputKeys).toContain("stringData");
  expect(Object.keys(secret.inputs.stringData).sort()).toEqual([
    "AWS_ACCESS_KEY_ID",
    "AWS_BUCKET",
    "AWS_HOSTNAME",
    "AWS_PATH_STYLE",
    "AWS_PROTOCOL",
    "AWS_REGION",
    "AWS_SECRET_ACCESS_KEY",
  ]);
  expect(secret.inputs.stringData).toMatchObject({
    AWS_BUCKET: "models-3scale",
    AWS_PROTOCOL: "http",
    AWS_HOSTNAME: "minio.ai-models.svc.cluster.local:9000",
    AWS_PATH_STYLE: "true",
  });
});

test("prod (ODF): 3scale on the CephFS claim, a bucket that destroy never empties", async () => {
  const run = await runProgram({ stack: "prod", preview: true });
  expect(run.byType("aws:s3/bucket:Bucket").map((b) => [b.inputs.bucket, b.inputs.forceDestroy])).toEqual([
    ["models", false],
  ]);
  const apiManager = run.byType("kubernetes:apps.3scale.net/v1alpha1:APIManager")[0];
  expect(apiManager.inputs.spec.system.fileStorage).toEqual({
    persistentVolumeClaim: { storageClassName: "ocs-storagecluster-cephfs" },
  });
});

test("external S3 with downloaded weights needs no S3 resource of this program (no @pulumi/aws at all)", async () => {
  const run = await runProgram({
    stack: "dev",
    config: {
      storage: {
        kind: "external",
        bucket: "models",
        external: { endpoint: "https://s3.example.com", accessKeyId: "AKIA" },
      },
    },
    secrets: { s3SecretAccessKey: "secret-key-value" },
    preview: true,
  });
  expect(run.resources.filter((r) => r.type.startsWith("aws:") || r.type === "pulumi:providers:aws")).toEqual([]);
});
