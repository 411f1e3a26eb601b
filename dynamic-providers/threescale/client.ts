/**
 * The one small client for the 3scale Account Management API that every dynamic provider uses.
 *
 * Serialization rules (dynamic providers are serialized into the Pulumi state and re-loaded by the provider host):
 * this module is captured by value, so it holds no module-level state; packages are `require`d inside methods; the
 * per-admin-URL concurrency limiters live on `globalThis` so every provider loaded in the host process shares them.
 */

/** Where and how to reach one 3scale tenant's admin API. `accessToken` is always a Pulumi secret upstream. */
export interface Connection {
  /** Tenant admin portal base URL, e.g. https://maas-admin.apps.example.com */
  adminUrl: string;
  accessToken: string;
  /** PEM bundle of extra CAs to trust for the admin URL. */
  caBundle?: string;
  /** Verify the admin URL's TLS certificate (default true). */
  verifyTls?: boolean;
  /**
   * The tenant's 3scale release, when known: checks then also apply the rules of that release (e.g. OAS 3.1
   * ActiveDocs are refused by 2.15). Without it they apply only what holds for every supported release.
   */
  release?: "2.15" | "2.16";
}

export interface ClientOptions {
  /** Per-request timeout. */
  timeoutMs?: number;
  /** Attempts for retryable failures (409, 429, 5xx, connection errors), first try included. */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Requests in flight per admin URL, shared by every provider in the process. */
  concurrency?: number;
  /**
   * How long a create waits for a namesake that 3scale is still deleting in the background (its system_name stays
   * taken until DeleteObjectHierarchyWorker runs, which has no bound). Polls with this client's backoff.
   */
  pendingDeletionTimeoutMs?: number;
}

export type Query = Record<string, string | number | boolean | undefined>;
export type Body = Record<string, unknown>;

export interface MultipartFile {
  field: string;
  filename: string;
  contentType: string;
  content: Buffer;
}

/** Client defaults; `concurrency` is what a deployment gets per admin URL. */
export const DEFAULT_CLIENT_OPTIONS: Required<ClientOptions> = {
  timeoutMs: 30_000,
  maxAttempts: 7,
  baseDelayMs: 200,
  maxDelayMs: 5_000,
  concurrency: 8,
  pendingDeletionTimeoutMs: 15 * 60_000,
};

// Arrays rather than Sets: plain data serializes predictably into the dynamic provider text.
const RETRYABLE_STATUS = [409, 429, 500, 502, 503, 504];
const RETRYABLE_CODES = ["ECONNRESET", "ECONNREFUSED", "ECONNABORTED", "ETIMEDOUT", "EPIPE", "EAI_AGAIN"];

/** An admin API failure: names the call and carries 3scale's own error body, never the token. */
export class ThreescaleApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number | undefined,
    readonly body: unknown,
    readonly causeCode?: string,
  ) {
    super(describeFailure(method, path, status, body, causeCode));
    // Set explicitly: once serialized into a dynamic provider, the class is re-emitted as a plain function whose
    // `super(...)` call does not initialise `this.message`, and the host reports errors by their message.
    this.message = describeFailure(method, path, status, body, causeCode);
    this.name = "ThreescaleApiError";
  }
}

function describeFailure(method: string, path: string, status?: number, body?: unknown, code?: string): string {
  const where = `3scale admin API ${method} ${path}`;
  if (status === undefined) return `${where} failed: ${code ?? "network error"}`;
  const text = typeof body === "string" ? body : JSON.stringify(body);
  const hint =
    status === 403 && text.includes("Access denied")
      ? " (the access token was rejected: check the tenant admin token and its account_management scope)"
      : "";
  return `${where} failed with HTTP ${status}: ${text ? text.slice(0, 2000) : "(empty body)"}${hint}`;
}

export function isNotFound(err: unknown): boolean {
  return err instanceof ThreescaleApiError && err.status === 404;
}

