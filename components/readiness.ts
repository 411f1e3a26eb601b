/**
 * What "ready" looks like, per kind and release, as the real controllers write it: the `pulumi.com/waitFor` expressions
 * the program puts on each object, and the status that satisfies them. One table for three readers: the builders take
 * their waits from it, tests check every rendered wait against its ready status (and against statuses seen before
 * ready, which must not satisfy it), and the stand-in operators of the real-cluster suite write these statuses.
 * Every entry names the upstream source it was read from. Pure data.
 */
import type { ReleaseSet } from "./config/releases";

export type Status = Record<string, unknown>;

/** The object a status is written for. */
export interface ObjectRef {
  name: string;
  generation: number;
}

export interface ReadyState {
  /** `pulumi.com/waitFor` expressions; all must hold. */
  waitFor: string[];
  /** The status the controller writes once the object is ready. */
  ready(object: ObjectRef): Status;
  /** Statuses written before the object is ready (or ready-looking but broken); none may satisfy `waitFor`. */
  notReady: Array<(object: ObjectRef) => Status>;
  /** Where this was read. */
  source: string;
}

const condition = (type: string, status: "True" | "False" | "Unknown", extra: Record<string, unknown> = {}) => ({
  type,
  status,
  lastTransitionTime: "2026-01-01T00:00:00Z",
  ...extra,
});

/** RHOAI 2.16 `SetCompleteCondition` (controllers/status/status.go L158-190). */
const rhoai216Complete = (reason: string, message: string) => [
  condition("ReconcileComplete", "True", { reason, message }),
  condition("Available", "True", { reason, message }),
  condition("Progressing", "False", { reason, message }),
  condition("Degraded", "False", { reason, message }),
  condition("Upgradeable", "True", { reason, message }),
];

const DSCI_READY_2_16: ReadyState = {
  waitFor: ["jsonpath={.status.phase}=Ready"],
  ready: () => ({
    phase: "Ready",
    conditions: [
      ...rhoai216Complete("ReconcileCompleted", "Reconcile completed successfully"),
      condition("CapabilityServiceMesh", "True", { reason: "Configured", message: "Service Mesh configured" }),
    ],
  }),
  notReady: [() => ({ phase: "Progressing", conditions: [condition("Progressing", "True")] })],
  source:
    "red-hat-data-services/rhods-operator rhoai-2.16 controllers/dscinitialization/dscinitialization_controller.go L277-280, controllers/status/status.go",
};

/** 2.25 keeps the imperative DSCI controller: `phase: Ready`, and no `Ready` condition (so `condition=Ready` hangs). */
const DSCI_READY_2_25: ReadyState = {
  ...DSCI_READY_2_16,
  source:
    "red-hat-data-services/rhods-operator rhoai-2.25 internal/controller/dscinitialization/dscinitialization_controller.go L290-293 (no Ready condition)",
};

/**
 * 2.16 writes `phase: Ready` even when a component failed (ReconcileCompletedWithComponentErrors), so the wait also
 * needs KServe's own condition, `kserveReady` (pulumi compares condition types case-insensitively).
 */
const DSC_READY_2_16: ReadyState = {
  waitFor: ["jsonpath={.status.phase}=Ready", "condition=KserveReady"],
  ready: () => ({
    phase: "Ready",
    conditions: [
      ...rhoai216Complete("ReconcileCompleted", "DataScienceCluster resource reconciled successfully"),
      condition("kserveReady", "True", { reason: "ReconcileCompleted", message: "Component reconciled successfully" }),
    ],
    installedComponents: { kserve: true },
  }),
  notReady: [
    () => ({ phase: "Progressing", conditions: [condition("Progressing", "True", { reason: "ReconcileInit" })] }),
    () => ({
      phase: "Ready",
      conditions: [
        ...rhoai216Complete("ReconcileCompletedWithComponentErrors", "DataScienceCluster reconciled with errors"),
        condition("kserveReady", "False", { reason: "ReconcileFailed" }),
      ],
    }),
  ],
  source:
    "red-hat-data-services/rhods-operator rhoai-2.16 controllers/datasciencecluster/datasciencecluster_controller.go L251-272, L332-342",
};

