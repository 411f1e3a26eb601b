/**
 * The stack configuration schema: the single source of truth for every config key, its type, default, meaning and
 * example (`describe(...)` beside each zod type). `load.ts` reads `pulumi.Config` and validates against this;
 * `Pulumi.yaml` and docs/config-reference.md are generated from it (scripts/gen-config-reference.ts).
 * Pure module: no Pulumi imports, so tests and scripts can use it directly.
 */
import { z } from "zod";
import { LIMIT_PERIODS, SYSTEM_NAME } from "../../dynamic-providers/threescale/vocabulary";
import { channelRelease, RELEASES, type ReleaseSet } from "./releases";

/** Kubernetes DNS-1123 label that is also a valid S3 prefix and 3scale system_name: lowercase letters, digits, '-'. */
export const MODEL_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const DNS_DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
/** 3scale's system_name pattern and limit periods: the config accepts what 3scale accepts. */
export { LIMIT_PERIODS, SYSTEM_NAME };
export const TOKEN_METRICS = ["prompt_tokens", "completion_tokens", "total_tokens"] as const;
/** Kubernetes quantity, e.g. 500m, 4Gi, 1. */
export const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;
/** A Hugging Face repository id, `org/name`. */
export const HF_REPO = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;
/** A Hugging Face revision pinned to a commit (40 hex digits): a branch or tag could change under a plan. */
export const HF_COMMIT = /^[0-9a-f]{40}$/;

/** Description and example of a key, shown in the config reference, Pulumi.yaml and error messages. */
export function describe(description: string, example?: unknown): { description: string; example?: unknown } {
  return example === undefined ? { description } : { description, example };
}

const dnsLabel = (what: string) =>
  z.string().regex(DNS_LABEL, `must be a DNS label for ${what}: lowercase letters, digits and '-', e.g. "ai-models"`);
const quantity = z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as "500m", "4Gi" or "2"');
/** Container image pinned by digest or by a tag other than `latest`: a plan must always deploy the same bits. */
export function isPinnedImage(image: string): boolean {
  if (image.includes("@")) return /@sha256:[0-9a-f]{64}$/.test(image);
  const tag = /:([\w][\w.-]{0,127})$/.exec(image.slice(image.lastIndexOf("/") + 1))?.[1];
  return tag !== undefined && tag !== "latest";
}
const pinnedImageRule = (example: string) =>
  z
    .string()
    .refine(isPinnedImage, `must be pinned by digest or a specific tag (never :latest or no tag), e.g. "${example}"`);
/** An image key defaulting to `image`, refusing unpinned references. */
const pinnedImage = (image: string) => pinnedImageRule(image).default(image);
const httpsUrl = z
  .string()
  .url('must be an absolute URL such as "https://s3.example.com"')
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://, e.g. "https://s3.example.com"');
const minutes = (what: string) =>
  z
    .number()
    .int()
    .positive()
    .meta(describe(`Minutes to wait for ${what}.`));

/** OLM subscription settings shared by every operator; the channel defaults to the selected release's. */
export const operatorSchema = z
  .strictObject({
    channel: z
      .string()
      .optional()
      .meta(
        describe(
          "Update channel; default: the channel of the selected release. Only channels that cannot jump a major version.",
          "stable-2.25",
        ),
      ),
    source: z
      .string()
      .optional()
      .meta(
        describe(
          "CatalogSource providing the package; default: redhat-operators (certified-operators for the NVIDIA GPU Operator).",
          "redhat-operators",
        ),
      ),
    sourceNamespace: z.string().default("openshift-marketplace").meta(describe("Namespace of the CatalogSource.")),
    installPlanApproval: z
      .enum(["Automatic", "Manual"])
      .default("Automatic")
      .meta(
        describe(
          "`Manual`: the program approves only the first InstallPlan (the one installing `startingCSV`); later upgrades wait for an admin.",
        ),
      ),
    startingCSV: z
      .string()
      .optional()
      .meta(
        describe(
          "Pin the first installed ClusterServiceVersion; required when `installPlanApproval` is `Manual`.",
          "rhods-operator.2.25.10",
        ),
      ),
    installTimeoutMinutes: minutes("the CSV to succeed and its CRDs to be established").default(20),
  })
  .prefault({})
  .meta(describe("OLM subscription of this operator."));