/** Runs a load; a 404 means the object is gone, which `read` reports by returning no id. */
export async function unlessGone<T>(load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** 422 whose body says a field "has already been taken": the object exists (e.g. after a crashed run). */
export function isAlreadyTaken(err: unknown, field?: string): boolean {
  if (!(err instanceof ThreescaleApiError) || err.status !== 422) return false;
  const errors = (err.body as { errors?: Record<string, string[]> } | undefined)?.errors ?? {};
  return Object.entries(errors).some(
    ([key, messages]) =>
      (field === undefined || key === field) && (messages ?? []).some((m) => /already been taken/.test(m)),
  );
}

/** A failure worth retrying: 409, 429, 5xx or a dropped/refused connection. */
export function isRetryable(err: unknown): boolean {
  if (!(err instanceof ThreescaleApiError)) return false;
  return err.status === undefined
    ? RETRYABLE_CODES.includes(err.causeCode ?? "")
    : RETRYABLE_STATUS.includes(err.status);
}

/** Strips the access token from any text before it can reach a log or an error message. */
export function redact(text: string, token: string): string {
  return token ? text.split(token).join("***") : text;
}

interface Limiter {
  active: number;
  waiting: Array<() => void>;
}

export class AdminClient {
  private readonly options: Required<ClientOptions>;

  constructor(
    private readonly connection: Connection,
    options: ClientOptions = {},
    /** Successful writes, shared with the clients derived through `withOptions`. */
    private readonly tally: { writes: number } = { writes: 0 },
  ) {
    this.options = { ...DEFAULT_CLIENT_OPTIONS, ...options };
    if (!/^https?:\/\//.test(connection.adminUrl)) {
      throw new Error(`threescale connection.adminUrl must be an http(s) URL, got "${connection.adminUrl}"`);
    }
  }

  /** A client for the same tenant with some options changed (e.g. `maxAttempts: 1` for a POST never re-sent). */
  withOptions(overrides: ClientOptions): AdminClient {
    return new AdminClient(this.connection, { ...this.options, ...overrides }, this.tally);
  }

  /** Write requests (anything but GET) that succeeded through this client or the ones derived from it. */
  get writes(): number {
    return this.tally.writes;
  }

  /** Attempts per request, first try included: also the budget of callers that retry whole operations. */
  get maxAttempts(): number {
    return this.options.maxAttempts;
  }

  /** How long a create may wait for a namesake's background deletion (see ClientOptions). */
  get pendingDeletionTimeoutMs(): number {
    return this.options.pendingDeletionTimeoutMs;
  }

  /** Waits this client's backoff before retry number `attempt` of a whole operation. */
  pause(attempt: number): Promise<void> {
    return sleep(this.backoff(attempt));
  }

  get<T = any>(path: string, query?: Query): Promise<T> {
    return this.request<T>("GET", path, { query });
  }

  post<T = any>(path: string, body?: Body): Promise<T> {
    return this.request<T>("POST", path, { body });
  }

  put<T = any>(path: string, body?: Body): Promise<T> {
    return this.request<T>("PUT", path, { body });
  }

  patch<T = any>(path: string, body?: Body): Promise<T> {
    return this.request<T>("PATCH", path, { body });
  }

  async delete(path: string, query?: Query): Promise<void> {
    await this.request("DELETE", path, { query });
  }

  /** DELETE where "already gone" (404) is success. */
  async deleteIfExists(path: string): Promise<void> {
    try {
      await this.delete(path);
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  /** GET that maps 404 to undefined. */
  async find<T = any>(path: string, query?: Query): Promise<T | undefined> {
    try {
      return await this.get<T>(path, query);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  postMultipart<T = any>(path: string, fields: Record<string, string>, files: MultipartFile[]): Promise<T> {
    return this.request<T>("POST", path, { multipart: { fields, files } });
  }

  putMultipart<T = any>(path: string, fields: Record<string, string>, files: MultipartFile[]): Promise<T> {
    return this.request<T>("PUT", path, { multipart: { fields, files } });
  }

  /**
   * Every element of a (possibly paginated) admin API list, unwrapped from its envelope.
   * `listKey` is the collection key (`services`, `plans`, ...; omit for bare arrays), `itemKey` the per-item wrapper.
   * Pages of `perPage` are read until a short page comes back, which also covers unpaginated lists.
   */
  async list<T = any>(
    path: string,
    listKey: string | undefined,
    itemKey: string | undefined,
    query: Query = {},
    perPage = 500,
  ): Promise<T[]> {
    const all: T[] = [];
    for (let page = 1; ; page++) {
      const data = await this.get<any>(path, { ...query, page, per_page: perPage });
      const items: any[] = (listKey === undefined ? data : data?.[listKey]) ?? [];
      if (!Array.isArray(items)) {
        throw new ThreescaleApiError("GET", path, 200, `unexpected list shape: no array under "${listKey}"`);
      }
      for (const item of items) all.push(itemKey && item && item[itemKey] !== undefined ? item[itemKey] : item);
      if (items.length < perPage) return all;
    }
  }

  private async request<T>(
    method: string,
    path: string,
    payload: { query?: Query; body?: Body; multipart?: { fields: Record<string, string>; files: MultipartFile[] } },
  ): Promise<T> {
    const release = await this.acquire();
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const answer = await this.send<T>(method, path, payload);
          if (method !== "GET") this.tally.writes++;
          return answer;
        } catch (err) {
          if (!isRetryable(err) || attempt >= this.options.maxAttempts) throw err;
          await sleep(this.backoff(attempt));
        }
      }
    } finally {
      release();
    }
  }

  /** Exponential backoff with full jitter, capped. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  private async send<T>(
    method: string,
    path: string,
    payload: { query?: Query; body?: Body; multipart?: { fields: Record<string, string>; files: MultipartFile[] } },
  ): Promise<T> {
    const axios = require("axios");
    const https = require("https");
    const { adminUrl, accessToken, caBundle, verifyTls } = this.connection;
    const url = adminUrl.replace(/\/+$/, "") + path;
    const headers: Record<string, string> = {
      Accept: "application/json",
      // The admin API takes the token as the Basic password (never as Bearer); a header keeps it out of URLs and logs.
      Authorization: "Basic " + Buffer.from(":" + accessToken).toString("base64"),
    };
    let data: unknown;
    if (payload.multipart) {
      const encoded = encodeMultipart(payload.multipart.fields, payload.multipart.files);
      headers["Content-Type"] = encoded.contentType;
      data = encoded.body;
    } else if (payload.body !== undefined) {
      headers["Content-Type"] = "application/json";
      data = JSON.stringify(payload.body);
    }
    const httpsAgent = url.startsWith("https:")
      ? new https.Agent({ keepAlive: true, ca: caBundle || undefined, rejectUnauthorized: verifyTls !== false })
      : undefined;
    try {
      const response = await axios.request({
        method,
        url,
        params: cleanQuery(payload.query),
        data,
        headers,
        httpsAgent,
        timeout: this.options.timeoutMs,
        responseType: "text",
        transformResponse: (raw: unknown) => raw,
        validateStatus: () => true,
        maxRedirects: 0,
      });
      const body = parseBody(response.data);
      if (response.status >= 200 && response.status < 300) return body as T;
      throw new ThreescaleApiError(method, path, response.status, redactDeep(body, accessToken));
    } catch (err: any) {
      if (err instanceof ThreescaleApiError) throw err;
      const code = err?.code ?? (String(err?.message).includes("timeout") ? "ETIMEDOUT" : "ECONNRESET");
      throw new ThreescaleApiError(method, path, undefined, undefined, code);
    }
  }

  private acquire(): Promise<() => void> {
    const registry: Map<string, Limiter> = ((globalThis as any)[Symbol.for("maas.threescale.limiters")] ??= new Map());
    const key = this.connection.adminUrl;
    let limiter = registry.get(key);
    if (!limiter) {
      limiter = { active: 0, waiting: [] };
      registry.set(key, limiter);
    }
    const slot = limiter;
    const release = () => {
      slot.active--;
      const next = slot.waiting.shift();
      if (next) next();
    };
    if (slot.active < this.options.concurrency) {
      slot.active++;
      return Promise.resolve(release);
    }
    return new Promise((resolve) =>
      slot.waiting.push(() => {
        slot.active++;
        resolve(release);
      }),
    );
  }
}

function cleanQuery(query?: Query): Record<string, string> | undefined {
  if (!query) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(query)) if (v !== undefined) out[k] = String(v);
  return out;
}

function parseBody(raw: unknown): unknown {
  if (typeof raw !== "string" || raw.trim() === "") return raw === "" ? undefined : raw;
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

function redactDeep(body: unknown, token: string): unknown {
  if (body === undefined || !token) return body;
  const text = typeof body === "string" ? body : JSON.stringify(body);
  if (!text.includes(token)) return body;
  const cleaned = redact(text, token);
  return typeof body === "string" ? cleaned : JSON.parse(cleaned);
}

function encodeMultipart(
  fields: Record<string, string>,
  files: MultipartFile[],
): { contentType: string; body: Buffer } {
  const boundary = "----maas" + require("crypto").randomBytes(12).toString("hex");
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  for (const file of files) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${file.field}"; filename="${file.filename}"\r\n` +
          `Content-Type: ${file.contentType}\r\n\r\n`,
      ),
      file.content,
      Buffer.from("\r\n"),
    );
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { contentType: `multipart/form-data; boundary=${boundary}`, body: Buffer.concat(parts) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
