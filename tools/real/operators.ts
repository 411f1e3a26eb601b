/**
 * Stand-ins for OLM and the operators the program installs, playing what each does as far as the program can
 * observe it, against the REAL API server (status through the status subresource, owned objects garbage-collected by
 * the real controller manager, pods scheduled by the real scheduler and run by kwok):
 *
 * - OLM (operator-framework/operator-lifecycle-manager): a Subscription is resolved against `catalog.ts`; the CSV
 *   (a real ClusterServiceVersion object, named as the catalog names it) is created together with the bundle's CRDs
 *   (not before: the program's CRD waits must really wait), and the Subscription gets `installedCSV` at once
 *   (catalog/operator.go L1694-1715 ensureSubscriptionCSVState: as soon as the CSV exists, in any phase); the CSV goes
 *   Pending → InstallReady → Installing → Succeeded (olm/operator.go L2624), or Failed/NoOperatorGroup when its
 *   namespace has no OperatorGroup. Deleting a Subscription leaves the CSV and the CRDs (OLM behaviour). An operator
 *   acts only while its CSV is Succeeded, and only in its own namespace (OwnNamespace) or everywhere (AllNamespaces).
 * - Each operator writes the status `components/readiness.ts` says it writes when ready — the single source of truth
 *   shared with the program's waits — after first writing one of that kind's not-ready statuses.
 *
 * Side effects the program depends on: the 3scale operator serves the tenant admin API (the 3scale emulator, started
 * with the `system-seed` admin token) once the APIManager is ready, behind Routes the stand-in router serves; the RHBK
 * operator starts a REAL Keycloak with the bootstrap admin of `spec.bootstrapAdmin.user.secret` and imports the
 * realm of a KeycloakRealmImport through the admin API before marking it Done. The machine API turns MachineSets into
 * kwok Nodes; NFD labels nodes that have an NVIDIA PCI device; the GPU operator advertises their `nvidia.com/gpu`.
 * Every rule cites the upstream file it follows (see /work/notes/cluster-facts.md for the quotes).
 */
import * as fs from "fs";
import * as path from "path";
import { apiManagerDeployments, readyState, ReadyKind } from "../../components/readiness";
import type { ReleaseSet } from "../../components/config/releases";
import { startEmulator, type Emulator, type EmulatorOptions, type TenantSnapshot } from "../threescale-emulator";
import { CATALOG, crdFile, KSERVE_CRDS } from "./catalog";
import { adminToken, startKeycloak, type Keycloak } from "./keycloak";
import { applyCrds, KubeApi, KubeApiError, KubeObject, resourcePath } from "./kube-api";
import { sleep } from "./procs";

type Obj = KubeObject & {
  metadata: KubeObject["metadata"] & {
    uid: string;
    generation?: number;
    resourceVersion?: string;
    deletionTimestamp?: string;
    finalizers?: string[];
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { uid: string }[];
  };
  spec?: any;
  status?: any;
};

interface Kind {
  apiVersion: string;
  plural: string;
  kind: string;
}
const K = {
  subscription: { apiVersion: "operators.coreos.com/v1alpha1", plural: "subscriptions", kind: "Subscription" },
  csv: { apiVersion: "operators.coreos.com/v1alpha1", plural: "clusterserviceversions", kind: "ClusterServiceVersion" },
  operatorGroup: { apiVersion: "operators.coreos.com/v1", plural: "operatorgroups", kind: "OperatorGroup" },
  dsci: { apiVersion: "dscinitialization.opendatahub.io/v1", plural: "dscinitializations", kind: "DSCInitialization" },
  dsc: {
    apiVersion: "datasciencecluster.opendatahub.io/v1",
    plural: "datascienceclusters",
    kind: "DataScienceCluster",
  },
  isvc: { apiVersion: "serving.kserve.io/v1beta1", plural: "inferenceservices", kind: "InferenceService" },
  runtime: { apiVersion: "serving.kserve.io/v1alpha1", plural: "servingruntimes", kind: "ServingRuntime" },
  apiManager: { apiVersion: "apps.3scale.net/v1alpha1", plural: "apimanagers", kind: "APIManager" },
  cpd: {
    apiVersion: "capabilities.3scale.net/v1beta1",
    plural: "custompolicydefinitions",
    kind: "CustomPolicyDefinition",
  },
  keycloak: { apiVersion: "k8s.keycloak.org/v2alpha1", plural: "keycloaks", kind: "Keycloak" },
  realmImport: { apiVersion: "k8s.keycloak.org/v2alpha1", plural: "keycloakrealmimports", kind: "KeycloakRealmImport" },
  nfd: { apiVersion: "nfd.openshift.io/v1", plural: "nodefeaturediscoveries", kind: "NodeFeatureDiscovery" },
  clusterPolicy: { apiVersion: "nvidia.com/v1", plural: "clusterpolicies", kind: "ClusterPolicy" },
  storageCluster: { apiVersion: "ocs.openshift.io/v1", plural: "storageclusters", kind: "StorageCluster" },
  machineSet: { apiVersion: "machine.openshift.io/v1beta1", plural: "machinesets", kind: "MachineSet" },
  deployment: { apiVersion: "apps/v1", plural: "deployments", kind: "Deployment" },
  statefulSet: { apiVersion: "apps/v1", plural: "statefulsets", kind: "StatefulSet" },
  service: { apiVersion: "v1", plural: "services", kind: "Service" },
  secret: { apiVersion: "v1", plural: "secrets", kind: "Secret" },
  route: { apiVersion: "route.openshift.io/v1", plural: "routes", kind: "Route" },
  job: { apiVersion: "batch/v1", plural: "jobs", kind: "Job" },
  node: { apiVersion: "v1", plural: "nodes", kind: "Node" },
  storageClass: { apiVersion: "storage.k8s.io/v1", plural: "storageclasses", kind: "StorageClass" },
} satisfies Record<string, Kind>;

