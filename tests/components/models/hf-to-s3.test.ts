/**
 * assets/model-download/hf_to_s3.py, run for real (`python3`, as the download Job runs it) against:
 * - tests/support/fake-hub.ts: the Hub's model-info and resolve endpoints, a CDN on another port for LFS files that
 *   refuses any request carrying Authorization, gated and missing repositories answered as the Hub answers them;
 * - tests/support/s3-sigv4-server.py: an S3 stand-in that recomputes every request's SigV4 signature with botocore
 *   (Debian package python3-botocore) and refuses a mismatch with 403 SignatureDoesNotMatch, as S3 does.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as crypto from "crypto";
import * as path from "path";
import * as readline from "readline";
import { DOWNLOAD_PERMANENT_EXIT_CODE, DOWNLOAD_SCRIPT } from "../../../components/models/weights";
import { FakeHub, type FakeFile } from "../../support/fake-hub";

const S3_SERVER = path.resolve(__dirname, "../../support/s3-sigv4-server.py");
const BUCKET = "models";
const ACCESS_KEY = "AKIAMAASTEST";
const SECRET_KEY = "maas/test+secret";
const REGION = "eu-central-1";
const PART = 5 * 1024 * 1024; // S3's smallest part: the test's multipart files span a few of them
const TOKEN = "hf_valid_token";
const NO_ACCESS_TOKEN = "hf_valid_but_not_authorized";

const commit = (seed: string) => crypto.createHash("sha1").update(seed).digest("hex");
const bytes = (n: number, seed: string) => {
  // Deterministic, incompressible content.
  const out = Buffer.alloc(n);
  let block = crypto.createHash("sha256").update(seed).digest();
  for (let i = 0; i < n; i += block.length) {
    block.copy(out, i);
    block = crypto.createHash("sha256").update(block).digest();
  }
  return out;
};
const sha256 = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

const WEIRD = "tokenizer dir/ünïcødé + (1) [x]&=,;'@!$~%20#?.json";
const MODEL_FILES: FakeFile[] = [
  { name: "config.json", content: Buffer.from(JSON.stringify({ architectures: ["Qwen2ForCausalLM"] })) },
  { name: "model.safetensors", content: bytes(2 * PART + 12345, "weights"), lfs: true },
  { name: "tokenizer.json", content: bytes(200 * 1024, "tokenizer") },
  { name: WEIRD, content: Buffer.from('{"weird": true}') },
  { name: "日本語/モデル 1.bin", content: bytes(300 * 1024, "unicode-lfs"), lfs: true },
  { name: "empty.txt", content: Buffer.alloc(0) },
];

const RESUME_FILES: FakeFile[] = [
  { name: "a.json", content: bytes(1000, "a") },
  { name: "b.safetensors", content: bytes(2 * PART + 7, "b"), lfs: true },
  { name: "c.json", content: bytes(3000, "c") },
  { name: "d.safetensors", content: bytes(PART + 99, "d"), lfs: true },
];
const GATED_FILES: FakeFile[] = [
  { name: "config.json", content: Buffer.from("{}") },
  { name: "model.safetensors", content: bytes(64 * 1024, "gated"), lfs: true },
];

/** A Python that can import botocore: the S3 stand-in's signer. Missing → the suite fails (not skips), naming it. */
function pythonWithBotocore(): string {
  const candidates = [...new Set(["python3", "/usr/bin/python3"])];
  for (const python of candidates) {
    if (spawnSync(python, ["-c", "import botocore.auth"], { stdio: "ignore" }).status === 0) return python;
  }
  throw new Error(
    `botocore is missing (tried ${candidates.join(", ")}): the S3 stand-in verifies SigV4 with it. ` +
      "Install the Debian package python3-botocore (bash scripts/install-system-deps.sh, or apt-get install python3-botocore).",
  );
}

interface S3State {
  objects: Record<string, { size: number; sha256: string; etag: string }>;
  uploads: Array<{ bucket: string; key: string }>;
  requests: Array<{
    method: string;
    bucket: string;
    key: string;
    query: Record<string, string>;
    status: number;
    code?: string;
  }>;
}

let s3: ChildProcess;
let s3Url = "";
let hub: FakeHub;

async function s3State(): Promise<S3State> {
  return (await fetch(`${s3Url}/_test/state`)).json() as Promise<S3State>;
}

async function s3Object(key: string): Promise<Buffer> {
  const res = await fetch(`${s3Url}/_test/object?bucket=${BUCKET}&key=${encodeURIComponent(key)}`);
  if (res.status !== 200) throw new Error(`no object ${key}`);
  return Buffer.from(await res.arrayBuffer());
}

interface Run {
  status: number | null;
  output: string;
  stderr: string;
}

