/**
 * Describes every stack config key: derived from the zod schema (types, defaults, required) plus the descriptions and
 * examples below. One source for the config reference doc, the `config:` block of Pulumi.yaml and the loader's hints.
 * Pure module: no Pulumi imports.
 */
import { z } from "zod";
import { CEPHFS_STORAGE_CLASS, configSchema, SECRET_KEYS } from "./schema";

export type ConfigKeyType = "string" | "integer" | "number" | "boolean" | "array" | "object";

export interface ConfigKeyDoc {
  /** Dotted path below `maas:`; array elements are written `[]`, e.g. `models[].plans[].limits[].metric`. */
  path: string;
  type: ConfigKeyType;
  /** Element type of arrays. */
  items?: ConfigKeyType;
  description: string;
  /** Default applied by the loader (absent when the key is optional without default, or required). */
  default?: unknown;
  required: boolean;
  /** Allowed values of enum-like keys (or of array elements). */
  allowed?: readonly string[];
  example: unknown;
  secret: boolean;
}

interface DocEntry {
  description: string;
  /** Shown in error hints; needed when the key has no non-empty default. */
  example?: unknown;
}

/**
 * Descriptions keyed by path; `operators.*` stands for every operator and `plan` for both
 * `models[].plans[]` and `threescale.defaultPlans[]`.
 */
