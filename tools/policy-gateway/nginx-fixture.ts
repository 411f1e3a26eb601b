/**
 * Fixtures for exercising the llm-metrics policy in a real nginx + lua module: fake OpenAI-compatible upstreams
 * (predictors), a fake 3scale backend (apisonator's authorize, authrep and report with plans, limits and usage), and
 * an nginx started on loopback with its own prefix in a temporary directory, running the policy before a stand-in
 * for APIcast's own policy (credentials, mapping-rule usage, authrep). Shared by the integration test and the policy
 * benchmark.
 */
import { spawn, spawnSync, ChildProcess } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as zlib from "zlib";

export const PROJECT_ROOT = path.resolve(__dirname, "../..");
export const POLICY_DIR = path.join(PROJECT_ROOT, "assets/apicast-policies/llm-metrics");
/** Stand-ins for the APIcast modules the policy requires, loaded by the real nginx. */
export const APICAST_SHIM_DIR = path.join(__dirname, "shim");
const INSTALL_HINT = "install them with `sudo bash scripts/install-system-deps.sh`";
const NGINX_MODULE_DIRS = ["/usr/lib/nginx/modules", "/usr/share/nginx/modules"];

/** Throws (never skips) when a tool the policy tests need is missing. */
export function requireTool(command: string, args: string[], what: string): void {
  const probe = spawnSync(command, args, { encoding: "utf8" });
  if (probe.error || probe.status !== 0) {
    throw new Error(`${what} is missing (\`${command} ${args.join(" ")}\` failed); ${INSTALL_HINT}`);
  }
}

/** Paths of the nginx dynamic modules for ndk and lua, or a clear error. */
export function nginxLuaModules(): { ndk: string; lua: string } {
  for (const dir of NGINX_MODULE_DIRS) {
    const ndk = path.join(dir, "ndk_http_module.so");
    const lua = path.join(dir, "ngx_http_lua_module.so");
    if (fs.existsSync(ndk) && fs.existsSync(lua)) return { ndk, lua };
  }
  throw new Error(`nginx lua module not found in ${NGINX_MODULE_DIRS.join(" or ")}; ${INSTALL_HINT}`);
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** `sse-no-usage`: a model server that ignores `stream_options.include_usage`. */
export type UpstreamMode = "json" | "sse" | "sse-no-usage" | "error500" | "notjson" | "empty" | "gzip-always";

/** What the fake upstream did for one request, keyed by the client's `x-test-id`. */
export interface UpstreamExchange {
  requestBody: string;
  path: string;
  requestHeaders: http.IncomingHttpHeaders;
  sentSha256: string;
  usage?: Usage;
}

const PIECES = ["Hello", " wörld", " 世界", " 🚀", ' "usage": {"total_tokens": 1}', " ok"];

/** A chat completion streamed as SSE events of about `size` bytes in total; usage last, as vLLM sends it. */
export function sseChunks(size: number, model: string, includeUsage: boolean): { chunks: string[]; usage?: Usage } {
  const chunks: string[] = [];
  let bytes = 0;
  for (let i = 0; bytes < size || i === 0; i++) {
    const event = {
      id: "chatcmpl-fixture",
      object: "chat.completion.chunk",
      model,
      choices: [{ index: 0, delta: { content: PIECES[i % PIECES.length] }, finish_reason: null }],
    };
    const chunk = `data: ${JSON.stringify(event)}\n\n`;
    chunks.push(chunk);
    bytes += Buffer.byteLength(chunk);
  }
  const usage = { prompt_tokens: 13, completion_tokens: chunks.length, total_tokens: 13 + chunks.length };
  if (includeUsage) {
    chunks.push(`data: ${JSON.stringify({ id: "chatcmpl-fixture", model, choices: [], usage })}\n\n`);
  }
  chunks.push("data: [DONE]\n\n");
  return { chunks, usage: includeUsage ? usage : undefined };
}

/** A non-streamed chat completion of about `size` bytes (decoys, then prose) with its usage at the end. */
export function jsonBody(size: number, model: string): { body: string; usage: Usage } {
  const prose = " The quick brown fox jumps over the lazy dog — naïvely, 速い.\n";
  const content = PIECES.join("") + prose.repeat(Math.max(1, Math.ceil(size / prose.length)));
  const usage = { prompt_tokens: 21, completion_tokens: Math.ceil(content.length / 4), total_tokens: 0 };
  usage.total_tokens = usage.prompt_tokens + usage.completion_tokens;
  const body = JSON.stringify({
    id: "chatcmpl-fixture",
    object: "chat.completion",
    model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage,
  });
  return { body, usage };
}

export interface FakeUpstream {
  port: number;
  url: string;
  exchanges: Map<string, UpstreamExchange>;
  /** Requests received so far (also those without `x-test-id`). */
  received: number;
  close(): Promise<void>;
}

function listen(server: http.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port));
  });
}