export const clusterSchema = z
  .strictObject({
    kubeconfig: z
      .string()
      .optional()
      .meta(
        describe(
          "Path to a kubeconfig file; default: the current `oc login` context (KUBECONFIG or ~/.kube/config).",
          "~/.kube/config",
        ),
      ),
    context: z.string().optional().meta(describe("kubeconfig context to use; default: the current context.", "admin")),
    appsDomain: z
      .string()
      .regex(DNS_DOMAIN, 'must be a DNS domain such as "apps.cluster-abc.example.com"')
      .optional()
      .meta(
        describe(
          "Apps wildcard domain; default: read from `ingresses.config.openshift.io/cluster`.",
          "apps.cluster-abc.example.com",
        ),
      ),
    cliImage: pinnedImage(
      "registry.redhat.io/openshift4/ose-cli-rhel9:v4.18@sha256:534bc47a4db1538509731689b2e45698a51192c7eb532637e98f814c6c7f1763",
    ).meta(
      describe(
        "Image with `oc` for this program's Jobs (install-plan approval, route timeouts, GPU capacity check), pinned. The default is the OpenShift 4.18 CLI that RHOAI 2.25 pins; mirror it for disconnected clusters.",
      ),
    ),
  })
  .prefault({})
  .meta(describe("Which cluster to deploy to."));

export const OPERATOR_KEYS = [
  "openshiftAi",
  "serviceMesh",
  "serverless",
  "threescale",
  "rhsso",
  "rhbk",
  "odf",
  "nfd",
  "gpu",
] as const;
export type OperatorKey = (typeof OPERATOR_KEYS)[number];

export const operatorsSchema = z
  .strictObject(
    Object.fromEntries(OPERATOR_KEYS.map((k) => [k, operatorSchema])) as Record<OperatorKey, typeof operatorSchema>,
  )
  .prefault({})
  .meta(
    describe("OLM subscription settings per operator.", {
      openshiftAi: { installPlanApproval: "Manual", startingCSV: "rhods-operator.2.25.10" },
    }),
  );

export const DSC_COMPONENTS = [
  "dashboard",
  "workbenches",
  "datasciencepipelines",
  "modelmeshserving",
  "codeflare",
  "ray",
  "kueue",
  "trustyai",
  "modelregistry",
  "trainingoperator",
] as const;

export const openshiftAiSchema = z
  .strictObject({
    release: z
      .enum(RELEASES.openshiftAi)
      .optional()
      .meta(
        describe(
          "OpenShift AI release: `2.16` (the deployment guide's) or `2.25` (the last 2.x line); default: the release of `operators.openshiftAi.channel` when set, else 2.25.",
          "2.25",
        ),
      ),
    ingressCertificate: z
      .enum(["OpenshiftDefaultIngress", "Provided"])
      .default("OpenshiftDefaultIngress")
      .meta(
        describe(
          "How KServe's Serverless ingress gets its TLS certificate: the default ingress one or a provided copy.",
        ),
      ),
    components: z
      .array(z.enum(DSC_COMPONENTS))
      .default(["dashboard"])
      .meta(describe("Optional DataScienceCluster components besides kserve (always Managed).")),
    readyTimeoutMinutes: minutes("the DataScienceCluster to become ready").default(30),
  })
  .prefault({})
  .meta(describe("OpenShift AI (DataScienceCluster) settings."));

export const gpuSchema = z
  .strictObject({
    operators: z
      .enum(["install", "existing"])
      .default("install")
      .meta(
        describe(
          "`install`: install Node Feature Discovery and the NVIDIA GPU Operator (OLM) with their NodeFeatureDiscovery and ClusterPolicy; `existing`: they are already installed, only wait for GPUs.",
        ),
      ),
    readyTimeoutMinutes: minutes(
      "the NVIDIA ClusterPolicy to be ready and the nodes to advertise the GPUs the models request",
    ).default(45),
  })
  .prefault({})
  .meta(
    describe(
      "GPU enablement, used when any model requests GPUs: operators, and a wait until the cluster advertises enough allocatable `nvidia.com/gpu`.",
    ),
  );

export const minioSchema = z
  .strictObject({
    namespace: dnsLabel("the MinIO namespace").default("ai-models").meta(describe("Namespace of MinIO.")),
    image: pinnedImage("quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z").meta(
      describe("Pinned MinIO image (digest or specific tag); never `:latest`."),
    ),
    size: quantity.default("50Gi").meta(describe("Size of MinIO's volume.")),
    storageClass: z
      .string()
      .optional()
      .meta(describe("Storage class of MinIO's volume; default: the cluster default.", "gp3-csi")),
    tlsInsecureSkipVerify: z
      .boolean()
      .default(false)
      .meta(
        describe(
          "Skip TLS verification of the MinIO S3 route when `pulumi up` creates the bucket and uploads (fresh clusters have a self-signed router certificate); self-signed only.",
        ),
      ),
  })
  .prefault({})
  .meta(describe("In-cluster MinIO (when `storage.kind` is `minio`)."));

