/**
 * OLM operator installation: namespace, OperatorGroup, Subscription and a readiness gate.
 *
 * Readiness is three waits chained by dependencies, all done by the Kubernetes provider itself (no extra client):
 *   1. the Subscription waits for `status.installedCSV`;
 *   2. a patch on that ClusterServiceVersion waits for `status.phase == Succeeded`;
 *   3. a patch on each CRD the dependants use waits for `condition=Established`.
 * Waits 2 and 3 rely on the provider honouring `pulumi.com/waitFor` on `*Patch` resources: since pulumi-kubernetes
 * 4.32 a Patch's create and update are a server-side apply followed by the same readiness wait as any other object
 * (timeout from `pulumi.com/timeoutSeconds`, overridden by customTimeouts); only preview returns before the wait.
 * With `installPlanApproval: Manual`, a Job approves the one InstallPlan that installs `startingCSV` (see
 * `buildInstallPlanApprover`); the CSV wait depends on that Job.
 * Dependants `dependsOn: operator.ready`, so on destroy they are deleted while the operator still runs their
 * finalizers. The CRD patches are retained on delete: CRDs are shared cluster objects that OLM never removes.
 * Deleting a Subscription leaves its CSV installed (OLM behaviour); uninstalling the operator itself is manual.
 * The waits come from components/readiness.ts (what OLM and the API server write).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { OperatorConfig, OperatorKey } from "./config/schema";
import {
  adoptNamespace,
  awaitAnnotations,
  buildServiceAccountRbac,
  cliContainer,
  createServiceAccountRbac,
  customResource,
  Manifest,
  ServiceAccountRbac,
  TIMEOUT_SECONDS,
  timeouts,
} from "./kubernetes";
import { waitFor } from "./readiness";

/** How the operator is installed; facts per operator (package, namespace, install mode, CRDs it serves). */
export interface OperatorSpec {
  key: OperatorKey;
  packageName: string;
  namespace: string;
  /** The namespace exists on every cluster (openshift-operators): not even adopted. */
  sharedNamespace: boolean;
  /** `none` where a global OperatorGroup exists; AllNamespaces = no targetNamespaces; OwnNamespace = [namespace]. */
  operatorGroup: "none" | "AllNamespaces" | "OwnNamespace";
  namespaceLabels?: Record<string, string>;
  /** CRDs dependants need, waited for until Established. */
  crds: string[];
  env?: { name: string; value: string }[];
}

const MONITORED = { "openshift.io/cluster-monitoring": "true" };

