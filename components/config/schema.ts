/**
 * The stack configuration schema: the single source of truth for every config key, its type, default and meaning.
 * `load.ts` reads `pulumi.Config` and validates against this; the README's config reference is checked against it.
 * Pure module: no Pulumi imports, so tests and scripts can use it directly.
 */
import { z } from "zod";

/** Kubernetes DNS-1123 label that is also a valid S3 prefix and 3scale system_name: lowercase letters, digits, '-'. */
export const MODEL_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
export const DNS_DOMAIN = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;
/** 3scale system_name: word char first, then word chars, '-' or '/'; at least two characters. */
export const SYSTEM_NAME = /^\w[\w\-/]{1,254}$/;
export const LIMIT_PERIODS = ["eternity", "year", "month", "week", "day", "hour", "minute"] as const;
export const TOKEN_METRICS = ["prompt_tokens", "completion_tokens", "total_tokens"] as const;
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;
/** Kubernetes quantity, e.g. 500m, 4Gi, 1. */
export const QUANTITY = /^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$/;

const dnsLabel = (what: string) =>
  z.string().regex(DNS_LABEL, `must be a DNS label for ${what}: lowercase letters, digits and '-', e.g. "ai-models"`);
const quantity = z.string().regex(QUANTITY, 'must be a Kubernetes quantity such as "500m", "4Gi" or "2"');
/** Container image pinned by digest or by a tag other than `latest`: a plan must always deploy the same bits. */
export function isPinnedImage(image: string): boolean {
  if (image.includes("@")) return /@sha256:[0-9a-f]{64}$/.test(image);
  const tag = /:([\w][\w.-]{0,127})$/.exec(image.slice(image.lastIndexOf("/") + 1))?.[1];
  return tag !== undefined && tag !== "latest";
}
/** An image key defaulting to `image`, refusing unpinned references. */
const pinnedImage = (image: string) =>
  z
    .string()
    .refine(isPinnedImage, `must be pinned by digest or a specific tag (never :latest or no tag), e.g. "${image}"`)
    .default(image);
const httpsUrl = z
  .string()
  .url('must be an absolute URL such as "https://s3.example.com"')
  .refine((u) => /^https?:\/\//.test(u), 'must start with http:// or https://, e.g. "https://s3.example.com"');

/** OLM subscription settings shared by every operator. */
export const operatorSchema = (defaults: { channel: string; channels: readonly string[] }) =>
  z
    .strictObject({
      channel: z
        .string()
        .default(defaults.channel)
        .refine((c) => defaults.channels.includes(c), {
          message: `must be one of the supported channels: ${defaults.channels.join(", ")}`,
        }),
      source: z.string().default("redhat-operators"),
      sourceNamespace: z.string().default("openshift-marketplace"),
      installPlanApproval: z.enum(["Automatic", "Manual"]).default("Automatic"),
      startingCSV: z.string().optional(),
      /** Minutes to wait for the operator's CSV to succeed and its CRDs to be established. */
      installTimeoutMinutes: z.number().int().positive().default(20),
    })
    .prefault({});

/** Supported OLM channels per operator. Channels that may jump a major version (e.g. RHOAI `fast`) are excluded. */
export const OPERATOR_CHANNELS = {
  openshiftAi: {
    channel: "stable-2.16",
    channels: ["stable-2.16", "eus-2.16", "stable-2.19", "stable-2.22", "stable-2.25"],
  },
  serviceMesh: { channel: "stable", channels: ["stable"] },
  serverless: { channel: "stable", channels: ["stable", "stable-1.33", "stable-1.34", "stable-1.35", "stable-1.36"] },
  threescale: { channel: "threescale-2.15", channels: ["threescale-2.14", "threescale-2.15", "threescale-2.16"] },
  rhsso: { channel: "stable", channels: ["stable"] },
  rhbk: {
    channel: "stable-v24",
    channels: ["stable-v24", "stable-v26", "stable-v26.0", "stable-v26.2", "stable-v26.4"],
  },
  odf: {
    channel: "stable-4.16",
    channels: ["stable-4.14", "stable-4.15", "stable-4.16", "stable-4.17", "stable-4.18", "stable-4.19"],
  },
} as const;

export const clusterSchema = z
  .strictObject({
    /** Path to a kubeconfig file; default: the current `oc login` context (KUBECONFIG or ~/.kube/config). */
    kubeconfig: z.string().optional(),
    /** kubeconfig context to use; default: the current context. */
    context: z.string().optional(),
    /** Apps wildcard domain (e.g. apps.cluster-x.example.com); default: read from ingresses.config.openshift.io/cluster. */
    appsDomain: z.string().regex(DNS_DOMAIN, 'must be a DNS domain such as "apps.cluster-abc.example.com"').optional(),
  })
  .prefault({});

export const operatorsSchema = z
  .strictObject({
    openshiftAi: operatorSchema(OPERATOR_CHANNELS.openshiftAi),
    serviceMesh: operatorSchema(OPERATOR_CHANNELS.serviceMesh),
    serverless: operatorSchema(OPERATOR_CHANNELS.serverless),
    threescale: operatorSchema(OPERATOR_CHANNELS.threescale),
    rhsso: operatorSchema(OPERATOR_CHANNELS.rhsso),
    rhbk: operatorSchema(OPERATOR_CHANNELS.rhbk),
    odf: operatorSchema(OPERATOR_CHANNELS.odf),
  })
  .prefault({});

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
    /** How KServe's Serverless ingress gets its TLS certificate (guide step 2.4). */
    ingressCertificate: z.enum(["OpenshiftDefaultIngress", "Provided"]).default("OpenshiftDefaultIngress"),
    /** Optional DataScienceCluster components besides kserve (always Managed). */
    components: z.array(z.enum(DSC_COMPONENTS)).default(["dashboard"]),
    /** Minutes to wait for the DataScienceCluster to become Ready. */
    readyTimeoutMinutes: z.number().int().positive().default(30),
  })
  .prefault({});