export const externalS3Schema = z
  .strictObject({
    endpoint: httpsUrl.meta(describe("S3 endpoint URL.", "https://s3.example.com")),
    region: z.string().default("us-east-1").meta(describe("S3 region.")),
    accessKeyId: z
      .string()
      .min(1)
      .meta(describe("Access key id; the secret key is the stack secret `s3SecretAccessKey`.", "AKIAEXAMPLE")),
  })
  .meta(describe("Existing S3 endpoint (required when `storage.kind` is `external`)."));

export const odfSchema = z
  .strictObject({
    enabled: z.boolean().default(false).meta(describe("Install ODF and a StorageCluster.")),
    deviceStorageClass: z
      .string()
      .default("gp3-csi")
      .meta(describe("Storage class backing the OSD devices (e.g. gp3-csi, thin-csi).")),
    deviceSize: quantity.default("512Gi").meta(describe("Size of each OSD device.")),
    nodes: z
      .array(z.string().min(1))
      .default([])
      .meta(
        describe("Worker nodes to label for storage; at least three when ODF is enabled.", [
          "worker-a",
          "worker-b",
          "worker-c",
        ]),
      ),
  })
  .prefault({})
  .meta(describe("OpenShift Data Foundation, for a ReadWriteMany storage class."));

/** ODF's CephFS storage class: the RWX class 3scale's system storage uses when this program deploys ODF. */
export const CEPHFS_STORAGE_CLASS = "ocs-storagecluster-cephfs";

export const storageSchema = z
  .strictObject({
    kind: z
      .enum(["minio", "external"])
      .default("minio")
      .meta(describe("`minio`: deploy MinIO in-cluster; `external`: use an existing S3 endpoint.")),
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name such as "models"')
      .default("models")
      .meta(describe("Bucket holding the model files (created in MinIO; must exist at an external endpoint).")),
    forceDestroy: z
      .boolean()
      .default(false)
      .meta(
        describe(
          "`pulumi destroy` deletes the MinIO bucket with the model files in it (sandbox stacks); when false, destroy stops at a non-empty bucket.",
        ),
      ),
    minio: minioSchema,
    external: externalS3Schema.optional(),
    odf: odfSchema,
    rwxStorageClass: z
      .string()
      .optional()
      .meta(
        describe(
          `ReadWriteMany storage class for 3scale system storage (with \`threescale.systemStorage\` \`pvc\`); default: ${CEPHFS_STORAGE_CLASS} when \`storage.odf.enabled\`.`,
          CEPHFS_STORAGE_CLASS,
        ),
      ),
  })
  .prefault({})
  .meta(describe("Where model files live (S3 bucket) and the ReadWriteMany storage for 3scale."));

export const OPENAI_ENDPOINTS = [
  { method: "POST", path: "/v1/chat/completions", name: "chat_completions", friendly: "Chat completions" },
  { method: "POST", path: "/v1/completions", name: "completions", friendly: "Completions" },
  { method: "GET", path: "/v1/models", name: "list_models", friendly: "List models" },
  { method: "POST", path: "/v1/embeddings", name: "embeddings", friendly: "Embeddings" },
  { method: "POST", path: "/tokenize", name: "tokenize", friendly: "Tokenize" },
  { method: "POST", path: "/detokenize", name: "detokenize", friendly: "Detokenize" },
  { method: "GET", path: "/health", name: "health", friendly: "Health" },
  { method: "GET", path: "/version", name: "version", friendly: "Version" },
] as const;
export type EndpointName = (typeof OPENAI_ENDPOINTS)[number]["name"];
const ENDPOINT_NAMES = OPENAI_ENDPOINTS.map((e) => e.name) as [EndpointName, ...EndpointName[]];
/** Served by default; embeddings only when the model enables them. */
export const DEFAULT_ENDPOINTS: EndpointName[] = [
  "chat_completions",
  "completions",
  "list_models",
  "tokenize",
  "detokenize",
  "health",
  "version",
];
/** A model's endpoints when it lists none: the defaults, plus embeddings when the model serves them. */
export function defaultEndpoints(embeddings: boolean): EndpointName[] {
  return embeddings ? [...DEFAULT_ENDPOINTS, "embeddings"] : [...DEFAULT_ENDPOINTS];
}

