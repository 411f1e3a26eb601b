/**
 * A faithful in-process emulator of the 3scale Account Management API (plus the CMS API) of release 2.15 or 2.16 for
 * one tenant, bound to 127.0.0.1 on an ephemeral port. See README.md for what is and is not emulated.
 */
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { ApiError, accessDenied, notFound, wrongPermissions } from "./errors";
import { tickDeletions } from "./model";
import { BodyParseError, parseBody, parseUrlEncoded, redact, type Params } from "./params";
import { Router, randomHex, type RequestContext, type Reply } from "./router";
import { registerAccounts } from "./routes/accounts";
import { registerCatalog } from "./routes/catalog";
import { registerCms } from "./routes/cms";
import { registerGateway } from "./routes/gateway";
import { registerPlans } from "./routes/plans";
import { registerPortal } from "./routes/portal";
import { seedInfrastructure, seedTenant } from "./seed";
import { buildSnapshot, type TenantSnapshot } from "./snapshot";
import { specIndex } from "./spec";
import { emptyState, type EmulatorState, type Release } from "./state";

export type { EmulatorState, Release } from "./state";

/** The releases the emulator reproduces, and the one it runs when none is chosen (the program's default). */
export const RELEASES: readonly Release[] = ["2.15", "2.16"];
export const DEFAULT_RELEASE: Release = "2.16";
export type { TenantSnapshot } from "./snapshot";

export type FaultKind = "500" | "502" | "503" | "429" | "409" | "reset" | "timeout";
export interface FaultSettings {
  rate: number;
  kinds?: FaultKind[];
}

export interface EmulatorOptions {
  /** Accepted admin token (default: random 40 hex chars). */
  accessToken?: string;
  /** Optional read-only token: writes with it → 403 permissions error. */
  readOnlyToken?: string;
  /** Seed of the PRNG behind faults and generated keys (default 1). */
  seed?: number;
  /** Added to every request (default 0). */
  latencyMs?: number;
  /** Fraction 0..1 of requests that fail before being applied (default none). */
  faults?: FaultSettings;
  /** Default "maas"; admin domain `${tenant}-admin.example.test`, portal `${tenant}.example.test`. */
  tenantName?: string;
  /** Default "apps.example.test" (hosted product endpoints). */
  wildcardDomain?: string;
  /** The tenant's admin and portal domains (default `${tenant}-admin.example.test`, `${tenant}.example.test`). */
  adminDomain?: string;
  portalDomain?: string;
  /** Default true: the content a new 3scale tenant starts with. */
  seedDefaults?: boolean;
  /** Default true: reject paths/parameters that are not in the OpenAPI spec (400). */
  strictSpec?: boolean;
  /** The 3scale release to behave like: "2.15" or "2.16" (default "2.16"). */
  release?: Release;
  /**
   * How long (ms) a deleted product/backend stays pending before the background worker destroys it (system_name
   * taken, objects/status 200). Default 100.
   */
  deletionLagMs?: number;
  /** The emulator's clock in ms (default Date.now): tests may move time with their own. */
  clock?: () => number;
  /** How long a "timeout" fault holds the socket before dropping it. Default 30000 ms. */
  timeoutFaultMs?: number;
}

export interface RecordedCall {
  seq: number;
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown> | null;
  /** 0 when the socket was destroyed (reset/timeout faults, failAfter). */
  status: number;
  write: boolean;
  fault?: FaultKind;
}

export interface Emulator {
  url: string;
  accessToken: string;
  calls: RecordedCall[];
  writes(): RecordedCall[];
  resetCalls(): void;
  setLatency(ms: number): void;
  setFaults(f: FaultSettings | null): void;
  failAfter(n: number | null): void;
  state: EmulatorState;
  snapshot(): TenantSnapshot;
  close(): Promise<void>;
}

/** Default fault mix: everything a client must retry or survive, except the slow `timeout`. */
export const DEFAULT_FAULT_KINDS: FaultKind[] = ["500", "502", "503", "429", "409", "reset"];