function closeServer(server: http.Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/**
 * OpenAI-compatible upstream. Headers choose the behaviour: `x-upstream-mode` (default json, or sse when the
 * request says `"stream": true`), `x-upstream-size` (approximate body bytes), `x-upstream-delay-ms` (wait before
 * answering). Gzips when the request accepts it, in `gzip-always` mode, or when `x-upstream-encoding: gzip` says so.
 */
export async function startFakeUpstream(record = true): Promise<FakeUpstream> {
  const exchanges = new Map<string, UpstreamExchange>();
  // Bodies are generated once per shape so that the upstream is not the bottleneck of the benchmark.
  const bodies = new Map<string, unknown>();
  const memo = <T>(key: string, make: () => T): T => {
    if (!bodies.has(key)) bodies.set(key, make());
    return bodies.get(key) as T;
  };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      upstream.received++;
      const delay = Number(req.headers["x-upstream-delay-ms"] ?? 0);
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
    const answer = () => {
      const requestBody = Buffer.concat(parts).toString("utf8");
      let request: { stream?: boolean; model?: string; stream_options?: { include_usage?: boolean } } = {};
      try {
        request = JSON.parse(requestBody);
      } catch {
        // not JSON: answered like any other request
      }
      const model = request.model ?? "granite-fixture";
      const size = Number(req.headers["x-upstream-size"] ?? 1024);
      const mode = (req.headers["x-upstream-mode"] as UpstreamMode) ?? (request.stream ? "sse" : "json");
      const gzip =
        mode === "gzip-always" ||
        req.headers["x-upstream-encoding"] === "gzip" ||
        /\bgzip\b/.test(String(req.headers["accept-encoding"] ?? ""));
      const hash = createHash("sha256");
      const exchange: UpstreamExchange = {
        requestBody,
        path: req.url ?? "",
        requestHeaders: req.headers,
        sentSha256: "",
      };
      const send = (status: number, contentType: string, chunks: string[]) => {
        const headers: http.OutgoingHttpHeaders = { "content-type": contentType };
        let buffers: Buffer[] = chunks.map((c) => Buffer.from(c));
        if (gzip) {
          // Several writes, so that the policy sees the compressed stream in more than one piece.
          const compressed = zlib.gzipSync(Buffer.concat(buffers));
          const piece = Math.max(1, Math.ceil(compressed.length / 4));
          buffers = [];
          for (let at = 0; at < compressed.length; at += piece) buffers.push(compressed.subarray(at, at + piece));
          headers["content-encoding"] = "gzip";
        }
        res.writeHead(status, headers);
        for (const b of buffers) {
          hash.update(b);
          res.write(b);
        }
        exchange.sentSha256 = hash.digest("hex");
        if (record) exchanges.set(String(req.headers["x-test-id"] ?? ""), exchange);
        res.end();
      };
      if (mode === "sse" || mode === "sse-no-usage") {
        const includeUsage = mode === "sse" && request.stream_options?.include_usage === true;
        const { chunks, usage } = memo(`sse:${size}:${model}:${includeUsage}`, () =>
          sseChunks(size, model, includeUsage),
        );
        exchange.usage = usage;
        send(200, "text/event-stream", chunks);
      } else if (mode === "error500") {
        send(500, "application/json", [jsonBody(200, model).body]);
      } else if (mode === "notjson") {
        send(200, "application/json", ["<html>upstream says hello</html>"]);
      } else if (mode === "empty") {
        send(200, "application/json", []);
      } else {
        const { body, usage } = memo(`json:${size}:${model}`, () => jsonBody(size, model));
        exchange.usage = usage;
        send(200, "application/json", [body.slice(0, 100), body.slice(100)]);
      }
    };
  });
  const port = await listen(server);
  const upstream: FakeUpstream = {
    port,
    url: `http://127.0.0.1:${port}`,
    exchanges,
    received: 0,
    close: () => closeServer(server),
  };
  return upstream;
}