export const tolerationSchema = z.strictObject({
  key: z.string().min(1).meta(describe("Taint key.", "nvidia.com/gpu")),
  operator: z.enum(["Exists", "Equal"]).default("Exists").meta(describe("Toleration operator.")),
  value: z.string().optional().meta(describe("Taint value (with `Equal`).", "true")),
  effect: z
    .enum(["NoSchedule", "PreferNoSchedule", "NoExecute"])
    .optional()
    .meta(describe("Taint effect; default: all effects.", "NoSchedule")),
});

export const limitSchema = z.strictObject({
  metric: z
    .string()
    .regex(SYSTEM_NAME, "must be a metric system name such as hits or total_tokens")
    .meta(
      describe(
        "`hits`, a token metric (prompt_tokens, completion_tokens, total_tokens) or an endpoint name.",
        "total_tokens",
      ),
    ),
  period: z
    .enum(LIMIT_PERIODS, { message: `must be one of ${LIMIT_PERIODS.join(", ")}` })
    .meta(describe("Limit period.", "day")),
  value: z
    .number()
    .int()
    .nonnegative("must be a whole number >= 0 (0 blocks the metric)")
    .meta(describe("Maximum per period; 0 blocks the metric.", 100000)),
});

export const planSchema = z
  .strictObject({
    systemName: z
      .string()
      .regex(SYSTEM_NAME, 'must be a 3scale system name such as "basic"')
      .meta(describe("3scale system name of the plan, unique per model.", "basic")),
    name: z.string().min(1).meta(describe("Plan name shown in the portal.", "Basic")),
    description: z.string().optional().meta(describe("Plan description.", "For evaluation")),
    published: z.boolean().default(true).meta(describe("Developers can subscribe to the plan in the portal.")),
    default: z
      .boolean()
      .default(false)
      .meta(
        describe(
          "The product's default application plan (at most one). 3scale subscribes every new developer account to it, so with SSO auto-approval every developer gets a key on every model that has one; the deployment guide sets none.",
        ),
      ),
    approvalRequired: z.boolean().default(false).meta(describe("Subscriptions wait for an admin's approval.")),
    limits: z
      .array(limitSchema)
      .default([])
      .meta(describe("Usage limits.", [{ metric: "total_tokens", period: "day", value: 100000 }])),
  })
  .meta(describe("An application plan."));

/** The plan a product gets when the stack names none: 60 requests a minute, 200k tokens a day, not default. */
function basicPlan() {
  return {
    systemName: "basic",
    name: "Basic",
    published: true,
    default: false,
    approvalRequired: false,
    limits: [
      { metric: "hits" as const, period: "minute" as const, value: 60 },
      { metric: "total_tokens" as const, period: "day" as const, value: 200000 },
    ],
  };
}

/** A limit of a one-endpoint plan: on the product (all models) or, with `model`, on one model's requests or tokens. */
export const endpointLimitSchema = limitSchema.extend({
  metric: z
    .enum(["hits", ...TOKEN_METRICS])
    .meta(
      describe("`hits` (requests) or a token metric (prompt_tokens, completion_tokens, total_tokens).", "total_tokens"),
    ),
  model: z
    .string()
    .regex(MODEL_NAME, 'must be a model name such as "granite-33-2b-instruct"')
    .optional()
    .meta(describe("Limit one model's requests or tokens; default: all models together.", "granite-33-2b-instruct")),
});

export const endpointPlanSchema = planSchema
  .extend({
    models: z
      .array(z.string().regex(MODEL_NAME, 'must be a model name such as "granite-33-2b-instruct"'))
      .optional()
      .meta(
        describe("The models the plan includes; default: all. Others are refused (403 model_not_permitted).", [
          "granite-33-2b-instruct",
        ]),
      ),
    limits: z
      .array(endpointLimitSchema)
      .default([])
      .meta(describe("Usage limits.", [{ metric: "total_tokens", period: "day", value: 100000, model: "granite" }])),
  })
  .meta(describe("A plan of the one-endpoint product."));

export const endpointSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .meta(describe("Serve every model on one OpenAI-compatible endpoint with one key (a product of its own).")),
    systemName: z
      .string()
      .regex(SYSTEM_NAME, 'must be a 3scale system name such as "maas-api"')
      .regex(/^[a-z0-9-]+$/, "must be lowercase letters, digits and '-' (it names the gateway routes)")
      .default("maas-api")
      .meta(describe("System name of the product (part of its gateway host names).")),
    name: z.string().min(1).default("All models").meta(describe("Product name shown in the portal.")),
    admission: z
      .boolean()
      .default(false)
      .meta(
        describe(
          "Check a request's estimated tokens against the caller's limits before the model runs (429 when over).",
        ),
      ),
    admissionFailureMode: z
      .enum(["open", "closed"])
      .default("open")
      .meta(describe("When 3scale's backend cannot be asked: let requests through (`open`) or answer 503.")),
    admissionDefaultMaxTokens: z
      .number()
      .int()
      .nonnegative()
      .default(1024)
      .meta(describe("Completion tokens assumed for a request that sets no max_tokens.")),
    rateLimitHeaders: z
      .boolean()
      .default(true)
      .meta(describe("Add OpenAI's `x-ratelimit-*` headers for tokens and requests to every response.")),
    usage: z
      .boolean()
      .default(true)
      .meta(describe("Answer `GET /v1/usage` with the caller's use and limits per model and period.")),
    plans: z
      .array(endpointPlanSchema)
      .default(() => [basicPlan()])
      .meta(describe("Application plans of the one-endpoint product.")),
  })
  .prefault({})
  .meta(describe("One endpoint for every model: routing by the request's model, limits before the model runs."));

