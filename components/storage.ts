/**
 * Object storage for model weights (in-cluster MinIO or an existing S3 endpoint), the bucket of 3scale's system
 * storage when it lives in S3, and the optional ReadWriteMany storage (ODF's CephFS or an existing class). MinIO's
 * buckets go through @pulumi/aws and weight uploads through the ModelWeights resource, both pointed at the S3
 * endpoint that is reachable from where `pulumi up` runs (the MinIO route); model servers and 3scale use the
 * in-cluster service. With external S3 nothing here needs @pulumi/aws.
 */
import * as aws from "@pulumi/aws";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CEPHFS_STORAGE_CLASS, type OperatorConfig, type PlatformConfig } from "./config/schema";
import { adoptNamespace, awaitAnnotations, customResource, Manifest, timeouts } from "./kubernetes";
import { OperatorInstall, operatorSpec } from "./operators";
import { waitFor } from "./readiness";

export { CEPHFS_STORAGE_CLASS } from "./config/schema";

export const MINIO_NAME = "minio";
export const MINIO_SECRET = "minio-root-user";
const MINIO_LABELS = { app: MINIO_NAME, "app.kubernetes.io/name": MINIO_NAME, "app.kubernetes.io/part-of": "maas" };
export const ODF_NAMESPACE = "openshift-storage";

/** Where and how to reach the bucket; the credentials are secret Outputs. */
export interface S3Connection {
  /** Endpoint model servers use (in-cluster for MinIO). */
  endpoint: string;
  /** Endpoint `pulumi up` uses for bucket and uploads. */
  publicEndpoint: pulumi.Output<string>;
  /** Skip TLS verification of `publicEndpoint` (MinIO's `tlsInsecureSkipVerify`). */
  publicEndpointInsecure?: boolean;
  region: string;
  bucket: string;
  accessKeyId: pulumi.Output<string>;
  secretAccessKey: pulumi.Output<string>;
}

export function minioEndpoints(namespace: string, domain: string) {
  return {
    inCluster: `http://${MINIO_NAME}.${namespace}.svc.cluster.local:9000`,
    s3Host: `minio-s3-${namespace}.${domain}`,
    consoleHost: `minio-console-${namespace}.${domain}`,
  };
}

/** An edge-terminated Route to one MinIO port. */
export function buildMinioRoute(namespace: string, name: string, host: string, port: "api" | "console"): Manifest {
  return {
    apiVersion: "route.openshift.io/v1",
    kind: "Route",
    metadata: { name, namespace, labels: { ...MINIO_LABELS } },
    spec: {
      host,
      to: { kind: "Service", name: MINIO_NAME, weight: 100 },
      port: { targetPort: port },
      tls: { termination: "edge", insecureEdgeTerminationPolicy: "Redirect" },
    },
  };
}

export interface MinioManifests {
  persistentVolumeClaim: k8s.core.v1.PersistentVolumeClaimArgs;
  deployment: k8s.apps.v1.DeploymentArgs;
  service: k8s.core.v1.ServiceArgs;
}