export interface BackendReport {
  query: URLSearchParams;
  form: URLSearchParams;
}

/** 3scale limit periods (apisonator lib/3scale/backend/period.rb). */
export type Period = "minute" | "hour" | "day" | "week" | "month" | "year" | "eternity";

/** A usage limit of an application plan: at most `max` of `metric` per `period`. */
export interface Limit {
  metric: string;
  period: Period;
  max: number;
}

/** An application of the fake backend, found by its user key. */
export interface FakeApp {
  plan?: string;
  limits: Limit[];
}

export interface FakeBackendOptions {
  /** user key → application; an unknown key is refused (403 user_key_invalid). */
  apps?: Record<string, FakeApp>;
  /** parent metric → child metrics (methods under hits). */
  hierarchy?: Record<string, string[]>;
  /** When set, usage of any other metric is refused (404 metric_invalid), like a metric missing in 3scale. */
  metrics?: string[];
}

/** An authorize or authrep call the fake backend answered. */
export interface AuthCall {
  method: "authorize" | "authrep";
  query: URLSearchParams;
  usage: Record<string, number>;
  status: number;
  options: string;
}

export interface FakeBackend {
  url: string;
  /** Reports the backend accepted (202). */
  reports: BackendReport[];
  /** Reports it answered with `failStatus`. */
  rejected: BackendReport[];
  /** Authorize and authrep calls answered, in order. */
  auths: AuthCall[];
  /** Authorize and authrep calls received (also those still waiting for `delayMs`). */
  authsReceived: number;
  /** When set, every report is answered with this status and not counted as accepted. */
  failStatus?: number;
  /** When set, authorize and authrep calls are answered this many milliseconds late. */
  delayMs?: number;
  /** Current value of a limit's metric in the period that contains now (what authorize reports). */
  current(key: string, metric: string, period: Period): number;
  close(): Promise<void>;
}

const pad = (n: number) => String(n).padStart(2, "0");

/** apisonator's time format '%Y-%m-%d %H:%M:%S %z' (constants.rb L5), in UTC. */
function threescaleTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`
  );
}

/** Start and end (ms) of the 3scale period that contains `now` (UTC; weeks start on Monday); null for eternity. */
export function periodBounds(period: Period, now = Date.now()): [number, number] | null {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = Date.UTC(y, m, d.getUTCDate());
  switch (period) {
    case "minute":
      return [now - (now % 60000), now - (now % 60000) + 60000];
    case "hour":
      return [now - (now % 3600000), now - (now % 3600000) + 3600000];
    case "day":
      return [day, day + 86400000];
    case "week": {
      const start = day - ((d.getUTCDay() + 6) % 7) * 86400000;
      return [start, start + 7 * 86400000];
    }
    case "month":
      return [Date.UTC(y, m, 1), Date.UTC(y, m + 1, 1)];
    case "year":
      return [Date.UTC(y, 0, 1), Date.UTC(y + 1, 0, 1)];
    default:
      return null;
  }
}

const XML = "application/vnd.3scale-v2.0+xml";

function errorXml(code: string, message: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><error code="${code}">${message}</error>`;
}

