/**
 * A small S3 client for the weights upload: path-style requests signed with AWS Signature Version 4 over Node's
 * http/https, bodies streamed from disk. HeadObject, PutObject, DeleteObject and the multipart upload (create, upload
 * part, complete, abort); retries with exponential backoff and jitter on 5xx, 429, S3's RequestTimeout and dropped
 * connections (a streamed body is re-read from disk for each attempt).
 *
 * Serialization rules (like ../threescale/client.ts; this module is captured by value into the ModelWeights
 * provider): no module-level state, Node modules are `require`d inside functions, only types from @pulumi/pulumi.
 * Credentials never reach an error message: S3's answers are cleaned of the access key id and the secret.
 */

/** Where and how to reach a bucket from the machine running `pulumi up`. Both keys are Pulumi secrets upstream. */
export interface S3Connection {
  /** e.g. https://minio-s3-ai-models.apps.example.com or https://s3.eu-west-1.amazonaws.com */
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Skip TLS verification of the endpoint (a fresh cluster's self-signed router certificate). */
  insecure?: boolean;
}

export interface S3ClientOptions {
  /** A request fails when its socket is idle this long. */
  timeoutMs?: number;
  /** Attempts for retryable failures, first try included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Requests in flight per client (files and parts share them). */
  concurrency?: number;
  /** Files up to this size go in one PUT, larger ones in parts of this size (S3's minimum part is 5 MiB). */
  partSize?: number;
}

const MiB = 1024 * 1024;

export const DEFAULT_S3_OPTIONS: Required<S3ClientOptions> = {
  timeoutMs: 120_000,
  maxAttempts: 6,
  baseDelayMs: 500,
  maxDelayMs: 20_000,
  concurrency: 4,
  partSize: 64 * MiB,
};

/** S3 allows at most 10,000 parts: above 640 GiB the parts grow (whole MiB). */
const MAX_PARTS = 10_000;
const MIN_PART_SIZE = 5 * MiB;
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
/** User metadata each uploaded object carries: the sha256 of its content (multipart ETags are no content hash). */
export const SHA256_METADATA = "x-amz-meta-sha256";

// Arrays rather than Sets: plain data serializes predictably into the dynamic provider text.
const RETRYABLE_CODES = [
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
];
const RETRYABLE_S3_CODES = ["RequestTimeout", "SlowDown", "InternalError", "ServiceUnavailable"];

/** An S3 failure: names the operation and key and carries S3's error code, never a credential. */
export class S3RequestError extends Error {
  constructor(
    readonly operation: string,
    readonly key: string,
    readonly status: number | undefined,
    readonly code: string | undefined,
    detail: string,
  ) {
    super(`S3 ${operation} ${key} failed${status === undefined ? "" : ` with HTTP ${status}`}: ${detail}`);
    // Set explicitly: once serialized into a dynamic provider the class is re-emitted as a plain function whose
    // `super(...)` does not initialise `this.message` (see ../threescale/client.ts).
    this.message = `S3 ${operation} ${key} failed${status === undefined ? "" : ` with HTTP ${status}`}: ${detail}`;
    this.name = "S3RequestError";
  }
}

export function isRetryableS3Error(err: unknown): boolean {
  if (!(err instanceof S3RequestError)) return false;
  if (err.status === undefined) return RETRYABLE_CODES.includes(err.code ?? "") || err.code === undefined;
  return err.status >= 500 || err.status === 429 || RETRYABLE_S3_CODES.includes(err.code ?? "");
}

/** Removes every credential from a text before it can reach an error message or a log. */
export function redactCredentials(text: string, connection: Pick<S3Connection, "accessKeyId" | "secretAccessKey">) {
  let out = text;
  for (const secret of [connection.secretAccessKey, connection.accessKeyId]) {
    if (secret) out = out.split(secret).join("***");
  }
  return out;
}

/** RFC 3986 encoding as SigV4 wants it: everything but A-Z a-z 0-9 - _ . ~ (and "/" in paths). */
export function uriEncode(text: string, keepSlash: boolean): string {
  let out = "";
  for (const byte of Buffer.from(text, "utf8")) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += "%" + byte.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export interface SignedRequest {
  method: string;
  /** Absolute URL, path and query already encoded. */
  url: string;
  headers: Record<string, string>;
}

/**
 * Signs one request (AWS Signature Version 4, service s3, the `Authorization` header). `payloadHash` is the hex
 * sha256 of the body or UNSIGNED-PAYLOAD. Every header given is signed (x-amz-* must be).
 */
export function signRequest(
  connection: S3Connection,
  method: string,
  key: string,
  query: Record<string, string>,
  headers: Record<string, string>,
  payloadHash: string,
  now: Date = new Date(),
): SignedRequest {
  const crypto = require("crypto");
  const base = new URL(connection.endpoint);
  const basePath = base.pathname.replace(/\/+$/, "");
  const canonicalUri = uriEncode(`${basePath}/${connection.bucket}${key ? `/${key}` : ""}`, true);
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((name) => `${uriEncode(name, false)}=${uriEncode(query[name], false)}`)
    .join("&");
  const amzDate = now
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
  const day = amzDate.slice(0, 8);
  const all: Record<string, string> = {
    ...Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), String(v).trim()])),
    host: base.host,
    "x-amz-date": amzDate,
    "x-amz-content-sha256": payloadHash,
  };
  const names = Object.keys(all).sort();
  const canonicalHeaders = names.map((n) => `${n}:${all[n].replace(/\s+/g, " ")}\n`).join("");
  const signedHeaders = names.join(";");
  const canonicalRequest = [method, canonicalUri, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join(
    "\n",
  );
  const scope = `${day}/${connection.region}/s3/aws4_request`;
  const sha256 = (data: string) => crypto.createHash("sha256").update(data, "utf8").digest("hex");
  const stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonicalRequest)].join("\n");
  const hmac = (k: Buffer | string, data: string) => crypto.createHmac("sha256", k).update(data, "utf8").digest();
  const signingKey = hmac(
    hmac(hmac(hmac(`AWS4${connection.secretAccessKey}`, day), connection.region), "s3"),
    "aws4_request",
  );
  const signature = crypto.createHmac("sha256", signingKey).update(stringToSign, "utf8").digest("hex");
  all.authorization =
    `AWS4-HMAC-SHA256 Credential=${connection.accessKeyId}/${scope}, ` +
    `SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return {
    method,
    url: `${base.protocol}//${base.host}${canonicalUri}${canonicalQuery ? `?${canonicalQuery}` : ""}`,
    headers: all,
  };
}

