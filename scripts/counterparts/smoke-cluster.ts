/**
 * Hand-run smoke check of the real counterparts (no jest):
 *   npx ts-node --transpile-only scripts/counterparts/smoke-cluster.ts
 * Starts the control plane (1 CPU node, 1 GPU node with 4 GPUs), installs the Route CRD, drives a Deployment, a
 * Job, a GPU pod, a PVC, garbage collection and namespace deletion through the real controllers, then starts
 * Keycloak and reads /admin/serverinfo with an admin token. Prints the time of each step. Exit code 0 = all passed.
 * CONTRACTS_DIR (default ../shared/contracts beside the repo) locates the CRDs.
 */
import * as path from "path";
import { installCrds, startControlPlane, ControlPlane } from "../../tools/real/control-plane";
import { KubeApi, resourcePath } from "../../tools/real/kube-api";
import { adminToken, startKeycloak } from "../../tools/real/keycloak";
import { waitFor } from "../../tools/real/procs";

const CONTRACTS = process.env.CONTRACTS_DIR ?? path.resolve(__dirname, "..", "..", "..", "shared", "contracts");
const NS = "default";
const timings: [string, number][] = [];

async function step<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  const value = await fn();
  const ms = Date.now() - t0;
  timings.push([name, ms]);
  console.log(`ok   ${name} (${ms} ms)`);
  return value;
}

interface Condition {
  type: string;
  status: string;
}
interface WithConditions {
  status?: { conditions?: Condition[]; phase?: string };
  spec?: { nodeName?: string };
}

const hasCondition = (obj: WithConditions | undefined, type: string): true | undefined =>
  obj?.status?.conditions?.some((c) => c.type === type && c.status === "True") ? true : undefined;

const podTemplate = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  containers: [{ name: "main", image: "registry.invalid/never-pulled:1", ...extra }],
});

async function deploymentAvailable(api: KubeApi): Promise<void> {
  await api.create(resourcePath("apps/v1", "deployments", NS), {
    metadata: { name: "smoke" },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: "smoke" } },
      template: { metadata: { labels: { app: "smoke" } }, spec: podTemplate() },
    },
  });
  await waitFor(
    "Deployment smoke Available",
    async () =>
      hasCondition(await api.get<WithConditions>(resourcePath("apps/v1", "deployments", NS, "smoke")), "Available"),
    {
      timeoutMs: 60000,
    },
  );
}

async function jobComplete(api: KubeApi): Promise<void> {
  await api.create(resourcePath("batch/v1", "jobs", NS), {
    metadata: { name: "smoke-job" },
    spec: { template: { spec: { ...podTemplate(), restartPolicy: "Never" } } },
  });
  await waitFor(
    "Job smoke-job Complete",
    async () =>
      hasCondition(await api.get<WithConditions>(resourcePath("batch/v1", "jobs", NS, "smoke-job")), "Complete"),
    {
      timeoutMs: 60000,
    },
  );
}

async function gpuPodRunning(api: KubeApi, cp: ControlPlane): Promise<string> {
  await api.create(resourcePath("v1", "pods", NS), {
    metadata: { name: "smoke-gpu" },
    spec: {
      ...podTemplate({ resources: { limits: { "nvidia.com/gpu": "2" } } }),
      tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
    },
  });
  const pod = await waitFor(
    "GPU pod Running",
    async () => {
      const p = await api.get<WithConditions>(resourcePath("v1", "pods", NS, "smoke-gpu"));
      return p?.status?.phase === "Running" ? p : undefined;
    },
    { timeoutMs: 60000 },
  );
  const node = pod.spec?.nodeName ?? "";
  if (!cp.gpuNodeNames.includes(node)) throw new Error(`GPU pod landed on ${node}, not a GPU node`);
  return node;
}

async function pvcBound(api: KubeApi): Promise<string> {
  await api.create(resourcePath("v1", "persistentvolumeclaims", NS), {
    metadata: { name: "smoke-pvc" },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } },
  });
  const pvc = await waitFor(
    "PVC smoke-pvc Bound",
    async () => {
      const p = await api.get<WithConditions & { spec: { volumeName?: string; storageClassName?: string } }>(
        resourcePath("v1", "persistentvolumeclaims", NS, "smoke-pvc"),
      );
      return p?.status?.phase === "Bound" ? p : undefined;
    },
    { timeoutMs: 60000 },
  );
  return `${pvc.spec.volumeName} (class ${pvc.spec.storageClassName})`;
}

