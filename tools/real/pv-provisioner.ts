/**
 * A tiny external volume provisioner so PersistentVolumeClaims become Bound the way they do on a real cluster.
 *
 * Why this shape: with a StorageClass whose provisioner is not in-tree, the real PV controller in
 * kube-controller-manager marks a claim it wants provisioned with the `volume.kubernetes.io/storage-provisioner`
 * annotation (after the scheduler picked a node, for WaitForFirstConsumer classes) and waits for that provisioner,
 * exactly as with a CSI external-provisioner on OpenShift. This loop plays only the provisioner's part: it creates a
 * PV pre-bound to the claim (claimRef) and deletes Released PVs of a Delete class. Binding, the Bound phases,
 * protection finalizers and the release on claim deletion stay with the real controllers. Pre-created PVs with
 * `kubernetes.io/no-provisioner` would need sizes and access modes guessed in advance and would not exercise the
 * dynamic-provisioning path that the project's PVCs take. The hostPath is never mounted: kwok runs no kubelet.
 */
import { KubeApi, KubeObject, resourcePath } from "./kube-api";

export const PROVISIONER = "maas.test/hostpath";

export interface StorageClassSpec {
  name: string;
  /** Marked as the cluster default class (claims without storageClassName get it). */
  default?: boolean;
  volumeBindingMode?: "Immediate" | "WaitForFirstConsumer";
  reclaimPolicy?: "Delete" | "Retain";
  allowVolumeExpansion?: boolean;
}

interface Pvc extends KubeObject {
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    annotations?: Record<string, string>;
    deletionTimestamp?: string;
  };
  spec: {
    accessModes?: string[];
    resources?: { requests?: { storage?: string } };
    storageClassName?: string;
    volumeMode?: string;
    volumeName?: string;
  };
  status?: { phase?: string };
}

interface Pv extends KubeObject {
  metadata: { name: string; annotations?: Record<string, string>; deletionTimestamp?: string };
  spec: { persistentVolumeReclaimPolicy?: string };
  status?: { phase?: string };
}

export function storageClassObject(sc: StorageClassSpec): KubeObject {
  return {
    apiVersion: "storage.k8s.io/v1",
    kind: "StorageClass",
    metadata: {
      name: sc.name,
      annotations: sc.default ? { "storageclass.kubernetes.io/is-default-class": "true" } : {},
    },
    provisioner: PROVISIONER,
    reclaimPolicy: sc.reclaimPolicy ?? "Delete",
    volumeBindingMode: sc.volumeBindingMode ?? "Immediate",
    allowVolumeExpansion: sc.allowVolumeExpansion ?? true,
  };
}

const wantsUs = (pvc: Pvc): boolean => {
  const a = pvc.metadata.annotations ?? {};
  const provisioner =
    a["volume.kubernetes.io/storage-provisioner"] ?? a["volume.beta.kubernetes.io/storage-provisioner"];
  return (
    provisioner === PROVISIONER &&
    !pvc.spec.volumeName &&
    !pvc.metadata.deletionTimestamp &&
    (pvc.status?.phase ?? "Pending") === "Pending"
  );
};

function volumeFor(pvc: Pvc, reclaimPolicy: string): KubeObject {
  const name = `pvc-${pvc.metadata.uid}`;
  const node = pvc.metadata.annotations?.["volume.kubernetes.io/selected-node"];
  return {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name, annotations: { "pv.kubernetes.io/provisioned-by": PROVISIONER } },
    spec: {
      capacity: { storage: pvc.spec.resources?.requests?.storage ?? "1Gi" },
      accessModes: pvc.spec.accessModes ?? ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: reclaimPolicy,
      storageClassName: pvc.spec.storageClassName,
      volumeMode: pvc.spec.volumeMode ?? "Filesystem",
      claimRef: {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        namespace: pvc.metadata.namespace,
        name: pvc.metadata.name,
        uid: pvc.metadata.uid,
      },
      hostPath: { path: `/tmp/maas-test-volumes/${name}`, type: "DirectoryOrCreate" },
      // A node-local volume, as a local/hostPath provisioner would report it, when the scheduler chose a node.
      ...(node
        ? {
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [node] }] },
                ],
              },
            },
          }
        : {}),
    },
  };
}

export interface Provisioner {
  stop(): Promise<void>;
  /** Errors met so far (the loop keeps going; a test can assert on them or print them). */
  errors(): string[];
}

/** Starts the provisioning loop against `api` for the classes created by `startControlPlane`. */
export function startProvisioner(api: KubeApi, classes: StorageClassSpec[], intervalMs = 250): Provisioner {
  const reclaim = new Map(classes.map((c) => [c.name, c.reclaimPolicy ?? "Delete"]));
  const errors: string[] = [];
  let running = true;

  const pass = async (): Promise<void> => {
    for (const pvc of await api.list<Pvc>("/api/v1/persistentvolumeclaims")) {
      if (!wantsUs(pvc)) continue;
      const policy = reclaim.get(pvc.spec.storageClassName ?? "") ?? "Delete";
      const res = await api.raw("POST", "/api/v1/persistentvolumes", volumeFor(pvc, policy));
      // 409: made on an earlier pass, the PV controller has not caught up yet.
      if (res.status !== 201 && res.status !== 409)
        throw new Error(`create PV for ${pvc.metadata.namespace}/${pvc.metadata.name}: HTTP ${res.status} ${res.text}`);
    }
    for (const pv of await api.list<Pv>("/api/v1/persistentvolumes")) {
      const ours = pv.metadata.annotations?.["pv.kubernetes.io/provisioned-by"] === PROVISIONER;
      if (
        ours &&
        pv.status?.phase === "Released" &&
        pv.spec.persistentVolumeReclaimPolicy === "Delete" &&
        !pv.metadata.deletionTimestamp
      ) {
        await api.delete(resourcePath("v1", "persistentvolumes", undefined, pv.metadata.name));
      }
    }
  };

  // The pause between passes is unreferenced (a test that forgets stop() must not be kept alive by this loop) and
  // cancellable: stop() must not await an unreferenced timer, or Node would see an empty event loop and exit
  // in the middle of the caller's await.
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const pause = (): Promise<void> =>
    new Promise<void>((resolve) => {
      wake = resolve;
      timer = setTimeout(resolve, intervalMs);
      timer.unref();
    });

  const loop = (async () => {
    while (running) {
      try {
        await pass();
      } catch (err) {
        if (running) errors.push(err instanceof Error ? err.message : String(err));
        if (errors.length > 100) errors.splice(0, errors.length - 100);
      }
      if (running) await pause();
    }
  })();

  return {
    stop: async () => {
      running = false;
      if (timer) clearTimeout(timer);
      wake?.();
      await loop;
    },
    errors: () => [...errors],
  };
}