/** What HeadObject says about an object. */
export interface ObjectInfo {
  size: number;
  etag?: string;
  /** The `sha256` user metadata this client writes; absent on objects others uploaded. */
  sha256?: string;
}

/** A body read from disk: `[start, start + length)` of `path`, opened anew for each attempt. */
interface FileRange {
  path: string;
  start: number;
  length: number;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** Hex digests of a streamed body as it was sent. */
  sent?: { sha256: string; md5: string; bytes: number };
}

/** A file to put: its size and sha256 as planned, and (optionally) the mtime it had when it was hashed. */
export interface PutFile {
  path: string;
  size: number;
  sha256: string;
  mtimeMs?: number;
}

export class S3Client {
  private readonly options: Required<S3ClientOptions>;
  private active = 0;
  private readonly waiting: Array<() => void> = [];
  /** Requests sent, by operation (tests and the bench read them). */
  readonly counts: Record<string, number> = {};

  constructor(
    private readonly connection: S3Connection,
    options: S3ClientOptions = {},
  ) {
    this.options = { ...DEFAULT_S3_OPTIONS, ...options };
    if (!/^https?:\/\/[^/\s]+/.test(connection.endpoint ?? "")) {
      throw new Error(`S3 endpoint must be an http(s) URL, got "${connection.endpoint}"`);
    }
  }

  /** The part size for a file of `size` bytes: the configured one, grown so that no file needs over 10,000 parts. */
  partSizeFor(size: number): number {
    const configured = Math.max(MIN_PART_SIZE, this.options.partSize);
    if (size <= configured * MAX_PARTS) return configured;
    return Math.ceil(size / MAX_PARTS / MiB) * MiB;
  }