export const minioSchema = z
  .strictObject({
    namespace: dnsLabel("the MinIO namespace").default("ai-models"),
    /** Pinned MinIO image; never :latest. */
    image: pinnedImage("quay.io/minio/minio:RELEASE.2025-04-22T22-12-26Z"),
    size: quantity.default("50Gi"),
    storageClass: z.string().optional(),
    /** Skip TLS verification of the MinIO S3 route when `pulumi up` creates the bucket and uploads; self-signed only. */
    tlsInsecureSkipVerify: z.boolean().default(false),
  })
  .prefault({});

export const externalS3Schema = z.strictObject({
  endpoint: httpsUrl,
  region: z.string().default("us-east-1"),
  /** Access key id; the secret key is the stack secret `s3SecretAccessKey`. */
  accessKeyId: z.string().min(1),
});

export const odfSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** Storage class backing the OSD devices (e.g. gp3-csi, thin-csi). */
    deviceStorageClass: z.string().default("gp3-csi"),
    deviceSize: quantity.default("512Gi"),
    /** Worker nodes to label for storage; at least three. */
    nodes: z.array(z.string().min(1)).default([]),
  })
  .prefault({});

/** ODF's CephFS storage class: the RWX class 3scale's system storage uses when this program deploys ODF. */
export const CEPHFS_STORAGE_CLASS = "ocs-storagecluster-cephfs";

export const storageSchema = z
  .strictObject({
    /** `minio`: deploy MinIO in-cluster; `external`: use an existing S3 endpoint. */
    kind: z.enum(["minio", "external"]).default("minio"),
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name such as "models"')
      .default("models"),
    minio: minioSchema,
    external: externalS3Schema.optional(),
    odf: odfSchema,
    /** RWX storage class for 3scale system storage; default: ocs-storagecluster-cephfs when ODF is enabled, else required. */
    rwxStorageClass: z.string().optional(),
  })
  .prefault({});

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
  key: z.string().min(1),
  operator: z.enum(["Exists", "Equal"]).default("Exists"),
  value: z.string().optional(),
  effect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).optional(),
});

