/**
 * Fixtures for exercising the llm-metrics policy in a real nginx + lua module: a fake OpenAI-compatible upstream,
 * a fake 3scale backend that records `/transactions.xml` reports, and an nginx started on loopback with its own
 * prefix in a temporary directory. Shared by the integration test and the policy benchmark.
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
  exchanges: Map<string, UpstreamExchange>;
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
 * request says `"stream": true`), `x-upstream-size` (approximate body bytes). Gzips when the request accepts it,
 * in `gzip-always` mode, or when `x-upstream-encoding: gzip` says so.
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
      const exchange: UpstreamExchange = { requestBody, requestHeaders: req.headers, sentSha256: "" };
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
    });
  });
  const port = await listen(server);
  return { port, exchanges, close: () => closeServer(server) };
}

export interface BackendReport {
  query: URLSearchParams;
  form: URLSearchParams;
}

export interface FakeBackend {
  url: string;
  /** Reports the backend accepted (202). */
  reports: BackendReport[];
  /** Reports it answered with `failStatus`. */
  rejected: BackendReport[];
  /** When set, every report is answered with this status and not counted as accepted. */
  failStatus?: number;
  close(): Promise<void>;
}

/** 3scale backend listener: records `POST /transactions.xml` reports and answers 202 like the real one. */
export async function startFakeBackend(): Promise<FakeBackend> {
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
          res.writeHead(202).end();
        }
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
    close: () => closeServer(server),
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
  upstreamPort: number;
  backendUrl: string;
  serviceId?: string;
  /** The policy configuration object as it would appear in the APIcast policy chain. */
  policyConfig?: Record<string, unknown>;
  /** nginx worker processes (default 1). */
  workers?: number;
}

/** The lua_shared_dict the fixture's nginx defines for `batch_shared_dict`. */
export const BATCH_SHARED_DICT = "llm_metrics_batch";

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
      proxy_pass http://127.0.0.1:${opts.upstreamPort};
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;`;
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
  client_body_buffer_size 1m;
  lua_package_path "${luaPath};;";
  lua_shared_dict llm_test_metrics 1m;
  lua_shared_dict ${BATCH_SHARED_DICT} 1m;
  upstream model { server 127.0.0.1:${opts.upstreamPort}; keepalive 32; }
  server {
    listen 127.0.0.1:${port} reuseport;
    location /v1/ {
      set $service_id '${opts.serviceId ?? "7"}';
      set $backend_endpoint '${opts.backendUrl}';
      set $llm_policy_config '${policyConfig}';
      add_header x-nginx-worker $pid always;
      rewrite_by_lua_block { require('executor').run('rewrite') }
      header_filter_by_lua_block { require('executor').run('header_filter') }
      body_filter_by_lua_block { require('executor').run('body_filter') }
      log_by_lua_block { require('executor').run('log') }
      ${proxy}
    }
    location /baseline/ {
      rewrite ^/baseline/(.*)$ /$1 break;
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
  return {
    url: `${base}/v1`,
    baselineUrl: `${base}/baseline/v1`,
    prefix,
    errorLog: () => fs.readFileSync(path.join(prefix, "error.log"), "utf8"),
    workerPids: () => {
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
    },
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