  /** HeadObject; undefined when there is no such object. */
  async head(key: string): Promise<ObjectInfo | undefined> {
    const answer = await this.send("HeadObject", "HEAD", key, {}, {}, undefined, [200, 404]);
    if (answer.status === 404) return undefined;
    const header = (name: string) => {
      const v = answer.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    return {
      size: Number(header("content-length") ?? 0),
      etag: header("etag"),
      sha256: header(SHA256_METADATA),
    };
  }

  /** DeleteObject; an object already gone is fine (S3 answers 204 either way, some stand-ins 404). */
  async delete(key: string): Promise<void> {
    await this.send("DeleteObject", "DELETE", key, {}, {}, undefined, [200, 204, 404]);
  }

  /**
   * Puts a file under `key`, streamed from disk: one PUT up to the part size (its body checked by S3 against the
   * planned sha256), a multipart upload above. Fails without leaving a partial object when the file is not what
   * was planned (size, mtime, content), and aborts a failed multipart upload.
   */
  async putFile(key: string, file: PutFile): Promise<void> {
    const fs = require("fs");
    const unchanged = (when: string) => {
      let stat: { size: number; mtimeMs: number };
      try {
        stat = fs.statSync(file.path);
      } catch (err: any) {
        throw new Error(`${file.path} ${when}: ${err?.code === "ENOENT" ? "no longer exists" : String(err?.message)}`);
      }
      if (stat.size !== file.size || (file.mtimeMs !== undefined && stat.mtimeMs !== file.mtimeMs)) {
        throw new Error(
          `${file.path} changed ${when} (size ${stat.size}, planned ${file.size}); run \`pulumi up\` again to upload it as it is now`,
        );
      }
    };
    unchanged("since it was hashed");
    const metadata = { [SHA256_METADATA]: file.sha256 };
    const partSize = this.partSizeFor(file.size);
    if (file.size <= partSize) {
      const answer = await this.send(
        "PutObject",
        "PUT",
        key,
        {},
        { "content-type": "application/octet-stream", ...metadata },
        { path: file.path, start: 0, length: file.size },
        [200],
        file.sha256,
      );
      if (answer.sent && answer.sent.sha256 !== file.sha256) {
        // Only a server that does not check x-amz-content-sha256 gets here: take the object back.
        await this.delete(key);
        throw new Error(`${file.path} changed while uploading; run \`pulumi up\` again`);
      }
      return;
    }
    const created = await this.send(
      "CreateMultipartUpload",
      "POST",
      key,
      { uploads: "" },
      { "content-type": "application/octet-stream", ...metadata },
      undefined,
      [200],
    );
    const uploadId = xmlValue(created.body, "UploadId");
    if (!uploadId) throw new S3RequestError("CreateMultipartUpload", key, created.status, undefined, "no UploadId");
    try {
      const count = Math.ceil(file.size / partSize);
      const etags: string[] = new Array(count);
      let next = 0;
      let failed = false;
      const worker = async () => {
        for (let i = next++; i < count && !failed; i = next++) {
          const start = i * partSize;
          const length = Math.min(partSize, file.size - start);
          const query = { partNumber: String(i + 1), uploadId };
          const answer = await this.send(
            "UploadPart",
            "PUT",
            key,
            query,
            {},
            { path: file.path, start, length },
            [200],
          );
          const etag = String(answer.headers.etag ?? "");
          const bare = etag.replace(/"/g, "");
          if (/^[0-9a-f]{32}$/i.test(bare) && answer.sent && bare.toLowerCase() !== answer.sent.md5) {
            throw new S3RequestError("UploadPart", key, answer.status, "BadDigest", `part ${i + 1}: ETag ${etag}`);
          }
          etags[i] = etag;
        }
      };
      // The first failed part stops the others from starting new parts.
      const stopOnFailure = () =>
        worker().catch((err) => {
          failed = true;
          throw err;
        });
      await Promise.all(Array.from({ length: Math.min(this.options.concurrency, count) }, stopOnFailure));
      unchanged("while uploading");
      const body =
        "<CompleteMultipartUpload>" +
        etags
          .map((etag, i) => `<Part><PartNumber>${i + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`)
          .join("") +
        "</CompleteMultipartUpload>";
      await this.send("CompleteMultipartUpload", "POST", key, { uploadId }, {}, Buffer.from(body), [200]);
    } catch (err) {
      await this.send("AbortMultipartUpload", "DELETE", key, { uploadId }, {}, undefined, [200, 204, 404]).catch(
        () => undefined,
      );
      throw err;
    }
  }

  /** One request with retries; answers outside `expected` throw an S3RequestError. */
  private async send(
    operation: string,
    method: string,
    key: string,
    query: Record<string, string>,
    headers: Record<string, string>,
    body: Buffer | FileRange | undefined,
    expected: number[],
    payloadHash?: string,
  ): Promise<Answer> {
    const release = await this.acquire();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          this.counts[operation] = (this.counts[operation] ?? 0) + 1;
          const answer = await this.once(operation, method, key, query, headers, body, payloadHash);
          // S3 may answer CompleteMultipartUpload with 200 and an <Error> body.
          const embedded = answer.status === 200 && method === "POST" ? xmlValue(answer.body, "Code") : undefined;
          if (expected.includes(answer.status) && !(embedded && /<Error>/.test(answer.body))) return answer;
          throw this.failure(operation, key, answer);
        } catch (err) {
          if (!isRetryableS3Error(err) || attempt >= this.options.maxAttempts) throw err;
          await new Promise((resolve) => setTimeout(resolve, this.backoff(attempt)));
        }
      }
    } finally {
      release();
    }
  }

  private failure(operation: string, key: string, answer: Answer): S3RequestError {
    const code = xmlValue(answer.body, "Code");
    const message = xmlValue(answer.body, "Message");
    const detail = code
      ? `${code}${message ? ` (${message})` : ""}`
      : answer.body.slice(0, 500) ||
        (answer.status === 403
          ? "Forbidden (no error body, as for HEAD): check the access key, secret and region"
          : "(empty body)");
    return new S3RequestError(operation, key, answer.status, code, redactCredentials(detail, this.connection));
  }

  private once(
    operation: string,
    method: string,
    key: string,
    query: Record<string, string>,
    headers: Record<string, string>,
    body: Buffer | FileRange | undefined,
    payloadHash?: string,
  ): Promise<Answer> {
    const crypto = require("crypto");
    const fs = require("fs");
    const isFile = body !== undefined && !Buffer.isBuffer(body);
    const hash =
      payloadHash ??
      (body === undefined
        ? crypto.createHash("sha256").update("").digest("hex")
        : isFile
          ? UNSIGNED_PAYLOAD
          : crypto.createHash("sha256").update(body).digest("hex"));
    const length = body === undefined ? 0 : isFile ? (body as FileRange).length : (body as Buffer).length;
    const signed = signRequest(this.connection, method, key, query, headers, hash);
    const url = new URL(signed.url);
    const transport = url.protocol === "https:" ? require("https") : require("http");
    const requestHeaders: Record<string, string> = { ...signed.headers };
    if (method !== "GET" && method !== "HEAD" && method !== "DELETE") requestHeaders["content-length"] = String(length);
    return new Promise<Answer>((resolve, reject) => {
      let settled = false;
      let sent: Answer["sent"];
      const fail = (err: any) => {
        if (settled) return;
        settled = true;
        if (err instanceof S3RequestError) return reject(err);
        const code = err?.code ?? (/timeout/i.test(String(err?.message)) ? "ETIMEDOUT" : undefined);
        reject(
          new S3RequestError(
            operation,
            key,
            undefined,
            code,
            redactCredentials(
              [code, err?.message].filter((part, i, all) => part && all.indexOf(part) === i).join(": ") || String(err),
              this.connection,
            ),
          ),
        );
      };
      const request = transport.request(
        url,
        {
          method,
          headers: requestHeaders,
          rejectUnauthorized: !this.connection.insecure,
        },
        (response: any) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", fail);
          response.on("end", () => {
            if (settled) return;
            settled = true;
            resolve({
              status: response.statusCode,
              headers: response.headers,
              body: Buffer.concat(chunks).toString("utf8"),
              sent,
            });
          });
        },
      );
      request.setTimeout(this.options.timeoutMs, () =>
        request.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })),
      );
      request.on("error", fail);
      if (!isFile) {
        request.end(body as Buffer | undefined);
        return;
      }
      const range = body as FileRange;
      const sha256 = crypto.createHash("sha256");
      const md5 = crypto.createHash("md5");
      let bytes = 0;
      if (range.length === 0) {
        sent = { sha256: sha256.digest("hex"), md5: md5.digest("hex"), bytes: 0 };
        request.end();
        return;
      }
      const stream = fs.createReadStream(range.path, {
        start: range.start,
        end: range.start + range.length - 1,
        highWaterMark: 1024 * 1024,
      });
      stream.on("data", (chunk: Buffer) => {
        sha256.update(chunk);
        md5.update(chunk);
        bytes += chunk.length;
      });
      stream.on("end", () => {
        sent = { sha256: sha256.digest("hex"), md5: md5.digest("hex"), bytes };
      });
      stream.on("error", (err: any) => {
        // A read failure is not the network's: not retried.
        if (settled) return;
        settled = true;
        request.destroy();
        reject(new Error(`reading ${range.path}: ${err?.message ?? err}`));
      });
      request.on("error", () => stream.destroy());
      stream.pipe(request);
    });
  }

  /** Exponential backoff with full jitter, capped. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  private acquire(): Promise<() => void> {
    const release = () => {
      this.active--;
      const next = this.waiting.shift();
      if (next) next();
    };
    if (this.active < this.options.concurrency) {
      this.active++;
      return Promise.resolve(release);
    }
    return new Promise((resolve) =>
      this.waiting.push(() => {
        this.active++;
        resolve(release);
      }),
    );
  }
}

/** The text of the first `<name>` element of an S3 XML answer. */
function xmlValue(xml: string, name: string): string | undefined {
  const match = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml ?? "");
  return match ? unescapeXml(match[1]) : undefined;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function unescapeXml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&#34;/g, '"')
    .replace(/&amp;/g, "&");
}
