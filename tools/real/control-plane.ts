/**
 * A REAL Kubernetes control plane for tests: etcd, kube-apiserver, kube-controller-manager and kube-scheduler built
 * from the pinned release (scripts/counterparts/build-cluster.sh), with kwok playing the kubelets of fake nodes.
 * Controllers, admission, RBAC, garbage collection, scheduling and PV binding are the real code; only containers do
 * not run (kwok moves pods to Running/Ready and Job pods to Succeeded).
 *
 *   const cp = await startControlPlane({ gpuNodes: 1, gpusPerNode: 4 });
 *   // cp.kubeconfigPath for Pulumi's kubernetes provider, cp.api for direct checks
 *   await installCrds(cp.kubeconfigPath, [`${contracts}/crds/routes-Default.crd.yaml`]);
 *   await cp.stop();
 *
 * In jest: `beforeAll(async () => { cp = await startControlPlane(); }, 180_000)` and `afterAll(() => cp.stop())`.
 * Run `bash scripts/counterparts/build-cluster.sh` before jest: with a cold cache the first start would build inline.
 * One control plane uses ~540 MiB RSS and starts in ~10 s on a loaded 2-core machine; share it per test file.
 *
 * Everything listens on 127.0.0.1 on free ports, lives in one temp dir, and is killed (process groups) and removed by
 * stop() or, at the latest, when the Node process exits. Set MAAS_KEEP_CLUSTER_DIR=1 to keep the dir (logs, certs,
 * etcd data) after stop() for a post-mortem.
 */
import * as fs from "fs";
import * as path from "path";
import { clusterBins } from "./counterparts";
import { applyCrds, getInsecure, KubeApi, KubeObject, resourcePath } from "./kube-api";
import { ClusterPki, createClusterPki, writeKubeconfig } from "./pki";
import { freePorts, keepTempDir, makeTempDir, ManagedProcess, removeTempDir, startProcess, waitFor } from "./procs";
import { Provisioner, startProvisioner, StorageClassSpec, storageClassObject } from "./pv-provisioner";

export interface NodeResources {
  cpu: string;
  memory: string;
  pods: string;
  "ephemeral-storage"?: string;
}

export interface ControlPlaneOptions {
  /** Fake worker nodes without GPUs. Default 1. */
  nodes?: number;
  /** Fake nodes that also advertise `nvidia.com/gpu` in capacity/allocatable. Default 0. */
  gpuNodes?: number;
  /** `nvidia.com/gpu` per GPU node. Default 1. */
  gpusPerNode?: number;
  /** Capacity (= allocatable) of every node. Default 16 CPU, 64Gi, 110 pods. */
  nodeResources?: NodeResources;
  /** Extra labels on GPU nodes (merged over `nvidia.com/gpu.present=true`, which the GPU operator's NFD sets). */
  gpuNodeLabels?: Record<string, string>;
  /** Taint GPU nodes `nvidia.com/gpu:NoSchedule` like the project's GPU MachineSets do. Default true. */
  gpuNodeTaint?: boolean;
  /** StorageClasses served by the test provisioner. Default one default class named "standard". */
  storageClasses?: StorageClassSpec[];
  /** Overall start deadline. Default 180 s (a loaded 2-core machine takes ~10-20 s). */
  startTimeoutMs?: number;
  /** Component log verbosity (-v). Default 1. */
  verbosity?: number;
}

export interface ControlPlane {
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** gitVersion from /version, e.g. v1.36.3. */
  version: string;
  /** Admin (system:masters) client for direct API calls. */
  api: KubeApi;
  /** Temp dir with certs, kubeconfigs, etcd data and logs/. */
  dir: string;
  logDir: string;
  nodeNames: string[];
  gpuNodeNames: string[];
  /** Milliseconds spent in each start phase, for budgeting. */
  timings: Record<string, number>;
  /** Errors the PV provisioner met (it keeps running). */
  provisionerErrors(): string[];
  stop(): Promise<void>;
}

const SERVICE_CIDR = "10.96.0.0/16";
const FAKE_NODE_ANNOTATION = "kwok.x-k8s.io/node";

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiserver: number;
  controllerManager: number;
  scheduler: number;
}

interface Layout {
  dir: string;
  logDir: string;
  pki: ClusterPki;
  ports: Ports;
  server: string;
  kubeconfig: { admin: string; controllerManager: string; scheduler: string };
}

