/**
 * Kubernetes plumbing shared by every cluster layer: the one explicit provider, readiness annotations, cluster reads.
 * Pure helpers are exported for tests; only `createKubernetesProvider` and `readClusterObject` register resources.
 */
import * as os from "os";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config/schema";

/** A plain Kubernetes object as rendered by the builders (what `kubectl apply -f` would take). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  [field: string]: unknown;
}

export const WAIT_FOR = "pulumi.com/waitFor";
export const TIMEOUT_SECONDS = "pulumi.com/timeoutSeconds";
export const PATCH_FORCE = "pulumi.com/patchForce";

/**
 * Provider arguments from `maas:cluster`. Without `kubeconfig` the provider uses the kubeconfig of `oc login`
 * (KUBECONFIG or ~/.kube/config). Server-side apply stays on (the default) so patches of operator-owned objects merge.
 * No upsert: an object this program creates must not exist yet, so `destroy` never deletes what was there before;
 * objects that may pre-exist (namespaces) are adopted with patches instead (`adoptNamespace`).
 */
export function kubernetesProviderArgs(cluster: PlatformConfig["cluster"]): k8s.ProviderArgs {
  return {
    kubeconfig: cluster.kubeconfig === undefined ? undefined : expandHome(cluster.kubeconfig),
    context: cluster.context,
    enableServerSideApply: true,
  };
}

function expandHome(p: string): string {
  return p === "~" || p.startsWith("~/") ? path.join(os.homedir(), p.slice(1)) : p;
}

export function createKubernetesProvider(
  name: string,
  cluster: PlatformConfig["cluster"],
  opts?: pulumi.CustomResourceOptions,
): k8s.Provider {
  return new k8s.Provider(name, kubernetesProviderArgs(cluster), opts);
}

/** Annotations that make the provider wait for `expressions` (all must hold) for at most `minutes`. */
export function awaitAnnotations(expressions: string | string[], minutes: number): Record<string, string> {
  const list = Array.isArray(expressions) ? expressions : [expressions];
  return {
    [WAIT_FOR]: list.length === 1 ? list[0] : JSON.stringify(list),
    [TIMEOUT_SECONDS]: String(minutes * 60),
  };
}

/** Resource-option timeouts matching `awaitAnnotations` (customTimeouts win over the annotation). */
export function timeouts(minutes: number): pulumi.CustomTimeouts {
  return { create: `${minutes}m`, update: `${minutes}m`, delete: `${minutes}m` };
}

/**
 * A resource transformation (the Platform applies it to everything it declares) that marks every Kubernetes object of
 * this program `pulumi.com/patchForce: "true"`. The objects are the program's: when someone changes one of their
 * fields with another field manager (`oc scale`, `oc edit`, a controller), `pulumi refresh` shows the drift and the
 * next `pulumi up` takes the field back, where a plain server-side apply would fail with "Apply failed with 1
 * conflict: conflict with \"kubectl-edit\" ... .spec.replicas" (seen against a real API server). Reads (`.get`) and
 * the provider itself are left alone.
 */
export function forceOwnership(
  args: pulumi.ResourceTransformationArgs,
): pulumi.ResourceTransformationResult | undefined {
  if (!args.type.startsWith("kubernetes:") || args.opts.id !== undefined) return undefined;
  const metadata = pulumi.output(args.props.metadata as pulumi.Input<Record<string, any> | undefined>).apply((m) => ({
    ...(m ?? {}),
    annotations: { ...(m?.annotations ?? {}), [PATCH_FORCE]: "true" },
  }));
  return { props: { ...args.props, metadata }, opts: args.opts };
}

/** Registers `manifest` as a custom resource (a CRD-defined kind). */
export function customResource(
  name: string,
  manifest: Manifest,
  opts: pulumi.CustomResourceOptions,
): k8s.apiextensions.CustomResource {
  return new k8s.apiextensions.CustomResource(name, manifest as k8s.apiextensions.CustomResourceArgs, opts);
}

/**
 * Reads an existing cluster object and exposes `fields` (e.g. spec) as outputs; `CustomResource.get` alone only
 * exposes apiVersion/kind/metadata. `id` is `<namespace>/<name>` or `<name>` for cluster-scoped objects.
 */
export function readClusterObject(
  name: string,
  args: { apiVersion: string; kind: string; id: pulumi.Input<string>; fields: string[] },
  opts: pulumi.CustomResourceOptions,
): pulumi.Output<Record<string, any>> {
  const shape: k8s.apiextensions.CustomResourceArgs = { apiVersion: args.apiVersion, kind: args.kind };
  for (const f of args.fields) shape[f] = undefined;
  const res = new k8s.apiextensions.CustomResource(name, shape, { ...opts, id: args.id });
  const r = res as unknown as Record<string, pulumi.Output<any>>;
  return pulumi.all(args.fields.map((f) => r[f])).apply((values) => {
    const out: Record<string, any> = {};
    args.fields.forEach((f, i) => (out[f] = values[i]));
    return out;
  });
}

