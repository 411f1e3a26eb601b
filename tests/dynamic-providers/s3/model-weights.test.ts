/**
 * The ModelWeights provider without a server: check (file shape, files gone from disk, credentials never echoed),
 * diff (what is a change, what replaces, what the HEAD check adds), the part size, request signing, and the
 * serialized provider (no credential, loads like the host loads it).
 */
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as https from "https";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { DEFAULT_S3_OPTIONS, S3Client, signRequest, uriEncode } from "../../../dynamic-providers/s3/client";
import {
  fileChanges,
  holds,
  type ModelWeightsInputs,
  ModelWeightsProvider,
  objectKey,
  type WeightFile,
} from "../../../dynamic-providers/s3/model-weights";
import { UNKNOWN } from "../../../dynamic-providers/threescale/unknown";
import { serialize } from "../support";

const sha = (text: string) => crypto.createHash("sha256").update(text).digest("hex");
const CREDENTIALS = { accessKeyId: "AKIDUNITTEST0001", secretAccessKey: "unit-test-secret-8d1f2b7c" };

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-weights-"));
  fs.writeFileSync(path.join(dir, "config.json"), "{}");
  fs.writeFileSync(path.join(dir, "model.safetensors"), "weights");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function file(name: string, content?: string): WeightFile {
  const p = path.join(dir, name);
  const text = content ?? fs.readFileSync(p, "utf8");
  return { path: p, size: Buffer.byteLength(text), sha256: sha(text) };
}

function inputs(extra: Partial<ModelWeightsInputs> = {}): ModelWeightsInputs {
  return {
    endpoint: "http://127.0.0.1:9",
    region: "us-east-1",
    bucket: "models",
    prefix: "granite",
    insecure: false,
    credentials: { ...CREDENTIALS },
    configKey: "maas:models[0].localPath",
    files: { "config.json": file("config.json"), "model.safetensors": file("model.safetensors") },
    ...extra,
  };
}

/** A provider whose HEAD check answers from a list instead of the network. */
class Offline extends ModelWeightsProvider {
  gone: string[] = [];
  headChecks = 0;
  protected async missing(_inputs: ModelWeightsInputs, rels: string[]): Promise<string[]> {
    this.headChecks++;
    return rels.filter((rel) => this.gone.includes(rel));
  }
}