/** MinIO PVC, Deployment and Service (credentials Secret and Routes are built separately). */
export function buildMinioManifests(minio: PlatformConfig["storage"]["minio"]): MinioManifests {
  const ns = minio.namespace;
  const meta = (name: string) => ({ name, namespace: ns, labels: { ...MINIO_LABELS } });
  return {
    persistentVolumeClaim: {
      apiVersion: "v1",
      kind: "PersistentVolumeClaim",
      metadata: meta(MINIO_NAME),
      spec: {
        accessModes: ["ReadWriteOnce"],
        resources: { requests: { storage: minio.size } },
        ...(minio.storageClass ? { storageClassName: minio.storageClass } : {}),
      },
    },
    deployment: {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta(MINIO_NAME),
      spec: {
        replicas: 1,
        strategy: { type: "Recreate" },
        selector: { matchLabels: { ...MINIO_LABELS } },
        template: {
          metadata: { labels: { ...MINIO_LABELS } },
          spec: {
            containers: [
              {
                name: MINIO_NAME,
                image: minio.image,
                args: ["server", "/data", "--console-address", ":9090"],
                envFrom: [{ secretRef: { name: MINIO_SECRET } }],
                ports: [
                  { name: "api", containerPort: 9000 },
                  { name: "console", containerPort: 9090 },
                ],
                readinessProbe: { httpGet: { path: "/minio/health/ready", port: 9000 } },
                livenessProbe: { httpGet: { path: "/minio/health/live", port: 9000 } },
                resources: { requests: { cpu: "200m", memory: "1Gi" }, limits: { cpu: "2", memory: "2Gi" } },
                volumeMounts: [{ name: "data", mountPath: "/data" }],
              },
            ],
            volumes: [{ name: "data", persistentVolumeClaim: { claimName: MINIO_NAME } }],
          },
        },
      },
    },
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(MINIO_NAME),
      spec: {
        selector: { ...MINIO_LABELS },
        ports: [
          { name: "api", port: 9000, targetPort: "api" },
          { name: "console", port: 9090, targetPort: "console" },
        ],
      },
    },
  };
}

/**
 * @pulumi/aws provider settings for an S3-compatible endpoint (no STS/IAM/IMDS, path-style addressing). `insecure`
 * skips TLS verification (a fresh cluster's self-signed router certificate on the MinIO route).
 */
export function s3ProviderArgs(endpoint: string, region: string, insecure = false): aws.ProviderArgs {
  return {
    region: region as aws.Region,
    insecure,
    endpoints: [{ s3: endpoint }],
    s3UsePathStyle: true,
    skipCredentialsValidation: true,
    skipRequestingAccountId: true,
    skipMetadataApiCheck: true,
    skipRegionValidation: true,
  };
}

/** The RWX class: explicit config, else ODF's CephFS class when this program deploys ODF, else none. */
export function rwxStorageClass(storage: PlatformConfig["storage"]): string | undefined {
  if (storage.rwxStorageClass) return storage.rwxStorageClass;
  return storage.odf.enabled ? CEPHFS_STORAGE_CLASS : undefined;
}

/** Where 3scale keeps its system files: on the RWX class when there is one (or `pvc` is asked), else in S3. */
export function threescaleSystemStorage(
  choice: PlatformConfig["threescale"]["systemStorage"],
  storage: PlatformConfig["storage"],
): "pvc" | "s3" {
  if (choice !== "auto") return choice;
  return rwxStorageClass(storage) ? "pvc" : "s3";
}

/** The bucket of 3scale's system storage, beside the models' bucket. */
export const threescaleBucketName = (bucket: string) => `${bucket}-3scale`;

export function buildOdfManifests(odf: PlatformConfig["storage"]["odf"], readyMinutes: number): Manifest[] {
  if (odf.nodes.length < 3) {
    throw new Error(
      `maas:storage.odf.nodes: ODF needs at least three storage nodes, got ${odf.nodes.length}; e.g. ["worker-0","worker-1","worker-2"]`,
    );
  }
  return [
    {
      apiVersion: "ocs.openshift.io/v1",
      kind: "StorageCluster",
      metadata: {
        name: "ocs-storagecluster",
        namespace: ODF_NAMESPACE,
        annotations: awaitAnnotations(waitFor("StorageCluster"), readyMinutes),
      },
      spec: {
        storageDeviceSets: [
          {
            name: "ocs-deviceset",
            count: 1,
            replica: 3,
            portable: true,
            dataPVCTemplate: {
              spec: {
                accessModes: ["ReadWriteOnce"],
                volumeMode: "Block",
                storageClassName: odf.deviceStorageClass,
                resources: { requests: { storage: odf.deviceSize } },
              },
            },
          },
        ],
      },
    },
    {
      apiVersion: "odf.openshift.io/v1alpha1",
      kind: "StorageSystem",
      metadata: { name: "ocs-storagecluster-storagesystem", namespace: ODF_NAMESPACE },
      spec: { kind: "storagecluster.ocs.openshift.io/v1", name: "ocs-storagecluster", namespace: ODF_NAMESPACE },
    },
  ];
}