export const limitSchema = z.strictObject({
  /** `hits`, one of the token metrics, or an endpoint method name (e.g. chat_completions). */
  metric: z.string().regex(SYSTEM_NAME, "must be a metric system name such as hits or total_tokens"),
  period: z.enum(LIMIT_PERIODS, { message: `must be one of ${LIMIT_PERIODS.join(", ")}` }),
  value: z.number().int().nonnegative("must be a whole number >= 0 (0 blocks the metric)"),
});

export const planSchema = z.strictObject({
  systemName: z.string().regex(SYSTEM_NAME, 'must be a 3scale system name such as "basic"'),
  name: z.string().min(1),
  description: z.string().optional(),
  published: z.boolean().default(true),
  /** The product's default application plan (at most one). */
  default: z.boolean().default(false),
  approvalRequired: z.boolean().default(false),
  limits: z.array(limitSchema).default([]),
});

export const modelSchema = z.strictObject({
  /** Model name: Kubernetes name, S3 prefix, 3scale system_name and the OpenAI `model` field. */
  name: z
    .string()
    .regex(
      MODEL_NAME,
      'must be lowercase letters, digits and "-" (a Kubernetes name, S3 prefix and 3scale system name), e.g. "granite-33-2b-instruct"',
    ),
  displayName: z.string().optional(),
  description: z.string().default(""),
  /** Namespace for the model; default: the model name. */
  namespace: dnsLabel("the model namespace").optional(),
  /** Local directory uploaded to the bucket (content-hashed per file); omit when `s3Prefix` is already populated. */
  localPath: z.string().optional(),
  /** Prefix in the bucket; default: the model name. */
  s3Prefix: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-/]*[a-z0-9])?$/, "must contain only lowercase letters, digits, '-' and '/'")
    .optional(),
  /** vLLM runtime image, pinned (digest or specific tag). */
  runtimeImage: pinnedImage(
    "quay.io/modh/vllm@sha256:4f550996130e7d16cacb24ca9a2865e7cf51eddaab014ceaf31a1ea6ef86d4ec",
  ),
  deploymentMode: z.enum(["RawDeployment", "Serverless"]).default("RawDeployment"),
  gpus: z.number().int().nonnegative().default(1),
  accelerator: z.string().default("NVIDIA GPU"),
  resources: z
    .strictObject({
      cpuRequest: quantity.default("2"),
      cpuLimit: quantity.default("4"),
      memoryRequest: quantity.default("8Gi"),
      memoryLimit: quantity.default("16Gi"),
    })
    .prefault({}),
  tolerations: z.array(tolerationSchema).default([{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }]),
  nodeSelector: z.record(z.string(), z.string()).default({}),
  /** vLLM --max-model-len; also shown in the portal as the context length. */
  maxModelLen: z.number().int().positive().default(8192),
  extraArgs: z.array(z.string()).default([]),
  minReplicas: z.number().int().nonnegative().default(1),
  maxReplicas: z.number().int().positive().default(1),
  /** Knative progress deadline for big models (Serverless) and the readiness wait. */
  progressDeadlineMinutes: z.number().int().positive().default(30),
  embeddings: z.boolean().default(false),
  /** OpenAI-compatible endpoints exposed through 3scale; default: all but embeddings (+embeddings when enabled). */
  endpoints: z.array(z.enum(ENDPOINT_NAMES)).optional(),
  /** Application plans for this model; default: `threescale.defaultPlans`. */
  plans: z.array(planSchema).optional(),
});