describe("check", () => {
  const provider = new ModelWeightsProvider();

  test("valid inputs pass, unknown values (preview) are tolerated", async () => {
    expect((await provider.check({}, inputs())).failures ?? []).toEqual([]);
    const preview = { ...inputs(), endpoint: UNKNOWN, credentials: UNKNOWN as any, bucket: UNKNOWN };
    expect((await provider.check({}, preview)).failures ?? []).toEqual([]);
  });

  test("a file gone from the directory fails, naming the stack config key and the file", async () => {
    const gone = { ...inputs().files, "tokenizer.json": { ...file("config.json"), path: path.join(dir, "nope") } };
    const { failures } = await provider.check({}, inputs({ files: gone }));
    expect(failures).toHaveLength(1);
    expect(failures![0].property).toBe('files["tokenizer.json"]');
    expect(failures![0].reason).toMatch(/^maas:models\[0\]\.localPath: tokenizer\.json \(.*nope\) no longer exists/);
  });

  test("a file whose size moved since it was hashed fails", async () => {
    const changed = { "config.json": { ...file("config.json"), size: 99 } };
    const { failures } = await provider.check({}, inputs({ files: changed }));
    expect(failures![0].reason).toMatch(/maas:models\[0\]\.localPath: config\.json .*changed while planning/);
  });

  test("malformed inputs name the input and a right value, never the credentials", async () => {
    const bad = inputs({
      endpoint: "minio:9000",
      prefix: "/granite/",
      credentials: { accessKeyId: CREDENTIALS.accessKeyId, secretAccessKey: "" },
      files: { "../escape": file("config.json"), "x.bin": { path: "p", size: -1, sha256: "no" } as any },
    });
    const { failures } = await provider.check({}, bad);
    const by = Object.fromEntries(failures!.map((f) => [f.property, f.reason]));
    expect(by.endpoint).toMatch(/http\(s\) URL, e\.g\./);
    expect(by.prefix).toMatch(/must not start or end with "\/"/);
    expect(by["credentials.secretAccessKey"]).toMatch(/is required/);
    expect(by['files["../escape"]']).toMatch(/relative path inside the model directory/);
    expect(by['files["x.bin"]']).toMatch(/\{path, size \(bytes\), sha256/);
    expect(JSON.stringify(failures)).not.toContain(CREDENTIALS.accessKeyId);
  });
});

describe("diff", () => {
  test("same files, same objects: no change (after one HEAD check)", async () => {
    const provider = new Offline();
    const old = inputs();
    expect(await provider.diff("id", old, inputs())).toEqual({ changes: false, replaces: [] });
    expect(provider.headChecks).toBe(1);
  });

  test("rotated credentials or another local path for the same content are no change", async () => {
    const provider = new Offline();
    const moved = inputs();
    moved.files["config.json"] = { ...moved.files["config.json"], path: "/elsewhere/config.json", mtimeMs: 1 };
    const rotated = { ...moved, credentials: { accessKeyId: "AKIDNEW", secretAccessKey: "new" } };
    expect((await provider.diff("id", inputs(), rotated)).changes).toBe(false);
  });

  test("an added, changed or removed file is a change (no HEAD needed), never a replacement", async () => {
    const provider = new Offline();
    const changed = inputs();
    changed.files["config.json"] = file("config.json", '{"a":1}');
    const added = inputs();
    added.files["tokenizer.json"] = file("config.json");
    const removed = inputs();
    delete removed.files["model.safetensors"];
    for (const news of [changed, added, removed]) {
      expect(await provider.diff("id", inputs(), news)).toEqual({ changes: true, replaces: [] });
    }
    expect(provider.headChecks).toBe(0);
  });

  test("an object missing from the bucket is a change: the next up uploads it again", async () => {
    const provider = new Offline();
    provider.gone = ["model.safetensors"];
    expect(await provider.diff("id", inputs(), inputs())).toEqual({ changes: true, replaces: [] });
  });

  test("another bucket or prefix replaces (create first); only another endpoint deletes first (maybe same keys)", async () => {
    const provider = new Offline();
    expect(await provider.diff("id", inputs(), inputs({ prefix: "granite/v2" }))).toEqual({
      changes: true,
      replaces: ["prefix"],
      deleteBeforeReplace: false,
    });
    expect(await provider.diff("id", inputs(), inputs({ bucket: "other" }))).toMatchObject({
      replaces: ["bucket"],
      deleteBeforeReplace: false,
    });
    expect(await provider.diff("id", inputs(), inputs({ endpoint: "https://s3.example.com" }))).toMatchObject({
      replaces: ["endpoint"],
      deleteBeforeReplace: true,
    });
    expect((await provider.diff("id", inputs(), inputs({ endpoint: UNKNOWN }))).replaces).toEqual(["endpoint"]);
  });

  test("region or TLS setting changes are an update (what later calls sign with), files unknown too", async () => {
    const provider = new Offline();
    expect((await provider.diff("id", inputs(), inputs({ region: "eu-west-1" }))).changes).toBe(true);
    expect((await provider.diff("id", inputs(), inputs({ insecure: true }))).changes).toBe(true);
    expect((await provider.diff("id", inputs(), inputs({ files: UNKNOWN as any }))).changes).toBe(true);
  });

  test("an unreachable endpoint does not fail a preview: the HEAD check is skipped", async () => {
    const provider = new ModelWeightsProvider({ maxAttempts: 1, timeoutMs: 2_000 });
    expect(await provider.diff("id", inputs(), inputs())).toEqual({ changes: false, replaces: [] });
  });
});

test("fileChanges, holds and keys", () => {
  const a = { path: "a", size: 1, sha256: sha("a") };
  const b = { path: "b", size: 1, sha256: sha("b") };
  expect(fileChanges({ a, b }, { a, c: b })).toEqual({ changed: ["c"], removed: ["b"], kept: ["a"] });
  expect(fileChanges(undefined, { a })).toEqual({ changed: ["a"], removed: [], kept: [] });
  expect(holds({ size: 1 }, a)).toBe(true);
  expect(holds({ size: 1, sha256: sha("a") }, a)).toBe(true);
  expect(holds({ size: 1, sha256: sha("x") }, a)).toBe(false);
  expect(holds({ size: 2 }, a)).toBe(false);
  expect(holds(undefined, a)).toBe(false);
  expect(objectKey("granite/v1", "sub/x.json")).toBe("granite/v1/sub/x.json");
});

test("parts of 64 MiB, grown so that no file needs more than 10,000", () => {
  const MiB = 1024 * 1024;
  expect(DEFAULT_S3_OPTIONS.partSize).toBe(64 * MiB);
  const client = new S3Client({ endpoint: "http://s3", region: "r", bucket: "b", ...CREDENTIALS });
  expect(client.partSizeFor(16 * 1024 ** 3)).toBe(64 * MiB);
  expect(client.partSizeFor(10_000 * 64 * MiB)).toBe(64 * MiB);
  const huge = 10_000 * 64 * MiB + 1;
  expect(client.partSizeFor(huge)).toBe(65 * MiB);
  expect(Math.ceil(huge / client.partSizeFor(huge))).toBeLessThanOrEqual(10_000);
  expect(new S3Client({ endpoint: "http://s3", region: "r", bucket: "b", ...CREDENTIALS }, { partSize: 1 }).partSizeFor(10 * MiB)).toBe(5 * MiB); // prettier-ignore
});

test("signing: path-style canonical URI, sorted query, every x-amz header signed", () => {
  expect(uriEncode("a b/ü~*.json", true)).toBe("a%20b/%C3%BC~%2A.json");
  expect(uriEncode("a/b", false)).toBe("a%2Fb");
  const signed = signRequest(
    { endpoint: "https://minio.example.com:9443", region: "us-east-1", bucket: "models", ...CREDENTIALS },
    "PUT",
    "granite/model 1.bin",
    { uploadId: "u/1", partNumber: "2" },
    { "x-amz-meta-sha256": "abc" },
    "UNSIGNED-PAYLOAD",
    new Date("2025-01-02T03:04:05.678Z"),
  );
  expect(signed.url).toBe("https://minio.example.com:9443/models/granite/model%201.bin?partNumber=2&uploadId=u%2F1");
  expect(signed.headers["x-amz-date"]).toBe("20250102T030405Z");
  expect(signed.headers.host).toBe("minio.example.com:9443");
  expect(signed.headers.authorization).toMatch(
    /^AWS4-HMAC-SHA256 Credential=AKIDUNITTEST0001\/20250102\/us-east-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-meta-sha256, Signature=[0-9a-f]{64}$/,
  );
  expect(JSON.stringify(signed)).not.toContain(CREDENTIALS.secretAccessKey);
});

test("TLS: a self-signed endpoint is refused (not retried) unless `insecure`, as the aws provider had it", async () => {
  const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "s3-tls-"));
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", path.join(tlsDir, "key.pem"), "-out", path.join(tlsDir, "cert.pem"),
  ], { stdio: "ignore" }); // prettier-ignore
  let requests = 0;
  const server = https.createServer(
    { key: fs.readFileSync(path.join(tlsDir, "key.pem")), cert: fs.readFileSync(path.join(tlsDir, "cert.pem")) },
    (_req, res) => {
      requests++;
      res.writeHead(404).end();
    },
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const connection = { endpoint, region: "us-east-1", bucket: "models", ...CREDENTIALS };
    const strict = new S3Client(connection, { maxAttempts: 3, baseDelayMs: 1 });
    await expect(strict.head("granite/config.json")).rejects.toThrow(/SELF_SIGNED|self.signed/i);
    expect(strict.counts.HeadObject).toBe(1);
    expect(requests).toBe(0);
    const insecure = new S3Client({ ...connection, insecure: true }, { maxAttempts: 3, baseDelayMs: 1 });
    expect(await insecure.head("granite/config.json")).toBeUndefined();
    expect(requests).toBe(1);
  } finally {
    server.close();
    fs.rmSync(tlsDir, { recursive: true, force: true });
  }
});

test("the serialized provider holds no credential and loads like the host loads it", async () => {
  const { text, provider } = await serialize(new ModelWeightsProvider());
  expect(text).not.toContain(CREDENTIALS.secretAccessKey);
  expect(text).not.toMatch(/require\("\.\.?\//); // everything captured by value: the host has no project paths
  expect((await provider.check({}, inputs())).failures ?? []).toEqual([]);
  expect(await (provider as ModelWeightsProvider).diff("id", inputs(), inputs({ prefix: "x" }))).toMatchObject({
    replaces: ["prefix"],
  });
});
