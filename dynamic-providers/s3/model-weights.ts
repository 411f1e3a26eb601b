/**
 * One model's local weights in a bucket, as ONE dynamic resource: its inputs are plain data (the files' paths, sizes
 * and sha256 from the program's hash cache), never Pulumi assets, so the engine reads no weight file to plan — a
 * FileAsset is hashed by the engine on every preview and up, i.e. all 16 GB of a 16 GB model each time.
 *
 * - diff: added, changed (by sha256) and removed files; the files it keeps are checked with HEAD, so an object that
 *   went missing from the bucket (deleted by hand, or by an older stack's per-file resources) is uploaded again.
 *   Rotated credentials are not a change; another endpoint, bucket or prefix replaces the resource.
 * - create/update: upload what is new or changed, streamed from disk (one PUT up to 64 MiB, multipart above) with
 *   the content's sha256 as object metadata; a file whose object already carries its sha256 is not sent again (a
 *   re-run after a failure continues where it stopped). Then delete the objects of files gone from the directory.
 *   A failure records what did reach the bucket (a partial state), so the next `up` does only the rest.
 * - delete: the objects of its files, nothing else under the prefix or in the bucket.
 * - read (refresh): HEAD each object; missing ones leave the state, so the next `up` uploads them.
 * - check: every file still exists with its planned size (the error names the stack config key, e.g.
 *   `maas:models[0].localPath`).
 * A file is read only when it is uploaded.
 *
 * Serialized by value (like the 3scale providers): no module-level state, no Pulumi runtime objects in the provider
 * (only types from @pulumi/pulumi); the resource class below is never serialized.
 */
import * as pulumi from "@pulumi/pulumi";
import { isUnknown } from "../threescale/unknown";
import { S3Client, type S3ClientOptions, type S3Connection, type ObjectInfo } from "./client";
import { providerReference } from "../provider-reference";