/**
 * 3scale backend listener (apisonator @2e7f156b, lib/3scale/backend/listener.rb): `GET /transactions/authorize.xml`
 * checks the usage given as `usage[metric]` against the application's limits without recording it; `GET
 * /transactions/authrep.xml` checks and records; `POST /transactions.xml` records a batch of transactions (202). A
 * check passes when current + usage <= max for every limit on a metric of the usage or one of its parents
 * (validators/limits.rb, usage_limit.rb L16-18, metric/collection.rb process_parents). Answers: 200 authorized / 409
 * denied with `3scale-rejection-reason` (listener.rb L298-323) and, unless `3scale-options` has `no_body=1`, the status
 * XML listing every limit with its current value (transactor/status.rb L99-123, usage_report.rb L90-131), with the
 * hierarchy when asked (`hierarchy=1`); unknown key 403 `user_key_invalid`, unknown metric 404 `metric_invalid`.
 */
export async function startFakeBackend(options: FakeBackendOptions = {}): Promise<FakeBackend> {
  const apps = options.apps ?? {};
  const hierarchy = options.hierarchy ?? {};
  const known = options.metrics ? new Set(options.metrics) : undefined;
  /** key → metric → period start (or "eternity") → value */
  const usage = new Map<string, Map<string, Map<string, number>>>();
  const periodKey = (period: Period, now: number) => String(periodBounds(period, now)?.[0] ?? "eternity");
  const current = (key: string, metric: string, period: Period, now = Date.now()) =>
    usage.get(key)?.get(metric)?.get(periodKey(period, now)) ?? 0;
  /** The usage with every child's value added to its parents. */
  const expand = (raw: Record<string, number>) => {
    const expanded: Record<string, number> = { ...raw };
    for (const [parent, children] of Object.entries(hierarchy)) {
      for (const child of children) {
        if (raw[child] && child !== parent) expanded[parent] = (expanded[parent] ?? 0) + raw[child];
      }
    }
    return expanded;
  };
  const record = (key: string, raw: Record<string, number>, now = Date.now()) => {
    const byMetric = usage.get(key) ?? new Map<string, Map<string, number>>();
    usage.set(key, byMetric);
    for (const [metric, value] of Object.entries(expand(raw))) {
      const byPeriod = byMetric.get(metric) ?? new Map<string, number>();
      byMetric.set(metric, byPeriod);
      for (const period of ["minute", "hour", "day", "week", "month", "year", "eternity"] as Period[]) {
        const k = periodKey(period, now);
        byPeriod.set(k, (byPeriod.get(k) ?? 0) + value);
      }
    }
  };
  const statusXml = (key: string, app: FakeApp, authorized: boolean, withHierarchy: boolean, now: number) => {
    const parts = ['<?xml version="1.0" encoding="UTF-8"?><status>'];
    parts.push(
      authorized
        ? "<authorized>true</authorized>"
        : "<authorized>false</authorized><reason>usage limits are exceeded</reason>",
    );
    parts.push(`<plan>${app.plan ?? "Basic"}</plan>`);
    if (app.limits.length > 0) {
      parts.push("<usage_reports>");
      for (const limit of app.limits) {
        const value = current(key, limit.metric, limit.period, now);
        parts.push(
          `<usage_report metric="${limit.metric}" period="${limit.period}"${value > limit.max ? ' exceeded="true"' : ""}>`,
        );
        const bounds = periodBounds(limit.period, now);
        if (bounds) {
          parts.push(
            `<period_start>${threescaleTime(bounds[0])}</period_start><period_end>${threescaleTime(bounds[1])}</period_end>`,
          );
        }
        parts.push(`<max_value>${limit.max}</max_value><current_value>${value}</current_value></usage_report>`);
      }
      parts.push("</usage_reports>");
    }
    if (withHierarchy) {
      const limited = new Set(app.limits.map((l) => l.metric));
      const entries = Object.entries(hierarchy).filter(([parent]) => limited.has(parent));
      if (entries.length > 0) {
        parts.push("<hierarchy>");
        for (const [parent, children] of entries)
          parts.push(`<metric name="${parent}" children="${children.join(" ")}"/>`);
        parts.push("</hierarchy>");
      }
    }
    parts.push("</status>");
    return parts.join("");
  };
  const auth = (method: "authorize" | "authrep", url: URL, headers: http.IncomingHttpHeaders) => {
    const options = String(headers["3scale-options"] ?? "");
    const raw: Record<string, number> = {};
    for (const [name, value] of url.searchParams) {
      const metric = /^usage\[(.+)\]$/.exec(name);
      if (metric) raw[metric[1]] = Number(value);
    }
    const call: AuthCall = { method, query: url.searchParams, usage: raw, status: 0, options };
    backend.auths.push(call);
    const answer = (status: number, body: string, extra: Record<string, string> = {}) => {
      call.status = status;
      return { status, body, headers: { "content-type": XML, ...extra } };
    };
    const key = url.searchParams.get("user_key") ?? "";
    if (url.searchParams.get("service_token") !== "fixture-service-token") {
      return answer(403, errorXml("service_token_invalid", "service token is invalid"));
    }
    const app = apps[key];
    if (!app) return answer(403, errorXml("user_key_invalid", `user key "${key}" is invalid`));
    for (const metric of Object.keys(raw)) {
      if (known && !known.has(metric)) return answer(404, errorXml("metric_invalid", `metric "${metric}" is invalid`));
    }
    const now = Date.now();
    const expanded = expand(raw);
    const authorized = app.limits.every(
      (limit) =>
        expanded[limit.metric] === undefined ||
        current(key, limit.metric, limit.period, now) + expanded[limit.metric] <= limit.max,
    );
    if (authorized && method === "authrep") record(key, raw, now);
    const body = /\bno_body=1\b/.test(options)
      ? ""
      : statusXml(key, app, authorized, /\bhierarchy=1\b/.test(options), now);
    return answer(
      authorized ? 200 : 409,
      body,
      authorized || !/\brejection_reason_header=1\b/.test(options)
        ? {}
        : { "3scale-rejection-reason": "limits_exceeded" },
    );
  };
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on("data", (d: Buffer) => parts.push(d));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://backend");
      if (req.method === "POST" && url.pathname === "/transactions.xml") {
        const report = { query: url.searchParams, form: new URLSearchParams(Buffer.concat(parts).toString("utf8")) };
        if (backend.failStatus) {
          backend.rejected.push(report);
          res.writeHead(backend.failStatus).end("backend unavailable");
        } else {
          backend.reports.push(report);
          const transactions = new Map<string, { key?: string; usage: Record<string, number> }>();
          for (const [name, value] of report.form) {
            const m = /^transactions\[(\d+)\]\[(?:user_key|app_id|access_token)\]$/.exec(name);
            const u = /^transactions\[(\d+)\]\[usage\]\[(.+)\]$/.exec(name);
            const index = (m ?? u)?.[1];
            if (index === undefined) continue;
            const t = transactions.get(index) ?? { usage: {} };
            transactions.set(index, t);
            if (m) t.key = value;
            if (u) t.usage[u[2]] = Number(value);
          }
          for (const t of transactions.values()) if (t.key) record(t.key, t.usage);
          res.writeHead(202).end();
        }
      } else if (req.method === "GET" && /^\/transactions\/(authorize|authrep)\.xml$/.test(url.pathname)) {
        const method = url.pathname.includes("authrep") ? "authrep" : "authorize";
        backend.authsReceived++;
        const respond = () => {
          timers.delete(timer);
          if (res.destroyed) return;
          const { status, body, headers } = auth(method, url, req.headers);
          res.writeHead(status, headers).end(body);
        };
        const timer = setTimeout(respond, backend.delayMs ?? 0);
        timers.add(timer);
      } else {
        res.writeHead(404).end();
      }
    });
  });
  const port = await listen(server);
  const backend: FakeBackend = {
    url: `http://127.0.0.1:${port}`,
    reports: [],
    rejected: [],
    auths: [],
    authsReceived: 0,
    current: (key, metric, period) => current(key, metric, period),
    close: () => {
      for (const timer of timers) clearTimeout(timer);
      return closeServer(server);
    },
  };
  return backend;
}