/** mulberry32: tiny, fast, deterministic. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAULT_BODIES: Record<string, unknown> = {
  "500": { status: "Internal Server Error" },
  "502": null,
  "503": null,
  "429": { error: "Too Many Requests" },
  "409": null,
};

function buildRouter(): Router {
  const router = new Router();
  registerCatalog(router);
  registerGateway(router);
  registerPlans(router);
  registerPortal(router);
  registerAccounts(router);
  registerCms(router);
  return router;
}

/** Token from `access_token` (query, form or JSON body) or HTTP Basic (user or password); Bearer is ignored. */
function tokenOf(req: http.IncomingMessage, query: Params, body: Params): string | null {
  const explicit = body.access_token ?? query.access_token;
  if (typeof explicit === "string") return explicit;
  const auth = req.headers.authorization ?? "";
  const basic = /^Basic\s+(.+)$/i.exec(auth);
  if (!basic) return null;
  const decoded = Buffer.from(basic[1], "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  const user = colon >= 0 ? decoded.slice(0, colon) : decoded;
  const password = colon >= 0 ? decoded.slice(colon + 1) : "";
  return password || user || null;
}

function send(res: http.ServerResponse, reply: Reply): void {
  if (reply.body === null || reply.body === undefined) {
    res.writeHead(reply.status, { "content-length": 0 });
    res.end();
  } else if (typeof reply.body === "string") {
    res.writeHead(reply.status, { "content-type": "text/plain; charset=utf-8" });
    res.end(reply.body);
  } else {
    res.writeHead(reply.status, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(reply.body));
  }
}

const isWrite = (method: string) => method !== "GET" && method !== "HEAD";

function flatQuery(search: string): Record<string, string> {
  return Object.fromEntries(new URLSearchParams(search));
}

export async function startEmulator(opts: EmulatorOptions = {}): Promise<Emulator> {
  const random = mulberry32(opts.seed ?? 1);
  const faultRandom = mulberry32((opts.seed ?? 1) ^ 0x5f3759df);
  const accessToken = opts.accessToken ?? randomHex(mulberry32(Date.now() ^ process.pid), 40);
  const tokens = [accessToken, opts.readOnlyToken ?? ""].filter(Boolean);
  const tenantName = opts.tenantName ?? "maas";
  const release = opts.release ?? DEFAULT_RELEASE;
  if (!RELEASES.includes(release))
    throw new Error(`unknown 3scale release "${release}"; known: ${RELEASES.join(", ")}`);
  const state = emptyState(
    {
      name: tenantName,
      adminDomain: opts.adminDomain ?? `${tenantName}-admin.example.test`,
      portalDomain: opts.portalDomain ?? `${tenantName}.example.test`,
      wildcardDomain: opts.wildcardDomain ?? "apps.example.test",
    },
    { deletionLagMs: opts.deletionLagMs ?? 100, release, clock: opts.clock ?? Date.now },
  );
  seedInfrastructure(state);
  if (opts.seedDefaults ?? true) seedTenant(state, random);
  const strict = opts.strictSpec ?? true;
  const spec = strict ? specIndex(release) : null;
  const router = buildRouter();
  const timeoutFaultMs = opts.timeoutFaultMs ?? 30000;

  let latencyMs = opts.latencyMs ?? 0;
  let faults: FaultSettings | null = opts.faults ?? null;
  let crashCountdown: number | null = null;
  let seq = 0;
  const calls: RecordedCall[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  /** Decides (deterministically, in request order) whether this request fails and how. */
  const drawFault = (): FaultKind | undefined => {
    if (crashCountdown !== null) {
      if (crashCountdown <= 0) return "reset";
      crashCountdown--;
    }
    if (!faults || faults.rate <= 0) return undefined;
    const hit = faultRandom() < faults.rate;
    const kinds = faults.kinds?.length ? faults.kinds : DEFAULT_FAULT_KINDS;
    const kind = kinds[Math.floor(faultRandom() * kinds.length)];
    return hit ? kind : undefined;
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer) => {
    const method = (req.method ?? "GET").toUpperCase();
    const url = new URL(req.url ?? "/", "http://emulator");
    const call: RecordedCall = {
      seq: ++seq,
      method,
      path: url.pathname,
      query: redact(flatQuery(url.search), tokens),
      body: null,
      status: 0,
      write: isWrite(method),
    };
    calls.push(call);
    let body: Params = {};
    let parsed: ReturnType<typeof parseBody> | null = null;
    let parseError: string | null = null;
    try {
      parsed = parseBody(req.headers["content-type"], raw);
      body = parsed.params;
    } catch (e) {
      parseError = e instanceof BodyParseError ? e.message : String(e);
    }
    if (raw.length > 0) call.body = redact(body, tokens);

    // What a Rails request loads first: the proxies' lock_version, compared when it saves (optimistic locking).
    const loaded = new Map(state.products.map((p) => [p.id, p.proxy.lock_version]));
    const fault = drawFault();
    if (latencyMs > 0) await sleep(latencyMs);
    if (fault) {
      call.fault = fault;
      if (fault === "reset") {
        req.socket.destroy();
        return;
      }
      if (fault === "timeout") {
        await sleep(timeoutFaultMs);
        req.socket.destroy();
        return;
      }
      call.status = Number(fault);
      send(res, { status: call.status, body: FAULT_BODIES[fault] });
      return;
    }

    const reply = dispatch(method, url, req, body, parsed, parseError, loaded);
    call.status = reply.status;
    send(res, reply);
  };

  const dispatch = (
    method: string,
    url: URL,
    req: http.IncomingMessage,
    body: Params,
    parsed: ReturnType<typeof parseBody> | null,
    parseError: string | null,
    loaded: Map<number, number>,
  ): Reply => {
    tickDeletions(state);
    try {
      const query = parseUrlEncoded(url.search.slice(1));
      const suffix = /\.(json|xml)$/.exec(url.pathname)?.[1] ?? null;
      const path = url.pathname.replace(/\.(json|xml)$/, "");
      const matched = router.match(method, path);
      if (matched === null && spec) {
        const documented = spec.violation(method, url.pathname, {}, {}) === null;
        const why = documented ? "is documented but not emulated" : "path is not in the OpenAPI spec";
        throw new ApiError(400, { error: `emulator: ${method} ${url.pathname}: ${why}` });
      }
      if (matched === null || matched === "method") throw notFound();
      if (suffix !== "json") throw new ApiError(406, null);
      const token = tokenOf(req, query, body);
      if (token === null || !tokens.includes(token)) throw accessDenied();
      if (parseError) throw new ApiError(400, { error: parseError });
      if (spec) {
        const violation = spec.violation(method, url.pathname, query, body, matched.route.wrapper);
        if (violation) throw new ApiError(400, { error: violation });
      }
      if (isWrite(method) && token !== accessToken) throw wrongPermissions();
      const ctx: RequestContext = {
        method,
        path,
        pathParams: matched.pathParams,
        query,
        body,
        files: parsed?.files ?? {},
        wrappable: parsed?.wrappable ?? false,
        state,
        random,
        loadedLockVersion: (productId) => loaded.get(productId),
      };
      return matched.route.handle(ctx);
    } catch (e) {
      if (e instanceof ApiError) return { status: e.status, body: e.body };
      return { status: 500, body: { status: "Internal Server Error", emulator: String((e as Error)?.stack ?? e) } };
    }
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks)).catch((e) => {
        if (!res.headersSent)
          send(res, { status: 500, body: { status: "Internal Server Error", emulator: String(e) } });
      });
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    accessToken,
    calls,
    writes: () => calls.filter((c) => c.write && !c.fault && c.status >= 200 && c.status < 300),
    resetCalls: () => {
      calls.length = 0;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    setFaults: (f) => {
      faults = f;
    },
    failAfter: (n) => {
      crashCountdown = n;
    },
    state,
    snapshot: () => buildSnapshot(state),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
