/**
 * Worker capacity (optional): scale existing MachineSets, and clone one into a GPU MachineSet.
 * Scaling is a patch retained on delete (destroy leaves the MachineSet as it is: this program did not create it);
 * the GPU MachineSet is created here and therefore deleted on destroy.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config/schema";
import { Manifest, PATCH_FORCE, readClusterObject } from "./kubernetes";

export const MACHINE_API_NAMESPACE = "openshift-machine-api";
const MACHINESET_LABEL = "machine.openshift.io/cluster-api-machineset";
type GpuMachineSetConfig = NonNullable<PlatformConfig["capacity"]["gpuMachineSet"]>;

export function buildScalePatch(name: string, replicas: number): Manifest {
  return {
    apiVersion: "machine.openshift.io/v1beta1",
    kind: "MachineSet",
    // The machine-api and the installer own other fields; force only the replicas we set.
    metadata: { name, namespace: MACHINE_API_NAMESPACE, annotations: { [PATCH_FORCE]: "true" } },
    spec: { replicas },
  };
}

/**
 * The field of each cloud's provider spec that names the machine type, by the spec's `kind` (openshift/api
 * machine/v1beta1 types_awsprovider.go `instanceType`, types_azureprovider.go `vmSize`, types_gcpprovider.go
 * `machineType`). The kind, not the apiVersion, tells the platform: clusters of older installers keep legacy
 * apiVersions. Other platforms (vSphere, bare metal, OpenStack...) have no GPU instance types to choose.
 */
export const MACHINE_TYPE_FIELD: Record<string, string> = {
  AWSMachineProviderConfig: "instanceType",
  AzureMachineProviderSpec: "vmSize",
  GCPMachineProviderSpec: "machineType",
};

/** A copy of `source` (a MachineSet's metadata+spec) with a new name, machine type, replicas and GPU taint. */
export function cloneGpuMachineSet(
  source: { metadata?: { labels?: Record<string, string> }; spec: Record<string, any> },
  cfg: GpuMachineSetConfig,
): Manifest {
  if (!source?.spec?.template?.spec?.providerSpec?.value) {
    throw new Error(
      `maas:capacity.gpuMachineSet.sourceMachineSet: MachineSet "${cfg.sourceMachineSet}" has no spec.template.spec.providerSpec.value to clone`,
    );
  }
  const spec = JSON.parse(JSON.stringify(source.spec));
  spec.replicas = cfg.replicas;
  spec.selector = { ...spec.selector, matchLabels: { ...spec.selector?.matchLabels, [MACHINESET_LABEL]: cfg.name } };
  const tmpl = spec.template;
  tmpl.metadata = { ...tmpl.metadata, labels: { ...tmpl.metadata?.labels, [MACHINESET_LABEL]: cfg.name } };
  const kind = String(tmpl.spec.providerSpec.value.kind ?? "unknown");
  const field = MACHINE_TYPE_FIELD[kind];
  if (!field) {
    throw new Error(
      `maas:capacity.gpuMachineSet.sourceMachineSet: MachineSet "${cfg.sourceMachineSet}" has a ${kind} provider spec; ` +
        `a GPU MachineSet can be cloned on AWS, Azure and GCP only (AWSMachineProviderConfig, AzureMachineProviderSpec, ` +
        `GCPMachineProviderSpec). On other platforms add GPU nodes yourself and drop capacity.gpuMachineSet`,
    );
  }
  tmpl.spec.providerSpec.value[field] = cfg.instanceType;
  const taints = (tmpl.spec.taints ?? []).filter((t: { key: string }) => t.key !== "nvidia.com/gpu");
  tmpl.spec.taints = cfg.taintGpu ? [...taints, { key: "nvidia.com/gpu", effect: "NoSchedule" }] : taints;
  if (tmpl.spec.taints.length === 0) delete tmpl.spec.taints;
  const labels = { ...source.metadata?.labels };
  return {
    apiVersion: "machine.openshift.io/v1beta1",
    kind: "MachineSet",
    metadata: { name: cfg.name, namespace: MACHINE_API_NAMESPACE, ...(Object.keys(labels).length ? { labels } : {}) },
    spec,
  };
}

export interface CapacityArgs {
  capacity: PlatformConfig["capacity"];
}

export class Capacity extends pulumi.ComponentResource {
  /** Model servers depend on these (GPU nodes are requested before models are scheduled). */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: CapacityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:capacity:Capacity", name, {}, opts);
    const ready: pulumi.Resource[] = args.capacity.machineSets.map((ms) => {
      const patch = buildScalePatch(ms.name, ms.replicas);
      return new k8s.apiextensions.CustomResourcePatch(
        `${name}-scale-${ms.name}`,
        patch as k8s.apiextensions.CustomResourcePatchArgs,
        { parent: this, retainOnDelete: true },
      );
    });
    const gpu = args.capacity.gpuMachineSet;
    if (gpu) {
      const source = readClusterObject(
        `${name}-source-${gpu.sourceMachineSet}`,
        {
          apiVersion: "machine.openshift.io/v1beta1",
          kind: "MachineSet",
          id: `${MACHINE_API_NAMESPACE}/${gpu.sourceMachineSet}`,
          fields: ["metadata", "spec"],
        },
        { parent: this },
      );
      const clone = source.apply((s) => cloneGpuMachineSet({ metadata: s.metadata, spec: s.spec }, gpu));
      ready.push(
        new k8s.apiextensions.CustomResource(
          `${name}-gpu-${gpu.name}`,
          {
            apiVersion: "machine.openshift.io/v1beta1",
            kind: "MachineSet",
            metadata: clone.apply((m) => m.metadata),
            spec: clone.apply((m) => m.spec),
          },
          { parent: this },
        ),
      );
    }
    this.ready = ready;
    this.registerOutputs({});
  }
}