/** The operators this platform installs. Namespaces of 3scale and SSO come from config. */
export function operatorSpec(key: OperatorKey, namespace?: string): OperatorSpec {
  const own = (ns: string | undefined, what: string) => {
    if (!ns) throw new Error(`operator ${what} needs a namespace`);
    return ns;
  };
  switch (key) {
    case "serviceMesh":
      return {
        key,
        packageName: "servicemeshoperator",
        namespace: "openshift-operators",
        sharedNamespace: true,
        operatorGroup: "none",
        crds: ["servicemeshcontrolplanes.maistra.io", "servicemeshmembers.maistra.io"],
      };
    case "serverless":
      return {
        key,
        packageName: "serverless-operator",
        namespace: "openshift-serverless",
        sharedNamespace: false,
        operatorGroup: "AllNamespaces",
        namespaceLabels: MONITORED,
        crds: ["knativeservings.operator.knative.dev"],
      };
    case "openshiftAi":
      return {
        key,
        packageName: "rhods-operator",
        namespace: "redhat-ods-operator",
        sharedNamespace: false,
        operatorGroup: "AllNamespaces",
        namespaceLabels: MONITORED,
        crds: [
          "dscinitializations.dscinitialization.opendatahub.io",
          "datascienceclusters.datasciencecluster.opendatahub.io",
        ],
        // The operator would otherwise create its own `default-dsci` at startup; this program owns that object.
        env: [{ name: "DISABLE_DSC_CONFIG", value: "true" }],
      };
    case "odf":
      return {
        key,
        packageName: "odf-operator",
        namespace: "openshift-storage",
        sharedNamespace: false,
        operatorGroup: "OwnNamespace",
        namespaceLabels: MONITORED,
        crds: ["storageclusters.ocs.openshift.io", "storagesystems.odf.openshift.io"],
      };
    case "nfd":
      return {
        key,
        packageName: "nfd",
        namespace: "openshift-nfd",
        sharedNamespace: false,
        operatorGroup: "OwnNamespace",
        crds: ["nodefeaturediscoveries.nfd.openshift.io"],
      };
    case "gpu":
      // Certified catalog (redhat-operators does not carry it); AllNamespaces as NVIDIA's OpenShift guide installs it.
      return {
        key,
        packageName: "gpu-operator-certified",
        namespace: "nvidia-gpu-operator",
        sharedNamespace: false,
        operatorGroup: "OwnNamespace",
        namespaceLabels: MONITORED,
        crds: ["clusterpolicies.nvidia.com"],
      };
    case "threescale":
      return {
        key,
        packageName: "3scale-operator",
        namespace: own(namespace, key),
        sharedNamespace: false,
        operatorGroup: "OwnNamespace",
        namespaceLabels: MONITORED,
        crds: ["apimanagers.apps.3scale.net", "custompolicydefinitions.capabilities.3scale.net"],
      };
    case "rhsso":
      return {
        key,
        packageName: "rhsso-operator",
        namespace: own(namespace, key),
        sharedNamespace: false,
        operatorGroup: "OwnNamespace",
        crds: ["keycloaks.keycloak.org", "keycloakrealms.keycloak.org", "keycloakclients.keycloak.org"],
      };
    case "rhbk":
      return {
        key,
        packageName: "rhbk-operator",
        namespace: own(namespace, key),
        sharedNamespace: false,
        operatorGroup: "OwnNamespace",
        crds: ["keycloaks.k8s.keycloak.org", "keycloakrealmimports.k8s.keycloak.org"],
      };
  }
}

export interface OperatorManifests {
  namespace?: Manifest;
  operatorGroup?: Manifest;
  subscription: Manifest;
}

/** Namespace (unless shared), OperatorGroup (unless a global one exists) and Subscription for one operator. */
export function buildOperatorManifests(spec: OperatorSpec, config: OperatorConfig): OperatorManifests {
  if (spec.sharedNamespace && spec.operatorGroup !== "none") {
    throw new Error(`operator ${spec.key}: a shared namespace already has its OperatorGroup; use operatorGroup "none"`);
  }
  const ns = spec.namespace;
  const subscription: Manifest = {
    apiVersion: "operators.coreos.com/v1alpha1",
    kind: "Subscription",
    metadata: {
      name: spec.packageName,
      namespace: ns,
      annotations: awaitAnnotations(waitFor("Subscription"), config.installTimeoutMinutes),
    },
    spec: {
      name: spec.packageName,
      channel: config.channel,
      source: config.source,
      sourceNamespace: config.sourceNamespace,
      installPlanApproval: config.installPlanApproval,
      ...(config.startingCSV ? { startingCSV: config.startingCSV } : {}),
      ...(spec.env?.length ? { config: { env: spec.env } } : {}),
    },
  };
  return {
    namespace: spec.sharedNamespace
      ? undefined
      : {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: ns, ...(spec.namespaceLabels ? { labels: { ...spec.namespaceLabels } } : {}) },
        },
    operatorGroup:
      spec.operatorGroup === "none"
        ? undefined
        : {
            apiVersion: "operators.coreos.com/v1",
            kind: "OperatorGroup",
            metadata: { name: `${spec.packageName}-group`, namespace: ns },
            spec: spec.operatorGroup === "OwnNamespace" ? { targetNamespaces: [ns] } : {},
          },
    subscription,
  };
}

