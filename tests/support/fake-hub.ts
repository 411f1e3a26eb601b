/**
 * A Hugging Face Hub stand-in for tests: the two endpoints a downloader uses, shaped as the Hub answers them, plus the
 * CDN that serves large (LFS/Xet) files on another host. From huggingface/huggingface_hub:
 * - src/huggingface_hub/hf_api.py (HfApi.model_info, ModelInfo, RepoSibling, BlobLfsInfo):
 *   `GET /api/models/{repo_id}/revision/{revision}` → `{ id, sha, gated, siblings: [{ rfilename }] }`; with
 *   `?blobs=true` each sibling also has `size`, `blobId` (git blob id) and, for an LFS file,
 *   `lfs: { size, sha256, pointerSize }`;
 * - src/huggingface_hub/constants.py, file_download.py (hf_hub_url, get_hf_file_metadata, _get_metadata_or_catch_error):
 *   `GET {endpoint}/{repo_id}/resolve/{revision}/{filename}` answers a regular file itself (ETag = git blob id) and
 *   redirects an LFS file to a pre-signed CDN URL on another host (X-Linked-Size, X-Linked-Etag = sha256); every answer
 *   carries X-Repo-Commit; a client drops `authorization` before following a redirect to another host;
 * - src/huggingface_hub/utils/_http.py (hf_raise_for_status), errors.py: X-Error-Code RepoNotFound (401 anonymous,
 *   404 authenticated), RevisionNotFound, EntryNotFound, GatedRepo (401 without a token, 403 when the account is not
 *   on the authorized list), and X-Error-Message "Invalid credentials in Authorization header" for a bad token.
 * The CDN refuses a request carrying Authorization as S3/CloudFront do (400 InvalidArgument "Only one auth mechanism
 * allowed") and one whose URL signature is wrong (403). Both servers take Range requests (206).
 * Test hooks: `fail` (answer the next matching Hub requests with an HTTP status), `dropCdn` (cut a CDN response after
 * some bytes), and a log of every request with its Authorization header.
 */
import * as crypto from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";

export interface FakeFile {
  name: string;
  content: Buffer;
  /** Stored with LFS: the Hub redirects to the CDN, the listing has `lfs`. */
  lfs?: boolean;
}

export interface FakeRepo {
  id: string;
  /** The commit (40 hex digits); the Hub also resolves "main" to it. */
  commit: string;
  files: FakeFile[];
  gated?: false | "auto" | "manual";
  /** Tokens whose accounts may read this gated repository. */
  authorized?: string[];
  /** The model-info listing is gated too (by default it is public, as on the Hub, and only files need access). */
  listingGated?: boolean;
}

export interface HubRequest {
  server: "hub" | "cdn";
  method: string;
  path: string;
  authorization?: string;
  range?: string;
  status: number;
}

interface Fault {
  pathIncludes: string;
  status: number;
  count: number;
}

interface Drop {
  nameIncludes: string;
  afterBytes: number;
  count: number;
}

const gitBlobId = (content: Buffer) =>
  crypto
    .createHash("sha1")
    .update(Buffer.concat([Buffer.from(`blob ${content.length}\0`), content]))
    .digest("hex");
const sha256 = (content: Buffer) => crypto.createHash("sha256").update(content).digest("hex");

