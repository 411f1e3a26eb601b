/**
 * One vLLM model: namespace, weights in the bucket (uploaded, downloaded by a Job, or already there), data connection,
 * ServingRuntime and InferenceService.
 *
 * Backend URL for APIcast (which runs outside the service mesh):
 * - RawDeployment: the predictor Service, plain HTTP on 8080.
 * - Serverless: the cluster-local Knative address `http://<name>.<ns>.svc.cluster.local` (port 80, served by the
 *   knative-local-gateway); the ISVC is labelled cluster-local so it has no public route.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { RELEASES, type ReleaseSet, supportsForceIncludeUsage } from "../config/releases";
import type { ModelConfig } from "../config/schema";
import { adoptNamespace, awaitAnnotations, customResource, Manifest, timeouts } from "../kubernetes";
import { waitFor } from "../readiness";
import type { Storage } from "../storage";
import { buildHuggingFaceDownload, HashCache, huggingFacePrefix, uploadWeights } from "./weights";

const DASHBOARD = { "opendatahub.io/dashboard": "true" };
const GPU = "nvidia.com/gpu";

export function modelNamespace(model: ModelConfig): string {
  return model.namespace ?? model.name;
}
/** Where the InferenceService reads the weights in the bucket. */
export function modelPrefix(model: ModelConfig): string {
  return model.huggingFace ? huggingFacePrefix(model.huggingFace) : (model.s3Prefix ?? model.name);
}

/** The vLLM version of the model's runtime: declared for a custom image, known for the release's own image. */
export function vllmVersionOf(model: ModelConfig, releases: ReleaseSet): string | undefined {
  if (model.vllmVersion) return model.vllmVersion;
  return model.runtimeImage === RELEASES.vllmImage[releases.openshiftAi]
    ? RELEASES.vllmVersion[releases.openshiftAi]
    : undefined;
}
export function dataConnectionName(model: ModelConfig): string {
  return `aws-connection-${model.name}`;
}

/** Base URL of the model server as seen from inside the cluster (APIcast's private base URL). */
export function inClusterUrl(model: ModelConfig): string {
  const ns = modelNamespace(model);
  return model.deploymentMode === "RawDeployment"
    ? `http://${model.name}-predictor.${ns}.svc.cluster.local:8080`
    : `http://${model.name}.${ns}.svc.cluster.local`;
}

export function buildModelNamespace(model: ModelConfig): Manifest {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: { name: modelNamespace(model), labels: { ...DASHBOARD, "modelmesh-enabled": "false" } },
  };
}

/** Data connection metadata; the values (all secret) are added by `dataConnectionValues`. */
export function buildDataConnectionMetadata(model: ModelConfig) {
  return {
    name: dataConnectionName(model),
    namespace: modelNamespace(model),
    labels: { ...DASHBOARD, "opendatahub.io/managed": "true" },
    annotations: {
      "opendatahub.io/connection-type": "s3",
      "opendatahub.io/connection-type-ref": "s3",
      "openshift.io/display-name": `${model.displayName ?? model.name} weights`,
    },
  };
}

export function dataConnectionValues(
  s3: { endpoint: string; region: string; bucket: string },
  accessKeyId: string,
  secretAccessKey: string,
): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: accessKeyId,
    AWS_SECRET_ACCESS_KEY: secretAccessKey,
    AWS_S3_ENDPOINT: s3.endpoint,
    AWS_DEFAULT_REGION: s3.region,
    AWS_S3_BUCKET: s3.bucket,
  };
}

/**
 * The vLLM runtime. From vLLM 0.9.2 `--enable-force-include-usage` makes the server report usage on streamed
 * responses itself; the metering policy also asks for it per request (stream_options), which older versions need.
 */
export function buildServingRuntime(model: ModelConfig, vllmVersion: string | undefined): Manifest {
  const forceUsage = vllmVersion !== undefined && supportsForceIncludeUsage(vllmVersion);
  return {
    apiVersion: "serving.kserve.io/v1alpha1",
    kind: "ServingRuntime",
    metadata: {
      name: model.name,
      namespace: modelNamespace(model),
      labels: { ...DASHBOARD },
      annotations: {
        "opendatahub.io/recommended-accelerators": JSON.stringify([GPU]),
        "opendatahub.io/apiProtocol": "REST",
        "openshift.io/display-name": model.displayName ?? model.name,
      },
    },
    spec: {
      multiModel: false,
      supportedModelFormats: [{ name: "vLLM", autoSelect: true }],
      annotations: { "prometheus.io/port": "8080", "prometheus.io/path": "/metrics" },
      containers: [
        {
          name: "kserve-container",
          image: model.runtimeImage,
          command: ["python", "-m", "vllm.entrypoints.openai.api_server"],
          // {{.Name}} is the ISVC name, so the OpenAI `model` field equals the model name.
          args: [
            "--port=8080",
            "--model=/mnt/models",
            "--served-model-name={{.Name}}",
            ...(forceUsage ? ["--enable-force-include-usage"] : []),
          ],
          env: [{ name: "HF_HOME", value: "/tmp/hf_home" }],
          ports: [{ containerPort: 8080, protocol: "TCP" }],
          volumeMounts: [{ name: "shm", mountPath: "/dev/shm" }],
        },
      ],
      volumes: [{ name: "shm", emptyDir: { medium: "Memory", sizeLimit: "2Gi" } }],
    },
  };
}