/** The script as the Job runs it, against the fake Hub and the S3 stand-in. */
function download(env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const all: Record<string, string | undefined> = {
      PATH: process.env.PATH,
      HF_ENDPOINT: hub.url,
      AWS_S3_ENDPOINT: s3Url,
      AWS_S3_BUCKET: BUCKET,
      AWS_DEFAULT_REGION: REGION,
      AWS_ACCESS_KEY_ID: ACCESS_KEY,
      AWS_SECRET_ACCESS_KEY: SECRET_KEY,
      MAAS_PART_SIZE: String(PART),
      MAAS_RETRY_DELAY: "0.01",
      PYTHONUNBUFFERED: "1",
      ...env,
    };
    const child = spawn("python3", [DOWNLOAD_SCRIPT], {
      // Only what the Job sets: no HF_TOKEN or HF_ENDPOINT leaks in from the developer's shell.
      env: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv,
    });
    let output = "";
    let stderr = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => {
      output += d;
      stderr += d;
    });
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, output, stderr }));
  });
}

const ok = (run: Run) => {
  if (run.status !== 0) throw new Error(`hf_to_s3.py exited ${run.status}:\n${run.output}`);
  return run;
};

/** S3 requests made since `before` (a request-log length). */
const since = async (before: number) => (await s3State()).requests.slice(before);