/** Deleting the Deployment must take its ReplicaSet and pods with it (garbage collector, background policy). */
async function garbageCollected(api: KubeApi): Promise<void> {
  await api.request("DELETE", resourcePath("apps/v1", "deployments", NS, "smoke"), { propagationPolicy: "Background" });
  await waitFor(
    "pods of Deployment smoke gone",
    async () =>
      (await api.list(`${resourcePath("v1", "pods", NS)}?labelSelector=app%3Dsmoke`)).length === 0 ? true : undefined,
    { timeoutMs: 60000 },
  );
}

/** A namespace with content goes through Terminating to gone (namespace controller + finalizer). */
async function namespaceDeleted(api: KubeApi): Promise<void> {
  await api.create("/api/v1/namespaces", { metadata: { name: "smoke-ns" } });
  await api.create(resourcePath("v1", "configmaps", "smoke-ns"), { metadata: { name: "cm" }, data: { a: "b" } });
  await api.delete("/api/v1/namespaces/smoke-ns");
  await waitFor(
    "namespace smoke-ns gone",
    async () => ((await api.get("/api/v1/namespaces/smoke-ns")) ? undefined : true),
    {
      timeoutMs: 60000,
    },
  );
}

async function routeServed(cp: ControlPlane): Promise<void> {
  await installCrds(cp.kubeconfigPath, [path.join(CONTRACTS, "crds", "routes-Default.crd.yaml")]);
  await cp.api.create(resourcePath("route.openshift.io/v1", "routes", NS), {
    apiVersion: "route.openshift.io/v1",
    kind: "Route",
    metadata: { name: "smoke" },
    spec: { to: { kind: "Service", name: "smoke" } },
  });
}

async function clusterChecks(): Promise<void> {
  const cp = await step("control plane start", () => startControlPlane({ nodes: 1, gpuNodes: 1, gpusPerNode: 4 }));
  console.log(`     ${cp.server} ${cp.version}; phases ${JSON.stringify(cp.timings)}`);
  try {
    const api = cp.api;
    await step("Route CRD installed + Route created", () => routeServed(cp));
    await step("Deployment Available", () => deploymentAvailable(api));
    await step("Job Complete", () => jobComplete(api));
    const gpuNode = await step("GPU pod Running on GPU node", () => gpuPodRunning(api, cp));
    console.log(`     GPU pod on ${gpuNode}`);
    const pv = await step("PVC Bound", () => pvcBound(api));
    console.log(`     PVC bound to ${pv}`);
    await step("Deployment deleted, pods garbage-collected", () => garbageCollected(api));
    await step("namespace deleted", () => namespaceDeleted(api));
    const nodes = await api.list<{ metadata: { name: string }; status: { allocatable: Record<string, string> } }>(
      "/api/v1/nodes",
    );
    for (const n of nodes)
      console.log(`     node ${n.metadata.name} allocatable ${JSON.stringify(n.status.allocatable)}`);
    console.log(`     /version ${JSON.stringify(await api.request("GET", "/version"))}`);
    const errors = cp.provisionerErrors();
    if (errors.length) throw new Error(`provisioner errors: ${errors.join("; ")}`);
  } finally {
    await step("control plane stop", () => cp.stop());
  }
}

async function keycloakChecks(): Promise<void> {
  const kc = await step("Keycloak start", () => startKeycloak());
  try {
    const version = await step("admin token + /admin/serverinfo", async () => {
      const token = await adminToken(kc);
      const res = await fetch(`${kc.url}/admin/serverinfo`, { headers: { Authorization: `Bearer ${token}` } });
      if (!res.ok) throw new Error(`serverinfo: HTTP ${res.status}`);
      const info = (await res.json()) as { systemInfo: { version: string; javaVersion: string } };
      return `${info.systemInfo.version} on Java ${info.systemInfo.javaVersion}`;
    });
    console.log(`     Keycloak ${version} at ${kc.url}`);
  } finally {
    await step("Keycloak stop", () => kc.stop());
  }
}

async function main(): Promise<void> {
  const only = process.argv[2];
  if (only !== "keycloak") await clusterChecks();
  if (only !== "cluster") await keycloakChecks();
  console.log("\ntimings (ms):");
  for (const [name, ms] of timings) console.log(`  ${String(ms).padStart(7)}  ${name}`);
  console.log("smoke: all checks passed");
}

main().catch((err) => {
  console.error(`smoke FAILED: ${err instanceof Error ? err.stack : String(err)}`);
  process.exit(1);
});
