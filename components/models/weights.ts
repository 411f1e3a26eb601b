/**
 * Model weights in the bucket, from one of three sources:
 * - a local directory: every file uploaded under the model's prefix, each object keyed by its content hash so an
 *   unchanged file is never uploaded again (and, with the hash cache, never read again);
 * - a Hugging Face revision: an in-cluster Job downloads exactly that commit into the bucket, once (the prefix and
 *   the Job's name derive from repo@revision; the script skips a revision already complete in the bucket);
 * - a prefix already populated in an external bucket: nothing to do.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as aws from "@pulumi/aws";
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ModelConfig } from "../config/schema";
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
    fs.createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

export interface WeightsUpload {
  directory: string;
  /** The stack config key of `directory`, for error messages. */
  configKey: string;
  bucket: string;
  prefix: string;
  awsProvider: aws.Provider;
  /** Resources the bucket needs before uploads. */
  after: pulumi.Resource[];
  parent: pulumi.Resource;
  hashes: HashCache;
}

/** Where the hash cache lives: outside the project, shared by every stack of this machine. */
export const DEFAULT_HASH_CACHE = path.join(
  process.env.MAAS_CACHE ?? path.join(os.homedir(), ".cache", "maas"),
  "weights-sha256.json",
);

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

  constructor(private readonly file: string = DEFAULT_HASH_CACHE) {
    try {
      this.entries = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      this.entries = {};
    }
  }

  async sha256(file: string): Promise<string> {
    const absolute = path.resolve(file);
    const stat = fs.statSync(absolute);
    const known = this.entries[absolute];
    if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) return known.sha256;
    const sha256 = await sha256File(absolute);
    this.hashed++;
    this.entries[absolute] = { size: stat.size, mtimeMs: stat.mtimeMs, sha256 };
    this.save();
    return sha256;
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

/** One bucket object per file, named `<name>-<relative path>`. */
export function uploadWeights(name: string, upload: WeightsUpload): pulumi.Resource[] {
  return listModelFiles(upload.directory, upload.configKey).map(
    (f) =>
      new aws.s3.BucketObjectv2(
        `${name}-${f.relativePath}`,
        {
          bucket: upload.bucket,
          key: `${upload.prefix}/${f.relativePath}`,
          source: new pulumi.asset.FileAsset(f.absolutePath),
          // Unchanged content → unchanged hash → no re-upload (etag is not an MD5 for multipart uploads).
          sourceHash: pulumi.output(upload.hashes.sha256(f.absolutePath)),
        },
        { parent: upload.parent, provider: upload.awsProvider, dependsOn: upload.after },
      ),
  );
}

/** Where a Hugging Face revision lands in the bucket: its own prefix, so another revision never mixes files with it. */
export function huggingFacePrefix(hf: NonNullable<ModelConfig["huggingFace"]>): string {
  return `hf/${hf.repo}/${hf.revision}`;
}

/** The download script (ours, read at plan time): Hugging Face → S3, one file at a time, resumable. */
export const DOWNLOAD_SCRIPT = path.resolve(__dirname, "../../assets/model-download/hf_to_s3.py");

export interface HuggingFaceDownload {
  configMap: k8s.core.v1.ConfigMapArgs;
  job: k8s.batch.v1.JobArgs;
}

/**
 * The Job that places one Hugging Face revision in the bucket. It runs the model's own vLLM image (which carries
 * Python and huggingface_hub), takes the S3 endpoint and keys from the model's data connection, and logs each file.
 * Its name derives from repo@revision: an unchanged model is the same Job, not a new download.
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
                  { name: "SCRATCH_DIR", value: "/scratch" },
                  { name: "HF_HOME", value: "/scratch/hf-home" },
                  { name: "HF_HUB_DISABLE_TELEMETRY", value: "1" },
                  { name: "PYTHONUNBUFFERED", value: "1" },
                  ...(tokenSecret
                    ? [{ name: "HF_TOKEN", valueFrom: { secretKeyRef: { name: tokenSecret, key: "HF_TOKEN" } } }]
                    : []),
                ],
                envFrom: [{ secretRef: { name: dataConnection } }],
                volumeMounts: [
                  { name: "script", mountPath: "/opt/maas", readOnly: true },
                  { name: "scratch", mountPath: "/scratch" },
                ],
                resources: { requests: { cpu: "500m", memory: "1Gi" }, limits: { memory: "4Gi" } },
                securityContext: restrictedSecurityContext(),
              },
            ],
            volumes: [
              { name: "script", configMap: { name: `${name}-script` } },
              { name: "scratch", emptyDir: { sizeLimit: hf.scratchSize } },
            ],
          },
        },
      },
    },
  };
}
