/**
 * The S3 client and the ModelWeights provider against tests/support/s3-sigv4-server.py, an S3 stand-in that checks
 * every request's Signature Version 4 with botocore (AWS's own signer) and each body against x-amz-content-sha256.
 * The provider runs as the host runs it (re-loaded from its serialized text), and once through the real
 * dynamic-provider host over gRPC: multipart upload byte for byte, a no-op run without a PUT, one changed file = one
 * PUT, a removed file's object deleted, retries of 5xx answers, a partial failure recorded, refresh and repair of an
 * object deleted behind the resource's back, delete of exactly its own keys, and no credential in the provider text,
 * errors or host logs.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as readline from "readline";
import { S3Client, type S3ClientOptions, type S3Connection } from "../../../dynamic-providers/s3/client";
import {
  type ModelWeightsInputs,
  ModelWeightsProvider,
  type WeightFile,
} from "../../../dynamic-providers/s3/model-weights";
import { rejectionOf, serialize, startHost, urnOf } from "../support";

const S3_SERVER = path.resolve(__dirname, "../../support/s3-sigv4-server.py");
const BUCKET = "models";
const ACCESS_KEY = "AKIDWEIGHTS7Q2M";
const SECRET_KEY = "weights-secret-3f9a1c5e7b";
const FAST: S3ClientOptions = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20, timeoutMs: 20_000 };
const MiB = 1024 * 1024;

interface S3State {
  objects: Record<string, { size: number; sha256: string; etag: string }>;
  uploads: Array<{ bucket: string; key: string }>;
  requests: Array<{ method: string; bucket: string; key: string; query: Record<string, string>; status: number; code?: string }>; // prettier-ignore
}

let server: ChildProcess;
let url: string;
let dir: string;

/** A Python that can import botocore (the stand-in's signer): missing → the suite fails, naming the package. */
function python(): string {
  if (spawnSync("python3", ["-c", "import botocore.auth"], { stdio: "ignore" }).status === 0) return "python3";
  throw new Error("python3 with botocore is required: apt-get install python3-botocore");
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "weights-s3-"));
  server = spawn(
    python(),
    [S3_SERVER, "--bucket", BUCKET, "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, "--region", "us-east-1"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let errors = "";
  server.stderr!.on("data", (c: Buffer) => (errors += c.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    readline.createInterface({ input: server.stdout! }).once("line", (line) => resolve(JSON.parse(line).port));
    server.once("exit", (code) => reject(new Error(`s3-sigv4-server.py exited ${code}: ${errors}`)));
  });
  url = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  if (server && server.exitCode === null) {
    const exited = new Promise((resolve) => server.once("exit", resolve));
    server.kill();
    await exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

const state = async (): Promise<S3State> => (await fetch(`${url}/_test/state`)).json() as Promise<S3State>;
const objectsUnder = async (prefix: string) =>
  Object.fromEntries(Object.entries((await state()).objects).filter(([k]) => k.startsWith(`${BUCKET}/${prefix}/`)));
/** Requests from index `from` on, about keys under `prefix`. */
async function requestsSince(from: number, prefix: string) {
  return (await state()).requests.slice(from).filter((r) => r.key.startsWith(`${prefix}/`));
}
const requestCount = async () => (await state()).requests.length;
const seed = (key: string, body: string) =>
  fetch(`${url}/_test/seed?bucket=${BUCKET}&key=${encodeURIComponent(key)}`, { method: "POST", body });
const failNext = (method: string, key: string, status: number, count: number) =>
  fetch(`${url}/_test/fail?method=${method}&key=${encodeURIComponent(key)}&status=${status}&count=${count}`, {
    method: "POST",
  });

const sha256 = (data: Buffer | string) => crypto.createHash("sha256").update(data).digest("hex");

/** Writes `files` (relative path → content) under a fresh model directory; returns the `files` input. */
function model(name: string, files: Record<string, Buffer | string>): Record<string, WeightFile> {
  const root = path.join(dir, name);
  const out: Record<string, WeightFile> = {};
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
    const stat = fs.statSync(p);
    out[rel] = { path: p, size: stat.size, sha256: sha256(content), mtimeMs: stat.mtimeMs };
  }
  return out;
}

function inputs(prefix: string, files: Record<string, WeightFile>, secret = SECRET_KEY): ModelWeightsInputs {
  return {
    endpoint: url,
    region: "us-east-1",
    bucket: BUCKET,
    prefix,
    insecure: false,
    credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: secret },
    configKey: "maas:models[0].localPath",
    files,
  };
}

/** The provider as the host has it: re-loaded from its serialized text, with test client options. */
async function loaded(options: S3ClientOptions = FAST): Promise<ModelWeightsProvider> {
  const { text, provider } = await serialize(new ModelWeightsProvider());
  expect(text).not.toContain(SECRET_KEY);
  expect(text).not.toContain(ACCESS_KEY);
  (provider as ModelWeightsProvider).clientOptions = options;
  return provider as ModelWeightsProvider;
}

const connection = (): S3Connection => ({
  endpoint: url,
  region: "us-east-1",
  bucket: BUCKET,
  accessKeyId: ACCESS_KEY,
  secretAccessKey: SECRET_KEY,
});

describe("S3 client (SigV4 checked by botocore)", () => {
  test("a file over one part goes up in 64 MiB parts and arrives byte for byte", async () => {
    const big = crypto.randomBytes(64 * MiB + 3 * MiB + 17);
    const files = model("multipart", { "model.safetensors": big });
    const client = new S3Client(connection(), FAST);
    const from = await requestCount();
    await client.putFile("multipart/model.safetensors", files["model.safetensors"]);
    const object = (await state()).objects[`${BUCKET}/multipart/model.safetensors`];
    expect(object).toMatchObject({ size: big.length, sha256: sha256(big) });
    expect(object.etag).toMatch(/-2"$/); // two parts
    const requests = (await requestsSince(from, "multipart")).map((r) => `${r.method} ${Object.keys(r.query).sort()}`);
    expect(requests).toEqual(["POST uploads", "PUT partNumber,uploadId", "PUT partNumber,uploadId", "POST uploadId"]);
    expect((await state()).uploads).toEqual([]);
    await client.delete("multipart/model.safetensors"); // the stand-in hashes every object for each state query
  });

  test("keys with spaces and non-ASCII characters are signed as S3 canonicalises them", async () => {
    const files = model("odd", { "sub dir/tökenizer (1).json": "{}" });
    const client = new S3Client(connection(), FAST);
    await client.putFile("odd/sub dir/tökenizer (1).json", files["sub dir/tökenizer (1).json"]);
    expect(await client.head("odd/sub dir/tökenizer (1).json")).toMatchObject({ size: 2 });
    await client.delete("odd/sub dir/tökenizer (1).json");
    expect(await client.head("odd/sub dir/tökenizer (1).json")).toBeUndefined();
  });

  test("5xx answers are retried with backoff; a wrong secret fails at once without leaking a credential", async () => {
    const files = model("retry", { "a.bin": "aaaa" });
    await failNext("PUT", "retry/a.bin", 503, 2);
    const client = new S3Client(connection(), FAST);
    await client.putFile("retry/a.bin", files["a.bin"]);
    const puts = (await state()).requests.filter((r) => r.key === "retry/a.bin" && r.method === "PUT");
    expect(puts.map((r) => r.status)).toEqual([503, 503, 200]);

    const wrong = new S3Client({ ...connection(), secretAccessKey: "not-the-secret-4e1d" }, FAST);
    const err = await rejectionOf(wrong.putFile("retry/a.bin", files["a.bin"]));
    expect(err.message).toMatch(/S3 PutObject retry\/a\.bin failed with HTTP 403: SignatureDoesNotMatch/);
    expect(err.message).not.toContain(ACCESS_KEY);
    expect(err.message).not.toContain("not-the-secret-4e1d");
  });

  test("a file rewritten since it was hashed is refused, not uploaded", async () => {
    const files = model("stale", { "a.bin": "version 1" });
    fs.writeFileSync(files["a.bin"].path, "version 2!");
    const err = await rejectionOf(new S3Client(connection(), FAST).putFile("stale/a.bin", files["a.bin"]));
    expect(err.message).toMatch(/changed since it was hashed/);
    expect(await objectsUnder("stale")).toEqual({});
  });
});

describe("ModelWeights provider (serialized, as the host loads it)", () => {
  test("create, no-op, one file changed, one removed, delete: exactly the needed requests", async () => {
    const provider = await loaded();
    const weights = crypto.randomBytes(64 * MiB + MiB);
    let files = model("granite", {
      "config.json": '{"a":1}',
      "model.safetensors": weights,
      "tokenizer/tokenizer.json": "{}",
      "empty.txt": "",
    });
    await seed("granite/README.foreign", "not ours");
    await seed("other/config.json", "someone else's");

    // create: all four files, the large one in parts
    const created = await provider.create(inputs("granite", files));
    expect(created.id).toBe(`s3://${BUCKET}/granite/`);
    const stored = await objectsUnder("granite");
    expect(stored["models/granite/model.safetensors"]).toMatchObject({ size: weights.length, sha256: sha256(weights) }); // prettier-ignore
    expect(stored["models/granite/config.json"].sha256).toBe(sha256('{"a":1}'));
    expect(stored["models/granite/empty.txt"].size).toBe(0);
    expect(Object.keys(created.outs.files)).toEqual(["config.json", "empty.txt", "model.safetensors", "tokenizer/tokenizer.json"]); // prettier-ignore

    // no-op: diff says nothing changed after HEADs only; the engine then calls nothing else
    let from = await requestCount();
    expect(await provider.diff(created.id, created.outs, inputs("granite", files))).toEqual({
      changes: false,
      replaces: [],
    });
    expect((await requestsSince(from, "granite")).map((r) => r.method)).toEqual(["HEAD", "HEAD", "HEAD", "HEAD"]);

    // one file changed: one PUT (and HEADs)
    const changed = model("granite", { "config.json": '{"a":2}' });
    files = { ...files, ...changed };
    expect((await provider.diff(created.id, created.outs, inputs("granite", files))).changes).toBe(true);
    from = await requestCount();
    const updated = await provider.update(created.id, created.outs, inputs("granite", files));
    const writes = (await requestsSince(from, "granite")).filter((r) => r.method !== "HEAD");
    expect(writes.map((r) => `${r.method} ${r.key}`)).toEqual(["PUT granite/config.json"]);
    expect((await objectsUnder("granite"))["models/granite/config.json"].sha256).toBe(sha256('{"a":2}'));

    // one file removed from the directory: its object is deleted, nothing is uploaded
    const { ["tokenizer/tokenizer.json"]: removed, ...rest } = files;
    fs.rmSync(removed.path);
    from = await requestCount();
    const pruned = await provider.update(created.id, updated.outs!, inputs("granite", rest));
    const prunedWrites = (await requestsSince(from, "granite")).filter((r) => r.method !== "HEAD");
    expect(prunedWrites.map((r) => `${r.method} ${r.key}`)).toEqual(["DELETE granite/tokenizer/tokenizer.json"]);
    expect(Object.keys(pruned.outs!.files)).toEqual(["config.json", "empty.txt", "model.safetensors"]);

    // delete: exactly its keys; the foreign objects beside them and elsewhere survive
    await provider.delete(created.id, pruned.outs as ModelWeightsInputs);
    expect(Object.keys(await objectsUnder("granite"))).toEqual(["models/granite/README.foreign"]);
    expect((await state()).objects["models/other/config.json"]).toBeDefined();
  });

  test("an object deleted behind its back: refresh drops it, diff sees it, update puts back only it", async () => {
    const provider = await loaded();
    const files = model("repair", { "a.json": "a", "b.json": "b" });
    const created = await provider.create(inputs("repair", files));
    await new S3Client(connection(), FAST).delete("repair/b.json");

    const read = await provider.read(created.id, created.outs);
    expect(Object.keys(read.props!.files)).toEqual(["a.json"]);
    expect((await provider.diff(created.id, created.outs, inputs("repair", files))).changes).toBe(true);
    const from = await requestCount();
    await provider.update(created.id, created.outs, inputs("repair", files));
    const writes = (await requestsSince(from, "repair")).filter((r) => r.method !== "HEAD");
    expect(writes.map((r) => `${r.method} ${r.key}`)).toEqual(["PUT repair/b.json"]);
  });

  test("a failed upload records what reached the bucket (partial state) and names the config key", async () => {
    const provider = await loaded({ ...FAST, maxAttempts: 2 });
    const files = model("partial", { "ok.json": "ok", "bad.json": "bad" });
    await failNext("PUT", "partial/bad.json", 500, 2); // both attempts
    const err: any = await rejectionOf(provider.create(inputs("partial", files)));
    expect(err.message).toMatch(/maas:models\[0\]\.localPath: bad\.json: S3 PutObject partial\/bad\.json failed with HTTP 500/); // prettier-ignore
    expect(err.id).toBe(`s3://${BUCKET}/partial/`);
    expect(Object.keys(err.properties.files)).toEqual(["ok.json"]);
    expect(JSON.stringify(err.reasons)).not.toContain(SECRET_KEY);
    // The next up (an update from that state) uploads only the missing file.
    const from = await requestCount();
    await provider.update(err.id, err.properties, inputs("partial", files));
    const writes = (await requestsSince(from, "partial")).filter((r) => r.method === "PUT" && r.status === 200);
    expect(writes.map((r) => r.key)).toEqual(["partial/bad.json"]);
  });
});

describe("through the real dynamic-provider host (gRPC)", () => {
  test("create, update, delete; no credential in the provider text or the host's output", async () => {
    const { text } = await serialize(new ModelWeightsProvider());
    const host = await startHost();
    try {
      const urn = urnOf("pulumi-nodejs:dynamic/s3:ModelWeights", "host-weights");
      let files = model("host", { "config.json": "{}", "w.bin": crypto.randomBytes(4096) });
      const props = (f: Record<string, WeightFile>) => ({ ...inputs("host", f), __provider: text });
      const checked = await host.check(urn, props(files));
      expect(checked.failures).toEqual([]);
      const created = await host.create(urn, props(files));
      expect(Object.keys(await objectsUnder("host")).sort()).toEqual(["models/host/config.json", "models/host/w.bin"]);
      const diff = await host.diff(urn, created.id, created.properties, props(files));
      expect(diff.changes).toBe("none");
      files = { ...files, ...model("host", { "config.json": '{"x":1}' }) };
      const updated = await host.update(urn, created.id, created.properties, props(files));
      expect((await objectsUnder("host"))["models/host/config.json"].sha256).toBe(sha256('{"x":1}'));
      // A file that vanished fails check, naming the stack config key.
      fs.rmSync(files["w.bin"].path);
      const vanished = await host.check(urn, props(files));
      expect(vanished.failures[0].reason).toMatch(/^maas:models\[0\]\.localPath: w\.bin .* no longer exists/);
      await host.delete(urn, created.id, updated);
      expect(await objectsUnder("host")).toEqual({});
      // A failing call reports S3's error without a credential either.
      const wrong = { ...inputs("host", {}), credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: "wrong-9c1e" } };
      const failed = await rejectionOf(
        host.create(urn, {
          ...wrong,
          files: model("host2", { "x.json": "{}" }),
          __provider: text,
        }),
      );
      expect(failed.message).toMatch(
        /localPath: x\.json: S3 HeadObject host\/x\.json failed with HTTP 403: .*check the access key/,
      );
      for (const output of [host.logs(), failed.message, text]) {
        expect(output).not.toContain(SECRET_KEY);
        expect(output).not.toContain(ACCESS_KEY);
        expect(output).not.toContain("wrong-9c1e");
      }
    } finally {
      await host.close();
    }
  });
});