const pathOf = (k: Kind, ns: string | undefined, name?: string) => resourcePath(k.apiVersion, k.plural, ns, name);
const selfPath = (k: Kind, o: Obj) => pathOf(k, o.metadata.namespace, o.metadata.name);
const gen = (o: Obj) => o.metadata.generation ?? 1;
const ownerRef = (k: Kind, o: Obj) => ({
  apiVersion: k.apiVersion,
  kind: k.kind,
  name: o.metadata.name,
  uid: o.metadata.uid,
  controller: true,
  blockOwnerDeletion: true,
});
/** Keys a controller refreshes on every write: left out when deciding whether a status changed. */
const VOLATILE = new Set(["lastUpdated", "lastUpdateTime", "lastHeartbeatTime"]);
/** JSON with sorted keys and without volatile timestamps. */
function canonical(v: unknown): string {
  const norm = (x: unknown): unknown =>
    Array.isArray(x)
      ? x.map(norm)
      : x && typeof x === "object"
        ? Object.fromEntries(
            Object.keys(x as object)
              .filter((k) => !VOLATILE.has(k))
              .sort()
              .map((k) => [k, norm((x as Record<string, unknown>)[k])]),
          )
        : x;
  return JSON.stringify(norm(v));
}
const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");
const b64 = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, "base64").toString("utf8"));

/** The hardware a fake machine has: an annotation on its Node standing for an NVIDIA PCI device (NFD's input). */
export const PCI_NVIDIA_ANNOTATION = "maas.test/pci-10de-devices";
export const NFD_PCI_LABEL = "feature.node.kubernetes.io/pci-10de.present";

/** Instance types the fake machine API knows: allocatable CPU, memory and NVIDIA GPUs. */
export const INSTANCE_TYPES: Record<string, { cpu: string; memory: string; gpus: number }> = {
  "m6i.2xlarge": { cpu: "8", memory: "32Gi", gpus: 0 },
  "m6i.4xlarge": { cpu: "16", memory: "64Gi", gpus: 0 },
  "g5.2xlarge": { cpu: "8", memory: "32Gi", gpus: 1 },
  "g5.12xlarge": { cpu: "48", memory: "192Gi", gpus: 4 },
  "g5.48xlarge": { cpu: "192", memory: "768Gi", gpus: 8 },
};

export interface OperatorsOptions {
  api: KubeApi;
  /** Where the stand-in router sends a Service's traffic: `<namespace>/<service>` → base URL. */
  backends: Map<string, string>;
  logFile: string;
  /** Options of every tenant the 3scale operator starts (latency, faults...). */
  emulator?: EmulatorOptions;
  /** Delay between the not-ready and the ready status of an object (a real controller takes seconds). */
  readyDelayMs?: number;
  intervalMs?: number;
  /** Keep one Keycloak started ahead of the Keycloak CR that will use it (default true). */
  warmKeycloak?: boolean;
}

export interface Tenant {
  namespace: string;
  emulator: Emulator;
  /** The tenant as it was when the operator created it. */
  initial: TenantSnapshot;
}

export interface Operators {
  /** The running tenant of the APIManager in `namespace` (default: the only one). */
  tenant(namespace?: string): Tenant | undefined;
  /** The last snapshot of each tenant whose APIManager was deleted, taken just before its server stopped. */
  finalTenants: Map<string, TenantSnapshot>;
  /** The running Keycloak of each Keycloak CR, by `<namespace>/<name>`. */
  keycloaks: Map<string, Keycloak>;
  /** Versions of what the stand-ins start (for the summary). */
  versions: Record<string, string>;
  errors(): string[];
  stop(): Promise<void>;
}

/** Keyed external state of a custom resource (the emulator of an APIManager, the Keycloak of a Keycloak CR). */
interface Started<T> {
  uid: string;
  value?: T;
  starting?: Promise<T>;
  error?: string;
}

