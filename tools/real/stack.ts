/**
 * The stack the real suite and the bench deploy: every layer on, on the newest releases (OpenShift AI 2.25, 3scale
 * 2.16, Red Hat build of Keycloak 26), GPU layer installed (NFD + GPU operator) on a GPU MachineSet cloned from the
 * installer's worker MachineSet, ODF for the ReadWriteMany class, two models whose weights a Hugging Face download Job
 * puts into an external bucket (so no @pulumi/aws resource: its plugin cannot be built here), 3scale with post-deploy
 * verification, the one endpoint for every model, and `removeDefaultProduct: false` (destroy returns the tenant to its
 * initial state), and TLS checks off for the router's self-signed certificate, as on a fresh cluster.
 */
import { WORKER_MACHINESET, WORKER_NODES } from "./environment";

export const APPS_DOMAIN = "apps.maas-real.test";
export const STACK = "real";
export const GPU_MACHINESET = "maas-real-gpu-us-east-2a";

export interface RealModel {
  name: string;
  description?: string;
  [key: string]: unknown;
}

/** `count` small models, each from a pinned Hugging Face revision, one GPU each. */
export function realModels(count: number, prefix = "model"): RealModel[] {
  return Array.from({ length: count }, (_, i) => ({
    name: `${prefix}-${String(i + 1).padStart(2, "0")}`,
    displayName: `Test model ${i + 1}`,
    description: `Test model ${i + 1}`,
    huggingFace: { repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "7ae557604adf67be50417f59c2c2f167def9a775" },
    gpus: 1,
    maxModelLen: 4096,
    resources: { cpuRequest: "1", cpuLimit: "2", memoryRequest: "4Gi", memoryLimit: "8Gi" },
  }));
}

export interface RealStackOptions {
  kubeconfig: string;
  appsDomain?: string;
  models: RealModel[];
  /** GPU nodes of the cloned MachineSet (g5.12xlarge: 4 GPUs each). */
  gpuNodes?: number;
  /** Merged over the suite's `maas:threescale` (e.g. a CORS change). */
  threescale?: Record<string, unknown>;
}

/** Namespaced stack config (plain values); the one secret is `S3_SECRET`. */
export function realStackConfig(o: RealStackOptions): Record<string, unknown> {
  const appsDomain = o.appsDomain ?? APPS_DOMAIN;
  return {
    "maas:environment": "test",
    "maas:cluster": { kubeconfig: o.kubeconfig, appsDomain },
    "maas:openshiftAi": { release: "2.25", readyTimeoutMinutes: 10 },
    "maas:gpu": { operators: "install", readyTimeoutMinutes: 10 },
    "maas:capacity": {
      gpuMachineSet: {
        sourceMachineSet: WORKER_MACHINESET,
        name: GPU_MACHINESET,
        instanceType: "g5.12xlarge",
        replicas: o.gpuNodes ?? 1,
      },
    },
    "maas:storage": {
      kind: "external",
      bucket: "models",
      external: { endpoint: "https://s3.maas-real.test", accessKeyId: "AKIAMAASREALSUITE" },
      odf: { enabled: true, deviceStorageClass: "standard", deviceSize: "100Gi", nodes: WORKER_NODES },
    },
    "maas:models": o.models,
    "maas:threescale": {
      release: "2.16",
      namespace: "3scale",
      tenantName: "maas",
      verifyTls: false,
      verification: true,
      removeDefaultProduct: false,
      readyTimeoutMinutes: 10,
      // One endpoint for every model (routing by `model`, token admission), as the prod stack ships it.
      endpoint: {
        enabled: true,
        systemName: "maas-api",
        name: "All models",
        admission: true,
        plans: [
          {
            systemName: "team",
            name: "Team",
            description: "Every model, one key.",
            limits: [
              { metric: "total_tokens", period: "day", value: 1000000 },
              { metric: "total_tokens", period: "day", value: 200000, model: o.models[0]?.name },
            ],
          },
        ],
      },
      ...o.threescale,
      defaultPlans: [
        {
          systemName: "sandbox",
          name: "Sandbox",
          description: "Free evaluation plan.",
          limits: [
            { metric: "hits", period: "minute", value: 30 },
            { metric: "total_tokens", period: "day", value: 100000 },
          ],
        },
      ],
    },
    "maas:sso": {
      flavor: "rhbk",
      namespace: "keycloak",
      instanceName: "keycloak",
      realm: "maas",
      tlsInsecureSkipVerify: true,
    },
  };
}

export const S3_SECRET = { "maas:s3SecretAccessKey": "maas-real-suite-s3-secret" };