export const ODF_NODE_LABEL = "cluster.ocs.openshift.io/openshift-storage";

export interface StorageArgs {
  storage: PlatformConfig["storage"];
  /** The OLM subscription of ODF (used when `storage.odf.enabled`). */
  odfOperator: OperatorConfig;
  cliImage: string;
  /** 3scale keeps its system storage in S3: a bucket for it (created in MinIO; must exist at an external endpoint). */
  threescaleBucket: boolean;
  /** Stack secret, required when `storage.kind` is `external`. */
  s3SecretAccessKey?: pulumi.Output<string>;
  appsDomain: pulumi.Output<string>;
}

const ODF_READY_MINUTES = 40;

export class Storage extends pulumi.ComponentResource {
  readonly connection: S3Connection;
  /** Depend on these before writing objects to the bucket. */
  readonly bucketReady: pulumi.Resource[];
  readonly rwxStorageClass?: string;
  /** Depend on these before using the RWX storage class. */
  readonly rwxReady: pulumi.Resource[];
  /** The bucket of 3scale's system storage (same endpoint and credentials as `connection`). */
  readonly threescaleBucket?: { connection: S3Connection; ready: pulumi.Resource[] };

  constructor(name: string, args: StorageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:storage:Storage", name, {}, opts);
    const { storage } = args;
    this.rwxStorageClass = rwxStorageClass(storage);
    this.rwxReady = storage.odf.enabled ? this.deployOdf(name, storage.odf, args.odfOperator, args.cliImage) : [];
    if (storage.kind === "minio") {
      const m = this.deployMinio(name, storage, args.appsDomain, args.threescaleBucket);
      this.connection = m.connection;
      this.bucketReady = [m.bucket];
      if (m.threescaleBucket)
        this.threescaleBucket = {
          connection: { ...m.connection, bucket: threescaleBucketName(storage.bucket) },
          ready: [m.threescaleBucket],
        };
    } else {
      const ext = storage.external;
      if (!ext) {
        throw new Error(
          'maas:storage.external: required when storage.kind is "external"; e.g. {endpoint: "https://s3.example.com", accessKeyId: "AKIA..."}',
        );
      }
      if (!args.s3SecretAccessKey) {
        throw new Error(
          "maas:s3SecretAccessKey: required when storage.kind is external; set it with `pulumi config set --secret s3SecretAccessKey <key>`",
        );
      }
      this.connection = {
        endpoint: ext.endpoint,
        publicEndpoint: pulumi.output(ext.endpoint),
        region: ext.region,
        bucket: storage.bucket,
        accessKeyId: pulumi.secret(ext.accessKeyId),
        secretAccessKey: pulumi.secret(args.s3SecretAccessKey),
      };
      // The buckets already exist at an external endpoint; nothing of them is managed here.
      this.bucketReady = [];
      if (args.threescaleBucket)
        this.threescaleBucket = {
          connection: { ...this.connection, bucket: threescaleBucketName(storage.bucket) },
          ready: [],
        };
    }
    this.registerOutputs({});
  }