export const huggingFaceSchema = z
  .strictObject({
    repo: z
      .string()
      .regex(HF_REPO, 'must be a Hugging Face repository id "org/name", e.g. "ibm-granite/granite-3.3-2b-instruct"')
      .meta(describe("Hugging Face repository id.", "ibm-granite/granite-3.3-2b-instruct")),
    revision: z
      .string()
      .regex(HF_COMMIT, "must be a full commit id (40 hex digits) so every run downloads the same files")
      .meta(describe("Commit of the repository to download.", "707f574c62054322f6b5b04b6d075f0a8f05e0f0")),
    tokenSecret: z
      .string()
      .optional()
      .meta(
        describe(
          "Kubernetes Secret in the model's namespace whose `HF_TOKEN` key is a Hugging Face token (gated models); default: the stack secret `huggingFaceToken`, if set.",
          "hf-token",
        ),
      ),
  })
  .meta(
    describe(
      "Download the weights from Hugging Face: an in-cluster Job streams that exact revision into the bucket, once.",
    ),
  );

export const modelSchema = z.strictObject({
  name: z
    .string()
    .regex(
      MODEL_NAME,
      'must be lowercase letters, digits and "-" (a Kubernetes name, S3 prefix and 3scale system name), e.g. "granite-33-2b-instruct"',
    )
    .meta(
      describe(
        "Model name: Kubernetes name, 3scale system name and the OpenAI `model` field.",
        "granite-33-2b-instruct",
      ),
    ),
  displayName: z.string().optional().meta(describe("Name shown in the portal.", "Granite 3.3 2B Instruct")),
  description: z.string().default("").meta(describe("Description shown in the portal.", "Small instruct model")),
  namespace: dnsLabel("the model namespace")
    .optional()
    .meta(describe("Namespace of the model; default: the model name.", "granite")),
  localPath: z
    .string()
    .optional()
    .meta(
      describe(
        "Weights source: a local directory uploaded to the bucket (content-hashed per file; unchanged files are not read again).",
        "./models/granite-33-2b-instruct",
      ),
    ),
  huggingFace: huggingFaceSchema.optional(),
  s3Prefix: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-/]*[a-z0-9])?$/, "must contain only lowercase letters, digits, '-' and '/'")
    .optional()
    .meta(
      describe(
        "Weights source: a prefix already populated in an external bucket (`storage.kind: external`); with `localPath` the prefix to upload to (default: the model name).",
        "granite/v1",
      ),
    ),
  runtimeImage: pinnedImageRule(RELEASES.vllmImage["2.25"])
    .optional()
    .meta(describe("vLLM runtime image, pinned; default: the image the selected OpenShift AI release ships.")),
  vllmVersion: z
    .string()
    .regex(/^\d+\.\d+(\.\d+)?/, 'must be a vLLM version such as "0.10.1"')
    .optional()
    .meta(
      describe(
        "vLLM version of a custom `runtimeImage` (the release's image is known): enables `--enable-force-include-usage` from 0.9.2.",
        "0.10.1",
      ),
    ),
  deploymentMode: z
    .enum(["RawDeployment", "Serverless"])
    .default("RawDeployment")
    .meta(describe("KServe deployment mode.")),
  gpus: z.number().int().nonnegative().default(1).meta(describe("GPUs per replica.")),
  accelerator: z.string().default("NVIDIA GPU").meta(describe("Accelerator shown in the dashboard.")),
  resources: z
    .strictObject({
      cpuRequest: quantity.default("2").meta(describe("CPU request.")),
      cpuLimit: quantity.default("4").meta(describe("CPU limit.")),
      memoryRequest: quantity.default("8Gi").meta(describe("Memory request.")),
      memoryLimit: quantity.default("16Gi").meta(describe("Memory limit.")),
    })
    .prefault({})
    .meta(describe("CPU and memory of the vLLM container.")),
  tolerations: z
    .array(tolerationSchema)
    .default([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }])
    .meta(describe("Pod tolerations (the GPU taint by default).")),
  nodeSelector: z
    .record(z.string(), z.string())
    .default({})
    .meta(describe("Node selector for the model pods.", { "nvidia.com/gpu.present": "true" })),
  maxModelLen: z
    .number()
    .int()
    .positive()
    .default(8192)
    .meta(describe("vLLM `--max-model-len`; also shown in the portal as the context length.")),
  extraArgs: z
    .array(z.string())
    .default([])
    .meta(describe("Extra vLLM arguments.", ["--enable-prefix-caching"])),
  minReplicas: z.number().int().nonnegative().default(1).meta(describe("Minimum replicas (at most `maxReplicas`).")),
  maxReplicas: z.number().int().positive().default(1).meta(describe("Maximum replicas.")),
  progressDeadlineMinutes: z
    .number()
    .int()
    .positive()
    .default(30)
    .meta(describe("Knative progress deadline (Serverless) and the readiness wait, in minutes.")),
  embeddings: z
    .boolean()
    .default(false)
    .meta(describe("The model serves `/v1/embeddings` (adds the embeddings endpoint).")),
  endpoints: z
    .array(z.enum(ENDPOINT_NAMES))
    .optional()
    .meta(
      describe(
        "OpenAI-compatible endpoints exposed through 3scale; default: all but embeddings (+embeddings when enabled).",
        ["chat_completions", "list_models"],
      ),
    ),
  plans: z
    .array(planSchema)
    .optional()
    .meta(describe("Application plans of this model; default: `threescale.defaultPlans`.")),
});