/** 2.25: the action-based reconciler writes `Ready` (happy when every dependent is) and `<Kind>Ready` per component. */
const DSC_READY_2_25: ReadyState = {
  waitFor: ["jsonpath={.status.phase}=Ready", "condition=KserveReady"],
  ready: ({ generation }) => ({
    phase: "Ready",
    observedGeneration: generation,
    conditions: [
      condition("Ready", "True"),
      condition("ProvisioningSucceeded", "True", { observedGeneration: generation }),
      condition("ComponentsReady", "True"),
      condition("KserveReady", "True"),
      condition("ModelControllerReady", "True"),
    ],
    installedComponents: { kserve: true },
  }),
  notReady: [
    ({ generation }) => ({
      phase: "Not Ready",
      observedGeneration: generation - 1,
      conditions: [
        condition("Ready", "False", { reason: "NotReady", message: "Some components are not ready: kserve" }),
        condition("KserveReady", "False"),
      ],
    }),
  ],
  source:
    "red-hat-data-services/rhods-operator rhoai-2.25 pkg/controller/reconciler/reconciler.go L329-343, internal/controller/components/kserve/kserve.go L100-142",
};

/** KServe: `Ready` iff PredictorReady and IngressReady (the living condition set); observedGeneration from the child. */
const ISVC_READY: ReadyState = {
  waitFor: ["condition=Ready"],
  ready: ({ generation }) => ({
    observedGeneration: generation,
    conditions: [condition("IngressReady", "True"), condition("PredictorReady", "True"), condition("Ready", "True")],
    modelStatus: {
      transitionStatus: "UpToDate",
      states: { activeModelState: "Loaded", targetModelState: "Loaded" },
      copies: { failedCopies: 0, totalCopies: 1 },
    },
  }),
  notReady: [
    ({ generation }) => ({
      observedGeneration: generation,
      conditions: [
        condition("PredictorReady", "False", { reason: "MinimumReplicasUnavailable" }),
        condition("Ready", "False", { reason: "MinimumReplicasUnavailable" }),
      ],
    }),
  ],
  source: "red-hat-data-services/kserve rhoai-2.16 / rhoai-2.25 pkg/apis/serving/v1beta1/inference_service_status.go",
};

/**
 * The Deployments an APIManager owns (pkg/3scale/amp/component/deployments_lister.go): 2.16 (zync enabled, zync
 * database internal) has 12; 2.15 also deploys the system database and both Redis (15).
 */
export function apiManagerDeployments(release: ReleaseSet["threescale"]): string[] {
  return [
    "apicast-staging",
    "apicast-production",
    "backend-listener",
    "backend-worker",
    "backend-cron",
    "system-memcache",
    "system-app",
    "system-sidekiq",
    "system-searchd",
    "zync",
    "zync-que",
    "zync-database",
    ...(release === "2.15" ? ["system-mysql", "system-redis", "backend-redis"] : []),
  ];
}

/**
 * 3scale-operator: `Available` once every Deployment is available and the default routes are admitted. `deployments`
 * is required by the CRD's status schema (`required: [deployments]`); the operator lists each Deployment by state.
 */
const apiManagerReady = (release: ReleaseSet["threescale"]): ReadyState => ({
  waitFor: ["condition=Available"],
  ready: () => ({
    conditions: [
      condition("Available", "True"),
      condition("Preflights", "True", {
        reason: "PreflightsPass",
        message: "All requirements for the current version are met",
      }),
    ],
    deployments: { ready: apiManagerDeployments(release) },
  }),
  notReady: [
    () => ({
      conditions: [condition("Available", "False", { reason: "MissingWatchedSecrets" })],
      deployments: { starting: apiManagerDeployments(release) },
    }),
  ],
  source:
    "3scale/3scale-operator 3scale-2.15-stable / 3scale-2.16-stable controllers/apps/apimanager_status_reconciler.go, apis/apps/v1alpha1/apimanager_types.go L90-104",
});

const CPD_READY: ReadyState = {
  waitFor: ["condition=Ready"],
  ready: ({ generation }) => ({
    observedGeneration: generation,
    policyID: 1,
    conditions: [condition("Failed", "False"), condition("Invalid", "False"), condition("Ready", "True")],
  }),
  notReady: [
    ({ generation }) => ({
      observedGeneration: generation,
      conditions: [condition("Failed", "True", { message: "provider account not found" }), condition("Ready", "False")],
    }),
  ],
  source:
    "3scale/3scale-operator 3scale-2.15-stable / 3scale-2.16-stable controllers/capabilities/custompolicydefinition_status_reconciler.go",
};

/** Legacy keycloak-operator (RH-SSO 7.6): `ready` is a status boolean; no conditions. */
const RHSSO_READY: ReadyState = {
  waitFor: ["jsonpath={.status.ready}=true"],
  ready: () => ({ phase: "reconciling", ready: true, message: "" }),
  notReady: [() => ({ phase: "initialising", ready: false, message: "" })],
  source: "keycloak/keycloak-operator main pkg/controller/keycloak/keycloak_controller.go L229-279 (ManageSuccess)",
};