/**
 * The wait of a readiness patch also requires the object to carry the patch itself. The provider awaits a patched
 * object through a shared informer whose cache can still hold the version from before the patch; when that version is
 * already ready (a CRD established long ago, a CSV that Succeeded before the patch, one kept by OLM across a destroy)
 * the wait ends at once and the stale object becomes the resource's recorded state, without the patch's annotations,
 * so the next preview shows a change (seen against a real API server: `~ metadata: + annotations`). Requiring the
 * patch's own timeout annotation makes the wait end on a version that includes the patch.
 */
export function patchedGate(minutes: number): string {
  return `jsonpath={.metadata.annotations['${TIMEOUT_SECONDS}']}=${minutes * 60}`;
}

/** Patch on the installed CSV that makes the provider wait until OLM reports it Succeeded. */
export function buildCsvReadinessPatch(namespace: string, csvName: string, minutes: number): Manifest {
  return {
    apiVersion: "operators.coreos.com/v1alpha1",
    kind: "ClusterServiceVersion",
    metadata: {
      name: csvName,
      namespace,
      annotations: awaitAnnotations([...waitFor("ClusterServiceVersion"), patchedGate(minutes)], minutes),
    },
  };
}

/** The kind each CRD the operators serve defines (the CRDs' own `spec.names.kind`). */
export const CRD_KINDS: Record<string, string> = {
  "servicemeshcontrolplanes.maistra.io": "ServiceMeshControlPlane",
  "servicemeshmembers.maistra.io": "ServiceMeshMember",
  "knativeservings.operator.knative.dev": "KnativeServing",
  "dscinitializations.dscinitialization.opendatahub.io": "DSCInitialization",
  "datascienceclusters.datasciencecluster.opendatahub.io": "DataScienceCluster",
  "storageclusters.ocs.openshift.io": "StorageCluster",
  "storagesystems.odf.openshift.io": "StorageSystem",
  "nodefeaturediscoveries.nfd.openshift.io": "NodeFeatureDiscovery",
  "clusterpolicies.nvidia.com": "ClusterPolicy",
  "apimanagers.apps.3scale.net": "APIManager",
  "custompolicydefinitions.capabilities.3scale.net": "CustomPolicyDefinition",
  "keycloaks.keycloak.org": "Keycloak",
  "keycloakrealms.keycloak.org": "KeycloakRealm",
  "keycloakclients.keycloak.org": "KeycloakClient",
  "keycloaks.k8s.keycloak.org": "Keycloak",
  "keycloakrealmimports.k8s.keycloak.org": "KeycloakRealmImport",
};

/**
 * Patch on a CRD that makes the provider wait until it is Established. It carries the CRD's group and kind, the same
 * values the operator's bundle has (shared ownership under server-side apply, no conflict): the Kubernetes provider's
 * Check registers every CRD-kind input in its CRD cache and refuses one without `.spec.group` and
 * `.spec.names.kind` ("expected .spec.group", pulumi-kubernetes provider/pkg/clients/cache.go groupKindFromCRD).
 */
export function buildCrdReadinessPatch(crd: string, minutes: number): Manifest {
  const kind = CRD_KINDS[crd];
  if (!kind) throw new Error(`buildCrdReadinessPatch: no kind known for CRD ${crd}; add it to CRD_KINDS`);
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: {
      name: crd,
      annotations: awaitAnnotations([...waitFor("CustomResourceDefinition"), patchedGate(minutes)], minutes),
    },
    spec: { group: crd.slice(crd.indexOf(".") + 1), names: { kind } },
  };
}

/**
 * Shell run by the approver Job (env: NAMESPACE, SUBSCRIPTION, STARTING_CSV). It waits for the Subscription's
 * `status.installPlanRef`, and approves that InstallPlan only if its `spec.clusterServiceVersionNames` contains
 * STARTING_CSV; any other plan (an upgrade) is left for an admin. Once a CSV is installed there is nothing to approve,
 * so re-runs exit at once. API errors are retried, the Job's activeDeadlineSeconds bounds the whole wait.
 */