export const threescaleSchema = z
  .strictObject({
    release: z
      .enum(RELEASES.threescale)
      .optional()
      .meta(
        describe(
          "3scale release: `2.15` (the deployment guide's) or `2.16` (needs external databases: this program deploys MySQL and Redis for it); default: the release of `operators.threescale.channel` when set, else 2.16.",
          "2.16",
        ),
      ),
    namespace: dnsLabel("the 3scale namespace").default("3scale").meta(describe("Namespace of the APIManager.")),
    tenantName: dnsLabel("the 3scale tenant")
      .default("maas")
      .meta(describe("3scale tenant name (part of the admin and portal host names).")),
    corsAllowOrigins: z
      .array(httpsUrl)
      .default([])
      .meta(
        describe('Developer-portal origins allowed by CORS; default: the portal origin. Never "*".', [
          "https://maas.apps.example.com",
        ]),
      ),
    routeTimeoutSeconds: z
      .number()
      .int()
      .positive()
      .default(300)
      .meta(describe("OpenShift router timeout for gateway routes (long generations).")),
    upstreamTimeoutSeconds: z
      .number()
      .int()
      .nonnegative()
      .default(300)
      .meta(describe("APIcast upstream read timeout (upstream_connection policy); 0 keeps APIcast's default.")),
    apicastReplicas: z.number().int().positive().default(1).meta(describe("Replicas of each APIcast gateway.")),
    defaultPlans: z
      .array(planSchema)
      .default(() => [basicPlan()])
      .meta(describe("Application plans of models that list none.")),
    systemStorage: z
      .enum(["auto", "pvc", "s3"])
      .default("auto")
      .meta(
        describe(
          "3scale system storage (CMS files, attachments): `pvc` on the ReadWriteMany class (`storage.rwxStorageClass` or ODF), `s3` in the stack's S3 storage (a `<bucket>-3scale` bucket), `auto`: `pvc` when an RWX class is configured, else `s3`.",
        ),
      ),
    databaseImages: z
      .strictObject({
        mysql: pinnedImage(
          "registry.redhat.io/rhel8/mysql-80@sha256:f6a3025d463b7763ef78ed6cce8f3f053a661a8a506e67839c98e7d9882bdf21",
        ).meta(describe("MySQL 8 image of the system database (3scale 2.16).")),
        redis: pinnedImage(
          "registry.redhat.io/rhel9/redis-7@sha256:0e4e70917476b9b669c46524f409be360296d9dfbd11ee072b203d72d6b3f60e",
        ).meta(describe("Redis 7 image of the system and backend Redis (3scale 2.16).")),
      })
      .prefault({})
      .meta(
        describe(
          "Images of the databases 3scale 2.16 requires outside the APIManager (the versions its documentation supports: MySQL 8, Redis 7).",
        ),
      ),
    endpoint: endpointSchema,
    removeAccessCode: z.boolean().default(true).meta(describe("Remove the developer portal access code.")),
    removeDefaultProduct: z
      .boolean()
      .default(true)
      .meta(
        describe(
          'Delete the sample "API" product and "API Backend" a new tenant ships with (one-way: destroy does not bring them back).',
        ),
      ),
    verification: z
      .boolean()
      .default(true)
      .meta(describe("Post-deploy smoke test: developer account, application and a Job calling each model.")),
    readyTimeoutMinutes: minutes("the APIManager to become Available").default(30),
    verifyTls: z
      .boolean()
      .default(true)
      .meta(describe("Verify the admin API's TLS certificate (fresh clusters use a self-signed router certificate).")),
  })
  .prefault({})
  .meta(describe("3scale API Management."));

