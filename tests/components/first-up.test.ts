/**
 * What a first `pulumi up` on a real cluster depends on: S3 calls through the MinIO route with or without TLS
 * verification, and images that are pinned (a plan always deploys the same bits) and come from a registry every
 * cluster reaches (never the internal image registry, absent on bare metal, vSphere UPI and single-node clusters).
 */
import { isPinnedImage, parseConfig } from "../../components/config/schema";
import { buildPostgresManifests } from "../../components/sso";
import { s3ProviderArgs } from "../../components/storage";
import { RecordedResource, RunResult, runProgram } from "../../scripts/plan/mock-runner";

const config = (extra: Record<string, unknown> = {}) =>
  parseConfig({ models: [{ name: "m1", s3Prefix: "m1" }], ...extra });
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
  test.each(["dev", "prod"])("%s: every container image is pinned, none from the internal registry", (stack) => {
    const images = runs[stack].resources.filter((r) => !r.read).flatMap((r) => containerImages(r.inputs, r.name));
    // The walk reaches MinIO, the model runtime, the download and the 3scale CronJob at least (and more in prod).
    expect(images.length).toBeGreaterThanOrEqual(stack === "dev" ? 4 : 8);
    expect(images.filter((i) => !isPinnedImage(i.image))).toEqual([]);
    expect(images.filter((i) => i.image.includes("image-registry.openshift-image-registry.svc"))).toEqual([]);
    // Every Job and CronJob running `oc` takes the configured CLI image.
    const cli = config().cluster.cliImage;
    expect(images.filter((i) => i.image.includes("ose-cli")).every((i) => i.image === cli)).toBe(true);
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
    const { statefulSet } = buildPostgresManifests(defaults) as any;
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