beforeAll(async () => {
  const python = pythonWithBotocore();
  s3 = spawn(
    python,
    [S3_SERVER, "--bucket", BUCKET, "--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY, "--region", REGION],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let errors = "";
  s3.stderr!.on("data", (d) => (errors += d));
  const port = await new Promise<number>((resolve, reject) => {
    readline.createInterface({ input: s3.stdout! }).once("line", (line) => resolve(JSON.parse(line).port));
    s3.once("exit", (code) => reject(new Error(`s3-sigv4-server.py exited ${code}: ${errors}`)));
  });
  s3Url = `http://127.0.0.1:${port}`;
  hub = await new FakeHub(
    [
      { id: "acme/tiny-llm", commit: commit("tiny"), files: MODEL_FILES },
      { id: "acme/resume-llm", commit: commit("resume"), files: RESUME_FILES },
      {
        id: "meta-llama/gated-llm",
        commit: commit("gated"),
        gated: "manual",
        authorized: [TOKEN],
        files: GATED_FILES,
      },
      {
        id: "meta-llama/gated-listing",
        commit: commit("gated-listing"),
        gated: "auto",
        listingGated: true,
        authorized: [TOKEN],
        files: GATED_FILES,
      },
    ],
    [TOKEN, NO_ACCESS_TOKEN],
  ).start();
});

afterAll(async () => {
  await hub?.stop();
  if (s3 && s3.exitCode === null) s3.kill();
});

beforeEach(() => hub.clearFaults());

describe("hf_to_s3.py against a Hub stand-in and a SigV4-checking S3", () => {
  const repo = "acme/tiny-llm";
  const revision = commit("tiny");
  const prefix = `hf/${repo}/${revision}`;
  const env = { HF_REPO: repo, HF_REVISION: revision, S3_PREFIX: prefix, HF_TOKEN: TOKEN };

  test("small and multi-part files land byte-identical; the CDN never sees the token; every request signed", async () => {
    const hubBefore = hub.requests.length;
    const run = ok(await download(env));
    const state = await s3State();
    for (const f of MODEL_FILES) {
      expect({ name: f.name, ...state.objects[`${BUCKET}/${prefix}/${f.name}`] }).toMatchObject({
        name: f.name,
        size: f.content.length,
        sha256: sha256(f.content),
      });
      expect((await s3Object(`${prefix}/${f.name}`)).equals(f.content)).toBe(true);
    }
    expect(state.objects[`${BUCKET}/${prefix}/.gitattributes`]).toBeUndefined();
    expect(JSON.parse((await s3Object(`${prefix}/.maas-complete`)).toString())).toEqual({
      repo,
      revision,
      commit: revision,
      files: MODEL_FILES.map((f) => f.name).sort(),
    });
    // Every S3 request passed botocore's signature check (only HEADs of absent keys are refused).
    const refused = state.requests.filter((r) => r.status >= 300 && !(r.method === "HEAD" && r.status === 404));
    expect(refused).toEqual([]);
    // The 12 MiB file went up in 3 parts of a multipart upload, the others in one PUT each.
    const forKey = (name: string) => state.requests.filter((r) => r.key === `${prefix}/${name}` && r.method !== "HEAD");
    expect(forKey("model.safetensors").map((r) => [r.method, Object.keys(r.query).sort().join("&")])).toEqual([
      ["POST", "uploads"],
      ["PUT", "partNumber&uploadId"],
      ["PUT", "partNumber&uploadId"],
      ["PUT", "partNumber&uploadId"],
      ["POST", "uploadId"],
    ]);
    expect(forKey(WEIRD).map((r) => r.method)).toEqual(["PUT"]);
    expect(state.uploads).toEqual([]);
    // The Hub got the token; the CDN (LFS files) never did.
    const hubRequests = hub.requests.slice(hubBefore);
    expect(hubRequests.filter((r) => r.server === "hub").every((r) => r.authorization === `Bearer ${TOKEN}`)).toBe(
      true,
    );
    const cdn = hubRequests.filter((r) => r.server === "cdn");
    expect(cdn).toHaveLength(2);
    expect(cdn.every((r) => r.authorization === undefined && r.status === 200)).toBe(true);
    expect(hubRequests[0].path).toBe(`/api/models/${repo}/revision/${revision}?blobs=true`);
    // Progress: file i/n, bytes and percent.
    expect(run.output).toMatch(/\[3\/6\] model\.safetensors \(10\.0 MiB\) 5\.0 MiB of 10\.0 MiB \(49%\)/);
    expect(run.output).toMatch(/progress: 6\/6 files, .* \(100%\)/);
    expect(run.output).toMatch(/done: acme\/tiny-llm@/);
  });

  test("a rerun after completion makes no PUT and asks the Hub nothing", async () => {
    const [s3Before, hubBefore] = [(await s3State()).requests.length, hub.requests.length];
    const run = ok(await download(env));
    expect(await since(s3Before)).toEqual([
      { method: "HEAD", bucket: BUCKET, key: `${prefix}/.maas-complete`, query: {}, status: 200 },
    ]);
    expect(hub.requests.slice(hubBefore)).toEqual([]);
    expect(run.output).toMatch(/already in s3:\/\/models\/.*; nothing to do/);
  });

  test("a wrong S3 secret is refused by the signature check (the stand-in really verifies)", async () => {
    const before = (await s3State()).requests.length;
    const run = await download({ ...env, S3_PREFIX: "hf/other", AWS_SECRET_ACCESS_KEY: "wrong" });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/S3 HEAD hf\/other\/\.maas-complete: HTTP 403 \(check the data connection/);
    expect((await since(before)).map((r) => [r.method, r.status, r.code])).toEqual([
      ["HEAD", 403, "SignatureDoesNotMatch"],
    ]);
  });
});

describe("interrupted copies resume", () => {
  const repo = "acme/resume-llm";
  const revision = commit("resume");
  const prefix = `hf/${repo}/${revision}`;
  const env = { HF_REPO: repo, HF_REVISION: revision, S3_PREFIX: prefix };

  test("after a failed run, the rerun copies only what is missing (or of the wrong size)", async () => {
    // The first run: the CDN cuts every response for d.safetensors after 1 MiB; retries give up.
    hub.dropCdn("d.safetensors", 1024 * 1024, 100);
    const first = await download(env);
    expect(first.status).toBe(1);
    expect(first.output).toMatch(/d\.safetensors: .*resuming at byte 0/);
    const state = await s3State();
    const present = Object.keys(state.objects).filter((k) => k.startsWith(`${BUCKET}/${prefix}/`));
    expect(present.map((k) => k.slice(`${BUCKET}/${prefix}/`.length)).sort()).toEqual([
      "a.json",
      "b.safetensors",
      "c.json",
    ]);
    expect(state.uploads).toEqual([]); // the failed multipart upload was aborted
    // A truncated leftover of c.json (e.g. from another tool) must be replaced.
    await fetch(`${s3Url}/_test/seed?bucket=${BUCKET}&key=${encodeURIComponent(`${prefix}/c.json`)}`, {
      method: "POST",
      body: "truncated",
    });

    hub.clearFaults();
    const before = (await s3State()).requests.length;
    const second = ok(await download(env));
    const writes = (await since(before)).filter((r) => r.method !== "HEAD");
    expect([...new Set(writes.map((r) => r.key.slice(prefix.length + 1)))]).toEqual([
      "c.json",
      "d.safetensors",
      ".maas-complete",
    ]);
    expect(second.output).toMatch(/\[1\/4\] a\.json .* already in the bucket/);
    expect(second.output).toMatch(/\[2\/4\] b\.safetensors .* already in the bucket/);
    for (const f of RESUME_FILES) expect((await s3Object(`${prefix}/${f.name}`)).equals(f.content)).toBe(true);
  });

  test("transient errors are retried: Hub 503, a dropped CDN stream (resumed with Range), S3 500", async () => {
    const other = `hf/${repo}/retry`;
    hub.fail("/api/models/", 503, 1);
    hub.fail("/resolve/", 502, 1);
    hub.dropCdn("b.safetensors", PART + 1000, 1); // mid-way through part 2
    await fetch(`${s3Url}/_test/fail?method=PUT&key=${encodeURIComponent(`${other}/d.safetensors`)}&status=500`, {
      method: "POST",
    });
    const hubBefore = hub.requests.length;
    const run = ok(await download({ ...env, S3_PREFIX: other }));
    expect(run.output).toMatch(/Hub GET .*HTTP 503; retrying/);
    expect(run.output).toMatch(/b\.safetensors: .*resuming at byte 5242880/);
    expect(run.output).toMatch(/S3 PUT .*d\.safetensors: HTTP 500; retrying/);
    const ranged = hub.requests.slice(hubBefore).filter((r) => r.range);
    expect(ranged.map((r) => [r.server, r.range, r.status])).toEqual([
      ["hub", `bytes=${PART}-`, 302],
      ["cdn", `bytes=${PART}-`, 206],
    ]);
    for (const f of RESUME_FILES) expect((await s3Object(`${other}/${f.name}`)).equals(f.content)).toBe(true);
  });
});

describe("errors say what to do", () => {
  const gated = { HF_REPO: "meta-llama/gated-llm", HF_REVISION: commit("gated"), S3_PREFIX: "hf/gated" };

  test("a gated repository without a token fails at once, naming the token's config keys", async () => {
    const before = (await s3State()).requests.length;
    const run = await download({ ...gated, MAAS_TOKEN_HINT: undefined });
    expect(run.status).toBe(DOWNLOAD_PERMANENT_EXIT_CODE);
    expect(run.stderr).toMatch(/ERROR: meta-llama\/gated-llm is a gated repository .*no Hugging Face token is set/);
    expect(run.stderr).toMatch(/huggingFaceToken/);
    expect(run.stderr).toMatch(/models\[\]\.huggingFace\.tokenSecret/);
    expect((await since(before)).filter((r) => r.method !== "HEAD")).toEqual([]);
  });

  test("a wrong token, or one without access, is a 401/403 with the Hub's reason", async () => {
    const wrong = await download({ ...gated, HF_TOKEN: "hf_wrong", MAAS_TOKEN_HINT: "the hint from the stack" });
    expect(wrong.status).toBe(DOWNLOAD_PERMANENT_EXIT_CODE);
    expect(wrong.stderr).toMatch(/token is invalid or expired .*HTTP 401.*; the hint from the stack/);
    const denied = await download({ ...gated, HF_TOKEN: NO_ACCESS_TOKEN });
    expect(denied.status).toBe(DOWNLOAD_PERMANENT_EXIT_CODE);
    expect(denied.stderr).toMatch(/access denied .*HTTP 403, GatedRepo.*not in the authorized list.*lacks access/);
  });

  test("the Hub's own 401 GatedRepo (no token) says the repository is gated and where the token goes", async () => {
    const hubBefore = hub.requests.length;
    const run = await download({
      HF_REPO: "meta-llama/gated-listing",
      HF_REVISION: commit("gated-listing"),
      S3_PREFIX: "hf/gated-listing",
      MAAS_TOKEN_HINT: "set maas:huggingFaceToken",
    });
    expect(hub.requests.slice(hubBefore).map((r) => [r.status, r.authorization])).toEqual([[401, undefined]]);
    expect(run.status).toBe(DOWNLOAD_PERMANENT_EXIT_CODE);
    expect(run.stderr).toMatch(
      /access denied to meta-llama\/gated-listing .*HTTP 401, GatedRepo: Access to model .* is restricted.*gated or private and no Hugging Face token is set; set maas:huggingFaceToken/,
    );
  });

  test("with an authorized token a gated repository copies", async () => {
    ok(await download({ ...gated, HF_TOKEN: TOKEN }));
    const state = await s3State();
    expect(state.objects[`${BUCKET}/hf/gated/model.safetensors`].size).toBe(64 * 1024);
  });

  test("a missing repository or revision is a 404 that says so", async () => {
    const noRepo = await download({ ...gated, S3_PREFIX: "hf/nope", HF_REPO: "acme/nope", HF_TOKEN: TOKEN });
    expect(noRepo.status).toBe(DOWNLOAD_PERMANENT_EXIT_CODE);
    expect(noRepo.stderr).toMatch(/repository or revision not found: acme\/nope .*HTTP 404, RepoNotFound/);
    const noRevision = await download({ HF_REPO: "acme/tiny-llm", HF_REVISION: "0".repeat(40), S3_PREFIX: "hf/x" });
    expect(noRevision.status).toBe(DOWNLOAD_PERMANENT_EXIT_CODE);
    expect(noRevision.stderr).toMatch(/revision not found: .*HTTP 404, RevisionNotFound.*no such commit/);
  });
});