const DOCS: Record<string, DocEntry> = {
  environment: { description: "Kind of environment this stack is (dev, test or prod)." },
  cluster: { description: "Which cluster to deploy to." },
  "cluster.kubeconfig": {
    description: "Path to a kubeconfig file; default: the current `oc login` context (KUBECONFIG or ~/.kube/config).",
    example: "~/.kube/config",
  },
  "cluster.context": { description: "kubeconfig context to use; default: the current context.", example: "admin" },
  "cluster.appsDomain": {
    description: "Apps wildcard domain; default: read from `ingresses.config.openshift.io/cluster`.",
    example: "apps.cluster-abc.example.com",
  },
  operators: { description: "OLM subscription settings per operator." },
  "operators.*": { description: "OLM subscription of this operator." },
  "operators.*.channel": { description: "Update channel; only channels that cannot jump a major version." },
  "operators.*.source": { description: "CatalogSource providing the package." },
  "operators.*.sourceNamespace": { description: "Namespace of the CatalogSource." },
  "operators.*.installPlanApproval": {
    description:
      "`Manual`: the program approves only the first InstallPlan (the one installing `startingCSV`); later upgrades wait for an admin.",
  },
  "operators.*.startingCSV": {
    description: "Pin the first installed ClusterServiceVersion; required when `installPlanApproval` is `Manual`.",
    example: "rhods-operator.2.16.2",
  },
  "operators.*.installTimeoutMinutes": {
    description: "Minutes to wait for the CSV to succeed and its CRDs to be established.",
  },
  openshiftAi: { description: "OpenShift AI (DataScienceCluster) settings." },
  "openshiftAi.ingressCertificate": {
    description:
      "How KServe's Serverless ingress gets its TLS certificate: the default ingress one or a provided copy.",
  },
  "openshiftAi.components": { description: "Optional DataScienceCluster components besides kserve (always Managed)." },
  "openshiftAi.readyTimeoutMinutes": { description: "Minutes to wait for the DataScienceCluster to become Ready." },
  storage: { description: "Where model files live (S3 bucket) and the RWX storage for 3scale." },
  "storage.kind": { description: "`minio`: deploy MinIO in-cluster; `external`: use an existing S3 endpoint." },
  "storage.bucket": { description: "Bucket holding the model files." },
  "storage.minio": { description: "In-cluster MinIO (when `storage.kind` is `minio`)." },
  "storage.minio.namespace": { description: "Namespace of MinIO." },
  "storage.minio.image": { description: "Pinned MinIO image (digest or specific tag); never `:latest`." },
  "storage.minio.size": { description: "Size of MinIO's volume." },
  "storage.minio.tlsInsecureSkipVerify": {
    description:
      "Skip TLS verification of the MinIO S3 route when `pulumi up` creates the bucket and uploads (fresh clusters have a self-signed router certificate); self-signed only.",
  },
  "storage.minio.storageClass": {
    description: "Storage class of MinIO's volume; default: the cluster default.",
    example: "gp3-csi",
  },
  "storage.external": { description: "Existing S3 endpoint (required when `storage.kind` is `external`)." },
  "storage.external.endpoint": { description: "S3 endpoint URL.", example: "https://s3.example.com" },
  "storage.external.region": { description: "S3 region." },
  "storage.external.accessKeyId": {
    description: "Access key id; the secret key is the stack secret `s3SecretAccessKey`.",
    example: "AKIAEXAMPLE",
  },
  "storage.odf": { description: "OpenShift Data Foundation, for the RWX storage class 3scale needs." },
  "storage.odf.enabled": { description: "Install ODF and a StorageCluster." },
  "storage.odf.deviceStorageClass": { description: "Storage class backing the OSD devices (e.g. gp3-csi, thin-csi)." },
  "storage.odf.deviceSize": { description: "Size of each OSD device." },
  "storage.odf.nodes": {
    description: "Worker nodes to label for storage; at least three when ODF is enabled.",
    example: ["worker-a", "worker-b", "worker-c"],
  },
  "storage.rwxStorageClass": {
    description: `RWX storage class for 3scale system storage; default: ${CEPHFS_STORAGE_CLASS} when \`storage.odf.enabled\`, otherwise required.`,
    example: CEPHFS_STORAGE_CLASS,
  },
  models: {
    description: "The models to serve, each with its own namespace, InferenceService and 3scale product.",
    example: [{ name: "granite-33-2b-instruct" }],
  },
  "models[].name": {
    description: "Model name: Kubernetes name, S3 prefix, 3scale system name and the OpenAI `model` field.",
    example: "granite-33-2b-instruct",
  },
  "models[].displayName": { description: "Name shown in the portal.", example: "Granite 3.3 2B Instruct" },
  "models[].description": { description: "Description shown in the portal.", example: "Small instruct model" },
  "models[].namespace": { description: "Namespace of the model; default: the model name.", example: "granite" },
  "models[].localPath": {
    description: "Local directory uploaded to the bucket; omit when `s3Prefix` is already populated.",
    example: "./models/granite-33-2b-instruct",
  },
  "models[].s3Prefix": { description: "Prefix in the bucket; default: the model name.", example: "granite/v1" },
  "models[].runtimeImage": { description: "vLLM runtime image, pinned (digest or specific tag); never `:latest`." },
  "models[].deploymentMode": { description: "KServe deployment mode." },
  "models[].gpus": { description: "GPUs per replica." },
  "models[].accelerator": { description: "Accelerator shown in the dashboard." },
  "models[].resources": { description: "CPU and memory of the vLLM container." },
  "models[].resources.cpuRequest": { description: "CPU request." },
  "models[].resources.cpuLimit": { description: "CPU limit." },
  "models[].resources.memoryRequest": { description: "Memory request." },
  "models[].resources.memoryLimit": { description: "Memory limit." },
  "models[].tolerations": { description: "Pod tolerations (the GPU taint by default)." },
  "models[].tolerations[].key": { description: "Taint key.", example: "nvidia.com/gpu" },
  "models[].tolerations[].operator": { description: "Toleration operator." },
  "models[].tolerations[].value": { description: "Taint value (with `Equal`).", example: "true" },
  "models[].tolerations[].effect": { description: "Taint effect; default: all effects.", example: "NoSchedule" },
  "models[].nodeSelector": {
    description: "Node selector for the model pods.",
    example: { "nvidia.com/gpu.present": "true" },
  },
  "models[].maxModelLen": { description: "vLLM `--max-model-len`; also shown in the portal as the context length." },
  "models[].extraArgs": { description: "Extra vLLM arguments.", example: ["--enable-prefix-caching"] },
  "models[].minReplicas": { description: "Minimum replicas (at most `maxReplicas`)." },
  "models[].maxReplicas": { description: "Maximum replicas." },
  "models[].progressDeadlineMinutes": {
    description: "Knative progress deadline (Serverless) and the readiness wait, in minutes.",
  },
  "models[].embeddings": { description: "The model serves `/v1/embeddings` (adds the embeddings endpoint)." },
  "models[].endpoints": {
    description:
      "OpenAI-compatible endpoints exposed through 3scale; default: all but embeddings (+embeddings when enabled).",
    example: ["chat_completions", "list_models"],
  },
  "models[].plans": { description: "Application plans of this model; default: `threescale.defaultPlans`." },
  plan: { description: "An application plan." },
  "plan.systemName": { description: "3scale system name of the plan, unique per model.", example: "basic" },
  "plan.name": { description: "Plan name shown in the portal.", example: "Basic" },
  "plan.description": { description: "Plan description.", example: "For evaluation" },
  "plan.published": { description: "Developers can subscribe to the plan in the portal." },
  "plan.default": { description: "The product's default application plan (at most one)." },
  "plan.approvalRequired": { description: "Subscriptions wait for an admin's approval." },
  "plan.limits": { description: "Usage limits.", example: [{ metric: "total_tokens", period: "day", value: 100000 }] },
  "plan.limits[].metric": {
    description: "`hits`, a token metric (prompt_tokens, completion_tokens, total_tokens) or an endpoint name.",
    example: "total_tokens",
  },
  "plan.limits[].period": { description: "Limit period.", example: "day" },
  "plan.limits[].value": { description: "Maximum per period; 0 blocks the metric.", example: 100000 },
  threescale: { description: "3scale API Management." },
  "threescale.namespace": { description: "Namespace of the APIManager." },
  "threescale.tenantName": { description: "3scale tenant name (part of the admin and portal host names)." },
  "threescale.corsAllowOrigins": {
    description: 'Developer-portal origins allowed by CORS; default: the portal origin. Never "*".',
    example: ["https://maas.apps.example.com"],
  },
  "threescale.routeTimeoutSeconds": { description: "OpenShift router timeout for gateway routes (long generations)." },
  "threescale.upstreamTimeoutSeconds": {
    description: "APIcast upstream read timeout (upstream_connection policy); 0 keeps APIcast's default.",
  },
  "threescale.apicastReplicas": { description: "Replicas of each APIcast gateway." },
  "threescale.defaultPlans": { description: "Application plans of models that list none." },
  "threescale.removeAccessCode": { description: "Remove the developer portal access code." },
  "threescale.removeDefaultProduct": {
    description: 'Delete the "API" product and "API Backend" a new tenant ships with.',
  },
  "threescale.verification": {
    description: "Post-deploy smoke test: developer account, application and a Job calling each model.",
  },
  "threescale.readyTimeoutMinutes": { description: "Minutes to wait for the APIManager to become Available." },
  "threescale.verifyTls": {
    description: "Verify the admin API's TLS certificate (fresh clusters use a self-signed router certificate).",
  },
  sso: { description: "Single sign-on for the developer portal." },
  "sso.flavor": { description: "`rhsso`: Red Hat SSO 7.6 (base path /auth); `rhbk`: Red Hat build of Keycloak." },
  "sso.namespace": { description: "Namespace of Keycloak." },
  "sso.instanceName": { description: "Name of the Keycloak instance." },
  "sso.realm": { description: "Realm for developer accounts." },
  "sso.realmDisplayName": { description: "Realm display name on the login page." },
  "sso.clientId": { description: "OpenID client used by the 3scale developer portal." },
  "sso.instances": { description: "Keycloak replicas." },
  "sso.github": { description: "GitHub as identity provider." },
  "sso.github.enabled": { description: "Offer GitHub login (needs `clientId` and the secret `githubClientSecret`)." },
  "sso.github.clientId": {
    description: "GitHub OAuth app client id; the secret is the stack secret `githubClientSecret`.",
    example: "Iv1.0123456789abcdef",
  },
  "sso.autoApproveAccounts": { description: "Accounts signing in through SSO are approved automatically." },
  "sso.postgresImage": {
    description: "PostgreSQL image of the `rhbk` flavor's database, pinned (digest or specific tag); never `:latest`.",
  },
  "sso.tlsInsecureSkipVerify": {
    description:
      "Skip TLS verification of the Keycloak route (Pulumi's admin calls and 3scale's token calls); self-signed only.",
  },
  capacity: { description: "Cluster capacity changes." },
  "capacity.machineSets": { description: "Scale existing worker MachineSets." },
  "capacity.machineSets[].name": { description: "MachineSet name.", example: "cluster-abc-worker-us-east-2a" },
  "capacity.machineSets[].replicas": { description: "Desired replicas.", example: 3 },
  "capacity.gpuMachineSet": { description: "Optional GPU MachineSet cloned from an existing one." },
  "capacity.gpuMachineSet.sourceMachineSet": {
    description: "MachineSet to clone.",
    example: "cluster-abc-worker-us-east-2a",
  },
  "capacity.gpuMachineSet.name": { description: "Name of the new MachineSet.", example: "cluster-abc-gpu-us-east-2a" },
  "capacity.gpuMachineSet.instanceType": { description: "Cloud instance type.", example: "g5.2xlarge" },
  "capacity.gpuMachineSet.replicas": { description: "GPU nodes." },
  "capacity.gpuMachineSet.taintGpu": { description: "Taint the GPU nodes so only GPU workloads land there." },
  githubClientSecret: { description: "GitHub OAuth app client secret (`sso.github`).", example: "<secret>" },
  s3SecretAccessKey: { description: "Secret access key of `storage.external`.", example: "<secret>" },
};

