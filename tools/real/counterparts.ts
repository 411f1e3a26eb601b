/**
 * Where the real counterparts live. scripts/counterparts/build-cluster.sh owns the cache layout; this file only asks
 * it (or reads the variables it prints, when a caller already ran it and exported them) so the layout is written
 * down in one place.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

export interface ClusterBins {
  /** Directory holding etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok. */
  binDir: string;
  /** kwok Stage documents (node initialise/heartbeat, pod ready/complete/delete) copied from the kwok module. */
  kwokStages: string;
}

export interface KeycloakDist {
  /** The unpacked keycloak-<version> directory (bin/kc.sh inside). */
  home: string;
  javaHome: string;
}

const REPO_ROOT = path.resolve(__dirname, "..", "..");
const BUILD_SCRIPT = path.join(REPO_ROOT, "scripts", "counterparts", "build-cluster.sh");

/** Runs the build script (a no-op when the cache is warm) and returns the `export NAME=value` lines it prints. */
function runBuildScript(target: "cluster" | "keycloak"): Map<string, string> {
  const stdout = execFileSync("bash", [BUILD_SCRIPT, target], {
    encoding: "utf8",
    // Progress goes to stderr: show it, a cold build takes minutes and silence looks like a hang.
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 16 * 1024 * 1024,
  });
  const vars = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) vars.set(m[1], m[2].replace(/^'(.*)'$/, "$1"));
  }
  return vars;
}

function need(vars: Map<string, string>, name: string): string {
  const value = process.env[name] ?? vars.get(name);
  if (!value) throw new Error(`${BUILD_SCRIPT} did not print ${name}`);
  if (!fs.existsSync(value)) throw new Error(`${name}=${value} does not exist; rerun ${BUILD_SCRIPT}`);
  return value;
}

let clusterCache: ClusterBins | undefined;
let keycloakCache: KeycloakDist | undefined;

export function clusterBins(): ClusterBins {
  if (clusterCache) return clusterCache;
  const fromEnv = process.env.MAAS_CLUSTER_BIN && process.env.MAAS_KWOK_STAGES;
  const vars = fromEnv ? new Map<string, string>() : runBuildScript("cluster");
  clusterCache = { binDir: need(vars, "MAAS_CLUSTER_BIN"), kwokStages: need(vars, "MAAS_KWOK_STAGES") };
  return clusterCache;
}

export function keycloakDist(): KeycloakDist {
  if (keycloakCache) return keycloakCache;
  const fromEnv = process.env.MAAS_KEYCLOAK_HOME && process.env.MAAS_KEYCLOAK_JAVA_HOME;
  const vars = fromEnv ? new Map<string, string>() : runBuildScript("keycloak");
  keycloakCache = { home: need(vars, "MAAS_KEYCLOAK_HOME"), javaHome: need(vars, "MAAS_KEYCLOAK_JAVA_HOME") };
  return keycloakCache;
}
