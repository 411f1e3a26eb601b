/**
 * A fresh "OpenShift" for the real suite and the bench: the REAL control plane (etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler; kwok for kubelets), the cluster CRDs every OpenShift serves (OLM, Route,
 * MachineSet, from contracts/), what the installer leaves (openshift-operators with its global OperatorGroup, a worker
 * MachineSet whose Machines are kwok Nodes), the stand-in OLM and operators (operators.ts) and the router (router.ts).
 *
 *   const env = await startEnvironment({ appsDomain: "apps.maas.test" });
 *   ... pulumi against env.kubeconfigPath ...
 *   await env.stop();
 *
 * A part that cannot be had is reported in `notReal` as `<part>: <exact error>` and printed as `not real: ...`.
 */
import * as fs from "fs";
import * as path from "path";
import type { EmulatorOptions } from "../threescale-emulator";
import { installerMachineSet } from "../../scripts/plan/cluster-fixture";
import { CLUSTER_CRDS, crdFile } from "./catalog";
import { ControlPlane, startControlPlane } from "./control-plane";
import { KubeApi, resourcePath } from "./kube-api";
import { listAllObjects } from "./objects";
import { Operators, startOperators } from "./operators";
import { makeTempDir, waitFor } from "./procs";
import { Router, startRouter } from "./router";

export const CLUSTER_NAME = "maas-real";
export const WORKER_MACHINESET = `${CLUSTER_NAME}-worker-us-east-2a`;
export const WORKER_NODES = [0, 1, 2].map((i) => `${WORKER_MACHINESET}-${i}`);

export interface EnvironmentOptions {
  appsDomain: string;
  emulator?: EmulatorOptions;
  /** Worker nodes of the installer's MachineSet (default 3: ODF needs three storage nodes). */
  workers?: number;
  readyDelayMs?: number;
}

export interface RealEnvironment {
  dir: string;
  appsDomain: string;
  cp: ControlPlane;
  api: KubeApi;
  kubeconfigPath: string;
  operators: Operators;
  router?: Router;
  backends: Map<string, string>;
  /** `<part>: <exact error>` for each counterpart that could not be had. */
  notReal: string[];
  /** Objects of the fresh cluster (after the installer's, before any `pulumi up`). */
  initialObjects: Set<string>;
  timings: Record<string, number>;
  stop(): Promise<void>;
}

const apply = (api: KubeApi, apiVersion: string, plural: string, obj: any) =>
  api.apply(
    resourcePath(apiVersion, plural, obj.metadata.namespace, obj.metadata.name),
    { apiVersion, ...obj },
    "openshift-installer",
  );

export async function startEnvironment(opts: EnvironmentOptions): Promise<RealEnvironment> {
  const timings: Record<string, number> = {};
  let t = Date.now();
  const lap = (name: string) => {
    timings[name] = Date.now() - t;
    t = Date.now();
  };
  const dir = makeTempDir("maas-real-");
  const cp = await startControlPlane({ nodes: 0, gpuNodes: 0 });
  lap("controlPlane");
  const api = cp.api;
  const notReal: string[] = [];
  const backends = new Map<string, string>();
  let operators: Operators | undefined;
  let router: Router | undefined;
  try {
    await api.apply(
      resourcePath("v1", "namespaces", undefined, "openshift-operators"),
      { apiVersion: "v1", kind: "Namespace", metadata: { name: "openshift-operators" } },
      "openshift-installer",
    );
    const { applyCrds } = await import("./kube-api");
    await applyCrds(
      api,
      CLUSTER_CRDS.map((f) => crdFile(f)),
      120000,
    );
    lap("clusterCrds");
    for (const ns of ["openshift-machine-api", "openshift-marketplace"]) {
      await apply(api, "v1", "namespaces", { kind: "Namespace", metadata: { name: ns } });
    }
    // OpenShift ships openshift-operators with a global OperatorGroup (AllNamespaces).
    await apply(api, "operators.coreos.com/v1", "operatorgroups", {
      kind: "OperatorGroup",
      metadata: { name: "global-operators", namespace: "openshift-operators" },
      spec: {},
    });
    await apply(
      api,
      "machine.openshift.io/v1beta1",
      "machinesets",
      installerMachineSet(WORKER_MACHINESET, {
        cluster: CLUSTER_NAME,
        replicas: opts.workers ?? 3,
        instanceType: "m6i.4xlarge",
      }),
    );
    operators = startOperators({
      api,
      backends,
      logFile: path.join(dir, "operators.log"),
      emulator: opts.emulator,
      readyDelayMs: opts.readyDelayMs,
    });
    const workers = WORKER_NODES.slice(0, opts.workers ?? 3);
    await waitFor(
      "worker nodes Ready",
      async () => {
        const nodes = await api.list<any>("/api/v1/nodes");
        const ready = nodes.filter((n) =>
          n.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"),
        );
        return workers.every((w) => ready.some((n) => n.metadata.name === w)) ? true : undefined;
      },
      { timeoutMs: 60000 },
    );
    lap("workers");
    try {
      router = await startRouter({ api, appsDomain: opts.appsDomain, backends, dir });
    } catch (e) {
      notReal.push(`router: ${(e as Error).message}`);
    }
    lap("router");
    const initialObjects = await listAllObjects(api);
    lap("initialObjects");
    const ops = operators;
    const stop = async () => {
      await router?.stop();
      await ops.stop();
      await cp.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    };
    return {
      dir,
      appsDomain: opts.appsDomain,
      cp,
      api,
      kubeconfigPath: cp.kubeconfigPath,
      operators: ops,
      router,
      backends,
      notReal,
      initialObjects,
      timings,
      stop,
    };
  } catch (e) {
    await router?.stop();
    await operators?.stop();
    await cp.stop();
    throw e;
  }
}