/** Sums of every transaction in `reports`: credential → metric → tokens. */
export function reportedTotals(reports: BackendReport[]): Map<string, Record<string, number>> {
  const totals = new Map<string, Record<string, number>>();
  for (const report of reports) {
    const credentials = new Map<string, string>();
    for (const [key, value] of report.form) {
      const credential = /^transactions\[(\d+)\]\[(?:user_key|app_id|access_token)\]$/.exec(key);
      if (credential) credentials.set(credential[1], value);
    }
    for (const [key, value] of report.form) {
      const usage = /^transactions\[(\d+)\]\[usage\]\[(.+)\]$/.exec(key);
      if (!usage) continue;
      const credential = credentials.get(usage[1]) ?? `transaction ${usage[1]} without credential`;
      const sums = totals.get(credential) ?? {};
      sums[usage[2]] = (sums[usage[2]] ?? 0) + Number(value);
      totals.set(credential, sums);
    }
  }
  return totals;
}

/** A loopback port that was free a moment ago (nginx cannot report an ephemeral port back to us). */
async function freePort(): Promise<number> {
  const server = http.createServer();
  const port = await listen(server);
  await closeServer(server);
  return port;
}

export interface NginxOptions {
  /** The product's backend (the upstream when the policy does not route). */
  upstreamPort: number;
  backendUrl: string;
  serviceId?: string;
  /** The policy configuration object as it would appear in the APIcast policy chain. */
  policyConfig?: Record<string, unknown>;
  /** nginx worker processes (default 1). */
  workers?: number;
  /** The stand-in APIcast policy authreps each request with the fake backend (default false). */
  authrep?: boolean;
}