  private deployMinio(
    name: string,
    storage: PlatformConfig["storage"],
    domain: pulumi.Output<string>,
    withThreescaleBucket: boolean,
  ) {
    const ns = storage.minio.namespace;
    const namespace = adoptNamespace(`${name}-minio-namespace`, { name: ns }, { parent: this });
    const user = new random.RandomString(
      `${name}-minio-user`,
      { length: 16, special: false, upper: false },
      { parent: this },
    );
    const password = new random.RandomPassword(
      `${name}-minio-password`,
      { length: 32, special: false },
      { parent: this },
    );
    const accessKeyId = pulumi.secret(user.result);
    const secretAccessKey = pulumi.secret(password.result);
    const credentials = new k8s.core.v1.Secret(
      `${name}-minio-credentials`,
      {
        metadata: { name: MINIO_SECRET, namespace: ns, labels: { ...MINIO_LABELS } },
        stringData: pulumi.secret(
          pulumi
            .all([accessKeyId, secretAccessKey])
            .apply(([u, p]) => ({ MINIO_ROOT_USER: u, MINIO_ROOT_PASSWORD: p })),
        ),
      },
      { parent: this, dependsOn: [namespace] },
    );
    const minio = buildMinioManifests(storage.minio);
    const objOpts = { parent: this, dependsOn: [namespace, credentials] };
    const pvc = new k8s.core.v1.PersistentVolumeClaim(`${name}-minio-pvc`, minio.persistentVolumeClaim, objOpts);
    const deployment = new k8s.apps.v1.Deployment(`${name}-minio`, minio.deployment, {
      ...objOpts,
      dependsOn: [namespace, credentials, pvc],
    });
    const service = new k8s.core.v1.Service(`${name}-minio-service`, minio.service, objOpts);
    const routeObj = (
      routeName: string,
      port: "api" | "console",
      host: (e: ReturnType<typeof minioEndpoints>) => string,
    ) => {
      const route = buildMinioRoute(ns, routeName, "", port);
      return new k8s.apiextensions.CustomResource(
        `${name}-${routeName}-route`,
        {
          apiVersion: route.apiVersion,
          kind: route.kind,
          metadata: route.metadata,
          spec: domain.apply((d) => buildMinioRoute(ns, routeName, host(minioEndpoints(ns, d)), port).spec),
        },
        { parent: this, dependsOn: [service] },
      );
    };
    const s3Route = routeObj("minio-s3", "api", (e) => e.s3Host);
    routeObj("minio-console", "console", (e) => e.consoleHost);
    const endpoints = domain.apply((d) => minioEndpoints(ns, d));
    const publicEndpoint = endpoints.apply((e) => `https://${e.s3Host}`);
    const region = "us-east-1";
    const provider = new aws.Provider(
      `${name}-minio-s3`,
      {
        ...s3ProviderArgs("https://pending", region, storage.minio.tlsInsecureSkipVerify),
        endpoints: [{ s3: publicEndpoint }],
        accessKey: accessKeyId,
        secretKey: secretAccessKey,
      },
      { parent: this, dependsOn: [deployment, s3Route] },
    );
    const bucketOpts = { parent: this, provider, dependsOn: [deployment, s3Route] };
    const forceDestroy = storage.forceDestroy;
    const bucket = new aws.s3.Bucket(`${name}-bucket`, { bucket: storage.bucket, forceDestroy }, bucketOpts);
    const threescaleBucket = withThreescaleBucket
      ? new aws.s3.Bucket(
          `${name}-threescale-bucket`,
          { bucket: threescaleBucketName(storage.bucket), forceDestroy },
          bucketOpts,
        )
      : undefined;
    const connection: S3Connection = {
      endpoint: minioEndpoints(ns, "unused").inCluster,
      publicEndpoint,
      publicEndpointInsecure: storage.minio.tlsInsecureSkipVerify,
      region,
      bucket: storage.bucket,
      accessKeyId,
      secretAccessKey,
    };
    return { connection, bucket, threescaleBucket };
  }

  private deployOdf(
    name: string,
    odf: PlatformConfig["storage"]["odf"],
    operatorConfig: OperatorConfig,
    cliImage: string,
  ) {
    const manifests = buildOdfManifests(odf, ODF_READY_MINUTES);
    const operator = new OperatorInstall(
      `${name}-odf`,
      { spec: operatorSpec("odf"), config: operatorConfig, cliImage },
      { parent: this },
    );
    const labels = odf.nodes.map(
      (node) =>
        new k8s.core.v1.NodePatch(
          `${name}-odf-node-${node}`,
          { metadata: { name: node, labels: { [ODF_NODE_LABEL]: "" } } },
          { parent: this },
        ),
    );
    const cluster = customResource(`${name}-odf-storagecluster`, manifests[0], {
      parent: this,
      dependsOn: [...operator.ready, ...labels],
      customTimeouts: timeouts(ODF_READY_MINUTES),
    });
    customResource(`${name}-odf-storagesystem`, manifests[1], {
      parent: this,
      dependsOn: [cluster, ...operator.ready],
    });
    return [cluster];
  }
}
