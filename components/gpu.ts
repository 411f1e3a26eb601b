/**
 * GPU enablement. Without Node Feature Discovery and the NVIDIA GPU Operator no node advertises `nvidia.com/gpu` and
 * every predictor stays Pending. This layer installs both (OLM; the GPU operator from the certified catalog) with their
 * NodeFeatureDiscovery and ClusterPolicy, or relies on an existing installation, and then waits (a Job) until the
 * cluster advertises the allocatable GPUs the models request at their minimum replicas. Model serving depends on it.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ReleaseSet } from "./config/releases";
import type { ModelConfig, OperatorConfig, PlatformConfig } from "./config/schema";
import {
  adoptNamespace,
  awaitAnnotations,
  cliContainer,
  customResource,
  Manifest,
  restrictedSecurityContext,
  timeouts,
} from "./kubernetes";
import { OperatorInstall, operatorSpec } from "./operators";
import { waitFor } from "./readiness";

export const GPU_RESOURCE = "nvidia.com/gpu";
export const GPU_OPERATOR_NAMESPACE = "nvidia-gpu-operator";
export const NFD_NAMESPACE = "openshift-nfd";

/** GPUs that must be schedulable at once: every model at its minimum replicas. */
export function requiredGpus(models: Pick<ModelConfig, "gpus" | "minReplicas">[]): number {
  return models.reduce((sum, m) => sum + m.gpus * m.minReplicas, 0);
}

/** The NodeFeatureDiscovery instance: the operator's defaults (its own operand image) on the usual port. */
export function buildNodeFeatureDiscovery(readyMinutes: number, releases: ReleaseSet): Manifest {
  return {
    apiVersion: "nfd.openshift.io/v1",
    kind: "NodeFeatureDiscovery",
    metadata: {
      name: "nfd-instance",
      namespace: NFD_NAMESPACE,
      annotations: awaitAnnotations(waitFor("NodeFeatureDiscovery", releases), readyMinutes),
    },
    spec: { operand: { servicePort: 12000 } },
  };
}

/**
 * The ClusterPolicy of NVIDIA's OpenShift guide: CRI-O runtime, the driver built with the OpenShift Driver Toolkit,
 * and every operand enabled. Its DaemonSets tolerate the `nvidia.com/gpu` NoSchedule taint the GPU MachineSet sets.
 */
export function buildClusterPolicy(readyMinutes: number, releases: ReleaseSet): Manifest {
  return {
    apiVersion: "nvidia.com/v1",
    kind: "ClusterPolicy",
    metadata: {
      name: "gpu-cluster-policy",
      annotations: awaitAnnotations(waitFor("ClusterPolicy", releases), readyMinutes),
    },
    spec: {
      operator: { defaultRuntime: "crio", use_ocp_driver_toolkit: true },
      daemonsets: { updateStrategy: "RollingUpdate" },
      driver: { enabled: true },
      toolkit: { enabled: true },
      devicePlugin: { enabled: true },
      dcgm: { enabled: true },
      dcgmExporter: { enabled: true, serviceMonitor: { enabled: true } },
      gfd: { enabled: true },
      nodeStatusExporter: { enabled: true },
    },
  };
}

/**
 * Shell run by the capacity Job (env REQUIRED): sums `status.allocatable["nvidia.com/gpu"]` over the nodes until it
 * reaches REQUIRED, logging each change. API errors count as zero and are retried; activeDeadlineSeconds bounds it.
 */
export const GPU_CAPACITY_SCRIPT = `
last=""
while true; do
  have=$(oc get nodes -o jsonpath='{range .items[*]}{.status.allocatable.nvidia\\.com/gpu}{"\\n"}{end}' 2>/dev/null \\
    | awk '{ s += $1 } END { print s + 0 }')
  if [ "\${have:-0}" -ge "$REQUIRED" ]; then
    echo "the cluster advertises $have allocatable nvidia.com/gpu; the models need $REQUIRED"; exit 0
  fi
  msg="waiting for allocatable nvidia.com/gpu: $have of $REQUIRED"
  [ "$msg" = "$last" ] || echo "$msg"
  last="$msg"
  sleep 15
done
`.trim();

export interface GpuCapacityCheck {
  serviceAccount: k8s.core.v1.ServiceAccountArgs;
  clusterRole: k8s.rbac.v1.ClusterRoleArgs;
  clusterRoleBinding: k8s.rbac.v1.ClusterRoleBindingArgs;
  job: k8s.batch.v1.JobArgs;
}

