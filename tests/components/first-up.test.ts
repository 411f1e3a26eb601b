/**
 * What a first `pulumi up` on a real cluster depends on: S3 calls through the MinIO route with or without TLS
 * verification, images that are pinned (a plan always deploys the same bits), and an RWX class for 3scale.
 */
import { configSchema, isPinnedImage } from "../../components/config/schema";
import { IMAGESTREAM_TAG_IMAGES } from "../../components/kubernetes";
import { buildPostgresManifests } from "../../components/sso";
import { CEPHFS_STORAGE_CLASS, rwxStorageClass, s3ProviderArgs } from "../../components/storage";
import { RecordedResource, RunResult, runProgram } from "../../scripts/plan/mock-runner";

const config = (extra: Record<string, unknown> = {}) => configSchema.parse({ models: [{ name: "m1" }], ...extra });
const kindOf = (r: RecordedResource) => r.type.split(":").pop();
const minioProvider = (run: RunResult) => run.resources.find((r) => r.type === "pulumi:providers:aws")!;
/** Provider inputs reach the engine as strings for non-string values. */
const asBoolean = (v: unknown) => v === true || v === "true";

/** Every container image in a rendered object (pods, pod templates, CronJob templates, ServingRuntimes). */
function containerImages(value: unknown, where: string, out: Array<{ where: string; image: string }> = []) {
  if (Array.isArray(value)) value.forEach((v, i) => containerImages(v, `${where}[${i}]`, out));
  else if (value && typeof value === "object") {
    for (const [key, v] of Object.entries(value)) {
      if ((key === "containers" || key === "initContainers") && Array.isArray(v))
        v.forEach(
          (c, i) => typeof c?.image === "string" && out.push({ where: `${where}.${key}[${i}]`, image: c.image }),
        );
      containerImages(v, `${where}.${key}`, out);
    }
  }
  return out;
}

const runs: Record<string, RunResult> = {};
beforeAll(async () => {
  runs.dev = await runProgram({ stack: "dev" });
  runs.prod = await runProgram({ stack: "prod" });
});

describe("MinIO route TLS", () => {
  test("the S3 provider verifies TLS unless told otherwise", () => {
    expect(s3ProviderArgs("https://s3.example.com", "us-east-1").insecure).toBe(false);
    expect(s3ProviderArgs("https://s3.example.com", "us-east-1", true).insecure).toBe(true);
    expect(config().storage.minio.tlsInsecureSkipVerify).toBe(false);
  });

  test("prod keeps verification on; the dev sandbox (self-signed router certificate) skips it", () => {
    expect(asBoolean(minioProvider(runs.prod).inputs.insecure)).toBe(false);
    expect(asBoolean(minioProvider(runs.dev).inputs.insecure)).toBe(true);
    expect(minioProvider(runs.dev).inputs.endpoints).toContain("minio-s3-ai-models.apps.fixture.example.com");
  });
});

describe("pinned images", () => {
  test.each(["dev", "prod"])("%s: every container image is pinned; :latest only for ImageStream tags", (stack) => {
    const images = runs[stack].resources.filter((r) => !r.read).flatMap((r) => containerImages(r.inputs, r.name));
    // The walk reaches MinIO, the model runtime and the 3scale CronJob at least (and the DB and approver in prod).
    expect(images.length).toBeGreaterThanOrEqual(stack === "dev" ? 3 : 5);
    const latest = images.filter((i) => i.image.endsWith(":latest") && !IMAGESTREAM_TAG_IMAGES.includes(i.image));
    expect(latest).toEqual([]);
    const unpinned = images.filter((i) => !IMAGESTREAM_TAG_IMAGES.includes(i.image) && !isPinnedImage(i.image));
    expect(unpinned).toEqual([]);
    // The exception list holds only images the cluster itself serves from ImageStreams.
    for (const image of IMAGESTREAM_TAG_IMAGES)
      expect(image).toMatch(/^image-registry\.openshift-image-registry\.svc:5000\/openshift\/[a-z-]+:latest$/);
  });

  test("isPinnedImage: digests and specific tags yes; :latest, no tag, registry port only no", () => {
    expect(isPinnedImage("quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z")).toBe(true);
    expect(isPinnedImage(`registry.redhat.io/rhel9/postgresql-15@sha256:${"a".repeat(64)}`)).toBe(true);
    expect(isPinnedImage("registry.local:5000/team/vllm:0.8.5")).toBe(true);
    expect(isPinnedImage("registry.redhat.io/rhel9/postgresql-15:latest")).toBe(false);
    expect(isPinnedImage("registry.redhat.io/rhel9/postgresql-15")).toBe(false);
    expect(isPinnedImage("registry.local:5000/team/vllm")).toBe(false);
    expect(isPinnedImage("registry.redhat.io/rhel9/postgresql-15@sha256:short")).toBe(false);
  });

  test("the RHBK database image comes from sso.postgresImage (pinned by default)", async () => {
    const defaults = config({ sso: { flavor: "rhbk" } }).sso;
    expect(defaults.postgresImage).toMatch(/^registry\.redhat\.io\/rhel9\/postgresql-15@sha256:[0-9a-f]{64}$/);
    const statefulSet = buildPostgresManifests(defaults).find((m) => m.kind === "StatefulSet") as any;
    expect(statefulSet.spec.template.spec.containers[0].image).toBe(defaults.postgresImage);

    const custom = "registry.example.com/mirror/postgresql-15:1-77";
    const run = await runProgram({
      stack: "prod",
      config: { sso: { flavor: "rhbk", namespace: "keycloak", instanceName: "keycloak", postgresImage: custom } },
    });
    const db = run.resources.find(
      (r) => kindOf(r) === "StatefulSet" && r.inputs.metadata.name === "keycloak-postgresql",
    );
    expect(db?.inputs.spec.template.spec.containers[0].image).toBe(custom);
  });
});