export const githubSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .meta(describe("Offer GitHub login (needs `clientId` and the secret `githubClientSecret`).")),
    clientId: z
      .string()
      .optional()
      .meta(
        describe(
          "GitHub OAuth app client id; the secret is the stack secret `githubClientSecret`.",
          "Iv1.0123456789abcdef",
        ),
      ),
  })
  .prefault({})
  .meta(describe("GitHub as identity provider."));

export const ssoSchema = z
  .strictObject({
    flavor: z
      .enum(["rhsso", "rhbk"])
      .default("rhbk")
      .meta(
        describe(
          "`rhbk`: Red Hat build of Keycloak 26 with its own PostgreSQL; `rhsso`: Red Hat SSO 7.6 (end of life; base path /auth).",
        ),
      ),
    namespace: dnsLabel("the SSO namespace").default("keycloak").meta(describe("Namespace of Keycloak.")),
    instanceName: dnsLabel("the Keycloak instance")
      .default("keycloak")
      .meta(describe("Name of the Keycloak instance.")),
    realm: dnsLabel("the realm").default("maas").meta(describe("Realm for developer accounts.")),
    realmDisplayName: z.string().default("Models as a Service").meta(describe("Realm display name on the login page.")),
    clientId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .default("3scale")
      .meta(describe("OpenID client used by the 3scale developer portal.")),
    instances: z.number().int().positive().default(1).meta(describe("Keycloak replicas.")),
    github: githubSchema,
    autoApproveAccounts: z
      .boolean()
      .default(true)
      .meta(describe("Accounts signing in through SSO are approved automatically.")),
    tlsInsecureSkipVerify: z
      .boolean()
      .default(false)
      .meta(
        describe(
          "Skip TLS verification of the Keycloak route (Pulumi's admin calls and 3scale's token calls); self-signed only.",
        ),
      ),
    postgresImage: pinnedImage(
      "registry.redhat.io/rhel9/postgresql-15@sha256:90ec347a35ab8a5d530c8d09f5347b13cc71df04f3b994bfa8b1a409b1171d59",
    ).meta(
      describe("PostgreSQL image of the `rhbk` flavor's database, pinned (digest or specific tag); never `:latest`."),
    ),
  })
  .prefault({})
  .meta(describe("Single sign-on for the developer portal."));

export const CLOUD_PLATFORMS = ["aws", "azure", "gcp"] as const;

export const capacitySchema = z
  .strictObject({
    machineSets: z
      .array(
        z.strictObject({
          name: z.string().min(1).meta(describe("MachineSet name.", "cluster-abc-worker-us-east-2a")),
          replicas: z.number().int().nonnegative().meta(describe("Desired replicas.", 3)),
        }),
      )
      .default([])
      .meta(describe("Scale existing worker MachineSets.")),
    gpuMachineSet: z
      .strictObject({
        sourceMachineSet: z
          .string()
          .min(1)
          .meta(
            describe("MachineSet to clone (AWS, Azure or GCP; others are refused).", "cluster-abc-worker-us-east-2a"),
          ),
        name: z.string().min(1).meta(describe("Name of the new MachineSet.", "cluster-abc-gpu-us-east-2a")),
        instanceType: z
          .string()
          .min(1)
          .meta(
            describe(
              "Machine type with GPUs: AWS `instanceType`, Azure `vmSize` or GCP `machineType` of the cloned provider spec.",
              "g5.2xlarge",
            ),
          ),
        replicas: z.number().int().nonnegative().default(1).meta(describe("GPU nodes.")),
        taintGpu: z.boolean().default(true).meta(describe("Taint the GPU nodes so only GPU workloads land there.")),
      })
      .optional()
      .meta(describe("Optional GPU MachineSet cloned from an existing one.")),
  })
  .prefault({})
  .meta(describe("Cluster capacity changes."));