async function prepareLayout(): Promise<Layout> {
  const dir = makeTempDir("maas-cp-");
  const logDir = path.join(dir, "logs");
  fs.mkdirSync(logDir);
  const pki = createClusterPki(path.join(dir, "pki"));
  const [etcdClient, etcdPeer, apiserver, controllerManager, scheduler] = await freePorts(5);
  const server = `https://127.0.0.1:${apiserver}`;
  const kubeconfig = {
    admin: path.join(dir, "admin.kubeconfig"),
    controllerManager: path.join(dir, "controller-manager.kubeconfig"),
    scheduler: path.join(dir, "scheduler.kubeconfig"),
  };
  writeKubeconfig(kubeconfig.admin, server, pki.ca.cert, pki.clients.admin, "kubernetes-admin");
  writeKubeconfig(
    kubeconfig.controllerManager,
    server,
    pki.ca.cert,
    pki.clients["controller-manager"],
    "system:kube-controller-manager",
  );
  writeKubeconfig(kubeconfig.scheduler, server, pki.ca.cert, pki.clients.scheduler, "system:kube-scheduler");
  return {
    dir,
    logDir,
    pki,
    ports: { etcdClient, etcdPeer, apiserver, controllerManager, scheduler },
    server,
    kubeconfig,
  };
}

function startEtcd(bin: string, l: Layout): ManagedProcess {
  const client = `http://127.0.0.1:${l.ports.etcdClient}`;
  const peer = `http://127.0.0.1:${l.ports.etcdPeer}`;
  return startProcess(
    "etcd",
    path.join(bin, "etcd"),
    [
      "--name=maas-test",
      `--data-dir=${path.join(l.dir, "etcd")}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=maas-test=${peer}`,
      "--initial-cluster-state=new",
      // Test data is thrown away with the temp dir; fsync only costs time (and disk contention with builds).
      "--unsafe-no-fsync",
      "--log-level=warn",
    ],
    path.join(l.logDir, "etcd.log"),
  );
}

function startApiserver(bin: string, l: Layout, v: number): ManagedProcess {
  const pki = l.pki;
  return startProcess(
    "kube-apiserver",
    path.join(bin, "kube-apiserver"),
    [
      `--etcd-servers=http://127.0.0.1:${l.ports.etcdClient}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${l.ports.apiserver}`,
      `--cert-dir=${path.join(l.dir, "apiserver")}`,
      `--tls-cert-file=${pki.apiserver.cert}`,
      `--tls-private-key-file=${pki.apiserver.key}`,
      `--client-ca-file=${pki.ca.cert}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${pki.serviceAccount.pub}`,
      `--service-account-signing-key-file=${pki.serviceAccount.key}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      "--authorization-mode=RBAC",
      // The only address to publish is loopback, which Endpoints validation rejects ("may not be in the loopback
      // range") on every sync; no pod ever dials the kubernetes Service here, so publish nothing.
      "--endpoint-reconciler-type=none",
      // Request-header (front-proxy) authentication as kubeadm sets it up: it is what kube-controller-manager and
      // kube-scheduler read from kube-system/extension-apiserver-authentication for their delegated auth (they log
      // errors every few seconds without it) and what an aggregated APIService would need.
      `--requestheader-client-ca-file=${pki.ca.cert}`,
      "--requestheader-allowed-names=front-proxy-client",
      "--requestheader-username-headers=X-Remote-User",
      "--requestheader-group-headers=X-Remote-Group",
      "--requestheader-extra-headers-prefix=X-Remote-Extra-",
      `--proxy-client-cert-file=${pki.clients["front-proxy"].cert}`,
      `--proxy-client-key-file=${pki.clients["front-proxy"].key}`,
      // The release's default admission chain (NamespaceLifecycle, LimitRanger, ServiceAccount, DefaultStorageClass,
      // ResourceQuota, webhooks, ValidatingAdmissionPolicy, ...) stays on; these two are named to make explicit what
      // the tests rely on: namespace termination and default StorageClass assignment.
      "--enable-admission-plugins=NamespaceLifecycle,DefaultStorageClass",
      "--allow-privileged=true",
      "--profiling=false",
      // No kubelets exist (kwok fakes them), so there is nothing for the apiserver to dial for logs/exec.
      `--v=${v}`,
    ],
    path.join(l.logDir, "kube-apiserver.log"),
  );
}

function startControllerManager(bin: string, l: Layout, v: number): ManagedProcess {
  const kc = l.kubeconfig.controllerManager;
  return startProcess(
    "kube-controller-manager",
    path.join(bin, "kube-controller-manager"),
    [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${l.ports.controllerManager}`,
      `--cert-dir=${path.join(l.dir, "controller-manager")}`,
      // One instance per cluster: leader election would only add a lease round-trip to start-up.
      "--leader-elect=false",
      // Each controller acts as its own service account, as kubeadm/OpenShift clusters run it (RBAC is exercised).
      "--use-service-account-credentials=true",
      `--service-account-private-key-file=${l.pki.serviceAccount.key}`,
      `--root-ca-file=${l.pki.ca.cert}`,
      `--cluster-signing-cert-file=${l.pki.ca.cert}`,
      `--cluster-signing-key-file=${l.pki.ca.key}`,
      // All on-by-default controllers. The cloud ones (service-lb, node-route, cloud-node-lifecycle) disable
      // themselves without a cloud provider.
      "--controllers=*",
      "--cluster-name=maas-test",
      // As kwokctl runs it: kwok renews node leases every 40 s.
      "--node-monitor-period=5s",
      "--node-monitor-grace-period=40s",
      `--v=${v}`,
    ],
    path.join(l.logDir, "kube-controller-manager.log"),
  );
}