/** The lua_shared_dict the fixture's nginx defines for `batch_shared_dict`. */
export const BATCH_SHARED_DICT = "llm_metrics_batch";
/** The request body nginx keeps in memory: like APIcast, the fixture leaves client_body_buffer_size at nginx's default. */
export const CLIENT_BODY_BUFFER_BYTES = 8 * 1024;

export interface Nginx {
  /** Location that runs the policy. */
  url: string;
  /** Same upstream without the policy (benchmark baseline). */
  baselineUrl: string;
  prefix: string;
  errorLog(): string;
  workerPids(): number[];
  /** Prometheus counters as `name{service_id,model}` → value. */
  metrics(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

function nginxConf(prefix: string, port: number, opts: NginxOptions): string {
  const modules = nginxLuaModules();
  const luaPath = [POLICY_DIR, APICAST_SHIM_DIR].map((d) => `${d}/?.lua`).join(";");
  const policyConfig = JSON.stringify(opts.policyConfig ?? {}).replace(/'/g, "\\'");
  const proxy = `
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;`;
  const filters = `
      add_header x-nginx-worker $pid always;
      header_filter_by_lua_block { require('executor').run('header_filter') }
      body_filter_by_lua_block { require('executor').run('body_filter') }
      log_by_lua_block { require('executor').run('log') }`;
  // The policy's content phase runs at the end of the access handler: a routed request jumps to @upstream from there
  // (APIcast: content_by_lua, then ngx.exec), any other request goes on to this location's proxy_pass, so the
  // benchmark compares the policy's own work with a bare proxy, without an internal redirect APIcast adds anyway.
  // client_body_buffer_size is left at nginx's default, as APIcast does (larger bodies go to a temporary file);
  // rate_limit_headers is one of APIcast's own dicts (http.d/shdict.conf), the policy's default limits_shared_dict.
  return `
load_module ${modules.ndk};
load_module ${modules.lua};
daemon off;
master_process on;
worker_processes ${opts.workers ?? 1};
user root;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log info;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  client_max_body_size 0;
  lua_package_path "${luaPath};;";
  lua_shared_dict llm_test_metrics 1m;
  lua_shared_dict ${BATCH_SHARED_DICT} 1m;
  lua_shared_dict rate_limit_headers 1m;
  server {
    listen 127.0.0.1:${port} reuseport;
    set $llm_upstream '';
    set $llm_ctx_ref '';
    location /v1/ {
      set $service_id '${opts.serviceId ?? "7"}';
      set $backend_endpoint '${opts.backendUrl}';
      set $apicast_authrep '${opts.authrep ? "1" : "0"}';
      set $llm_policy_config '${policyConfig}';
      rewrite_by_lua_block { require('executor').run('rewrite') }
      access_by_lua_block { require('executor').run('access') require('executor').run('content') }
      proxy_pass http://127.0.0.1:${opts.upstreamPort};
      ${proxy}
      ${filters}
    }
    location @upstream {
      proxy_pass $llm_upstream;
      ${proxy}
      ${filters}
    }
    location /baseline/ {
      rewrite ^/baseline/(.*)$ /$1 break;
      proxy_pass http://127.0.0.1:${opts.upstreamPort};
      ${proxy}
    }
    location = /__metrics {
      content_by_lua_block {
        local dict = ngx.shared.llm_test_metrics
        local out = {}
        for _, key in ipairs(dict:get_keys(0)) do out[key] = dict:get(key) end
        ngx.say(require('cjson').encode(out))
      }
    }
    location = /__body_probe {
      content_by_lua_block {
        ngx.req.read_body()
        local data = ngx.req.get_body_data()
        ngx.say(require('cjson').encode({ in_memory = data ~= nil, in_file = ngx.req.get_body_file() ~= nil }))
      }
    }
  }
}
`;
}

function waitForPort(port: number, child: ChildProcess, prefix: string): Promise<void> {
  const deadline = Date.now() + 10000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) {
        const log = fs.existsSync(`${prefix}/error.log`) ? fs.readFileSync(`${prefix}/error.log`, "utf8") : "";
        reject(new Error(`nginx exited with ${child.exitCode}: ${log.slice(-2000)}`));
        return;
      }
      const socket = net.connect(port, "127.0.0.1");
      socket.once("connect", () => {
        socket.destroy();
        resolve();
      });
      socket.once("error", () => {
        socket.destroy();
        if (Date.now() > deadline) reject(new Error(`nginx did not listen on 127.0.0.1:${port}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

/** Starts nginx with the policy on a loopback port in a fresh temporary prefix. */
export async function startNginx(opts: NginxOptions): Promise<Nginx> {
  requireTool("nginx", ["-v"], "nginx");
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), "llm-metrics-nginx-"));
  fs.mkdirSync(path.join(prefix, "tmp"));
  const port = await freePort();
  const conf = path.join(prefix, "nginx.conf");
  fs.writeFileSync(conf, nginxConf(prefix, port, opts));
  const child = spawn("nginx", ["-p", prefix, "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  try {
    await waitForPort(port, child, prefix);
  } catch (e) {
    child.kill("SIGKILL");
    throw new Error(`${(e as Error).message}\n${stderr}`);
  }
  const base = `http://127.0.0.1:${port}`;
  const workerPids = () => {
    const master = child.pid;
    return fs
      .readdirSync("/proc")
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return fs.readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" ")[1] === String(master);
        } catch {
          return false;
        }
      })
      .map(Number);
  };
  // The master listens before it has forked every worker.
  const deadline = Date.now() + 5000;
  while (workerPids().length < (opts.workers ?? 1) && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  return {
    url: `${base}/v1`,
    baselineUrl: `${base}/baseline/v1`,
    prefix,
    errorLog: () => fs.readFileSync(path.join(prefix, "error.log"), "utf8"),
    workerPids,
    metrics: async () => JSON.parse((await request(`${base}/__metrics`, { method: "GET" })).body.toString("utf8")),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => {
          fs.rmSync(prefix, { recursive: true, force: true });
          resolve();
        });
        child.kill("SIGQUIT");
      }),
  };
}

export interface ClientResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  sha256: string;
}

/** Raw HTTP request (no decompression, so bytes compare exactly with what the upstream sent). */
export function request(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; agent?: http.Agent },
): Promise<ClientResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: opts.method ?? "POST", headers: opts.headers, agent: opts.agent },
      (res) => {
        const parts: Buffer[] = [];
        res.on("data", (d: Buffer) => parts.push(d));
        res.on("end", () => {
          const body = Buffer.concat(parts);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            sha256: createHash("sha256").update(body).digest("hex"),
          });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(opts.body);
  });
}