/** Keys of the project namespace that hold secrets (`pulumi config set --secret <key>`), with their docs. */
export const SECRETS = {
  githubClientSecret: describe("GitHub OAuth app client secret (`sso.github`).", "<secret>"),
  s3SecretAccessKey: describe("Secret access key of `storage.external`.", "<secret>"),
  huggingFaceToken: describe(
    "Hugging Face token for `models[].huggingFace` downloads of gated models (a Secret in each such model's namespace).",
    "<secret>",
  ),
} as const;
export type SecretKey = keyof typeof SECRETS;
export const SECRET_KEYS = Object.keys(SECRETS) as SecretKey[];

export const configSchema = z.strictObject({
  environment: z
    .enum(["dev", "test", "prod"])
    .default("dev")
    .meta(describe("Kind of environment this stack is (dev, test or prod).")),
  cluster: clusterSchema,
  operators: operatorsSchema,
  openshiftAi: openshiftAiSchema,
  gpu: gpuSchema,
  storage: storageSchema,
  models: z
    .array(modelSchema)
    .min(1, "must list at least one model")
    .meta(
      describe("The models to serve, each with its own namespace, InferenceService and 3scale product.", [
        {
          name: "granite-33-2b-instruct",
          huggingFace: {
            repo: "ibm-granite/granite-3.3-2b-instruct",
            revision: "707f574c62054322f6b5b04b6d075f0a8f05e0f0",
          },
        },
      ]),
    ),
  threescale: threescaleSchema,
  sso: ssoSchema,
  capacity: capacitySchema,
});

export type ConfigInput = z.input<typeof configSchema>;
/** The schema's output before the release-dependent defaults (see `resolveConfig`). */
export type ParsedConfig = z.output<typeof configSchema>;
export type OperatorConfig = z.output<typeof operatorSchema> & { channel: string; source: string };
export type ModelConfig = ParsedConfig["models"][number] & { runtimeImage: string };
export type PlanConfig = z.output<typeof planSchema>;
/** The validated config with every default applied, release-dependent ones included. */
export type PlatformConfig = Omit<ParsedConfig, "operators" | "models" | "openshiftAi" | "threescale"> & {
  operators: Record<OperatorKey, OperatorConfig>;
  models: ModelConfig[];
  openshiftAi: ParsedConfig["openshiftAi"] & { release: ReleaseSet["openshiftAi"] };
  threescale: ParsedConfig["threescale"] & { release: ReleaseSet["threescale"] };
  /** The releases the stack selects (what waits, images and channels follow). */
  releases: ReleaseSet;
};

/** The release a stack selects: explicit, else the one its pinned channel installs, else the newest. */
function selectedRelease<R extends string>(
  explicit: R | undefined,
  channel: string | undefined,
  known: readonly R[],
): R {
  const fromChannel = channel === undefined ? undefined : channelRelease(channel);
  if (explicit) return explicit;
  return known.find((r) => r === fromChannel) ?? known[known.length - 1];
}

/** Parses and resolves a config (tests and scripts; the program uses `validateConfig`, which reports problems). */
export function parseConfig(input: ConfigInput): PlatformConfig {
  return resolveConfig(configSchema.parse(input));
}

/** Fills the defaults that depend on the selected releases: releases, operator channels and sources, vLLM images. */
export function resolveConfig(parsed: ParsedConfig): PlatformConfig {
  const releases: ReleaseSet = {
    openshiftAi: selectedRelease(
      parsed.openshiftAi.release,
      parsed.operators.openshiftAi.channel,
      RELEASES.openshiftAi,
    ),
    threescale: selectedRelease(parsed.threescale.release, parsed.operators.threescale.channel, RELEASES.threescale),
    sso: parsed.sso.flavor,
  };
  const operators = Object.fromEntries(
    OPERATOR_KEYS.map((k) => {
      const o = parsed.operators[k];
      return [
        k,
        {
          ...o,
          channel: o.channel ?? RELEASES.defaultChannel(k, releases),
          source: o.source ?? RELEASES.defaultSource(k),
        },
      ];
    }),
  ) as Record<OperatorKey, OperatorConfig>;
  const models = parsed.models.map((m) => ({
    ...m,
    runtimeImage: m.runtimeImage ?? RELEASES.vllmImage[releases.openshiftAi],
  }));
  return {
    ...parsed,
    operators,
    models,
    releases,
    openshiftAi: { ...parsed.openshiftAi, release: releases.openshiftAi },
    threescale: { ...parsed.threescale, release: releases.threescale },
  };
}

/** Secrets read from stack config; values are Pulumi secrets where the loader returns them. */
export type SecretConfig<T> = Partial<Record<SecretKey, T>>;