export function buildInferenceService(model: ModelConfig, releases: ReleaseSet): Manifest {
  const serverless = model.deploymentMode === "Serverless";
  const gpu = model.gpus > 0 ? { [GPU]: String(model.gpus) } : {};
  const r = model.resources;
  return {
    apiVersion: "serving.kserve.io/v1beta1",
    kind: "InferenceService",
    metadata: {
      name: model.name,
      namespace: modelNamespace(model),
      labels: { ...DASHBOARD, ...(serverless ? { "networking.knative.dev/visibility": "cluster-local" } : {}) },
      annotations: {
        "openshift.io/display-name": model.displayName ?? model.name,
        "serving.kserve.io/deploymentMode": model.deploymentMode,
        ...(serverless
          ? {
              "serving.knative.openshift.io/enablePassthrough": "true",
              "sidecar.istio.io/inject": "true",
              "sidecar.istio.io/rewriteAppHTTPProbers": "true",
              "serving.knative.dev/progress-deadline": `${model.progressDeadlineMinutes}m`,
            }
          : {}),
        ...awaitAnnotations(waitFor("InferenceService", releases), model.progressDeadlineMinutes),
      },
    },
    spec: {
      predictor: {
        minReplicas: model.minReplicas,
        maxReplicas: model.maxReplicas,
        tolerations: model.tolerations,
        ...(Object.keys(model.nodeSelector).length ? { nodeSelector: model.nodeSelector } : {}),
        model: {
          modelFormat: { name: "vLLM" },
          runtime: model.name,
          storage: { key: dataConnectionName(model), path: modelPrefix(model) },
          args: [`--max-model-len=${model.maxModelLen}`, ...model.extraArgs],
          resources: {
            requests: { cpu: r.cpuRequest, memory: r.memoryRequest, ...gpu },
            limits: { cpu: r.cpuLimit, memory: r.memoryLimit, ...gpu },
          },
        },
      },
    },
  };
}

export interface ModelServingArgs {
  model: ModelConfig;
  /** Index in `maas:models`, for error messages. */
  index: number;
  releases: ReleaseSet;
  /** The bucket the weights are in. */
  storage: Pick<Storage, "connection" | "bucketReady">;
  /** The DataScienceCluster and the GPU layer: InferenceServices wait for them and are deleted before them. */
  servingPlatform: pulumi.Resource[];
  /** Content hashes of local weight files. */
  hashes: HashCache;
  /** Stack secret for gated Hugging Face repositories. */
  huggingFaceToken?: pulumi.Output<string>;
}

export class ModelServing extends pulumi.ComponentResource {
  readonly inClusterUrl: pulumi.Output<string>;
  readonly inferenceService: k8s.apiextensions.CustomResource;
  readonly servedModelName: string;
  readonly namespace: string;

  constructor(name: string, args: ModelServingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:models:ModelServing", name, {}, opts);
    const { model } = args;
    const s3 = args.storage.connection;
    this.namespace = modelNamespace(model);
    this.servedModelName = model.name;

    const namespace = adoptNamespace(`${name}-namespace`, buildModelNamespace(model).metadata, { parent: this });
    const connection = new k8s.core.v1.Secret(
      `${name}-data-connection`,
      {
        metadata: buildDataConnectionMetadata(model),
        type: "Opaque",
        stringData: pulumi.secret(
          pulumi.all([s3.accessKeyId, s3.secretAccessKey]).apply(([id, key]) => dataConnectionValues(s3, id, key)),
        ),
      },
      { parent: this, dependsOn: [namespace] },
    );
    const weights = this.placeWeights(name, args, [namespace, connection]);
    const runtime = customResource(`${name}-runtime`, buildServingRuntime(model, vllmVersionOf(model, args.releases)), {
      parent: this,
      dependsOn: [namespace, ...args.servingPlatform],
    });
    this.inferenceService = customResource(`${name}-isvc`, buildInferenceService(model, args.releases), {
      parent: this,
      dependsOn: [namespace, connection, runtime, ...weights, ...args.servingPlatform],
      customTimeouts: timeouts(model.progressDeadlineMinutes),
    });
    this.inClusterUrl = pulumi.output(inClusterUrl(model));
    this.registerOutputs({ inClusterUrl: this.inClusterUrl });
  }

  /** Uploads a local directory, downloads a Hugging Face revision, or nothing for weights already in the bucket. */
  private placeWeights(name: string, args: ModelServingArgs, after: pulumi.Resource[]): pulumi.Resource[] {
    const { model } = args;
    const s3 = args.storage.connection;
    if (model.localPath) {
      return [
        uploadWeights(`${name}-weights`, {
          directory: model.localPath,
          configKey: `maas:models[${args.index}].localPath`,
          connection: s3,
          prefix: modelPrefix(model),
          after: args.storage.bucketReady,
          parent: this,
          hashes: args.hashes,
        }),
      ];
    }
    if (!model.huggingFace) return [];
    const ns = modelNamespace(model);
    const opts = { parent: this, dependsOn: [...after, ...args.storage.bucketReady] };
    let tokenSecret = model.huggingFace.tokenSecret;
    const extra: pulumi.Resource[] = [];
    if (!tokenSecret && args.huggingFaceToken) {
      tokenSecret = "maas-hf-token";
      extra.push(
        new k8s.core.v1.Secret(
          `${name}-hf-token`,
          {
            metadata: { name: tokenSecret, namespace: ns },
            type: "Opaque",
            stringData: { HF_TOKEN: pulumi.secret(args.huggingFaceToken) },
          },
          opts,
        ),
      );
    }
    const download = buildHuggingFaceDownload(model, ns, dataConnectionName(model), tokenSecret);
    const script = new k8s.core.v1.ConfigMap(`${name}-download-script`, download.configMap, opts);
    const job = new k8s.batch.v1.Job(`${name}-download`, download.job, {
      ...opts,
      dependsOn: [...opts.dependsOn, script, ...extra],
      customTimeouts: timeouts(model.progressDeadlineMinutes * 4),
    });
    return [job];
  }
}