export function startOperators(opts: OperatorsOptions): Operators {
  const { api, backends } = opts;
  const delay = opts.readyDelayMs ?? 500;
  const log = (line: string) => fs.appendFileSync(opts.logFile, `${new Date().toISOString()} ${line}\n`);
  const errors: string[] = [];
  const firstSeen = new Map<string, number>();
  const tenants = new Map<string, Started<Tenant>>();
  const finalTenants = new Map<string, TenantSnapshot>();
  const keycloaks = new Map<string, Started<Keycloak>>();
  const running = new Map<string, Keycloak>();
  const installedCrds = new Set<string>();
  const versions: Record<string, string> = {};
  let stopped = false;

  const list = async (k: Kind, ns?: string): Promise<Obj[]> => {
    const res = await api.raw("GET", pathOf(k, ns));
    if (res.status === 404) return [];
    if (res.status !== 200) throw new KubeApiError("GET", pathOf(k, ns), res.status, res.text);
    return (JSON.parse(res.text) as { items: Obj[] }).items;
  };
  const get = (k: Kind, ns: string | undefined, name: string) => api.get<Obj>(pathOf(k, ns, name));

  /** The object has been seen at this generation for `delay` ms: time for a real controller's work. */
  const settled = (o: Obj) => {
    const key = `${o.metadata.uid}/${gen(o)}`;
    const t = firstSeen.get(key) ?? Date.now();
    firstSeen.set(key, t);
    return Date.now() - t >= delay;
  };

  /** Replaces the status through the status subresource when it differs (a conflict is retried next round). */
  const writeStatus = async (k: Kind, o: Obj, status: unknown) => {
    if (canonical(o.status ?? null) === canonical(status)) return;
    const res = await api.raw("PUT", `${selfPath(k, o)}/status`, { ...o, status });
    if (res.status === 409 || res.status === 404) return;
    if (res.status >= 300) throw new KubeApiError("PUT", `${selfPath(k, o)}/status`, res.status, res.text);
    log(`${k.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}: status ${JSON.stringify(status).slice(0, 160)}`);
  };

  /** Writes the kind's ready status once settled and `ok`, else its first not-ready status. */
  const report = async (k: Kind & { kind: ReadyKind }, o: Obj, releases: ReleaseSet, ok: boolean, extra?: object) => {
    const state = readyState(k.kind, releases);
    const ref = { name: o.metadata.name, generation: gen(o) };
    const ready = ok && settled(o);
    const status = ready ? state.ready(ref) : state.notReady[0](ref);
    await writeStatus(k, o, extra ? { ...status, ...extra } : status);
    return ready;
  };

  /** Creates or updates an object this operator owns (server-side apply, its own field manager). */
  const applied = new Map<string, string>();
  const ensure = async (k: Kind, obj: Obj | KubeObject, manager: string) => {
    const p = pathOf(k, obj.metadata.namespace, obj.metadata.name);
    const body = JSON.stringify({ apiVersion: k.apiVersion, kind: k.kind, ...obj });
    if (applied.get(p) === body && Math.random() > 0.1) return;
    await api.apply(p, JSON.parse(body), manager);
    applied.set(p, body);
  };

  const installCrds = async (files: string[], release?: string, standIns: KubeObject[] = []) => {
    const paths = files.map((f) => crdFile(f, release)).filter((f) => !installedCrds.has(f));
    if (paths.length > 0) {
      await applyCrds(api, paths, 120000);
      for (const p of paths) installedCrds.add(p);
      log(`CRDs installed: ${paths.map((p) => path.basename(p)).join(", ")}`);
    }
    for (const crd of standIns) {
      const key = `stand-in:${crd.metadata.name}`;
      if (installedCrds.has(key)) continue;
      await api.apply(
        resourcePath("apiextensions.k8s.io/v1", "customresourcedefinitions", undefined, crd.metadata.name),
        crd,
        "olm",
      );
      installedCrds.add(key);
    }
  };

  /** Runs one object's reconcile; its error is recorded and does not stop the others'. */
  const guard = async (what: string, fn: () => Promise<unknown>) => {
    try {
      await fn();
    } catch (e) {
      const msg = `${what}: ${e instanceof Error ? e.message : String(e)}`;
      if (errors[errors.length - 1] !== msg) errors.push(msg);
      if (errors.length > 200) errors.splice(0, 100);
      log(`ERROR ${msg}`);
    }
  };

  // ---------------------------------------------------------------------------------------------------------------
  // OLM
  // ---------------------------------------------------------------------------------------------------------------

  /** Succeeded CSVs: package → { namespace, channel, subscription }. */
  let operators = new Map<string, { namespace: string; channel: string; subscription: Obj; csv: Obj }>();

  const olm = async () => {
    const subs = await list(K.subscription);
    const groups = await list(K.operatorGroup);
    const csvs = await list(K.csv);
    const next = new Map<string, { namespace: string; channel: string; subscription: Obj; csv: Obj }>();
    for (const sub of subs)
      await guard(`Subscription ${sub.metadata.namespace}/${sub.metadata.name}`, async () => {
        const ns = sub.metadata.namespace as string;
        const pkg = sub.spec?.name as string;
        const channel = sub.spec?.channel as string;
        const entry = CATALOG[pkg];
        const csvName = sub.spec?.startingCSV ?? entry?.channels[channel];
        if (!entry || !csvName) {
          await writeStatus(K.subscription, sub, {
            lastUpdated: now(),
            state: "",
            conditions: [
              {
                type: "ResolutionFailed",
                status: "True",
                reason: "ConstraintsNotSatisfiable",
                message: entry
                  ? `no operators found in channel ${channel} of package ${pkg} in the catalog referenced by subscription ${sub.metadata.name}`
                  : `no operators found in package ${pkg} in the catalog referenced by subscription ${sub.metadata.name}`,
              },
            ],
          });
          return;
        }
        let csv = csvs.find((c) => c.metadata.namespace === ns && c.metadata.name === csvName);
        if (!csv) {
          // The InstallPlan's steps: the bundle's CRDs, then the CSV (catalog operator ExecutePlan).
          await installCrds(entry.crds, entry.release?.(channel), entry.standInCrds);
          csv = (await api.create(pathOf(K.csv, ns), {
            apiVersion: K.csv.apiVersion,
            kind: K.csv.kind,
            metadata: { name: csvName, namespace: ns, labels: { [`operators.coreos.com/${pkg}.${ns}`]: "" } },
            spec: {
              displayName: pkg,
              version: csvName.replace(/^[^.]*\.v?/, ""),
              install: { strategy: "deployment", spec: { deployments: [] } },
              installModes: [
                { type: "OwnNamespace", supported: true },
                { type: "SingleNamespace", supported: true },
                { type: "MultiNamespace", supported: false },
                { type: "AllNamespaces", supported: true },
              ],
            },
          })) as Obj;
          log(`OLM: created CSV ${ns}/${csvName} for Subscription ${sub.metadata.name} (${channel})`);
        }
        // ensureSubscriptionCSVState: installedCSV as soon as the CSV exists, in any phase.
        const ready = readyState("Subscription").ready({ name: pkg, generation: gen(sub) });
        await writeStatus(K.subscription, sub, {
          ...ready,
          currentCSV: csvName,
          installedCSV: csvName,
          lastUpdated: now(),
        });

        const ogs = groups.filter((g) => g.metadata.namespace === ns);
        if (ogs.length !== 1) {
          await writeStatus(K.csv, csv, {
            phase: "Failed",
            reason: ogs.length === 0 ? "NoOperatorGroup" : "TooManyOperatorGroups",
            message:
              ogs.length === 0
                ? "csv in namespace with no operatorgroups"
                : "csv created in namespace with multiple operatorgroups, can't pick one automatically",
          });
          return;
        }
        const ok = await report({ ...K.csv, kind: "ClusterServiceVersion" }, csv, releasesNow(), true);
        if (ok) next.set(pkg, { namespace: ns, channel, subscription: sub, csv });
        else if (csv.status?.phase === "Succeeded") next.set(pkg, { namespace: ns, channel, subscription: sub, csv });
      });
    // A CSV whose Subscription was deleted keeps running (OLM leaves it installed).
    for (const [pkg, op] of operators) {
      if (!next.has(pkg) && csvs.some((c) => c.metadata.uid === op.csv.metadata.uid)) next.set(pkg, op);
    }
    operators = next;
  };

  const op = (pkg: string) => operators.get(pkg);

  const releasesNow = (): ReleaseSet => ({
    openshiftAi: (/(\d+\.\d+)$/.exec(op("rhods-operator")?.channel ?? "")?.[1] ?? "2.25") as ReleaseSet["openshiftAi"],
    threescale: (/(\d+\.\d+)$/.exec(op("3scale-operator")?.channel ?? "")?.[1] ?? "2.16") as ReleaseSet["threescale"],
    sso: op("rhsso-operator") ? "rhsso" : "rhbk",
  });

  // ---------------------------------------------------------------------------------------------------------------
  // OpenShift AI (rhods-operator) and KServe
  // ---------------------------------------------------------------------------------------------------------------

  let dsciCreatedBy: string | undefined;
  const openshiftAi = async () => {
    const rhods = op("rhods-operator");
    if (!rhods) return;
    const releases = releasesNow();
    // main.go (rhoai-2.16 L262-264, rhoai-2.25 cmd/main.go L402-404): unless DISABLE_DSC_CONFIG is set to something
    // other than "false", the operator creates its own `default-dsci` at start-up (upgrade.CreateDefaultDSCI).
    const env = (rhods.subscription.spec?.config?.env ?? []) as { name: string; value?: string }[];
    const disable = env.find((e) => e.name === "DISABLE_DSC_CONFIG");
    const dscis = await list(K.dsci);
    if (!(disable && disable.value !== "false") && dscis.length === 0 && dsciCreatedBy !== rhods.csv.metadata.uid) {
      dsciCreatedBy = rhods.csv.metadata.uid;
      await api.create(pathOf(K.dsci, undefined), {
        apiVersion: K.dsci.apiVersion,
        kind: K.dsci.kind,
        metadata: { name: "default-dsci" },
        spec: {
          applicationsNamespace: "redhat-ods-applications",
          monitoring: { managementState: "Managed", namespace: "redhat-ods-monitoring" },
        },
      });
      log("RHOAI: created default-dsci (DISABLE_DSC_CONFIG not set)");
    }
    for (const dsci of dscis)
      await guard(`DSCI ${dsci.metadata.name}`, () =>
        report({ ...K.dsci, kind: "DSCInitialization" }, dsci, releases, true),
      );

    for (const dsc of await list(K.dsc)) {
      const dsciReady = dscis.some((d) => d.status?.phase === "Ready");
      const kserve = dsc.spec?.components?.kserve;
      const managed = kserve?.managementState === "Managed";
      // 2.25 kserve_controller_actions.go L63-87: serving Managed needs the Service Mesh and Serverless operators.
      const servingManaged = managed && (kserve.serving?.managementState ?? "Managed") === "Managed";
      const dependencies = !servingManaged || (!!op("servicemeshoperator") && !!op("serverless-operator"));
      if (dsciReady && managed && dependencies) {
        await installCrds(KSERVE_CRDS, releases.openshiftAi === "2.16" ? undefined : `rhoai-${releases.openshiftAi}`);
      }
      await report({ ...K.dsc, kind: "DataScienceCluster" }, dsc, releases, dsciReady && managed && dependencies);
    }

    const kserveReady = (await list(K.dsc)).some((d) => d.status?.phase === "Ready");
    if (!kserveReady) return;
    for (const isvc of await list(K.isvc))
      await guard(`InferenceService ${isvc.metadata.namespace}/${isvc.metadata.name}`, () =>
        inferenceService(isvc, releases),
      );
  };

  /** KServe RawDeployment: the predictor Deployment and Service; Ready once the Deployment is available. */
  const inferenceService = async (isvc: Obj, releases: ReleaseSet) => {
    if (isvc.metadata.deletionTimestamp) return;
    const ns = isvc.metadata.namespace as string;
    const name = isvc.metadata.name;
    const predictor = isvc.spec?.predictor ?? {};
    const model = predictor.model ?? {};
    const runtime = model.runtime ? await get(K.runtime, ns, model.runtime) : undefined;
    if (!runtime) {
      await report({ ...K.isvc, kind: "InferenceService" }, isvc, releases, false);
      return;
    }
    const container = runtime.spec?.containers?.[0] ?? {};
    const labels = {
      "serving.kserve.io/inferenceservice": name,
      app: `isvc.${name}-predictor`,
      component: "predictor",
    };
    const replicas = predictor.minReplicas ?? 1;
    await ensure(
      K.deployment,
      {
        metadata: {
          name: `${name}-predictor`,
          namespace: ns,
          labels,
          ownerReferences: [ownerRef(K.isvc, isvc)],
        } as any,
        spec: {
          replicas,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: "kserve-container",
                  image: container.image ?? "vllm",
                  args: [...(container.args ?? []), ...(model.args ?? [])],
                  resources: model.resources ?? {},
                },
              ],
              tolerations: predictor.tolerations,
              nodeSelector: predictor.nodeSelector,
            },
          },
        },
      } as any,
      "kserve",
    );
    // 2.25 rawDeploymentServiceConfig Headless (default): the predictor Service has no cluster IP.
    await ensure(
      K.service,
      {
        metadata: {
          name: `${name}-predictor`,
          namespace: ns,
          labels,
          ownerReferences: [ownerRef(K.isvc, isvc)],
        } as any,
        spec: { clusterIP: "None", selector: labels, ports: [{ name: "http", port: 8080, targetPort: 8080 }] },
      } as any,
      "kserve",
    );
    const deployment = await get(K.deployment, ns, `${name}-predictor`);
    const available =
      !!deployment &&
      (deployment.status?.observedGeneration ?? 0) >= gen(deployment) &&
      (deployment.status?.availableReplicas ?? 0) >= replicas &&
      (deployment.status?.updatedReplicas ?? 0) >= replicas;
    await report({ ...K.isvc, kind: "InferenceService" }, isvc, releases, available);
  };

  // ---------------------------------------------------------------------------------------------------------------
  // 3scale operator
  // ---------------------------------------------------------------------------------------------------------------

  const threescale = async () => {
    const operator = op("3scale-operator");
    if (!operator) return;
    const releases = releasesNow();
    const ns = operator.namespace;
    const seen = new Set<string>();
    for (const am of await list(K.apiManager, ns)) {
      seen.add(am.metadata.uid);
      if (am.metadata.deletionTimestamp) continue;
      await guard(`APIManager ${ns}/${am.metadata.name}`, () => apiManager(am, releases, ns));
    }
    // The APIManager is gone: its Deployments go with it (owner references), and so does the tenant.
    for (const [key, t] of tenants) {
      if (key.startsWith(`${ns}/`) && !seen.has(t.uid) && t.value) {
        finalTenants.set(ns, t.value.emulator.snapshot());
        await t.value.emulator.close();
        for (const svc of ["system-provider", "system-developer", "system-master"]) backends.delete(`${ns}/${svc}`);
        tenants.delete(key);
        log(`3scale: APIManager ${key} deleted, tenant stopped`);
      }
    }
    const am = [...tenants.entries()].find(([k]) => k.startsWith(`${ns}/`))?.[1].value;
    for (const cpd of await list(K.cpd, ns)) {
      // custompolicydefinition_status_reconciler.go: Ready iff the policy reached the tenant through its admin API
      // (provider account found from the APIManager + system-seed). The emulator has no policy registry routes,
      // so "reached" is an authenticated admin API call.
      let ok = false;
      if (am) {
        const res = await fetch(`${am.emulator.url}/admin/api/services.json?access_token=${am.emulator.accessToken}`);
        ok = res.status === 200;
      }
      await report({ ...K.cpd, kind: "CustomPolicyDefinition" }, cpd, releases, ok);
    }
  };

  const apiManager = async (am: Obj, releases: ReleaseSet, ns: string) => {
    const release = releases.threescale;
    const spec = am.spec ?? {};
    const ext = spec.externalComponents ?? {};
    // 3scale-2.16-stable apimanager_controller.go L296-309: no internal databases any more.
    if (release === "2.16" && !(ext.system?.database && ext.system?.redis && ext.backend?.redis)) {
      await writeStatus(K.apiManager, am, {
        conditions: [
          {
            type: "Preflights",
            status: "False",
            lastTransitionTime: "2026-01-01T00:00:00Z",
            reason: "PreflightsFailed",
            message:
              "cannot continue with the installation. External databases are required to be set in the APIManager for system Redis, backend Redis and system database",
          },
        ],
      });
      return;
    }
    // 2.16 apimanager_status_reconciler.go L368-395: watched Secrets (databases and custom policies) must exist.
    const watched = [
      ...(release === "2.16" ? ["system-redis", "backend-redis", "system-database"] : []),
      ...[
        ...(spec.apicast?.productionSpec?.customPolicies ?? []),
        ...(spec.apicast?.stagingSpec?.customPolicies ?? []),
      ].map((p: { secretRef?: { name?: string } }) => p.secretRef?.name as string),
    ];
    const missing: string[] = [];
    for (const name of [...new Set(watched)]) if (!(await get(K.secret, ns, name))) missing.push(name);
    const seed = await get(K.secret, ns, "system-seed");
    const tenantName = spec.tenantName ?? "3scale";
    const wd = spec.wildcardDomain as string;
    const owner = [ownerRef(K.apiManager, am)];
    const names = apiManagerDeployments(release);
    for (const name of names) {
      const labels = { threescale_component_element: name, app: "3scale-api-management", deployment: name };
      await ensure(
        K.deployment,
        {
          metadata: { name, namespace: ns, labels, ownerReferences: owner },
          spec: {
            replicas: 1,
            selector: { matchLabels: { deployment: name } },
            template: { metadata: { labels }, spec: { containers: [{ name, image: `3scale/${name}` }] } },
          },
        } as any,
        "3scale-operator",
      );
    }
    // Services behind the default routes, and the routes zync creates (2.16 pkg/helper/route.go L17-68).
    const routes: [string, string, string, number][] = [
      ["zync-3scale-provider", `${tenantName}-admin.${wd}`, "system-provider", 3000],
      ["zync-3scale-developer", `${tenantName}.${wd}`, "system-developer", 3000],
      ["zync-3scale-master", `master.${wd}`, "system-master", 3000],
      ["backend", `backend-${tenantName}.${wd}`, "backend-listener", 3000],
      ["zync-3scale-api-production", `api-${tenantName}-apicast-production.${wd}`, "apicast-production", 8080],
      ["zync-3scale-api-staging", `api-${tenantName}-apicast-staging.${wd}`, "apicast-staging", 8080],
    ];
    for (const [route, host, service, port] of routes) {
      await ensure(
        K.service,
        {
          metadata: { name: service, namespace: ns, ownerReferences: owner },
          spec: {
            selector: { deployment: service.startsWith("system-") ? "system-app" : service },
            ports: [{ name: "http", port, targetPort: port }],
          },
        } as any,
        "3scale-operator",
      );
      await ensure(
        K.route,
        {
          metadata: { name: route, namespace: ns, ownerReferences: owner },
          spec: {
            host,
            to: { kind: "Service", name: service },
            port: { targetPort: "http" },
            tls: { termination: "edge", insecureEdgeTerminationPolicy: "Redirect" },
          },
        } as any,
        "3scale-operator",
      );
    }
    const deployments = await list(K.deployment, ns);
    const available = names.every((n) => {
      const d = deployments.find((x) => x.metadata.name === n);
      return d?.status?.conditions?.some((c: any) => c.type === "Available" && c.status === "True");
    });
    const admitted = (await list(K.route, ns))
      .filter((r) => routes.some(([name]) => name === r.metadata.name))
      .every((r) =>
        r.status?.ingress?.some((i: any) =>
          i.conditions?.some((c: any) => c.type === "Admitted" && c.status === "True"),
        ),
      );

    // The tenant: system-app seeds it from system-seed (TENANT_NAME, ADMIN_ACCESS_TOKEN) at first start.
    const key = `${ns}/${am.metadata.name}`;
    let t = tenants.get(key);
    if (t && t.uid !== am.metadata.uid) {
      if (t.value) await t.value.emulator.close();
      tenants.delete(key);
      t = undefined;
    }
    if (!t && seed && available) {
      const token = b64((seed.data as Record<string, string>)?.ADMIN_ACCESS_TOKEN);
      const started: Started<Tenant> = { uid: am.metadata.uid };
      tenants.set(key, started);
      started.starting = startEmulator({
        ...opts.emulator,
        accessToken: token,
        tenantName: b64((seed.data as Record<string, string>)?.TENANT_NAME) ?? tenantName,
        wildcardDomain: wd,
        // The operator names the tenant's admin and developer portal domains after the wildcard domain (the routes).
        adminDomain: `${tenantName}-admin.${wd}`,
        portalDomain: `${tenantName}.${wd}`,
      }).then((emulator) => {
        const tenant = { namespace: ns, emulator, initial: emulator.snapshot() };
        started.value = tenant;
        backends.set(`${ns}/system-provider`, emulator.url);
        backends.set(`${ns}/system-developer`, emulator.url);
        backends.set(`${ns}/system-master`, emulator.url);
        log(`3scale: tenant ${tenantName} serving at ${emulator.url} (admin https://${tenantName}-admin.${wd})`);
        return tenant;
      });
      started.starting.catch((e) => (started.error = String(e)));
    }
    const serving = !!tenants.get(key)?.value;
    const ready = available && admitted && missing.length === 0 && serving;
    if (missing.length > 0 && release === "2.16") {
      await writeStatus(K.apiManager, am, {
        conditions: [
          {
            type: "Available",
            status: "False",
            lastTransitionTime: "2026-01-01T00:00:00Z",
            reason: "MissingWatchedSecrets",
            message: `The following secret(s) could not be found: ${missing.join(", ")}`,
          },
        ],
      });
      return;
    }
    await report({ ...K.apiManager, kind: "APIManager" }, am, releases, ready);
  };

  // ---------------------------------------------------------------------------------------------------------------
  // Red Hat build of Keycloak operator
  // ---------------------------------------------------------------------------------------------------------------

  const rhbk = async () => {
    const operator = op("rhbk-operator");
    if (!operator) return;
    const releases = releasesNow();
    const ns = operator.namespace;
    const crs = await list(K.keycloak, ns);
    const live = new Set(crs.filter((k) => !k.metadata.deletionTimestamp).map((k) => k.metadata.uid));
    for (const [key, s] of keycloaks) {
      if (key.startsWith(`${ns}/`) && !live.has(s.uid)) {
        keycloaks.delete(key);
        running.delete(key);
        backends.delete(`${ns}/${key.split("/")[1]}-service`);
        const kc = s.value ?? (await s.starting?.catch(() => undefined));
        await kc?.stop();
        log(`RHBK: Keycloak ${key} deleted, server stopped`);
      }
    }
    for (const kc of crs)
      if (!kc.metadata.deletionTimestamp)
        await guard(`Keycloak ${ns}/${kc.metadata.name}`, () => keycloakCr(kc, releases, ns));
    for (const imp of await list(K.realmImport, ns))
      if (!imp.metadata.deletionTimestamp)
        await guard(`KeycloakRealmImport ${ns}/${imp.metadata.name}`, () => realmImport(imp, releases, ns));
  };

  const keycloakCr = async (kc: Obj, releases: ReleaseSet, ns: string) => {
    const name = kc.metadata.name;
    const spec = kc.spec ?? {};
    const owner = [ownerRef(K.keycloak, kc)];
    const labels = {
      app: "keycloak",
      "app.kubernetes.io/instance": name,
      "app.kubernetes.io/managed-by": "keycloak-operator",
    };
    const instances = spec.instances ?? 1;
    await ensure(
      K.statefulSet,
      {
        metadata: { name, namespace: ns, labels, ownerReferences: owner },
        spec: {
          serviceName: `${name}-discovery`,
          replicas: instances,
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: "keycloak", image: "keycloak" }] } },
        },
      } as any,
      "keycloak-operator",
    );
    await ensure(
      K.service,
      {
        metadata: { name: `${name}-service`, namespace: ns, labels, ownerReferences: owner },
        spec: { selector: labels, ports: [{ name: "http", port: 8080, targetPort: 8080 }] },
      } as any,
      "keycloak-operator",
    );
    // The pods need the bootstrap admin and database Secrets (secretKeyRef): missing ones keep them from starting.
    const adminSecret = spec.bootstrapAdmin?.user?.secret as string | undefined;
    const admin = adminSecret ? await get(K.secret, ns, adminSecret) : undefined;
    const dbSecrets = [spec.db?.usernameSecret?.name, spec.db?.passwordSecret?.name].filter(Boolean) as string[];
    let secretsPresent = !!admin || !adminSecret;
    for (const s of dbSecrets) if (!(await get(K.secret, ns, s))) secretsPresent = false;
    const key = `${ns}/${name}`;
    let started = keycloaks.get(key);
    if (!started && secretsPresent && admin) {
      const user = b64((admin.data as Record<string, string>)?.username) as string;
      const password = b64((admin.data as Record<string, string>)?.password) as string;
      const s: Started<Keycloak> = { uid: kc.metadata.uid };
      keycloaks.set(key, s);
      log(
        `RHBK: starting Keycloak ${key} for ${JSON.stringify({ hostname: spec.hostname, proxy: spec.proxy, http: spec.http })}, bootstrap admin ${user}`,
      );
      s.starting = keycloakFor(spec, user, password);
      s.starting.then(
        (server) => {
          s.value = server;
          running.set(key, server);
          versions.keycloak = server.version;
          backends.set(`${ns}/${name}-service`, server.url);
          log(`RHBK: Keycloak ${key} ${server.version} up at ${server.url} after ${server.startupMs} ms`);
        },
        (e) => {
          s.error = String(e);
          errors.push(`Keycloak ${key}: ${s.error}`);
        },
      );
      started = s;
    }
    const sts = await get(K.statefulSet, ns, name);
    const replicasReady = (sts?.status?.readyReplicas ?? 0) >= instances;
    await report({ ...K.keycloak, kind: "Keycloak" }, kc, releases, replicasReady && !!started?.value, {
      instances: sts?.status?.readyReplicas ?? 0,
    });
  };

  /**
   * The Keycloak server of a Keycloak CR. A JVM start costs ~20 s of CPU, so one server is kept warm (started when the
   * operator is, with its HTTP listener and proxy-header mode) and handed to the next CR: the CR's bootstrap admin is
   * then created in the master realm through the admin API with the realm's `admin` role, and the warm-up admin is
   * deleted, which leaves what `KC_BOOTSTRAP_ADMIN_USERNAME/PASSWORD` leave on a first start. A CR asking for other
   * runtime options gets a server of its own. `spec.hostname.hostname` is not passed: start-dev then takes the host
   * from the router's X-Forwarded headers, which name that same host.
   */
  const WARM_ARGS = ["--http-enabled=true", "--proxy-headers=xforwarded"];
  let warm: Promise<Keycloak> | undefined;
  const warmUp = () => {
    if (opts.warmKeycloak === false || stopped) return;
    const p = startKeycloak({ adminUser: "warm-up-admin", adminPassword: `warm-${Date.now()}`, extraArgs: WARM_ARGS });
    p.catch((e) => errors.push(`warm Keycloak: ${String(e)}`));
    warm = p;
  };
  const keycloakFor = async (spec: any, user: string, password: string): Promise<Keycloak> => {
    const args = ["--http-enabled=true", ...(spec.proxy?.headers ? [`--proxy-headers=${spec.proxy.headers}`] : [])];
    if (!warm || args.join(" ") !== WARM_ARGS.join(" ")) {
      return startKeycloak({ adminUser: user, adminPassword: password, extraArgs: args });
    }
    const server = await warm;
    warm = undefined;
    const auth = { authorization: `Bearer ${await adminToken(server)}`, "content-type": "application/json" };
    const users = `${server.url}/admin/realms/master/users`;
    const created = await fetch(users, {
      method: "POST",
      headers: auth,
      body: JSON.stringify({
        username: user,
        enabled: true,
        credentials: [{ type: "password", value: password, temporary: false }],
      }),
    });
    if (created.status !== 201) throw new Error(`bootstrap admin: HTTP ${created.status} ${await created.text()}`);
    const [u] = (await (
      await fetch(`${users}?username=${encodeURIComponent(user)}&exact=true`, { headers: auth })
    ).json()) as { id: string }[];
    const role = await (await fetch(`${server.url}/admin/realms/master/roles/admin`, { headers: auth })).json();
    const granted = await fetch(`${users}/${u.id}/role-mappings/realm`, {
      method: "POST",
      headers: auth,
      body: JSON.stringify([role]),
    });
    if (granted.status !== 204) throw new Error(`bootstrap admin role: HTTP ${granted.status} ${await granted.text()}`);
    const handed = { ...server, adminUser: user, adminPassword: password };
    const own = { authorization: `Bearer ${await adminToken(handed)}` };
    const [old] = (await (await fetch(`${users}?username=warm-up-admin&exact=true`, { headers: own })).json()) as {
      id: string;
    }[];
    await fetch(`${users}/${old.id}`, { method: "DELETE", headers: own });
    warmUp();
    return handed;
  };
  warmUp();

  const imported = new Set<string>();
  const realmImport = async (imp: Obj, releases: ReleaseSet, ns: string) => {
    const target = keycloaks.get(`${ns}/${imp.spec?.keycloakCRName}`)?.value;
    const owner = [ownerRef(K.realmImport, imp)];
    // KeycloakRealmImportController: an import Job (kc.sh import) once the Keycloak's pods run; Done when it succeeded.
    if (target) {
      await ensure(
        K.job,
        {
          metadata: { name: imp.metadata.name, namespace: ns, ownerReferences: owner },
          spec: {
            backoffLimit: 0,
            template: {
              spec: {
                restartPolicy: "Never",
                containers: [{ name: "keycloak-import", image: "keycloak", args: ["import"] }],
              },
            },
          },
        } as any,
        "keycloak-operator",
      );
    }
    const job = target ? await get(K.job, ns, imp.metadata.name) : undefined;
    const complete = !!job?.status?.conditions?.some((c: any) => c.type === "Complete" && c.status === "True");
    let done = false;
    if (complete && target) {
      const key = `${imp.metadata.uid}`;
      if (!imported.has(key)) {
        // The import skips a realm that exists already (IGNORE_EXISTING, the import Job's default strategy).
        const realm = imp.spec?.realm ?? {};
        const token = await adminToken({
          url: target.url,
          adminUser: target.adminUser,
          adminPassword: target.adminPassword,
        });
        const exists = await fetch(`${target.url}/admin/realms/${encodeURIComponent(realm.realm)}`, {
          headers: { authorization: `Bearer ${token}` },
        });
        if (exists.status === 404) {
          const res = await fetch(`${target.url}/admin/realms`, {
            method: "POST",
            headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
            body: JSON.stringify(realm),
          });
          if (res.status !== 201)
            throw new Error(`realm import ${imp.metadata.name}: HTTP ${res.status} ${await res.text()}`);
          log(`RHBK: imported realm ${realm.realm} into ${imp.spec?.keycloakCRName}`);
        }
        imported.add(key);
      }
      done = true;
    }
    await report({ ...K.realmImport, kind: "KeycloakRealmImport" }, imp, releases, done);
  };

  // ---------------------------------------------------------------------------------------------------------------
  // Node Feature Discovery, NVIDIA GPU operator, machine API, ODF
  // ---------------------------------------------------------------------------------------------------------------

  const nodesPatch = async (name: string, patch: object, status = false) =>
    api.request(
      "PATCH",
      `${pathOf(K.node, undefined, name)}${status ? "/status" : ""}`,
      patch,
      "application/merge-patch+json",
    );

  const gpu = async () => {
    const releases = releasesNow();
    const nfdOp = op("nfd");
    const nodes = await list(K.node);
    if (nfdOp) {
      for (const nfd of await list(K.nfd, nfdOp.namespace)) {
        // nfd-worker labels every node by its PCI devices: vendor 10de (NVIDIA) → feature.node.kubernetes.io/pci-10de.present.
        for (const n of nodes) {
          if (n.metadata.annotations?.[PCI_NVIDIA_ANNOTATION] && n.metadata.labels?.[NFD_PCI_LABEL] !== "true") {
            await nodesPatch(n.metadata.name, { metadata: { labels: { [NFD_PCI_LABEL]: "true" } } });
          }
        }
        await report({ ...K.nfd, kind: "NodeFeatureDiscovery" }, nfd, releases, true);
      }
    }
    const gpuOp = op("gpu-operator-certified");
    if (!gpuOp) return;
    for (const policy of await list(K.clusterPolicy)) {
      // The device plugin (a ClusterPolicy operand) advertises nvidia.com/gpu on nodes NFD labelled.
      const labelled = (await list(K.node)).filter((n) => n.metadata.labels?.[NFD_PCI_LABEL] === "true");
      for (const n of labelled) {
        const count = n.metadata.annotations?.[PCI_NVIDIA_ANNOTATION] as string;
        if (n.status?.allocatable?.["nvidia.com/gpu"] !== count) {
          await nodesPatch(n.metadata.name, {
            metadata: { labels: { "nvidia.com/gpu.present": "true", "nvidia.com/gpu.count": count } },
          });
          await nodesPatch(
            n.metadata.name,
            { status: { capacity: { "nvidia.com/gpu": count }, allocatable: { "nvidia.com/gpu": count } } },
            true,
          );
          log(`GPU operator: node ${n.metadata.name} advertises ${count} nvidia.com/gpu`);
        }
      }
      await report({ ...K.clusterPolicy, kind: "ClusterPolicy" }, policy, releases, labelled.length > 0);
    }
  };

  /** machine-api: each MachineSet's replicas become Nodes of its instance type (kwok plays their kubelets). */
  const machineApi = async () => {
    const sets = await list(K.machineSet, "openshift-machine-api");
    const nodes = await list(K.node);
    // Machines of a deleted MachineSet are deleted with it, and their Nodes leave the cluster.
    for (const n of nodes) {
      const owner = n.metadata.labels?.["machine.openshift.io/cluster-api-machineset"];
      if (owner && !sets.some((s) => s.metadata.name === owner)) {
        await api.delete(pathOf(K.node, undefined, n.metadata.name));
        log(`machine-api: node ${n.metadata.name} removed (MachineSet ${owner} deleted)`);
      }
    }
    for (const ms of sets) {
      const name = ms.metadata.name;
      const replicas = ms.metadata.deletionTimestamp ? 0 : (ms.spec?.replicas ?? 0);
      const value = ms.spec?.template?.spec?.providerSpec?.value ?? {};
      const type =
        INSTANCE_TYPES[value.instanceType ?? value.vmSize ?? value.machineType] ?? INSTANCE_TYPES["m6i.2xlarge"];
      const mine = nodes.filter((n) => n.metadata.labels?.["machine.openshift.io/cluster-api-machineset"] === name);
      for (let i = 0; i < replicas; i++) {
        const nodeName = `${name}-${i}`;
        if (mine.some((n) => n.metadata.name === nodeName)) continue;
        const capacity = { cpu: type.cpu, memory: type.memory, pods: "110" };
        await api.create(pathOf(K.node, undefined), {
          apiVersion: "v1",
          kind: "Node",
          metadata: {
            name: nodeName,
            annotations: {
              "kwok.x-k8s.io/node": "fake",
              ...(type.gpus ? { [PCI_NVIDIA_ANNOTATION]: String(type.gpus) } : {}),
            },
            labels: {
              ...(ms.spec?.template?.spec?.metadata?.labels ?? {}),
              "machine.openshift.io/cluster-api-machineset": name,
              "kubernetes.io/hostname": nodeName,
              "kubernetes.io/os": "linux",
              "kubernetes.io/arch": "amd64",
              "node-role.kubernetes.io/worker": "",
              "node.kubernetes.io/instance-type": value.instanceType ?? "unknown",
            },
          },
          spec: { taints: ms.spec?.template?.spec?.taints ?? [] },
          status: { capacity, allocatable: { ...capacity } },
        });
        log(`machine-api: node ${nodeName} (${value.instanceType}) for MachineSet ${name}`);
      }
      for (const n of mine) {
        const index = Number(n.metadata.name.slice(name.length + 1));
        if (!(index < replicas)) {
          await api.delete(pathOf(K.node, undefined, n.metadata.name));
          log(`machine-api: node ${n.metadata.name} removed (MachineSet ${name} at ${replicas})`);
        }
      }
      if (!ms.metadata.deletionTimestamp) {
        const ready = nodes.filter(
          (n) =>
            n.metadata.labels?.["machine.openshift.io/cluster-api-machineset"] === name &&
            n.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"),
        ).length;
        await writeStatus(K.machineSet, ms, {
          replicas,
          fullyLabeledReplicas: replicas,
          readyReplicas: Math.min(ready, replicas),
          availableReplicas: Math.min(ready, replicas),
          observedGeneration: gen(ms),
        });
      }
    }
  };

  const ODF_FINALIZER = "storagecluster.ocs.openshift.io";
  const ODF_CLASSES = [
    { name: "ocs-storagecluster-cephfs", provisioner: "openshift-storage.cephfs.csi.ceph.com" },
    { name: "ocs-storagecluster-ceph-rbd", provisioner: "openshift-storage.rbd.csi.ceph.com" },
  ];
  const odf = async () => {
    const operator = op("odf-operator");
    if (!operator) return;
    for (const sc of await list(K.storageCluster, operator.namespace)) {
      if (sc.metadata.deletionTimestamp) {
        // ocs-operator uninstall: the storage classes it created go, then the finalizer.
        for (const c of ODF_CLASSES) await api.delete(pathOf(K.storageClass, undefined, c.name));
        await api.request(
          "PATCH",
          selfPath(K.storageCluster, sc),
          { metadata: { finalizers: (sc.metadata.finalizers ?? []).filter((f) => f !== ODF_FINALIZER) } },
          "application/merge-patch+json",
        );
        log(`ODF: StorageCluster ${sc.metadata.name} uninstalled`);
        continue;
      }
      if (!(sc.metadata.finalizers ?? []).includes(ODF_FINALIZER)) {
        await api.request(
          "PATCH",
          selfPath(K.storageCluster, sc),
          { metadata: { finalizers: [...(sc.metadata.finalizers ?? []), ODF_FINALIZER] } },
          "application/merge-patch+json",
        );
        continue;
      }
      // Replica 3 needs three nodes labelled for storage.
      const storageNodes = (await list(K.node)).filter(
        (n) => n.metadata.labels?.["cluster.ocs.openshift.io/openshift-storage"] !== undefined,
      );
      const ok = storageNodes.length >= 3;
      if (ok && settled(sc)) {
        for (const c of ODF_CLASSES) {
          await ensure(
            K.storageClass,
            {
              metadata: { name: c.name },
              provisioner: c.provisioner,
              reclaimPolicy: "Delete",
              allowVolumeExpansion: true,
            } as any,
            "ocs-operator",
          );
        }
      }
      await report({ ...K.storageCluster, kind: "StorageCluster" }, sc, releasesNow(), ok);
    }
  };

  // ---------------------------------------------------------------------------------------------------------------

  // Each controller runs its own loop, as each operator is its own process.
  const rounds = [olm, machineApi, openshiftAi, threescale, rhbk, gpu, odf];
  const loop = Promise.all(
    rounds.map(async (round) => {
      while (!stopped) {
        try {
          await round();
        } catch (e) {
          const msg = e instanceof Error ? e.message : String(e);
          if (errors[errors.length - 1] !== msg) errors.push(msg);
          if (errors.length > 200) errors.splice(0, 100);
          log(`ERROR in ${round.name}: ${msg}`);
        }
        await sleep(opts.intervalMs ?? 250);
      }
    }),
  );

  return {
    tenant: (ns) =>
      [...tenants.values()].map((t) => t.value).find((t) => t && (ns === undefined || t.namespace === ns)),
    finalTenants,
    keycloaks: running,
    versions,
    errors: () => [...errors],
    stop: async () => {
      stopped = true;
      await loop;
      for (const t of tenants.values()) await (t.value ?? (await t.starting?.catch(() => undefined)))?.emulator.close();
      for (const k of keycloaks.values()) await (k.value ?? (await k.starting?.catch(() => undefined)))?.stop();
      await (await warm?.catch(() => undefined))?.stop();
    },
  };
}