describe("RWX storage class for 3scale", () => {
  test("explicit class wins; ODF's CephFS when ODF is deployed; otherwise a clear error", () => {
    expect(rwxStorageClass(config({ storage: { rwxStorageClass: "efs-sc" } }).storage)).toBe("efs-sc");
    expect(rwxStorageClass(config({ storage: { odf: { enabled: true } } }).storage)).toBe(CEPHFS_STORAGE_CLASS);
    expect(() => rwxStorageClass(config().storage)).toThrow(
      /^maas:storage\.rwxStorageClass: required when storage\.odf\.enabled is not true .*; e\.g\. "ocs-storagecluster-cephfs"$/,
    );
  });

  test("the APIManager's system storage uses the configured class", async () => {
    const run = await runProgram({ stack: "dev", config: { storage: { rwxStorageClass: "nfs-rwx" } } });
    const apim = run.resources.find((r) => kindOf(r) === "APIManager")!;
    expect(apim.inputs.spec.system.fileStorage.persistentVolumeClaim.storageClassName).toBe("nfs-rwx");
  });

  test("a stack without ODF and without a class fails before anything is created, naming the key", async () => {
    const error = await runProgram({ stack: "dev", config: { storage: { kind: "minio" } } }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain("maas:storage.rwxStorageClass: is required when storage.odf.enabled");
  });
});

describe("operator readiness gate", () => {
  test("each operator's CSV patch waits for Succeeded and its CRD patches for Established", () => {
    const run = runs.prod;
    const patches = run.resources.filter((r) => !r.read && kindOf(r)?.endsWith("Patch"));
    const csvGates = patches.filter((r) => kindOf(r) === "ClusterServiceVersionPatch");
    const subscriptions = run.resources.filter((r) => kindOf(r) === "Subscription");
    expect(csvGates).toHaveLength(subscriptions.length);
    for (const gate of csvGates) {
      const subscription = subscriptions.find((s) => gate.dependencies.includes(s.urn));
      expect(subscription).toBeDefined();
      // The fixture resolves each Subscription to a CSV; the gate patches exactly that one, in the same namespace.
      expect(gate.inputs.metadata.name).toBe(subscription!.outputs.status.installedCSV);
      expect(gate.inputs.metadata.namespace).toBe(subscription!.inputs.metadata.namespace);
      expect(gate.inputs.metadata.annotations["pulumi.com/waitFor"]).toBe("jsonpath={.status.phase}=Succeeded");
    }
    const crdGates = patches.filter((r) => kindOf(r) === "CustomResourceDefinitionPatch");
    expect(crdGates.map((r) => r.inputs.metadata.name)).toEqual(
      expect.arrayContaining(["apimanagers.apps.3scale.net", "datascienceclusters.datasciencecluster.opendatahub.io"]),
    );
    for (const gate of crdGates) {
      expect(gate.inputs.metadata.annotations["pulumi.com/waitFor"]).toBe("condition=Established");
      expect(csvGates.some((csv) => gate.dependencies.includes(csv.urn))).toBe(true);
    }
  });
});