/** One local file: where it is, and its size and sha256 as the program's hash cache knows them. */
export interface WeightFile {
  path: string;
  size: number;
  sha256: string;
  /** Modification time when hashed: a file rewritten since is refused at upload instead of sent unverified. */
  mtimeMs?: number;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ModelWeightsInputs {
  /** S3 endpoint reachable from where `pulumi up` runs. */
  endpoint: string;
  region: string;
  bucket: string;
  /** Objects are `<prefix>/<relative path>`. */
  prefix: string;
  /** Skip TLS verification of the endpoint. */
  insecure?: boolean;
  /** Pulumi secrets: never in plaintext state, never in the serialized provider. */
  credentials: S3Credentials;
  /** Stack config key of the directory, for messages (e.g. "maas:models[0].localPath"). */
  configKey: string;
  /** Relative path ('/' separators) → file. */
  files: Record<string, WeightFile>;
}

/** Outputs: the inputs, with `files` = what is in the bucket as far as this resource knows. */
export type ModelWeightsOutputs = ModelWeightsInputs;

type Failure = { property: string; reason: string };

/** Inputs that address other objects: a change creates the weights there and deletes the old ones. */
const ADDRESS = ["endpoint", "bucket", "prefix"];
const SHA256 = /^[0-9a-f]{64}$/;

export function objectKey(prefix: string, relativePath: string): string {
  return `${prefix.replace(/^\/+|\/+$/g, "")}/${relativePath}`;
}

/** A value of `files` not known yet, or a known one. */
function knownFiles(files: unknown): Record<string, WeightFile> | undefined {
  if (!files || typeof files !== "object" || isUnknown(files)) return undefined;
  return files as Record<string, WeightFile>;
}

/** Relative paths whose content differs between `olds` and `news` (added or changed), and those removed. */
export function fileChanges(
  olds: Record<string, WeightFile> | undefined,
  news: Record<string, WeightFile>,
): { changed: string[]; removed: string[]; kept: string[] } {
  const before = olds ?? {};
  const changed = Object.keys(news).filter((rel) => before[rel]?.sha256 !== news[rel].sha256);
  const kept = Object.keys(news).filter((rel) => before[rel]?.sha256 === news[rel].sha256);
  const removed = Object.keys(before).filter((rel) => !(rel in news));
  return { changed: changed.sort(), removed: removed.sort(), kept: kept.sort() };
}

/** An object that holds `file` as far as HEAD can tell: same size, and same sha256 when the object carries one. */
export function holds(object: ObjectInfo | undefined, file: WeightFile): boolean {
  return !!object && object.size === file.size && (object.sha256 === undefined || object.sha256 === file.sha256);
}

/** Runs `fn` over `items`, at most `limit` at a time; every item runs, the first failure is rethrown at the end. */
async function eachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<unknown[]> {
  const failures: unknown[] = [];
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      try {
        await fn(items[i]);
      } catch (err) {
        failures.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return failures;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String((err as any)?.message ?? err);
}

export class ModelWeightsProvider implements pulumi.dynamic.ResourceProvider {
  /** Client options (tests shorten timeouts and backoff, and may shrink parts, through here). */
  clientOptions: S3ClientOptions = {};

  constructor(clientOptions: S3ClientOptions = {}) {
    this.clientOptions = clientOptions;
  }

  protected client(inputs: ModelWeightsInputs, overrides: S3ClientOptions = {}): S3Client {
    const connection: S3Connection = {
      endpoint: inputs.endpoint,
      region: inputs.region,
      bucket: inputs.bucket,
      accessKeyId: inputs.credentials?.accessKeyId,
      secretAccessKey: inputs.credentials?.secretAccessKey,
      insecure: inputs.insecure === true,
    };
    return new S3Client(connection, { ...this.clientOptions, ...overrides });
  }

  async check(_olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
    const failures: Failure[] = [];
    const string = (name: string, example: string) => {
      const value = news[name];
      if (isUnknown(value)) return;
      if (typeof value !== "string" || value.trim() === "")
        failures.push({ property: name, reason: `must be a non-empty string, e.g. ${example}` });
    };
    string("endpoint", '"https://minio-s3-ai-models.apps.example.com"');
    string("region", '"us-east-1"');
    string("bucket", '"models"');
    string("prefix", '"granite-3.3-8b-instruct"');
    const endpoint = news.endpoint;
    if (typeof endpoint === "string" && !isUnknown(endpoint) && !/^https?:\/\/[^/\s]+/.test(endpoint)) {
      failures.push({
        property: "endpoint",
        reason: `must be an http(s) URL, e.g. "https://s3.example.com"; got "${endpoint}"`,
      });
    }
    const prefix = news.prefix;
    if (typeof prefix === "string" && !isUnknown(prefix) && /^\/|\/$/.test(prefix)) {
      failures.push({
        property: "prefix",
        reason: `must not start or end with "/", e.g. "granite/v1"; got "${prefix}"`,
      });
    }
    const credentials = news.credentials;
    if (!isUnknown(credentials)) {
      for (const key of ["accessKeyId", "secretAccessKey"]) {
        const value = credentials?.[key];
        if (!isUnknown(value) && (typeof value !== "string" || value === "")) {
          failures.push({
            property: `credentials.${key}`,
            reason: "is required (the S3 key that uploads the weights)",
          });
        }
      }
    }
    const configKey = typeof news.configKey === "string" ? news.configKey : "the model's localPath";
    const files = news.files;
    if (files !== undefined && !isUnknown(files)) {
      if (!files || typeof files !== "object" || Array.isArray(files)) {
        failures.push({ property: "files", reason: "must map relative paths to {path, size, sha256}" });
      } else {
        failures.push(...this.fileFailures(configKey, files));
      }
    }
    return failures.length > 0 ? { inputs: news, failures } : { inputs: news };
  }

  /** Each file is well-formed and still on disk with its planned size (a stat, no read). */
  private fileFailures(configKey: string, files: Record<string, any>): Failure[] {
    const fs = require("fs");
    const failures: Failure[] = [];
    for (const [rel, file] of Object.entries(files)) {
      if (isUnknown(file)) continue;
      const property = `files["${rel}"]`;
      if (!file || typeof file.path !== "string" || !Number.isInteger(file.size) || !SHA256.test(String(file.sha256))) {
        failures.push({ property, reason: "must be {path, size (bytes), sha256 (64 hex digits)}" });
        continue;
      }
      if (rel === "" || rel.startsWith("/") || rel.split("/").some((part) => part === "" || part === "..")) {
        failures.push({ property, reason: `must be a relative path inside the model directory, e.g. "config.json"` });
        continue;
      }
      let stat: { size: number; isFile(): boolean } | undefined;
      try {
        stat = fs.statSync(file.path);
      } catch {
        stat = undefined;
      }
      if (!stat || !stat.isFile()) {
        failures.push({
          property,
          reason:
            `${configKey}: ${rel} (${file.path}) no longer exists; restore it, or run \`pulumi up\` again so ` +
            "the upload follows the directory as it is now",
        });
      } else if (stat.size !== file.size) {
        failures.push({
          property,
          reason: `${configKey}: ${rel} (${file.path}) changed while planning (${stat.size} bytes, hashed at ${file.size}); run \`pulumi up\` again`,
        });
      }
    }
    return failures;
  }

  async diff(_id: string, olds: ModelWeightsOutputs, news: ModelWeightsInputs): Promise<pulumi.dynamic.DiffResult> {
    const replaces = ADDRESS.filter((k) => isUnknown((news as any)[k]) || (olds as any)[k] !== (news as any)[k]);
    if (replaces.length > 0) {
      // Same bucket and prefix (only the endpoint's name changed, maybe the same storage): delete the old objects
      // first, or deleting them after would remove what the replacement just uploaded under the same keys.
      const sameKeys = olds.bucket === news.bucket && olds.prefix === news.prefix;
      return { changes: true, replaces, deleteBeforeReplace: sameKeys };
    }
    const settings = olds.region !== news.region || (olds.insecure === true) !== (news.insecure === true);
    const files = knownFiles(news.files);
    if (!files) return { changes: true, replaces: [] };
    const { changed, removed, kept } = fileChanges(knownFiles(olds.files), files);
    if (changed.length > 0 || removed.length > 0 || settings) return { changes: true, replaces: [] };
    const missing = await this.missing(news, kept, { maxAttempts: 2, timeoutMs: 15_000 }).catch(() => []);
    return { changes: missing.length > 0, replaces: [] };
  }

  /**
   * The relative paths among `rels` whose object is not in the bucket (or holds something else). HEADs that fail
   * for another reason than "not found" throw.
   */
  protected async missing(inputs: ModelWeightsInputs, rels: string[], overrides: S3ClientOptions = {}) {
    if (rels.length === 0 || isUnknown(inputs.endpoint) || isUnknown(inputs.credentials)) return [];
    const client = this.client(inputs, overrides);
    const gone: string[] = [];
    const failures = await eachLimited(rels, this.concurrency(), async (rel) => {
      const object = await client.head(objectKey(inputs.prefix, rel));
      if (!holds(object, inputs.files[rel])) gone.push(rel);
    });
    if (failures.length > 0) throw failures[0];
    return gone.sort();
  }

  private concurrency(): number {
    return Math.max(1, this.clientOptions.concurrency ?? 4);
  }

  async create(inputs: ModelWeightsInputs): Promise<pulumi.dynamic.CreateResult> {
    const id = `s3://${inputs.bucket}/${inputs.prefix}/`;
    const files = await this.sync(id, inputs, {}, Object.keys(inputs.files).sort(), []);
    return { id, outs: { ...inputs, files } };
  }

  async update(id: string, olds: ModelWeightsOutputs, news: ModelWeightsInputs): Promise<pulumi.dynamic.UpdateResult> {
    const { changed, removed, kept } = fileChanges(olds.files, news.files);
    // Files that did not change are checked too: an object deleted behind our back is uploaded again.
    const lost = await this.missing(news, kept);
    const present: Record<string, WeightFile> = {};
    for (const rel of kept) if (!lost.includes(rel)) present[rel] = news.files[rel];
    // Until replaced or deleted, the objects of changed and removed files hold what the old state says.
    for (const rel of [...changed, ...removed]) if (olds.files?.[rel]) present[rel] = olds.files[rel];
    const files = await this.sync(id, news, present, [...changed, ...lost].sort(), removed);
    return { outs: { ...news, files } };
  }

  /**
   * Uploads `upload` (skipping objects that already carry the file's sha256), then deletes the objects of
   * `remove`; `present` is what the bucket holds before. Returns the files now in the bucket. On failure, throws
   * the engine's partial-failure shape with what is in the bucket, so the state matches it.
   */
  private async sync(
    id: string,
    inputs: ModelWeightsInputs,
    present: Record<string, WeightFile>,
    upload: string[],
    remove: string[],
  ): Promise<Record<string, WeightFile>> {
    const client = this.client(inputs);
    const now: Record<string, WeightFile> = { ...present };
    // Largest first: the long uploads start early and small files fill in around them.
    const order = [...upload].sort((a, b) => inputs.files[b].size - inputs.files[a].size || (a < b ? -1 : 1));
    const failures = await eachLimited(order, this.concurrency(), async (rel) => {
      const file = inputs.files[rel];
      const key = objectKey(inputs.prefix, rel);
      try {
        const existing = await client.head(key);
        if (!(existing?.sha256 === file.sha256 && existing.size === file.size)) await client.putFile(key, file);
      } catch (err) {
        throw new Error(`${inputs.configKey}: ${rel}: ${messageOf(err)}`);
      }
      now[rel] = file;
    });
    if (failures.length === 0) {
      const deletions = await eachLimited(remove, this.concurrency(), async (rel) => {
        await client.delete(objectKey(inputs.prefix, rel));
        delete now[rel];
      });
      failures.push(...deletions);
    }
    if (failures.length > 0) {
      const reasons = failures.map(messageOf);
      const err: any = new Error(
        `uploading ${inputs.configKey} to ${id} failed for ${failures.length} file(s); the next \`pulumi up\` ` +
          `continues with them:\n${reasons.join("\n")}`,
      );
      // The provider host turns this into ErrorResourceInitFailed: the engine keeps these outputs as the state.
      err.id = id;
      err.properties = { ...inputs, files: sortedFiles(now), __provider: (inputs as any).__provider };
      err.reasons = reasons;
      throw err;
    }
    return sortedFiles(now);
  }

  async read(id: string, props: ModelWeightsOutputs): Promise<pulumi.dynamic.ReadResult> {
    const files = knownFiles(props.files) ?? {};
    const lost = await this.missing(props, Object.keys(files));
    const remaining: Record<string, WeightFile> = {};
    for (const [rel, file] of Object.entries(files)) if (!lost.includes(rel)) remaining[rel] = file;
    return { id, props: { ...props, files: sortedFiles(remaining) } };
  }

  async delete(_id: string, props: ModelWeightsOutputs): Promise<void> {
    const client = this.client(props);
    const rels = Object.keys(knownFiles(props.files) ?? {});
    const failures = await eachLimited(rels, this.concurrency(), (rel) => client.delete(objectKey(props.prefix, rel)));
    if (failures.length > 0) throw new Error(failures.map(messageOf).join("\n"));
  }
}

function sortedFiles(files: Record<string, WeightFile>): Record<string, WeightFile> {
  return Object.fromEntries(
    Object.keys(files)
      .sort()
      .map((rel) => [rel, files[rel]]),
  );
}

/** The one instance every ModelWeights resource shares (referenced from the state, see provider-reference.ts). */
export const modelWeightsProvider = new ModelWeightsProvider();

export interface ModelWeightsArgs {
  endpoint: pulumi.Input<string>;
  region: pulumi.Input<string>;
  bucket: pulumi.Input<string>;
  prefix: pulumi.Input<string>;
  insecure?: pulumi.Input<boolean>;
  credentials: pulumi.Input<{ accessKeyId: pulumi.Input<string>; secretAccessKey: pulumi.Input<string> }>;
  configKey: pulumi.Input<string>;
  files: pulumi.Input<Record<string, WeightFile>>;
}

/** One model's weights under `<bucket>/<prefix>/` (type `pulumi-nodejs:dynamic/s3:ModelWeights`). */
export class ModelWeights extends pulumi.dynamic.Resource {
  declare public readonly files: pulumi.Output<Record<string, WeightFile>>;

  constructor(
    name: string,
    args: ModelWeightsArgs,
    opts?: pulumi.CustomResourceOptions,
    provider: pulumi.dynamic.ResourceProvider = modelWeightsProvider,
  ) {
    super(
      // The shared instance by reference (dynamic-providers/registry.ts); another one (tests) by value.
      provider === modelWeightsProvider ? providerReference("s3:ModelWeights", provider) : provider,
      name,
      { ...args, credentials: pulumi.secret(args.credentials) },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "credentials"] },
      "s3",
      "ModelWeights",
    );
  }
}
