/**
 * Model weights in the bucket, from one of three sources:
 * - a local directory: every file uploaded under the model's prefix by one ModelWeights resource
 *   (dynamic-providers/s3/model-weights.ts) whose inputs are the files' paths, sizes and sha256 — plain data, no
 *   Pulumi asset, so the engine reads no weight file to plan; the sha256 come from a cache kept by path, size and
 *   mtime, so an unchanged model costs no file read at all, and an unchanged file is never uploaded again;
 * - a Hugging Face revision: an in-cluster Job downloads exactly that commit into the bucket, once (the prefix and
 *   the Job's name derive from repo@revision; the script skips a revision already complete in the bucket);
 * - a prefix already populated in an external bucket: nothing to do.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ModelWeights, type WeightFile } from "../../dynamic-providers/s3/model-weights";
import type { ModelConfig } from "../config/schema";
import type { S3Connection } from "../storage";
import { awaitAnnotations, restrictedSecurityContext } from "../kubernetes";
import { waitFor } from "../readiness";

export interface ModelFile {
  /** Path relative to the model directory, with '/' separators. */
  relativePath: string;
  absolutePath: string;
}

/** Every regular file under `dir` except hidden ones (.git, .cache, ...), sorted for a stable plan. */
export function listModelFiles(dir: string, configKey: string): ModelFile[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`${configKey}: "${dir}" is not a directory; e.g. "./models/granite-3.3-2b-instruct"`);
  }
  const out: ModelFile[] = [];
  const walk = (abs: string, rel: string) => {
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const a = path.join(abs, entry.name);
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      const stat = fs.statSync(a);
      if (stat.isDirectory()) walk(a, r);
      else if (stat.isFile()) out.push({ relativePath: r, absolutePath: a });
    }
  };
  walk(path.resolve(dir), "");
  return out.sort((x, y) => (x.relativePath < y.relativePath ? -1 : 1));
}

/** sha256 of a file, streamed (weights are gigabytes). */
function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash("sha256");
    fs.createReadStream(file, { highWaterMark: 4 * 1024 * 1024 }) // large reads: 64 KiB chunks hash ~20% slower
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

export interface WeightsUpload {
  directory: string;
  /** The stack config key of `directory`, for error messages. */
  configKey: string;
  /** The bucket; uploads go to its `publicEndpoint` (reachable from where `pulumi up` runs). */
  connection: Pick<
    S3Connection,
    "publicEndpoint" | "publicEndpointInsecure" | "region" | "bucket" | "accessKeyId" | "secretAccessKey"
  >;
  prefix: string;
  /** Resources the bucket needs before uploads. */
  after: pulumi.Resource[];
  parent: pulumi.Resource;
  hashes: HashCache;
}

/** Where the hash cache lives: outside the project, shared by every stack of this machine ($MAAS_CACHE when set). */
export function defaultHashCacheFile(): string {
  return path.join(process.env.MAAS_CACHE ?? path.join(os.homedir(), ".cache", "maas"), "weights-sha256.json");
}

interface CachedHash {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/**
 * Content hashes of local weight files, remembered by path, size and modification time: previewing an unchanged
 * 16 GB model reads no file. A changed size or mtime (any rewrite) hashes the file again. Saved after each new hash.
 */
export class HashCache {
  private entries: Record<string, CachedHash>;
  /** Files hashed (read) since this cache was opened. */
  hashed = 0;

  constructor(private readonly file: string = defaultHashCacheFile()) {
    try {
      this.entries = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      this.entries = {};
    }
  }

  async sha256(file: string): Promise<string> {
    return (await this.entry(file)).sha256;
  }

  /** Size, mtime and sha256 of a file: a stat, and a read only when the cache does not know this size and mtime. */
  async entry(file: string): Promise<CachedHash> {
    const absolute = path.resolve(file);
    const stat = fs.statSync(absolute);
    const known = this.entries[absolute];
    if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return { ...known };
    const sha256 = await sha256File(absolute);
    this.hashed++;
    // Rewritten while it was read: the hash may mix both versions, so it is not remembered (the upload refuses a
    // file whose mtime moved since, and the next run hashes it again).
    const after = fs.statSync(absolute);
    const entry = { size: stat.size, mtimeMs: stat.mtimeMs, sha256 };
    if (after.size === stat.size && after.mtimeMs === stat.mtimeMs) {
      this.entries[absolute] = entry;
      this.save();
    }
    return entry;
  }

  private save() {
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, JSON.stringify(this.entries));
      fs.renameSync(tmp, this.file);
    } catch {
      // A read-only home only costs the next run a re-hash.
    }
  }
}

/**
 * The ModelWeights input `files`: every file of the directory (see listModelFiles) with its size and sha256 from the
 * hash cache. Files are hashed one after another (one disk stream at a time); cached ones are only stat'ed.
 */
export async function weightFiles(listing: ModelFile[], hashes: HashCache): Promise<Record<string, WeightFile>> {
  const files: Record<string, WeightFile> = {};
  for (const f of listing) {
    const { size, mtimeMs, sha256 } = await hashes.entry(f.absolutePath);
    files[f.relativePath] = { path: f.absolutePath, size, sha256, mtimeMs };
  }
  return files;
}

/**
 * One ModelWeights resource named `name` for the whole directory: objects `<prefix>/<relative path>`.
 *
 * Stacks made before it had one aws BucketObjectv2 per file (`<name>-<relative path>`). Pulumi cannot map many
 * resources onto one (an alias claims a single former resource), so the first `up` with this version deletes those
 * objects after ModelWeights has uploaded them (same keys); ModelWeights' diff sees them missing (HEAD) and the next
 * `up` uploads them again. To avoid that window, drop the old resources from the state first, leaving the objects
 * alone: `bash scripts/migrate-weights-state.sh` (before that first `up`).
 */