/** Apps wildcard domain: `cluster.appsDomain` when set, else `spec.domain` of `ingresses.config.openshift.io/cluster`. */
export function appsDomain(
  cluster: PlatformConfig["cluster"],
  opts: pulumi.CustomResourceOptions,
): pulumi.Output<string> {
  if (cluster.appsDomain) return pulumi.output(cluster.appsDomain);
  const ingress = readClusterObject(
    "cluster-ingress-config",
    { apiVersion: "config.openshift.io/v1", kind: "Ingress", id: "cluster", fields: ["spec"] },
    opts,
  );
  return ingress.apply((o) => appsDomainFromIngress(o.spec));
}

export function appsDomainFromIngress(spec: { domain?: string } | undefined): string {
  if (!spec?.domain) {
    throw new Error(
      'ingresses.config.openshift.io/cluster has no spec.domain; set maas:cluster.appsDomain, e.g. "apps.cluster-abc.example.com"',
    );
  }
  return spec.domain;
}

/** Decodes one key of a Secret's base64 `data`, keeping the result secret. */
export function secretKey(data: pulumi.Output<Record<string, string>>, key: string, secretName: string) {
  return pulumi.secret(
    data.apply((d) => {
      const v = d?.[key];
      if (v === undefined) throw new Error(`Secret ${secretName} has no key ${key}`);
      return Buffer.from(v, "base64").toString("utf8");
    }),
  );
}

/**
 * A namespace that may exist before `pulumi up` (an operator's, a shared one, one a user prepared): adopted with a
 * server-side-apply patch that creates it when missing and, on destroy, removes only this program's labels, never the
 * namespace or what else it holds. `Namespace` is the type earlier versions declared: the alias keeps their state.
 */
export function adoptNamespace(
  name: string,
  metadata: { name: string; labels?: Record<string, string> },
  opts: pulumi.CustomResourceOptions,
): k8s.core.v1.NamespacePatch {
  return new k8s.core.v1.NamespacePatch(
    name,
    { metadata },
    {
      ...opts,
      aliases: [{ type: "kubernetes:core/v1:Namespace" }, ...(opts.aliases ?? [])],
    },
  );
}

/** A ServiceAccount with a namespaced Role bound to it: what a Job or CronJob of this program runs as. */
export interface ServiceAccountRbac {
  serviceAccount: k8s.core.v1.ServiceAccountArgs;
  role: k8s.rbac.v1.RoleArgs;
  roleBinding: k8s.rbac.v1.RoleBindingArgs;
}

export function buildServiceAccountRbac(
  metadata: { name: string; namespace: string; labels?: Record<string, string> },
  rules: k8s.types.input.rbac.v1.PolicyRule[],
): ServiceAccountRbac {
  const { name, namespace } = metadata;
  return {
    serviceAccount: { apiVersion: "v1", kind: "ServiceAccount", metadata: { ...metadata } },
    role: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { ...metadata }, rules },
    roleBinding: {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { ...metadata },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    },
  };
}

/** Registers `rbac` as `<name>-sa`, `<name>-role` and `<name>-binding`; returns the binding (the workload waits for it). */
export function createServiceAccountRbac(
  name: string,
  rbac: ServiceAccountRbac,
  opts: pulumi.CustomResourceOptions,
): k8s.rbac.v1.RoleBinding {
  const account = new k8s.core.v1.ServiceAccount(`${name}-sa`, rbac.serviceAccount, opts);
  const role = new k8s.rbac.v1.Role(`${name}-role`, rbac.role, opts);
  return new k8s.rbac.v1.RoleBinding(`${name}-binding`, rbac.roleBinding, { ...opts, dependsOn: [role, account] });
}

/** Container security context the `restricted-v2` SCC admits: non-root, no privilege escalation, no capabilities. */
export function restrictedSecurityContext(): k8s.types.input.core.v1.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    runAsNonRoot: true,
    capabilities: { drop: ["ALL"] },
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/**
 * A container running `oc` from `image` (`maas:cluster.cliImage`, a pinned registry image: the internal registry is
 * absent on bare metal, vSphere UPI and single-node clusters), restricted-SCC compatible (non-root, no privilege
 * escalation). HOME is /tmp because `oc` caches API discovery there and the SCC's random UID has no home directory.
 */
export function cliContainer(
  image: string,
  name: string,
  command: string[],
  env: Record<string, string> = {},
): k8s.types.input.core.v1.Container {
  return {
    name,
    image,
    command,
    env: Object.entries({ HOME: "/tmp", ...env }).map(([k, value]) => ({ name: k, value })),
    resources: { requests: { cpu: "10m", memory: "64Mi" }, limits: { memory: "256Mi" } },
    securityContext: restrictedSecurityContext(),
  };
}