/** RHBK 26: `Ready`, `HasErrors` and `RollingUpdate`, each with the generation it saw. */
const RHBK_KEYCLOAK_READY: ReadyState = {
  waitFor: ["condition=Ready", "condition=RollingUpdate=False"],
  ready: ({ generation }) => ({
    observedGeneration: generation,
    instances: 1,
    conditions: [
      condition("Ready", "True", { message: "", observedGeneration: generation }),
      condition("HasErrors", "False", { message: "", observedGeneration: generation }),
      condition("RollingUpdate", "False", { message: "", observedGeneration: generation }),
    ],
  }),
  notReady: [
    ({ generation }) => ({
      observedGeneration: generation,
      conditions: [
        condition("Ready", "False", { message: "Waiting for more replicas", observedGeneration: generation }),
        condition("RollingUpdate", "False", { message: "", observedGeneration: generation }),
      ],
    }),
    ({ generation }) => ({
      observedGeneration: generation,
      conditions: [
        condition("Ready", "True", { message: "", observedGeneration: generation }),
        condition("RollingUpdate", "True", {
          message: "Rolling out deployment update",
          observedGeneration: generation,
        }),
      ],
    }),
  ],
  source: "keycloak/keycloak operator/src/main/java/org/keycloak/operator/controllers/KeycloakStatusAggregator.java",
};

const RHBK_REALM_IMPORT_READY: ReadyState = {
  waitFor: ["condition=Done"],
  ready: () => ({
    conditions: [
      condition("Done", "True", { message: "" }),
      condition("Started", "False", { message: "" }),
      condition("HasErrors", "False", { message: "" }),
    ],
  }),
  notReady: [
    () => ({
      conditions: [
        condition("Done", "False", { message: "" }),
        condition("Started", "True", { message: "Import Job running" }),
      ],
    }),
  ],
  source:
    "keycloak/keycloak operator/src/main/java/org/keycloak/operator/crds/v2alpha1/realmimport/KeycloakRealmImportStatusBuilder.java",
};

/** OLM copies the Subscription's `installedCSV` as soon as the CSV object exists, in any phase. */
const SUBSCRIPTION_READY: ReadyState = {
  waitFor: ["jsonpath={.status.installedCSV}"],
  ready: ({ name }) => ({ state: "AtLatestKnown", currentCSV: `${name}.v1.0.0`, installedCSV: `${name}.v1.0.0` }),
  notReady: [() => ({ state: "UpgradePending" })],
  source:
    "operator-framework/operator-lifecycle-manager pkg/controller/operators/catalog/operator.go L1694-1715 (ensureSubscriptionCSVState)",
};

const CSV_READY: ReadyState = {
  waitFor: ["jsonpath={.status.phase}=Succeeded"],
  ready: () => ({
    phase: "Succeeded",
    reason: "InstallSucceeded",
    message: "install strategy completed with no errors",
  }),
  notReady: [() => ({ phase: "Installing", reason: "InstallWaiting" })],
  source: "operator-framework/operator-lifecycle-manager pkg/controller/operators/olm/operator.go L2624",
};

const CRD_READY: ReadyState = {
  waitFor: ["condition=Established"],
  ready: () => ({
    conditions: [
      condition("NamesAccepted", "True", { reason: "NoConflicts" }),
      condition("Established", "True", { reason: "InitialNamesAccepted" }),
    ],
  }),
  notReady: [() => ({ conditions: [condition("NamesAccepted", "True"), condition("Established", "False")] })],
  source: "kubernetes apiextensions-apiserver pkg/apis/apiextensions/v1/types.go L304-338",
};

/** metav1.Condition: `message` has no omitempty, so an unset message is written as "" (and the CRD requires it). */
const NFD_FALSE = { reason: "ConditionNotBeingMetCurrently", message: "" };
const NFD_READY: ReadyState = {
  waitFor: ["condition=Available"],
  ready: () => ({
    conditions: [
      condition("Available", "True", { reason: "AllInstanceComponentsAreDeployedSuccessfuly", message: "" }),
      condition("Upgradeable", "True", { reason: "CanBeUpgraded", message: "" }),
      condition("Progressing", "False", NFD_FALSE),
      condition("Degraded", "False", NFD_FALSE),
    ],
  }),
  notReady: [
    () => ({
      conditions: [
        condition("Available", "False", NFD_FALSE),
        condition("Upgradeable", "False", NFD_FALSE),
        condition("Progressing", "True", { reason: "NFDWorkerDaemonSetProgressing", message: "ds is progressing" }),
        condition("Degraded", "False", NFD_FALSE),
      ],
    }),
  ],
  source: "openshift/cluster-nfd-operator release-4.18 internal/status/status.go L257-352 (getProgressingConditions)",
};

