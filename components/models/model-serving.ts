/**
 * One vLLM model: namespace, weights in the bucket, data connection, ServingRuntime and InferenceService.
 *
 * Backend URL for APIcast (which runs outside the service mesh):
 * - RawDeployment: the predictor Service, plain HTTP on 8080.
 * - Serverless: the cluster-local Knative address `http://<name>.<ns>.svc.cluster.local` (port 80, served by the
 *   knative-local-gateway); the ISVC is labelled cluster-local so it has no public route.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ModelConfig } from "../config/schema";
import { awaitAnnotations, customResource, Manifest, timeouts } from "../kubernetes";
import type { S3Connection } from "../storage";

const DASHBOARD = { "opendatahub.io/dashboard": "true" };
const GPU = "nvidia.com/gpu";

export function modelNamespace(model: ModelConfig): string {
  return model.namespace ?? model.name;
}
export function modelPrefix(model: ModelConfig): string {
  return model.s3Prefix ?? model.name;
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

export function buildServingRuntime(model: ModelConfig): Manifest {
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
          args: ["--port=8080", "--model=/mnt/models", "--served-model-name={{.Name}}"],
          env: [{ name: "HF_HOME", value: "/tmp/hf_home" }],
          ports: [{ containerPort: 8080, protocol: "TCP" }],
          volumeMounts: [{ name: "shm", mountPath: "/dev/shm" }],
        },
      ],
      volumes: [{ name: "shm", emptyDir: { medium: "Memory", sizeLimit: "2Gi" } }],
    },
  };
}

export function buildInferenceService(model: ModelConfig): Manifest {
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
        ...awaitAnnotations("condition=Ready", model.progressDeadlineMinutes),
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

export interface ModelFile {
  /** Path relative to the model directory, with '/' separators. */
  relativePath: string;
  absolutePath: string;
}

/** Every regular file under `dir` except hidden ones (.git, .cache, ...), sorted for a stable plan. */
export function listModelFiles(dir: string, configKey: string): ModelFile[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`${configKey}: "${dir}" is not a directory; e.g. "./models/granite-3.3-2b-instruct"`);
  }
  const out: ModelFile[] = [];
  const walk = (abs: string, rel: string) => {
    for (const entry of fs.readdirSync(abs, { withFileTypes: true })) {
      if (entry.name.startsWith(".")) continue;
      const a = path.join(abs, entry.name);
      const r = rel ? `${rel}/${entry.name}` : entry.name;
      const stat = fs.statSync(a);
      if (stat.isDirectory()) walk(a, r);
      else if (stat.isFile()) out.push({ relativePath: r, absolutePath: a });
    }
  };
  walk(path.resolve(dir), "");
  return out.sort((x, y) => (x.relativePath < y.relativePath ? -1 : 1));
}

/** sha256 of a file, streamed (weights are gigabytes). */
export function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = crypto.createHash("sha256");
    fs.createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

export interface ModelServingArgs {
  model: ModelConfig;
  /** Index in `maas:models`, for error messages. */
  index: number;
  s3: S3Connection;
  awsProvider: aws.Provider;
  /** Resources the bucket needs before uploads. */
  bucketReady: pulumi.Resource[];
  /** The DataScienceCluster: InferenceServices are deleted before it. */
  servingPlatform: pulumi.Resource[];
}

export class ModelServing extends pulumi.ComponentResource {
  readonly inClusterUrl: pulumi.Output<string>;
  readonly inferenceService: k8s.apiextensions.CustomResource;
  readonly servedModelName: string;
  readonly namespace: string;

  constructor(name: string, args: ModelServingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:models:ModelServing", name, {}, opts);
    const { model, s3 } = args;
    this.namespace = modelNamespace(model);
    this.servedModelName = model.name;

    const namespace = new k8s.core.v1.Namespace(
      `${name}-namespace`,
      buildModelNamespace(model) as k8s.core.v1.NamespaceArgs,
      { parent: this },
    );
    const uploads = model.localPath ? this.uploadWeights(name, model, args) : [];
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
    const runtime = customResource(`${name}-runtime`, buildServingRuntime(model), {
      parent: this,
      dependsOn: [namespace, ...args.servingPlatform],
    });
    this.inferenceService = customResource(`${name}-isvc`, buildInferenceService(model), {
      parent: this,
      dependsOn: [namespace, connection, runtime, ...uploads, ...args.servingPlatform],
      customTimeouts: timeouts(model.progressDeadlineMinutes),
    });
    this.inClusterUrl = pulumi.output(inClusterUrl(model));
    this.registerOutputs({ inClusterUrl: this.inClusterUrl });
  }

  private uploadWeights(name: string, model: ModelConfig, args: ModelServingArgs): pulumi.Resource[] {
    const files = listModelFiles(model.localPath as string, `maas:models[${args.index}].localPath`);
    const prefix = modelPrefix(model);
    return files.map(
      (f) =>
        new aws.s3.BucketObjectv2(
          `${name}-weights-${f.relativePath}`,
          {
            bucket: args.s3.bucket,
            key: `${prefix}/${f.relativePath}`,
            source: new pulumi.asset.FileAsset(f.absolutePath),
            // Unchanged content → unchanged hash → no re-upload (etag is not an MD5 for multipart uploads).
            sourceHash: pulumi.output(sha256File(f.absolutePath)),
          },
          { parent: this, provider: args.awsProvider, dependsOn: args.bucketReady },
        ),
    );
  }
}
