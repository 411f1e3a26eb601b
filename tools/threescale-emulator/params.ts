/**
 * Request parameter parsing the way Rails does it: `a[b]=c` / `a[]=x` bracket nesting for query strings and
 * form bodies, JSON bodies, and multipart/form-data (CMS file uploads keep their bytes).
 */
export type Params = Record<string, unknown>;

export interface UploadedFile {
  filename: string;
  contentType: string;
  data: Buffer;
}

export interface ParsedBody {
  params: Params;
  files: Record<string, UploadedFile>;
  /** True when the request carried a Content-Type Rails wraps (form, multipart or JSON). */
  wrappable: boolean;
}

/** Sets `value` at a Rails-style key: `a`, `a[b]`, `a[b][c]`, `a[]`, `a[][b]`. */
export function setNested(target: Params, key: string, value: unknown): void {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) {
    target[key] = value;
    return;
  }
  const segments = [match[1], ...[...match[2].matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1])];
  let node: any = target;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const last = i === segments.length - 1;
    if (segment === "") {
      // `a[]` appends; `a[][b]` appends a new hash unless the last one lacks `b` (Rails' rule).
      if (!Array.isArray(node)) return;
      if (last) {
        node.push(value);
        return;
      }
      const nextKey = segments[i + 1];
      const tail = node[node.length - 1];
      if (tail && typeof tail === "object" && !(nextKey in tail)) node = tail;
      else node = node[node.push({}) - 1];
      continue;
    }
    if (last) {
      node[segment] = value;
      return;
    }
    const wantsArray = segments[i + 1] === "";
    if (node[segment] === undefined || typeof node[segment] !== "object") node[segment] = wantsArray ? [] : {};
    node = node[segment];
  }
}

export function parseUrlEncoded(text: string): Params {
  const params: Params = {};
  for (const [key, value] of new URLSearchParams(text)) setNested(params, key, value);
  return params;
}

function parseMultipart(body: Buffer, boundary: string): { params: Params; files: Record<string, UploadedFile> } {
  const params: Params = {};
  const files: Record<string, UploadedFile> = {};
  const delimiter = Buffer.from(`--${boundary}`);
  let start = body.indexOf(delimiter);
  while (start >= 0) {
    const partStart = start + delimiter.length;
    if (body.subarray(partStart, partStart + 2).toString() === "--") break;
    const next = body.indexOf(delimiter, partStart);
    if (next < 0) break;
    const part = body.subarray(partStart + 2, next - 2); // skip CRLF after the delimiter and before the next one
    const headerEnd = part.indexOf("\r\n\r\n");
    const headers = part.subarray(0, headerEnd).toString("utf8");
    const content = part.subarray(headerEnd + 4);
    const name = /name="([^"]*)"/i.exec(headers)?.[1];
    const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
    if (name !== undefined) {
      if (filename !== undefined) {
        const contentType = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1] ?? "application/octet-stream";
        files[name] = { filename, contentType, data: Buffer.from(content) };
        setNested(params, name, `<file ${filename}>`);
      } else {
        setNested(params, name, content.toString("utf8"));
      }
    }
    start = next;
  }
  return { params, files };
}

export class BodyParseError extends Error {}

export function parseBody(contentType: string | undefined, raw: Buffer): ParsedBody {
  const type = (contentType ?? "").split(";")[0].trim().toLowerCase();
  if (type === "application/json") {
    if (raw.length === 0) return { params: {}, files: {}, wrappable: true };
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw.toString("utf8"));
    } catch {
      throw new BodyParseError("request body is not valid JSON");
    }
    const params = parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Params) : {};
    return { params, files: {}, wrappable: true };
  }
  if (type === "application/x-www-form-urlencoded") {
    return { params: parseUrlEncoded(raw.toString("utf8")), files: {}, wrappable: true };
  }
  if (type === "multipart/form-data") {
    const boundary = /boundary="?([^";]+)"?/i.exec(contentType ?? "")?.[1];
    if (!boundary) throw new BodyParseError("multipart body without boundary");
    return { ...parseMultipart(raw, boundary), wrappable: true };
  }
  return { params: {}, files: {}, wrappable: false };
}

const REDACTED = "***";

/** Deep copy with every occurrence of the given secret values replaced (tokens must never be recorded). */
export function redact<T>(value: T, secrets: string[]): T {
  const live = secrets.filter((s) => s.length > 0);
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") return live.reduce((s, secret) => s.split(secret).join(REDACTED), v);
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
}

export function isPlainObject(value: unknown): value is Params {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