export const APPROVER_SCRIPT = `
sub="subscriptions.operators.coreos.com/$SUBSCRIPTION"
last=""
say() { [ "$1" = "$last" ] || echo "$1"; last="$1"; }
while true; do
  installed=$(oc get "$sub" -n "$NAMESPACE" -o jsonpath='{.status.installedCSV}' 2>/dev/null)
  if [ -n "$installed" ]; then echo "$installed is installed; nothing to approve"; exit 0; fi
  plan=$(oc get "$sub" -n "$NAMESPACE" -o jsonpath='{.status.installPlanRef.name}' 2>/dev/null)
  if [ -z "$plan" ]; then
    say "waiting for $SUBSCRIPTION to reference an InstallPlan"
  else
    csvs=$(oc get "installplans.operators.coreos.com/$plan" -n "$NAMESPACE" \
      -o jsonpath='{.spec.clusterServiceVersionNames[*]}' 2>/dev/null)
    case " $csvs " in
      *" $STARTING_CSV "*)
        if oc patch "installplans.operators.coreos.com/$plan" -n "$NAMESPACE" --type merge \
          -p '{"spec":{"approved":true}}'; then
          echo "approved InstallPlan $plan ($csvs)"; exit 0
        fi ;;
      *) say "InstallPlan $plan installs '$csvs', not $STARTING_CSV: not approving it" ;;
    esac
  fi
  sleep 10
done
`.trim();

export interface InstallPlanApprover extends ServiceAccountRbac {
  job: k8s.batch.v1.JobArgs;
}

/**
 * ServiceAccount, Role, RoleBinding and Job approving the first InstallPlan when approval is Manual; nothing when it
 * is Automatic. The Role can read the Subscription and read/patch InstallPlans in the operator's namespace only.
 */
export function buildInstallPlanApprover(
  spec: OperatorSpec,
  config: OperatorConfig,
  cliImage: string,
): InstallPlanApprover | undefined {
  if (config.installPlanApproval !== "Manual") return undefined;
  if (!config.startingCSV) {
    throw new Error(
      `maas:operators.${spec.key}.startingCSV: required when installPlanApproval is Manual (only the InstallPlan ` +
        `installing it is approved); e.g. "${spec.packageName}.v1.2.3" as listed by \`oc get packagemanifest ${spec.packageName}\``,
    );
  }
  const name = `${spec.packageName}-installplan-approver`;
  const meta = { name, namespace: spec.namespace, labels: { "app.kubernetes.io/part-of": "maas" } };
  const seconds = config.installTimeoutMinutes * 60;
  return {
    ...buildServiceAccountRbac(meta, [
      { apiGroups: ["operators.coreos.com"], resources: ["installplans"], verbs: ["get", "list", "patch"] },
      // The Subscription is named after its package (buildOperatorManifests).
      {
        apiGroups: ["operators.coreos.com"],
        resources: ["subscriptions"],
        resourceNames: [spec.packageName],
        verbs: ["get"],
      },
    ]),
    job: {
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { ...meta, annotations: awaitAnnotations(waitFor("Job"), config.installTimeoutMinutes) },
      spec: {
        backoffLimit: 3,
        activeDeadlineSeconds: seconds,
        template: {
          metadata: { labels: { ...meta.labels } },
          spec: {
            serviceAccountName: name,
            restartPolicy: "Never",
            containers: [
              cliContainer(cliImage, "approve", ["/bin/sh", "-c", APPROVER_SCRIPT], {
                NAMESPACE: spec.namespace,
                SUBSCRIPTION: spec.packageName,
                STARTING_CSV: config.startingCSV,
              }),
            ],
          },
        },
      },
    },
  };
}

export interface OperatorInstallArgs {
  spec: OperatorSpec;
  config: OperatorConfig;
  /** Image of the install-plan approver Job (`maas:cluster.cliImage`). */
  cliImage: string;
}

/** One OLM operator; `ready` lists the resources dependants must depend on. Type `maas:operators:OperatorInstall`. */
export class OperatorInstall extends pulumi.ComponentResource {
  readonly namespace: string;
  readonly subscription: k8s.apiextensions.CustomResource;
  readonly installedCsv: pulumi.Output<string>;
  readonly ready: pulumi.Resource[];