/** `Ready=True` is also written with reason NoGPUNodes or NFDLabelsMissing: the state `ready` is what counts. */
const CLUSTER_POLICY_READY: ReadyState = {
  waitFor: ["jsonpath={.status.state}=ready", "condition=Ready"],
  ready: () => ({
    state: "ready",
    namespace: "nvidia-gpu-operator",
    conditions: [
      condition("Ready", "True", {
        reason: "Reconciled",
        message: "ClusterPolicy is ready as all resources have been successfully reconciled",
      }),
      condition("Error", "False", { reason: "Ready", message: "" }),
    ],
  }),
  notReady: [
    () => ({
      state: "notReady",
      namespace: "nvidia-gpu-operator",
      conditions: [
        condition("Ready", "False", { reason: "Error", message: "" }),
        condition("Error", "True", {
          reason: "OperandNotReady",
          message: "ClusterPolicy is not ready, states not ready: [state-device-plugin]",
        }),
      ],
    }),
  ],
  source:
    'NVIDIA/gpu-operator v25.10.1 controllers/clusterpolicy_controller.go L182-193, internal/conditions/clusterpolicy.go L58-100 (metav1.Condition: message written as "")',
};

/** The Job controller: `Complete` once the pods succeeded (`Failed` after the backoff limit). */
const JOB_READY: ReadyState = {
  waitFor: ["condition=Complete"],
  ready: () => ({ succeeded: 1, conditions: [condition("SuccessCriteriaMet", "True"), condition("Complete", "True")] }),
  notReady: [
    () => ({ active: 1 }),
    () => ({ failed: 4, conditions: [condition("Failed", "True", { reason: "BackoffLimitExceeded" })] }),
  ],
  source: "kubernetes pkg/controller/job/job_controller.go (JobComplete, JobFailed)",
};

const STORAGE_CLUSTER_READY: ReadyState = {
  waitFor: ["jsonpath={.status.phase}=Ready"],
  ready: () => ({ phase: "Ready" }),
  notReady: [() => ({ phase: "Progressing" })],
  source: "red-hat-storage/ocs-operator release-4.16 api/v1/storagecluster_types.go (status.phase)",
};

/** The kinds whose readiness the program waits for. */
export type ReadyKind =
  | "Subscription"
  | "ClusterServiceVersion"
  | "CustomResourceDefinition"
  | "DSCInitialization"
  | "DataScienceCluster"
  | "InferenceService"
  | "APIManager"
  | "CustomPolicyDefinition"
  | "Keycloak"
  | "KeycloakRealm"
  | "KeycloakRealmImport"
  | "NodeFeatureDiscovery"
  | "ClusterPolicy"
  | "StorageCluster"
  | "Job";

const RELEASE_DEPENDENT: ReadonlySet<ReadyKind> = new Set([
  "DSCInitialization",
  "DataScienceCluster",
  "Keycloak",
  "APIManager",
] as ReadyKind[]);

/** The ready state of `kind` for the releases a stack selects (OLM's, the API server's... are the same for all). */
export function readyState(kind: ReadyKind, releases?: ReleaseSet): ReadyState {
  if (!releases && RELEASE_DEPENDENT.has(kind)) throw new Error(`the ready state of ${kind} depends on the release`);
  const r = releases as ReleaseSet;
  switch (kind) {
    case "Subscription":
      return SUBSCRIPTION_READY;
    case "ClusterServiceVersion":
      return CSV_READY;
    case "CustomResourceDefinition":
      return CRD_READY;
    case "DSCInitialization":
      return r.openshiftAi === "2.16" ? DSCI_READY_2_16 : DSCI_READY_2_25;
    case "DataScienceCluster":
      return r.openshiftAi === "2.16" ? DSC_READY_2_16 : DSC_READY_2_25;
    case "InferenceService":
      return ISVC_READY;
    case "APIManager":
      return apiManagerReady(r.threescale);
    case "CustomPolicyDefinition":
      return CPD_READY;
    case "Keycloak":
      return r.sso === "rhsso" ? RHSSO_READY : RHBK_KEYCLOAK_READY;
    case "KeycloakRealm":
      return RHSSO_READY;
    case "KeycloakRealmImport":
      return RHBK_REALM_IMPORT_READY;
    case "NodeFeatureDiscovery":
      return NFD_READY;
    case "ClusterPolicy":
      return CLUSTER_POLICY_READY;
    case "StorageCluster":
      return STORAGE_CLUSTER_READY;
    case "Job":
      return JOB_READY;
  }
}

/** The waits of `kind` for these releases. */
export function waitFor(kind: ReadyKind, releases?: ReleaseSet): string[] {
  return readyState(kind, releases).waitFor;
}