function startScheduler(bin: string, l: Layout, v: number): ManagedProcess {
  const kc = l.kubeconfig.scheduler;
  return startProcess(
    "kube-scheduler",
    path.join(bin, "kube-scheduler"),
    [
      `--kubeconfig=${kc}`,
      `--authentication-kubeconfig=${kc}`,
      `--authorization-kubeconfig=${kc}`,
      "--bind-address=127.0.0.1",
      `--secure-port=${l.ports.scheduler}`,
      `--cert-dir=${path.join(l.dir, "scheduler")}`,
      "--leader-elect=false",
      `--v=${v}`,
    ],
    path.join(l.logDir, "kube-scheduler.log"),
  );
}

function startKwok(bin: string, stages: string, l: Layout, v: number): ManagedProcess {
  return startProcess(
    "kwok",
    path.join(bin, "kwok"),
    [
      `--kubeconfig=${l.kubeconfig.admin}`,
      // Only our fake nodes: a test that creates a Node of its own keeps full control of it.
      "--manage-all-nodes=false",
      `--manage-nodes-with-annotation-selector=${FAKE_NODE_ANNOTATION}=fake`,
      // kwok's own Stages of the built version (node-initialize, node-heartbeat-with-lease, pod-ready,
      // pod-complete for Job pods, pod-delete), copied by the build script.
      `--config=${stages}`,
      "--node-lease-duration-seconds=40",
      "--cidr=10.244.0.0/16",
      `-v=${v > 1 ? "DEBUG" : "INFO"}`,
    ],
    path.join(l.logDir, "kwok.log"),
    // kwok reads ~/.kwok/kwok.yaml when present; a private HOME keeps a developer's file out of the tests.
    { env: { ...process.env, HOME: l.dir } },
  );
}

function nodeObject(
  name: string,
  resources: NodeResources,
  gpu?: { count: number; labels: Record<string, string>; taint: boolean },
): KubeObject {
  const capacity: Record<string, string> = { ...resources };
  if (gpu) capacity["nvidia.com/gpu"] = String(gpu.count);
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { [FAKE_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        "node-role.kubernetes.io/worker": "",
        type: "kwok",
        ...(gpu ? { "nvidia.com/gpu.present": "true", "nvidia.com/gpu.count": String(gpu.count), ...gpu.labels } : {}),
      },
    },
    spec: gpu?.taint ? { taints: [{ key: "nvidia.com/gpu", effect: "NoSchedule" }] } : {},
    // Like a kubelet registering itself, the node is created with its capacity; kwok's node-initialize Stage then
    // keeps it and adds conditions/addresses/nodeInfo.
    status: { capacity, allocatable: { ...capacity } },
  };
}

/** GET against a component's own /healthz (self-signed serving cert, allowed without credentials). */
async function componentHealthy(port: number): Promise<true | undefined> {
  return (await getInsecure(`https://127.0.0.1:${port}/healthz`)) === "ok" ? true : undefined;
}

interface NodeStatus {
  metadata: { name: string };
  status?: { conditions?: { type: string; status: string }[] };
}