/** Maps a concrete or `[]` path to its key in DOCS. */
export function docKey(path: string): string {
  return path
    .replace(/\[\d+\]/g, "[]")
    .replace(/^operators\.\w+/, "operators.*")
    .replace(/^(threescale\.defaultPlans|models\[\]\.plans)\[\]/, "plan");
}

type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: string[];
  default?: unknown;
  description?: string;
};

function exampleFor(entry: DocEntry | undefined, node: JsonSchema, path: string): unknown {
  if (entry?.example !== undefined) return entry.example;
  const d = node.default;
  const emptyObject = typeof d === "object" && d !== null && Object.keys(d).length === 0;
  if (d !== undefined && d !== "" && !emptyObject) return d;
  if (node.enum) return node.enum[0];
  if (node.type === "array" && node.items) return [exampleFor(DOCS[docKey(`${path}[]`)], node.items, `${path}[]`)];
  if (node.properties) {
    // An object's example lists its required keys, or all keys when none is required.
    const keys = node.required?.length ? node.required : Object.keys(node.properties);
    return Object.fromEntries(
      keys.map((k) => [k, exampleFor(DOCS[docKey(`${path}.${k}`)], node.properties![k], `${path}.${k}`)]),
    );
  }
  return undefined;
}

/** Every key of the schema (sections, arrays and leaves), depth first, plus the secret keys. */
export function configKeyDocs(): ConfigKeyDoc[] {
  const root = z.toJSONSchema(configSchema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  const out: ConfigKeyDoc[] = [];
  const visit = (node: JsonSchema, path: string, required: boolean) => {
    const entry = DOCS[docKey(path)];
    const type = (node.type ?? "object") as ConfigKeyType;
    const itemsNode = type === "array" ? node.items : undefined;
    out.push({
      path,
      type,
      items: itemsNode?.type as ConfigKeyType | undefined,
      description: entry?.description ?? node.description ?? "",
      default: sectionDefault(path, node),
      required: required && node.default === undefined,
      allowed: node.enum ?? itemsNode?.enum,
      example: exampleFor(entry, node, path),
      secret: false,
    });
    const children = type === "object" ? node.properties : itemsNode?.type === "object" ? itemsNode.properties : null;
    const childRequired = type === "object" ? node.required : itemsNode?.required;
    const prefix = type === "array" ? `${path}[]` : path;
    for (const [k, child] of Object.entries(children ?? {})) {
      visit(child, `${prefix}.${k}`, (childRequired ?? []).includes(k));
    }
  };
  for (const [k, child] of Object.entries(root.properties ?? {})) visit(child, k, (root.required ?? []).includes(k));
  for (const k of SECRET_KEYS) {
    const entry = DOCS[k];
    out.push({
      path: k,
      type: "string",
      description: entry.description,
      required: false,
      example: entry.example,
      secret: true,
    });
  }
  return out;
}

/** A section's default is the fully defaulted object the loader produces, not the `{}` the schema starts from. */
function sectionDefault(path: string, node: JsonSchema): unknown {
  if (node.default === undefined || path.includes("[]") || path.includes(".")) return node.default;
  const field = configSchema.shape[path as keyof typeof configSchema.shape];
  return field.parse(undefined);
}

/** Keys whose description is missing: a drift between the schema and the DOCS table. */
export function undocumentedKeys(): string[] {
  return configKeyDocs()
    .filter((d) => d.description === "")
    .map((d) => d.path);
}

let cachedDocs: ConfigKeyDoc[] | undefined;
const docsByPath = () => (cachedDocs ??= configKeyDocs());

/** The example value for a key path (concrete indices allowed), or undefined. */
export function exampleForPath(path: string): unknown {
  const key = path.replace(/\[\d+\]/g, "[]");
  return docsByPath().find((d) => d.path === key)?.example;
}