export function uploadWeights(name: string, upload: WeightsUpload): ModelWeights {
  // Listed now: a missing directory fails the program at once, naming the config key.
  const listing = listModelFiles(upload.directory, upload.configKey);
  const c = upload.connection;
  return new ModelWeights(
    name,
    {
      endpoint: c.publicEndpoint,
      region: c.region,
      bucket: c.bucket,
      prefix: upload.prefix,
      insecure: c.publicEndpointInsecure ?? false,
      credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey },
      configKey: upload.configKey,
      files: pulumi.output(weightFiles(listing, upload.hashes)),
    },
    { parent: upload.parent, dependsOn: upload.after },
  );
}

/** Where a Hugging Face revision lands in the bucket: its own prefix, so another revision never mixes files with it. */
export function huggingFacePrefix(hf: NonNullable<ModelConfig["huggingFace"]>): string {
  return `hf/${hf.repo}/${hf.revision}`;
}

/**
 * The download script (ours, read at plan time): Hugging Face → S3, each file streamed from the Hub into the bucket
 * (no scratch disk), resumable. Standard library Python only; tested against a Hub stand-in and a SigV4-checking S3
 * stand-in in tests/components/models/hf-to-s3.test.ts.
 */
export const DOWNLOAD_SCRIPT = path.resolve(__dirname, "../../assets/model-download/hf_to_s3.py");

export interface HuggingFaceDownload {
  configMap: k8s.core.v1.ConfigMapArgs;
  job: k8s.batch.v1.JobArgs;
}

/** Exit status of the download script for an error a retry cannot fix (no access, no such repository or revision). */
export const DOWNLOAD_PERMANENT_EXIT_CODE = 2;

/** Where the download's token comes from, for the script's error messages (the config key to change). */
function tokenHint(model: ModelConfig, tokenSecret: string | undefined): string {
  const key = `maas:models[name=${model.name}].huggingFace.tokenSecret`;
  if (model.huggingFace?.tokenSecret) {
    return `the token is the HF_TOKEN key of the Secret "${tokenSecret}" (${key}); put a token with access there`;
  }
  if (tokenSecret) {
    return `the token is the stack secret huggingFaceToken; set one with access: pulumi config set --secret huggingFaceToken <token> (or set ${key})`;
  }
  return `set a token with access: pulumi config set --secret huggingFaceToken <token>, or ${key} naming a Secret with an HF_TOKEN key`;
}

/**
 * The Job that places one Hugging Face revision in the bucket. It runs the model's own vLLM image (for its Python;
 * the script needs nothing else), takes the S3 endpoint and keys from the model's data connection, streams each file
 * from the Hub into the bucket (no scratch volume) and logs each file. Its name derives from repo@revision: an
 * unchanged model is the same Job, not a new download. A permanent error (gated repository without access, no such
 * repository or revision) fails the Job at once instead of retrying.
 */
export function buildHuggingFaceDownload(
  model: ModelConfig,
  namespace: string,
  dataConnection: string,
  tokenSecret: string | undefined,
  script: string = fs.readFileSync(DOWNLOAD_SCRIPT, "utf8"),
): HuggingFaceDownload {
  const hf = model.huggingFace;
  if (!hf) throw new Error(`maas:models[name=${model.name}].huggingFace: not set`);
  const key = crypto.createHash("sha256").update(`${hf.repo}@${hf.revision}`).digest("hex").slice(0, 8);
  const name = `download-${model.name}-${key}`.slice(0, 63);
  const labels = { "app.kubernetes.io/part-of": "maas", "maas/model": model.name };
  const minutes = model.progressDeadlineMinutes * 4;
  const seconds = minutes * 60;
  return {
    configMap: {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: `${name}-script`, namespace, labels },
      data: { "hf_to_s3.py": script },
    },
    job: {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name, namespace, labels, annotations: awaitAnnotations(waitFor("Job"), minutes) },
      spec: {
        backoffLimit: 3,
        activeDeadlineSeconds: seconds,
        podFailurePolicy: {
          rules: [
            {
              action: "FailJob",
              onExitCodes: { containerName: "download", operator: "In", values: [DOWNLOAD_PERMANENT_EXIT_CODE] },
            },
          ],
        },
        template: {
          metadata: { labels },
          spec: {
            restartPolicy: "Never",
            containers: [
              {
                name: "download",
                image: model.runtimeImage,
                command: ["python", "/opt/maas/hf_to_s3.py"],
                env: [
                  { name: "HF_REPO", value: hf.repo },
                  { name: "HF_REVISION", value: hf.revision },
                  { name: "S3_PREFIX", value: huggingFacePrefix(hf) },
                  { name: "MAAS_TOKEN_HINT", value: tokenHint(model, tokenSecret) },
                  { name: "PYTHONUNBUFFERED", value: "1" },
                  ...(tokenSecret
                    ? [{ name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: tokenSecret, key: "HF_TOKEN" } } }]
                    : []),
                ],
                envFrom: [{ secretRef: { name: dataConnection } }],
                volumeMounts: [{ name: "script", mountPath: "/opt/maas", readOnly: true }],
                // One part (64 MiB) in memory at a time, plus Python.
                resources: { requests: { cpu: "500m", memory: "512Mi" }, limits: { memory: "1Gi" } },
                securityContext: restrictedSecurityContext(),
              },
            ],
            volumes: [{ name: "script", configMap: { name: `${name}-script` } }],
          },
        },
      },
    },
  };
}