/** A Job that ends once the nodes advertise `required` GPUs, allowed to list nodes (a ClusterRole). */
export function buildGpuCapacityCheck(required: number, cliImage: string, minutes: number): GpuCapacityCheck {
  const name = "maas-gpu-capacity";
  const meta = { name, namespace: GPU_OPERATOR_NAMESPACE, labels: { "app.kubernetes.io/part-of": "maas" } };
  const seconds = minutes * 60;
  return {
    serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: { ...meta } },
    clusterRole: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name, labels: meta.labels },
      rules: [{ apiGroups: [""], resources: ["nodes"], verbs: ["get", "list"] }],
    },
    clusterRoleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name, labels: meta.labels },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
      subjects: [{ kind: "ServiceAccount", name, namespace: GPU_OPERATOR_NAMESPACE }],
    },
    job: {
      apiVersion: "batch/v1",
      kind: "Job",
      // The required count is in the name: more GPUs needed is a new check.
      metadata: { ...meta, name: `${name}-${required}`, annotations: awaitAnnotations(waitFor("Job"), minutes) },
      spec: {
        backoffLimit: 2,
        activeDeadlineSeconds: seconds,
        template: {
          metadata: { labels: { ...meta.labels } },
          spec: {
            serviceAccountName: name,
            restartPolicy: "Never",
            securityContext: { runAsNonRoot: true, seccompProfile: restrictedSecurityContext().seccompProfile },
            containers: [
              cliContainer(cliImage, "check", ["/bin/sh", "-c", GPU_CAPACITY_SCRIPT], { REQUIRED: String(required) }),
            ],
          },
        },
      },
    },
  };
}

export interface GpuEnablementArgs {
  gpu: PlatformConfig["gpu"];
  operators: { nfd: OperatorConfig; gpu: OperatorConfig };
  releases: ReleaseSet;
  /** The GPUs the models need at once (`requiredGpus`). */
  requiredGpus: number;
  cliImage: string;
  /** Resources that add GPU nodes (the GPU MachineSet). */
  capacity: pulumi.Resource[];
}

export class GpuEnablement extends pulumi.ComponentResource {
  /** Model serving waits for these: the ClusterPolicy (when installed) and the capacity check. */
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: GpuEnablementArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:gpu:GpuEnablement", name, {}, opts);
    const minutes = args.gpu.readyTimeoutMinutes;
    // Installed: the operator's namespace; existing: adopted here (the Job runs there).
    const before =
      args.gpu.operators === "install"
        ? this.installOperators(name, args)
        : [adoptNamespace(`${name}-namespace`, { name: GPU_OPERATOR_NAMESPACE }, { parent: this })];

    const check = buildGpuCapacityCheck(args.requiredGpus, args.cliImage, minutes);
    const after = { parent: this, dependsOn: [...before, ...args.capacity] };
    const account = new k8s.core.v1.ServiceAccount(`${name}-capacity-sa`, check.serviceAccount, after);
    const role = new k8s.rbac.v1.ClusterRole(`${name}-capacity-role`, check.clusterRole, after);
    const binding = new k8s.rbac.v1.ClusterRoleBinding(`${name}-capacity-binding`, check.clusterRoleBinding, {
      ...after,
      dependsOn: [role, account],
    });
    const job = new k8s.batch.v1.Job(`${name}-capacity`, check.job, {
      ...after,
      dependsOn: [...after.dependsOn, binding],
      customTimeouts: timeouts(minutes),
    });
    this.ready = [...before, job];
    this.registerOutputs({});
  }

  /** NFD and the GPU operator with their instances; returns the ClusterPolicy. */
  private installOperators(name: string, args: GpuEnablementArgs): pulumi.Resource[] {
    const minutes = args.gpu.readyTimeoutMinutes;
    const nfd = new OperatorInstall(
      `${name}-nfd`,
      { spec: operatorSpec("nfd"), config: args.operators.nfd, cliImage: args.cliImage },
      { parent: this },
    );
    const gpu = new OperatorInstall(
      `${name}-operator`,
      { spec: operatorSpec("gpu"), config: args.operators.gpu, cliImage: args.cliImage },
      { parent: this },
    );
    const discovery = customResource(`${name}-nfd-instance`, buildNodeFeatureDiscovery(minutes, args.releases), {
      parent: this,
      dependsOn: nfd.ready,
      customTimeouts: timeouts(minutes),
    });
    const policy = customResource(`${name}-cluster-policy`, buildClusterPolicy(minutes, args.releases), {
      parent: this,
      dependsOn: [discovery, ...gpu.ready],
      customTimeouts: timeouts(minutes),
    });
    return [policy];
  }
}