export const threescaleSchema = z
  .strictObject({
    namespace: dnsLabel("the 3scale namespace").default("3scale"),
    tenantName: dnsLabel("the 3scale tenant").default("maas"),
    /** Developer-portal origins allowed by CORS; default: the portal origin. Never "*" (credentials are allowed). */
    corsAllowOrigins: z.array(httpsUrl).default([]),
    /** OpenShift router timeout for gateway routes (long generations). */
    routeTimeoutSeconds: z.number().int().positive().default(300),
    /** Adds APIcast's upstream_connection policy with this read timeout; 0 leaves APIcast's default. */
    upstreamTimeoutSeconds: z.number().int().nonnegative().default(300),
    apicastReplicas: z.number().int().positive().default(1),
    defaultPlans: z.array(planSchema).default([
      {
        systemName: "basic",
        name: "Basic",
        published: true,
        default: true,
        approvalRequired: false,
        limits: [
          { metric: "hits", period: "minute", value: 60 },
          { metric: "total_tokens", period: "day", value: 200000 },
        ],
      },
    ]),
    /** Remove the developer portal access code (guide 4.7). */
    removeAccessCode: z.boolean().default(true),
    /** Delete the "API" product and "API Backend" a new tenant ships with (guide 4.7). */
    removeDefaultProduct: z.boolean().default(true),
    /** Post-deploy smoke test: developer account, application and a Job calling each model through the gateway. */
    verification: z.boolean().default(true),
    /** Minutes to wait for the APIManager to become Available. */
    readyTimeoutMinutes: z.number().int().positive().default(30),
    /** Verify the admin API's TLS certificate (the default router certificate is self-signed on fresh clusters). */
    verifyTls: z.boolean().default(true),
  })
  .prefault({});

export const githubSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    /** GitHub OAuth app client id; the secret is the stack secret `githubClientSecret`. */
    clientId: z.string().optional(),
  })
  .prefault({});

export const ssoSchema = z
  .strictObject({
    /** `rhsso`: Red Hat SSO 7.6 (legacy, /auth base path); `rhbk`: Red Hat build of Keycloak. */
    flavor: z.enum(["rhsso", "rhbk"]).default("rhsso"),
    namespace: dnsLabel("the SSO namespace").default("rh-sso"),
    instanceName: dnsLabel("the Keycloak instance").default("rh-sso"),
    realm: dnsLabel("the realm").default("maas"),
    realmDisplayName: z.string().default("Models as a Service"),
    clientId: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+$/)
      .default("3scale"),
    instances: z.number().int().positive().default(1),
    github: githubSchema,
    /** Accounts signing in through SSO are approved automatically. */
    autoApproveAccounts: z.boolean().default(true),
    /** Skip TLS verification of the Keycloak route (Pulumi's admin calls and 3scale's token calls); self-signed only. */
    tlsInsecureSkipVerify: z.boolean().default(false),
    /** PostgreSQL image of the `rhbk` flavor's database, pinned (digest or specific tag). */
    postgresImage: pinnedImage(
      "registry.redhat.io/rhel9/postgresql-15@sha256:90ec347a35ab8a5d530c8d09f5347b13cc71df04f3b994bfa8b1a409b1171d59",
    ),
  })
  .prefault({});

export const capacitySchema = z
  .strictObject({
    /** Scale existing worker MachineSets (guide 4.1). */
    machineSets: z
      .array(z.strictObject({ name: z.string().min(1), replicas: z.number().int().nonnegative() }))
      .default([]),
    /** Optional GPU MachineSet cloned from an existing one. */
    gpuMachineSet: z
      .strictObject({
        sourceMachineSet: z.string().min(1),
        name: z.string().min(1),
        instanceType: z.string().min(1),
        replicas: z.number().int().nonnegative().default(1),
        taintGpu: z.boolean().default(true),
      })
      .optional(),
  })
  .prefault({});

/** Keys of the project namespace that hold secrets (`pulumi config set --secret <key>`). */
export const SECRET_KEYS = ["githubClientSecret", "s3SecretAccessKey"] as const;

export const configSchema = z.strictObject({
  environment: z.enum(["dev", "test", "prod"]).default("dev"),
  cluster: clusterSchema,
  operators: operatorsSchema,
  openshiftAi: openshiftAiSchema,
  storage: storageSchema,
  models: z.array(modelSchema).min(1, "must list at least one model"),
  threescale: threescaleSchema,
  sso: ssoSchema,
  capacity: capacitySchema,
});

export type ConfigInput = z.input<typeof configSchema>;
export type PlatformConfig = z.output<typeof configSchema>;
export type ModelConfig = PlatformConfig["models"][number];
export type PlanConfig = z.output<typeof planSchema>;
export type OperatorConfig = z.output<ReturnType<typeof operatorSchema>>;

/** Secrets read from stack config; values are Pulumi secrets where the loader returns them. */
export interface SecretConfig<T> {
  githubClientSecret?: T;
  s3SecretAccessKey?: T;
}