  constructor(name: string, args: OperatorInstallArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:operators:OperatorInstall", name, {}, opts);
    const { spec, config } = args;
    const m = buildOperatorManifests(spec, config);
    const wait = timeouts(config.installTimeoutMinutes);
    this.namespace = spec.namespace;

    const namespace = m.namespace
      ? adoptNamespace(`${name}-namespace`, m.namespace.metadata, { parent: this })
      : undefined;
    const operatorGroup = m.operatorGroup
      ? customResource(`${name}-operatorgroup`, m.operatorGroup, { parent: this, dependsOn: namespace })
      : undefined;
    this.subscription = customResource(
      `${name}-subscription`,
      { ...m.subscription, status: undefined },
      { parent: this, dependsOn: [namespace, operatorGroup].filter(isResource), customTimeouts: wait },
    );
    const approver = this.createApprover(
      name,
      buildInstallPlanApprover(spec, config, args.cliImage),
      [namespace, operatorGroup],
      wait,
    );
    this.installedCsv = (this.subscription as unknown as { status: pulumi.Output<any> }).status.apply(
      (s) => s?.installedCSV as string,
    );
    const csvPatch = (csvName: string) => buildCsvReadinessPatch(spec.namespace, csvName, config.installTimeoutMinutes);
    const csv = new k8s.apiextensions.CustomResourcePatch(
      `${name}-csv-ready`,
      {
        apiVersion: "operators.coreos.com/v1alpha1",
        kind: "ClusterServiceVersion",
        metadata: previewableCsvName(this.installedCsv, `${spec.packageName}.pending-olm-resolution`).apply(
          (csvName) => csvPatch(csvName).metadata,
        ),
      },
      { parent: this, dependsOn: [this.subscription, ...approver], customTimeouts: wait },
    );
    const crds = spec.crds.map(
      (crd) =>
        new k8s.apiextensions.v1.CustomResourceDefinitionPatch(
          `${name}-crd-${crd}`,
          buildCrdReadinessPatch(
            crd,
            config.installTimeoutMinutes,
          ) as k8s.apiextensions.v1.CustomResourceDefinitionPatchArgs,
          { parent: this, dependsOn: [csv], customTimeouts: wait, retainOnDelete: true },
        ),
    );
    this.ready = [csv, ...crds];
    this.registerOutputs({ installedCsv: this.installedCsv });
  }

  /**
   * The approver runs next to the Subscription, not after it: the Subscription's own wait (installedCSV) only ends
   * once the approver has approved. Returns the Job (empty when approval is Automatic).
   */
  private createApprover(
    name: string,
    approver: InstallPlanApprover | undefined,
    after: (pulumi.Resource | undefined)[],
    wait: pulumi.CustomTimeouts,
  ): pulumi.Resource[] {
    if (!approver) return [];
    const o = { parent: this, dependsOn: after.filter(isResource) };
    const binding = createServiceAccountRbac(`${name}-approver`, approver, o);
    return [
      new k8s.batch.v1.Job(`${name}-approver`, approver.job, { ...o, dependsOn: [binding], customTimeouts: wait }),
    ];
  }
}

/**
 * The CSV name for the readiness patch. In a preview where OLM has not resolved the Subscription yet (a new stack, a
 * new operator) the name is unknown, and the Kubernetes provider refuses to check a Patch resource without a name
 * ("patch resources require the `.metadata.name` field to be set", provider.go Check, every 4.x release): the preview
 * then shows `placeholder` instead. `up` always has the real name (registration waits for the Subscription).
 */
export function previewableCsvName(installedCsv: pulumi.Output<string>, placeholder: string): pulumi.Output<string> {
  const isKnown = (installedCsv as unknown as { isKnown?: Promise<boolean> }).isKnown;
  if (!pulumi.runtime.isDryRun() || typeof isKnown?.then !== "function") return installedCsv;
  return pulumi.output(isKnown).apply((known) => (known ? installedCsv : pulumi.output(placeholder)));
}

export function isResource<T extends pulumi.Resource>(r: T | undefined): r is T {
  return r !== undefined;
}
