/**
 * Local weights, program side: the `files` map ModelWeights gets (paths, sizes, sha256 from the hash cache), one
 * ModelWeights per model with plain inputs (no Pulumi asset, so the engine hashes nothing) and secret credentials,
 * and a plan of an unchanged model that reads no weight file at all.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as crypto from "crypto";
import { HashCache, listModelFiles, weightFiles } from "../../../components/models/weights";
import { type RunResult, runProgram } from "../../../scripts/plan/mock-runner";

const WEIGHTS = "pulumi-nodejs:dynamic/s3:ModelWeights";
const ISVC = "kubernetes:serving.kserve.io/v1beta1:InferenceService";
const sha = (text: string) => crypto.createHash("sha256").update(text).digest("hex");

let root: string;
let modelDir: string;
const savedCache = process.env.MAAS_CACHE;

beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "weights-upload-"));
  modelDir = path.join(root, "granite");
  fs.mkdirSync(path.join(modelDir, ".git"), { recursive: true });
  fs.mkdirSync(path.join(modelDir, "tok"));
  fs.writeFileSync(path.join(modelDir, ".git", "HEAD"), "ref");
  fs.writeFileSync(path.join(modelDir, "config.json"), '{"a":1}');
  fs.writeFileSync(path.join(modelDir, "model.safetensors"), "weights");
  fs.writeFileSync(path.join(modelDir, "tok", "vocab.json"), "{}");
  // The program's hash cache (a HashCache() without a file) goes here, not to the user's ~/.cache.
  process.env.MAAS_CACHE = path.join(root, "cache");
});

afterAll(() => {
  if (savedCache === undefined) delete process.env.MAAS_CACHE;
  else process.env.MAAS_CACHE = savedCache;
  fs.rmSync(root, { recursive: true, force: true });
});

const plan = (models: unknown[], extra: Record<string, unknown> = {}) =>
  runProgram({ stack: "dev", config: { models, ...extra }, preview: true });

describe("the files map", () => {
  test("every visible file with path, size, sha256 and mtime; cached files are only stat'ed", async () => {
    const cache = new HashCache(path.join(root, "map-cache.json"));
    const files = await weightFiles(listModelFiles(modelDir, "k"), cache);
    expect(Object.keys(files)).toEqual(["config.json", "model.safetensors", "tok/vocab.json"]);
    expect(files["config.json"]).toEqual({
      path: path.join(modelDir, "config.json"),
      size: 7,
      sha256: sha('{"a":1}'),
      mtimeMs: fs.statSync(path.join(modelDir, "config.json")).mtimeMs,
    });
    expect(cache.hashed).toBe(3);
    const again = new HashCache(path.join(root, "map-cache.json"));
    expect(await weightFiles(listModelFiles(modelDir, "k"), again)).toEqual(files);
    expect(again.hashed).toBe(0);
  });
});

describe("in a plan", () => {
  let run: RunResult;
  beforeAll(async () => {
    run = await plan([{ name: "granite", localPath: modelDir }]);
  });

  test("one ModelWeights per model, plain data inputs, the MinIO route as endpoint", () => {
    const [weights, ...others] = run.byType(WEIGHTS);
    expect(others).toEqual([]);
    expect(weights.name).toBe("maas-model-granite-weights");
    expect(weights.inputs).toMatchObject({
      endpoint: "https://minio-s3-ai-models.apps.fixture.example.com",
      insecure: true, // the dev sandbox's tlsInsecureSkipVerify, as the aws provider had it
      region: "us-east-1",
      bucket: "models",
      prefix: "granite",
      configKey: "maas:models[0].localPath",
    });
    expect(Object.keys(weights.inputs.files)).toEqual(["config.json", "model.safetensors", "tok/vocab.json"]);
    expect(weights.inputs.files["model.safetensors"]).toMatchObject({ size: 7, sha256: sha("weights") });
    // No asset anywhere: the engine has nothing to hash.
    expect(JSON.stringify(weights.inputs)).not.toMatch(/"(asset|archive)"/);
    expect(run.resources.filter((r) => r.type.startsWith("aws:s3/bucketObject"))).toEqual([]);
  });

  test("credentials are secret inputs and outputs, never in the serialized provider", () => {
    const weights = run.get(WEIGHTS, "maas-model-granite-weights");
    expect(weights.secretInputKeys).toContain("credentials");
    expect(weights.secretOutputKeys).toContain("credentials");
    const { accessKeyId, secretAccessKey } = weights.inputs.credentials;
    expect(accessKeyId).toMatch(/^[0-9a-f]{16}$/);
    expect(weights.inputs.__provider).not.toContain(secretAccessKey);
    expect(weights.inputs.__provider).not.toContain(accessKeyId);
  });

  test("uploads wait for the bucket; the InferenceService waits for the uploads", () => {
    const weights = run.get(WEIGHTS, "maas-model-granite-weights");
    expect(weights.dependencies).toContain(run.get("aws:s3/bucket:Bucket", "maas-storage-bucket").urn);
    expect(run.byType(ISVC)[0].dependencies).toContain(weights.urn);
  });
});

test("a plan of a model whose hashes are cached reads no weight file", async () => {
  const dir = path.join(root, "cached");
  fs.mkdirSync(dir);
  for (const name of ["config.json", "model-00001.safetensors", "model-00002.safetensors"])
    fs.writeFileSync(path.join(dir, name), crypto.randomBytes(4096));
  const models = [{ name: "cached", localPath: dir }];
  await plan(models); // cold: hashes each file once, into $MAAS_CACHE

  const reads: string[] = [];
  const ours = (p: unknown) => typeof p === "string" && p.startsWith(dir);
  const watch = (module: any, name: string, label = name) => {
    const original = module[name];
    return jest.spyOn(module, name).mockImplementation(function (this: unknown, ...args: any[]) {
      if (ours(args[0])) reads.push(`${label} ${args[0]}`);
      return original.apply(this, args);
    });
  };
  // The module object itself (what `import * as fs` reads through), not this file's namespace copy of it.
  const nodeFs = require("fs");
  const spies = [
    ...["createReadStream", "readFileSync", "readFile", "openSync", "open"].map((name) => watch(nodeFs, name)),
    watch(nodeFs.promises, "open", "promises.open"),
    watch(nodeFs.promises, "readFile", "promises.readFile"),
  ];
  let duringPlan: string[];
  try {
    const warm = await plan(models);
    expect(Object.keys(warm.get(WEIGHTS, "maas-model-cached-weights").inputs.files)).toHaveLength(3);
    duringPlan = [...reads];
    // The spies do see reads: hashing a file opens it.
    await new HashCache(path.join(root, "probe-cache.json")).sha256(path.join(dir, "config.json"));
  } finally {
    spies.forEach((s) => s.mockRestore());
  }
  expect(duringPlan).toEqual([]);
  expect(reads).toContain(`createReadStream ${path.join(dir, "config.json")}`);
});

test("external S3: ModelWeights uploads to the external endpoint, with TLS verified and no @pulumi/aws at all", async () => {
  const run = await runProgram({
    stack: "dev",
    config: {
      models: [{ name: "granite", localPath: modelDir }],
      storage: { kind: "external", bucket: "weights", external: { endpoint: "https://s3.example.com", accessKeyId: "AKIAEXTERNAL01" } }, // prettier-ignore
    },
    secrets: { s3SecretAccessKey: "external-secret-value" },
    preview: true,
  });
  expect(run.get(WEIGHTS, "maas-model-granite-weights").inputs).toMatchObject({
    endpoint: "https://s3.example.com",
    insecure: false,
    bucket: "weights",
    credentials: { accessKeyId: "AKIAEXTERNAL01", secretAccessKey: "external-secret-value" },
  });
  expect(run.resources.filter((r) => r.type.startsWith("aws:") || r.type === "pulumi:providers:aws")).toEqual([]);
  expect(run.get(WEIGHTS, "maas-model-granite-weights").inputs.__provider).not.toContain("external-secret-value");
});

test("a missing directory fails the plan, naming the config key", async () => {
  const failed = plan([{ name: "granite", localPath: path.join(root, "nope") }]);
  await expect(failed).rejects.toThrow(/maas:models\[0\]\.localPath: ".*nope" is not a directory/);
});