async function allNodesReady(api: KubeApi, names: string[]): Promise<true | undefined> {
  const nodes = await api.list<NodeStatus>("/api/v1/nodes");
  const ready = new Set(
    nodes
      .filter((n) => n.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True"))
      .map((n) => n.metadata.name),
  );
  return names.every((n) => ready.has(n)) ? true : undefined;
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  let mark = t0;
  const lap = (name: string): void => {
    const now = Date.now();
    timings[name] = now - mark;
    mark = now;
  };
  const deadline = t0 + (opts.startTimeoutMs ?? 180000);
  const remaining = (): number => Math.max(1000, deadline - Date.now());
  const v = opts.verbosity ?? 1;

  const { binDir, kwokStages } = clusterBins();
  lap("locateBinaries");
  const l = await prepareLayout();
  lap("pkiAndPorts");

  const procs: ManagedProcess[] = [];
  let api: KubeApi | undefined;
  let provisioner: Provisioner | undefined;
  let stopped = false;

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await provisioner?.stop();
    api?.close();
    // Clients first, then the apiserver, then its storage, so nothing logs a storm of connection errors.
    const [etcd, apiserver, ...rest] = procs;
    await Promise.all(rest.map((p) => p.stop()));
    await apiserver?.stop();
    await etcd?.stop();
    if (process.env.MAAS_KEEP_CLUSTER_DIR === "1") keepTempDir(l.dir);
    else removeTempDir(l.dir);
  };

  try {
    procs.push(startEtcd(binDir, l));
    procs.push(startApiserver(binDir, l, v));
    api = KubeApi.fromKubeconfig(l.kubeconfig.admin);
    const adminApi = api;
    await waitFor(
      "kube-apiserver /readyz",
      async () => ((await adminApi.raw("GET", "/readyz")).status === 200 ? true : undefined),
      { timeoutMs: remaining(), intervalMs: 100, watch: procs },
    );
    lap("etcdAndApiserverReady");

    procs.push(startControllerManager(binDir, l, v));
    procs.push(startScheduler(binDir, l, v));
    procs.push(startKwok(binDir, kwokStages, l, v));

    const classes = opts.storageClasses ?? [{ name: "standard", default: true }];
    for (const sc of classes)
      await adminApi.create(resourcePath("storage.k8s.io/v1", "storageclasses"), storageClassObject(sc));
    const nodeNames: string[] = [];
    const gpuNodeNames: string[] = [];
    const resources = opts.nodeResources ?? { cpu: "16", memory: "64Gi", pods: "110" };
    for (let i = 0; i < (opts.nodes ?? 1); i++) {
      const name = `kwok-node-${i}`;
      await adminApi.create("/api/v1/nodes", nodeObject(name, resources));
      nodeNames.push(name);
    }
    const gpu = {
      count: opts.gpusPerNode ?? 1,
      labels: opts.gpuNodeLabels ?? {},
      taint: opts.gpuNodeTaint ?? true,
    };
    for (let i = 0; i < (opts.gpuNodes ?? 0); i++) {
      const name = `kwok-gpu-node-${i}`;
      await adminApi.create("/api/v1/nodes", nodeObject(name, resources, gpu));
      gpuNodeNames.push(name);
    }
    provisioner = startProvisioner(adminApi, classes);
    lap("componentsSpawnedAndObjectsCreated");

    const watch = procs;
    await waitFor("kube-controller-manager /healthz", () => componentHealthy(l.ports.controllerManager), {
      timeoutMs: remaining(),
      watch,
    });
    await waitFor("kube-scheduler /healthz", () => componentHealthy(l.ports.scheduler), {
      timeoutMs: remaining(),
      watch,
    });
    // The service account controller's first act; pods cannot be admitted in "default" before it exists.
    await waitFor(
      "default/default ServiceAccount",
      () => adminApi.get(resourcePath("v1", "serviceaccounts", "default", "default")),
      {
        timeoutMs: remaining(),
        watch,
      },
    );
    await waitFor(
      "default/kube-root-ca.crt ConfigMap",
      () => adminApi.get(resourcePath("v1", "configmaps", "default", "kube-root-ca.crt")),
      {
        timeoutMs: remaining(),
        watch,
      },
    );
    await waitFor("fake nodes Ready (kwok)", () => allNodesReady(adminApi, [...nodeNames, ...gpuNodeNames]), {
      timeoutMs: remaining(),
      watch,
    });
    lap("controllersSchedulerNodesReady");

    const version = (await adminApi.request<{ gitVersion: string }>("GET", "/version")).gitVersion;
    timings.total = Date.now() - t0;
    const prov = provisioner;
    return {
      kubeconfigPath: l.kubeconfig.admin,
      server: l.server,
      version,
      api: adminApi,
      dir: l.dir,
      logDir: l.logDir,
      nodeNames,
      gpuNodeNames,
      timings,
      provisionerErrors: () => prov.errors(),
      stop,
    };
  } catch (err) {
    const logs = `logs in ${l.logDir}`;
    // Keep the evidence of a failed start; the exit hook no longer removes it.
    keepTempDir(l.dir);
    await provisioner?.stop();
    api?.close();
    await Promise.all(procs.map((p) => p.stop(1000)));
    throw new Error(`startControlPlane failed (${logs}): ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Applies the CRDs in `files` with the admin credentials of `kubeconfigPath` and waits until they are Established. */
export async function installCrds(kubeconfigPath: string, files: string[], timeoutMs = 60000): Promise<string[]> {
  const api = KubeApi.fromKubeconfig(kubeconfigPath);
  try {
    return await applyCrds(api, files, timeoutMs);
  } finally {
    api.close();
  }
}
