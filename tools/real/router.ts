/**
 * The OpenShift router, played on loopback: an HTTPS reverse proxy on 127.0.0.1:443 that admits Routes (writes
 * `status.ingress` the way the router does) and sends each request to the Service its Host header's Route names,
 * edge-terminating TLS with a self-signed wildcard certificate for the apps domain (the stacks set
 * `threescale.verifyTls: false` and `sso.tlsInsecureSkipVerify: true`, as on a fresh cluster). There is no pod
 * network, so a Service's traffic goes where the stand-in operators registered it (`backends`: the 3scale emulator
 * behind system-provider, the real Keycloak behind `<name>-service`).
 *
 * Names resolve through /etc/hosts: every admitted Route host gets a line `127.0.0.1 <host>` inside a block marked
 * with this process id, removed on stop() or at exit (a block left by a killed process is removed at the next start).
 * Binding 443 and editing /etc/hosts need root (CI runs as root); a failure is reported, never hidden.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";
import type { KubeApi } from "./kube-api";
import { resourcePath } from "./kube-api";
import { sleep } from "./procs";

export const HOSTS_FILE = process.env.MAAS_HOSTS_FILE ?? "/etc/hosts";
const BEGIN = "# maas-real-suite begin pid=";
const END = "# maas-real-suite end pid=";

interface Route {
  metadata: { name: string; namespace: string; uid: string; resourceVersion?: string };
  spec: { host?: string; to?: { name?: string }; tls?: unknown };
  status?: { ingress?: { host?: string; conditions?: { type: string; status: string }[] }[] };
}

export interface Router {
  /** 443 */
  port: number;
  /** PEM of the self-signed serving certificate (for clients that want to trust it). */
  certificate: string;
  hosts(): string[];
  /** Requests proxied, as `<host> <method> <path> -> <status>`. */
  requests: string[];
  stop(): Promise<void>;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** /etc/hosts without our blocks (this process's, and those of processes that died without removing theirs). */
function withoutBlocks(text: string): string {
  const out: string[] = [];
  let skipping = false;
  for (const line of text.split("\n")) {
    if (line.startsWith(BEGIN)) {
      const pid = Number(line.slice(BEGIN.length));
      skipping = pid === process.pid || !pidAlive(pid);
      if (!skipping) out.push(line);
      continue;
    }
    if (line.startsWith(END)) {
      if (!skipping) out.push(line);
      skipping = false;
      continue;
    }
    if (!skipping) out.push(line);
  }
  return out.join("\n").replace(/\n*$/, "\n");
}

/** Rewrites the file in place (it may be a bind mount, which a rename would not update). */
function writeHosts(hosts: string[]): void {
  const base = withoutBlocks(fs.readFileSync(HOSTS_FILE, "utf8"));
  const block = hosts.length
    ? [`${BEGIN}${process.pid}`, ...hosts.map((h) => `127.0.0.1 ${h}`), `${END}${process.pid}`, ""]
    : [];
  fs.writeFileSync(HOSTS_FILE, base + block.join("\n"));
}

function selfSigned(dir: string, domain: string): { key: string; cert: string } {
  const key = path.join(dir, "router.key");
  const cert = path.join(dir, "router.crt");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "2",
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      `/CN=*.${domain}`,
      "-addext",
      `subjectAltName=DNS:*.${domain},DNS:${domain}`,
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  return { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") };
}

export interface RouterOptions {
  api: KubeApi;
  appsDomain: string;
  backends: Map<string, string>;
  dir: string;
  port?: number;
  intervalMs?: number;
}

/** Starts the router; rejects with the listen error (e.g. EACCES, EADDRINUSE) when 443 cannot be bound. */
export async function startRouter(opts: RouterOptions): Promise<Router> {
  const port = opts.port ?? 443;
  const { key, cert } = selfSigned(opts.dir, opts.appsDomain);
  const byHost = new Map<string, Route>();
  const requests: string[] = [];

  const server = https.createServer({ key, cert }, (req, res) => {
    const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    const route = byHost.get(host);
    const target = route ? opts.backends.get(`${route.metadata.namespace}/${route.spec.to?.name}`) : undefined;
    if (!target) {
      requests.push(`${host} ${req.method} ${req.url} -> 503`);
      // The OpenShift router's answer for a host no admitted Route serves (or a Service with no endpoints).
      res.writeHead(503, { "content-type": "text/html" });
      res.end("<html><body><h1>Application is not available</h1></body></html>");
      return;
    }
    const url = new URL(req.url ?? "/", target);
    const upstream = http.request(
      url,
      {
        method: req.method,
        headers: {
          ...req.headers,
          // What HAProxy adds for an edge route (forwardedHeaderPolicy Append).
          "x-forwarded-host": req.headers.host ?? host,
          "x-forwarded-port": String(port),
          "x-forwarded-proto": "https",
          "x-forwarded-for": req.socket.remoteAddress ?? "127.0.0.1",
          forwarded: `for=${req.socket.remoteAddress ?? "127.0.0.1"};host=${req.headers.host ?? host};proto=https`,
        },
      },
      (up) => {
        requests.push(`${host} ${req.method} ${url.pathname} -> ${up.statusCode}`);
        if (requests.length > 5000) requests.splice(0, 2500);
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on("error", (e) => {
      requests.push(`${host} ${req.method} ${url.pathname} -> 502 (${e.message})`);
      if (!res.headersSent) res.writeHead(502, { "content-type": "text/plain" });
      res.end(`router: ${e.message}`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });

  const cleanup = () => {
    try {
      writeHosts([]);
    } catch {
      // best effort at exit
    }
  };
  process.on("exit", cleanup);
  // procs.ts re-raises SIGINT/SIGTERM/SIGHUP after its own clean-up, which skips "exit" handlers.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.prependOnceListener(signal, cleanup);
  writeHosts([]);

  let stopped = false;
  let written = "";
  const admit = async () => {
    const res = await opts.api.raw("GET", resourcePath("route.openshift.io/v1", "routes"));
    if (res.status !== 200) return;
    const routes = (JSON.parse(res.text) as { items: Route[] }).items;
    byHost.clear();
    for (const r of routes) {
      const host = r.spec.host?.toLowerCase();
      if (!host) continue;
      // The oldest claim on a host wins; later Routes for it are rejected (HostAlreadyClaimed).
      if (!byHost.has(host)) byHost.set(host, r);
      const admitted = r.status?.ingress?.some(
        (i) => i.host === host && i.conditions?.some((c) => c.type === "Admitted" && c.status === "True"),
      );
      if (!admitted && byHost.get(host) === r) {
        const status = {
          ingress: [
            {
              host,
              routerName: "default",
              wildcardPolicy: "None",
              routerCanonicalHostname: `router-default.${opts.appsDomain}`,
              conditions: [
                {
                  type: "Admitted",
                  status: "True",
                  lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
                },
              ],
            },
          ],
        };
        const p = `${resourcePath("route.openshift.io/v1", "routes", r.metadata.namespace, r.metadata.name)}/status`;
        await opts.api.raw("PUT", p, { apiVersion: "route.openshift.io/v1", kind: "Route", ...r, status });
      }
    }
    const hosts = [...byHost.keys()].sort();
    const text = hosts.join(" ");
    if (text !== written) {
      writeHosts(hosts);
      written = text;
    }
  };
  const loop = (async () => {
    while (!stopped) {
      try {
        await admit();
      } catch {
        // the API server may be stopping; next round
      }
      await sleep(opts.intervalMs ?? 300);
    }
  })();

  return {
    port,
    certificate: cert,
    hosts: () => [...byHost.keys()],
    requests,
    stop: async () => {
      stopped = true;
      await loop;
      cleanup();
      process.off("exit", cleanup);
      for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.off(signal, cleanup);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections?.();
      });
    },
  };
}