/** `bytes=N-` / `bytes=N-M` → [start, end] inclusive, or undefined (whole body). */
function parseRange(header: string | undefined, size: number): [number, number] | undefined {
  const m = header?.match(/^bytes=(\d+)-(\d*)$/);
  if (!m) return undefined;
  const start = Number(m[1]);
  const end = m[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
  return start < size && start <= end ? [start, end] : undefined;
}

export class FakeHub {
  readonly requests: HubRequest[] = [];
  /** Valid tokens (any account); a Bearer token not listed is refused everywhere. */
  readonly tokens: Set<string>;
  private readonly repos = new Map<string, FakeRepo>();
  private readonly blobs = new Map<string, Buffer>(); // sha256 -> content, what the CDN serves
  private readonly faults: Fault[] = [];
  private readonly drops: Drop[] = [];
  private readonly cdnSecret = crypto.randomBytes(16).toString("hex");
  private hub?: http.Server;
  private cdn?: http.Server;
  url = "";
  cdnUrl = "";

  constructor(repos: FakeRepo[], tokens: string[] = []) {
    this.tokens = new Set(tokens);
    repos.forEach((r) => this.addRepo(r));
  }

  addRepo(repo: FakeRepo) {
    // Every Hub repository has a .gitattributes (the LFS rules).
    const files = repo.files.some((f) => f.name === ".gitattributes")
      ? repo.files
      : [
          { name: ".gitattributes", content: Buffer.from("*.safetensors filter=lfs diff=lfs merge=lfs -text\n") },
          ...repo.files,
        ];
    this.repos.set(repo.id, { ...repo, files });
    for (const f of files) if (f.lfs) this.blobs.set(sha256(f.content), f.content);
  }

  /** The next `count` Hub requests whose path includes `pathIncludes` answer `status`. */
  fail(pathIncludes: string, status: number, count = 1) {
    this.faults.push({ pathIncludes, status, count });
  }

  /** The next `count` CDN responses for a file whose name includes `nameIncludes` stop after `afterBytes` bytes. */
  dropCdn(nameIncludes: string, afterBytes: number, count = 1) {
    this.drops.push({ nameIncludes, afterBytes, count });
  }

  clearFaults() {
    this.faults.length = 0;
    this.drops.length = 0;
  }

  async start(): Promise<this> {
    this.hub = http.createServer((req, res) => this.handleHub(req, res));
    this.cdn = http.createServer((req, res) => this.handleCdn(req, res));
    const listen = (server: http.Server) =>
      new Promise<string>((resolve) =>
        server.listen(0, "127.0.0.1", () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)),
      );
    this.url = await listen(this.hub);
    this.cdnUrl = await listen(this.cdn);
    return this;
  }

  async stop() {
    for (const server of [this.hub, this.cdn]) {
      if (!server) continue;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  private log(server: HubRequest["server"], req: http.IncomingMessage, status: number) {
    this.requests.push({
      server,
      method: req.method ?? "",
      path: req.url ?? "",
      authorization: req.headers.authorization,
      range: req.headers.range,
      status,
    });
  }

  private error(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    status: number,
    message: string,
    code?: string,
    headers: Record<string, string> = {},
  ) {
    this.log("hub", req, status);
    res.writeHead(status, {
      "Content-Type": "application/json; charset=utf-8",
      "X-Error-Message": message,
      ...(code ? { "X-Error-Code": code } : {}),
      ...headers,
    });
    res.end(JSON.stringify({ error: message }));
  }

  private handleHub(req: http.IncomingMessage, res: http.ServerResponse) {
    const [rawPath, rawQuery = ""] = (req.url ?? "").split("?", 2);
    const fault = this.faults.find((f) => f.count > 0 && rawPath.includes(f.pathIncludes));
    if (fault) {
      fault.count--;
      return this.error(req, res, fault.status, "Injected failure");
    }
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice("Bearer ".length) : undefined;
    if (auth !== undefined && (!token || !this.tokens.has(token))) {
      return this.error(req, res, 401, "Invalid credentials in Authorization header");
    }
    const info = rawPath.match(/^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/);
    const resolve = rawPath.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/);
    const match = info ?? resolve;
    if (!match || !["GET", "HEAD"].includes(req.method ?? "")) return this.error(req, res, 404, "Not Found");
    const repo = this.repos.get(decodeURIComponent(match[1]));
    if (!repo) {
      // Anonymous callers cannot tell a missing repository from a private one: 401.
      return this.error(req, res, token ? 404 : 401, "Repository not found", "RepoNotFound");
    }
    const revision = decodeURIComponent(match[2]);
    if (revision !== repo.commit && revision !== "main") {
      return this.error(req, res, 404, `Invalid rev id: ${revision}`, "RevisionNotFound");
    }
    const common = { "X-Repo-Commit": repo.commit };
    if (resolve || repo.listingGated) {
      if (repo.gated && !token) {
        return this.error(
          req,
          res,
          401,
          `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
          "GatedRepo",
          common,
        );
      }
      if (repo.gated && !(repo.authorized ?? []).includes(token!)) {
        return this.error(
          req,
          res,
          403,
          `Access to model ${repo.id} is restricted and you are not in the authorized list. Visit ${this.url}/${repo.id} to ask for access.`,
          "GatedRepo",
          common,
        );
      }
    }
    if (info) {
      const blobs = new URLSearchParams(rawQuery).get("blobs") === "true";
      const body = JSON.stringify({
        _id: crypto.createHash("md5").update(repo.id).digest("hex").slice(0, 24),
        id: repo.id,
        modelId: repo.id,
        author: repo.id.split("/")[0],
        sha: repo.commit,
        lastModified: "2025-01-01T00:00:00.000Z",
        private: false,
        disabled: false,
        gated: repo.gated ?? false,
        downloads: 0,
        likes: 0,
        library_name: "transformers",
        tags: ["transformers", "safetensors"],
        pipeline_tag: "text-generation",
        createdAt: "2024-01-01T00:00:00.000Z",
        siblings: repo.files.map((f) =>
          blobs
            ? {
                rfilename: f.name,
                blobId: f.lfs ? gitBlobId(Buffer.from(`lfs pointer ${sha256(f.content)}`)) : gitBlobId(f.content),
                size: f.content.length,
                ...(f.lfs ? { lfs: { sha256: sha256(f.content), size: f.content.length, pointerSize: 134 } } : {}),
              }
            : { rfilename: f.name },
        ),
        spaces: [],
        usedStorage: repo.files.reduce((n, f) => n + f.content.length, 0),
      });
      this.log("hub", req, 200);
      res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", ...common });
      return res.end(req.method === "HEAD" ? undefined : body);
    }
    const name = decodeURIComponent(match[3]);
    const file = repo.files.find((f) => f.name === name);
    if (!file) return this.error(req, res, 404, "Entry not found", "EntryNotFound", common);
    if (file.lfs) {
      const oid = sha256(file.content);
      const cdnPath = `/repos/${oid.slice(0, 2)}/${oid.slice(2, 4)}/${oid}`;
      const expires = String(Math.floor(Date.now() / 1000) + 3600);
      const signature = this.sign(cdnPath, expires);
      const location =
        `${this.cdnUrl}${cdnPath}?response-content-disposition=${encodeURIComponent(`inline; filename*=UTF-8''${encodeURIComponent(name.split("/").pop()!)}`)}` +
        `&Expires=${expires}&Signature=${signature}&Key-Pair-Id=K2FAKE`;
      const body = `Found. Redirecting to ${location}`;
      this.log("hub", req, 302);
      res.writeHead(302, {
        ...common,
        Location: location,
        ETag: `"${gitBlobId(Buffer.from(`lfs pointer ${oid}`))}"`,
        "X-Linked-Etag": `"${oid}"`,
        "X-Linked-Size": String(file.content.length),
        "Content-Type": "text/plain; charset=utf-8",
        "Content-Length": String(Buffer.byteLength(body)),
      });
      return res.end(req.method === "HEAD" ? undefined : body);
    }
    this.serve(req, res, "hub", file.content, { ...common, ETag: `"${gitBlobId(file.content)}"` });
  }

  private sign(path: string, expires: string) {
    return crypto.createHmac("sha256", this.cdnSecret).update(`${path}\n${expires}`).digest("hex");
  }

  private handleCdn(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? "/", this.cdnUrl);
    const xmlError = (status: number, code: string, message: string, extra = "") => {
      this.log("cdn", req, status);
      res.writeHead(status, { "Content-Type": "application/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message>${extra}</Error>`,
      );
    };
    if (req.headers.authorization !== undefined) {
      return xmlError(
        400,
        "InvalidArgument",
        "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
        "<ArgumentName>Authorization</ArgumentName>",
      );
    }
    const expires = url.searchParams.get("Expires") ?? "";
    const signature = url.searchParams.get("Signature") ?? "";
    if (signature !== this.sign(url.pathname, expires) || Number(expires) * 1000 < Date.now()) {
      return xmlError(403, "AccessDenied", "Access denied");
    }
    const content = this.blobs.get(url.pathname.split("/").pop() ?? "");
    if (!content) return xmlError(404, "NoSuchKey", "The specified key does not exist.");
    const disposition = url.searchParams.get("response-content-disposition") ?? "";
    this.serve(req, res, "cdn", content, {
      ETag: `"${sha256(content)}"`,
      "Content-Disposition": disposition,
      "Accept-Ranges": "bytes",
    });
  }

  private serve(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    server: HubRequest["server"],
    content: Buffer,
    headers: Record<string, string>,
  ) {
    const range = parseRange(req.headers.range, content.length);
    const [start, end] = range ?? [0, content.length - 1];
    const body = content.subarray(start, end + 1);
    const status = range ? 206 : 200;
    this.log(server, req, status);
    res.writeHead(status, {
      ...headers,
      "Content-Type": "application/octet-stream",
      "Content-Length": String(body.length),
      ...(range ? { "Content-Range": `bytes ${start}-${end}/${content.length}` } : {}),
    });
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const disposition = headers["Content-Disposition"] ?? "";
    const drop = this.drops.find(
      (d) => d.count > 0 && server === "cdn" && decodeURIComponent(disposition).includes(d.nameIncludes),
    );
    if (drop && drop.afterBytes < body.length) {
      drop.count--;
      // Half a body, then a reset connection: the client sees a short read.
      res.write(body.subarray(0, drop.afterBytes), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  }
}
