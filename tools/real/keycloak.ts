/**
 * A REAL Keycloak (the keycloak-quarkus-dist fetched and pre-augmented by scripts/counterparts/build-cluster.sh)
 * in `start-dev` mode on a free 127.0.0.1 port, with its embedded H2 database in a private temp dir, so several
 * instances can share the one cached dist.
 *
 *   const kc = await startKeycloak();
 *   // kc.url, kc.adminUser / kc.adminPassword (bootstrap admin of the master realm)
 *   await kc.stop();
 *
 * In jest: start one per test file in `beforeAll(..., 300_000)`; start-up costs ~22 s of JVM CPU (~50 s wall on a
 * loaded 2-core machine), far more than anything a test does with it.
 *
 * Only runtime options are passed: a build-time option (features, db vendor, health) would make start-dev re-augment,
 * which rewrites the shared dist's lib/quarkus and costs ~20 s. Set MAAS_KEEP_KEYCLOAK_DIR=1 to keep the temp dir
 * (log, H2 files) after stop().
 */
import * as fs from "fs";
import * as path from "path";
import * as http from "http";
import { keycloakDist } from "./counterparts";
import { freePorts, keepTempDir, makeTempDir, removeTempDir, startProcess, waitFor } from "./procs";

export interface KeycloakOptions {
  adminUser?: string;
  adminPassword?: string;
  /** Default 300 s: start-up is ~15 s on an idle machine, ~25-50 s on a loaded 2-core one. */
  startTimeoutMs?: number;
  /** Max heap in MiB. Default 768 (kc.sh would take 70 % of RAM, which parallel instances cannot afford). */
  heapMb?: number;
  /** Further runtime options for `kc.sh start-dev`, e.g. ["--log-level=debug"]. */
  extraArgs?: string[];
  /** Extra JVM options (appended to JAVA_OPTS through JAVA_OPTS_APPEND). */
  javaOpts?: string[];
}

export interface Keycloak {
  /** http://127.0.0.1:<port> (no context path). */
  url: string;
  adminUser: string;
  adminPassword: string;
  /** From the dist's version.txt, e.g. 26.7.3. */
  version: string;
  logFile: string;
  /** Milliseconds from spawn to /realms/master answering 200. */
  startupMs: number;
  stop(): Promise<void>;
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 5000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}

function distVersion(home: string): string {
  const text = fs.readFileSync(path.join(home, "version.txt"), "utf8");
  const m = /(\d+\.\d+\.\d+\S*)/.exec(text);
  if (!m) throw new Error(`no version in ${home}/version.txt: ${text}`);
  return m[1];
}

/** The parent's environment without Keycloak/Quarkus settings that would silently reconfigure the server. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(KC_|KEYCLOAK_|QUARKUS_|JAVA_OPTS)/.test(k)) env[k] = v;
  }
  return env;
}

export async function startKeycloak(opts: KeycloakOptions = {}): Promise<Keycloak> {
  const { home, javaHome } = keycloakDist();
  const adminUser = opts.adminUser ?? "admin";
  const adminPassword = opts.adminPassword ?? "admin";
  const dir = makeTempDir("maas-kc-");
  const logFile = path.join(dir, "keycloak.log");
  const [port, managementPort] = await freePorts(2);
  const url = `http://127.0.0.1:${port}`;

  const env: NodeJS.ProcessEnv = {
    ...cleanEnv(),
    JAVA_HOME: javaHome,
    KC_BOOTSTRAP_ADMIN_USERNAME: adminUser,
    KC_BOOTSTRAP_ADMIN_PASSWORD: adminPassword,
    JAVA_OPTS_KC_HEAP: `-Xms64m -Xmx${opts.heapMb ?? 768}m`,
    // Scratch files and the transaction object store would otherwise land in the shared dist's data/ dir.
    JAVA_OPTS_APPEND: [
      `-Djava.io.tmpdir=${dir}`,
      `-Dquarkus.transaction-manager.object-store.directory=${path.join(dir, "transaction-logs")}`,
      // C1 only: a short-lived test server gains nothing from C2, whose compile threads cost ~1/3 of the start-up
      // CPU (measured 22 s vs 32-35 s of JVM CPU per start, 50-59 s vs 78-81 s wall at load ~16 on 2 cores).
      // A later -XX:TieredStopAtLevel in javaOpts wins.
      "-XX:TieredStopAtLevel=1",
      ...(opts.javaOpts ?? []),
    ].join(" "),
  };
  const args = [
    "start-dev",
    "--http-host=127.0.0.1",
    `--http-port=${port}`,
    // The management interface (health/metrics) defaults to 9000 on all interfaces; keep parallel instances apart.
    `--http-management-port=${managementPort}`,
    // The dev-file H2 database, in this instance's temp dir instead of the dist's data/h2.
    `--db-url=jdbc:h2:file:${path.join(dir, "h2", "keycloakdb")};NON_KEYWORDS=VALUE`,
    ...(opts.extraArgs ?? []),
  ];

  const t0 = Date.now();
  const proc = startProcess("keycloak", path.join(home, "bin", "kc.sh"), args, logFile, { env, cwd: dir });
  const stop = async (): Promise<void> => {
    await proc.stop(10000);
    if (process.env.MAAS_KEEP_KEYCLOAK_DIR === "1") keepTempDir(dir);
    else removeTempDir(dir);
  };
  try {
    await waitFor(
      `Keycloak ${url}/realms/master`,
      async () => ((await httpStatus(`${url}/realms/master`)) === 200 ? true : undefined),
      { timeoutMs: opts.startTimeoutMs ?? 300000, intervalMs: 250, watch: [proc] },
    );
  } catch (err) {
    keepTempDir(dir);
    await proc.stop(2000);
    throw new Error(`startKeycloak failed (log ${logFile}): ${err instanceof Error ? err.message : String(err)}`);
  }
  return { url, adminUser, adminPassword, version: distVersion(home), logFile, startupMs: Date.now() - t0, stop };
}

/** Admin access token from the master realm's admin-cli client (password grant), as the Pulumi provider gets one. */
export async function adminToken(kc: Pick<Keycloak, "url" | "adminUser" | "adminPassword">): Promise<string> {
  const body = new URLSearchParams({
    grant_type: "password",
    client_id: "admin-cli",
    username: kc.adminUser,
    password: kc.adminPassword,
  });
  const res = await fetch(`${kc.url}/realms/master/protocol/openid-connect/token`, { method: "POST", body });
  if (!res.ok) throw new Error(`token request failed: HTTP ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access_token: string }).access_token;
}
