/** The APIManager custom resource, the `system-seed` Secret this program writes before it, and its system storage. */
import type { ReleaseSet } from "../config/releases";
import { awaitAnnotations, Manifest } from "../kubernetes";
import { waitFor } from "../readiness";

export const APIMANAGER_NAME = "apimanager";
/** Secret with the AWS_* keys of S3 system storage (3scale-operator apis/apps/common.go). */
export const SYSTEM_STORAGE_SECRET = "system-s3-storage";

/** Where 3scale keeps its system files: a ReadWriteMany claim, or an S3 bucket described by a Secret. */
export type SystemStorage = { kind: "pvc"; storageClassName: string } | { kind: "s3"; secretName: string };

export interface ApiManagerInputs {
  releases: ReleaseSet;
  namespace: string;
  tenantName: string;
  wildcardDomain: string;
  systemStorage: SystemStorage;
  apicastReplicas: number;
  readyTimeoutMinutes: number;
  policy: { name: string; version: string; secretName: string };
}

export function buildApiManager(i: ApiManagerInputs): Manifest {
  const customPolicies = [{ name: i.policy.name, version: i.policy.version, secretRef: { name: i.policy.secretName } }];
  const fileStorage =
    i.systemStorage.kind === "pvc"
      ? { persistentVolumeClaim: { storageClassName: i.systemStorage.storageClassName } }
      : { simpleStorageService: { configurationSecretRef: { name: i.systemStorage.secretName } } };
  return {
    apiVersion: "apps.3scale.net/v1alpha1",
    kind: "APIManager",
    metadata: {
      name: APIMANAGER_NAME,
      namespace: i.namespace,
      annotations: awaitAnnotations(waitFor("APIManager", i.releases), i.readyTimeoutMinutes),
    },
    spec: {
      wildcardDomain: i.wildcardDomain,
      tenantName: i.tenantName,
      // From 2.16 the operator refuses to install without external system database and Redis
      // (3scale-operator 3scale-2.16-stable controllers/apps/apimanager_controller.go L296-309).
      ...(i.releases.threescale === "2.16"
        ? { externalComponents: { backend: { redis: true }, system: { database: true, redis: true } } }
        : {}),
      system: { fileStorage },
      apicast: {
        stagingSpec: { replicas: 1, customPolicies },
        productionSpec: { replicas: i.apicastReplicas, customPolicies },
      },
    },
  };
}

/**
 * `AWS_*` keys of S3 system storage, for an endpoint `http(s)://host[:port]`. porta pastes protocol and hostname into
 * the endpoint URL (app/lib/cms/s3.rb), so the hostname carries the port; path style for MinIO and most S3 servers.
 */
export function systemStorageS3Values(s3: {
  endpoint: string;
  region: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
}): Record<string, string> {
  const url = new URL(s3.endpoint);
  return {
    AWS_ACCESS_KEY_ID: s3.accessKeyId,
    AWS_SECRET_ACCESS_KEY: s3.secretAccessKey,
    AWS_BUCKET: s3.bucket,
    AWS_REGION: s3.region,
    AWS_PROTOCOL: url.protocol.replace(":", ""),
    AWS_HOSTNAME: url.host,
    AWS_PATH_STYLE: "true",
  };
}

/** Fixed (non-secret) keys of `system-seed`; the passwords and tokens are generated. */
export function systemSeedPlainValues(tenantName: string) {
  return { ADMIN_USER: "admin", MASTER_USER: "master", MASTER_DOMAIN: "master", TENANT_NAME: tenantName };
}
export const SYSTEM_SEED_SECRETS = [
  "ADMIN_PASSWORD",
  "ADMIN_ACCESS_TOKEN",
  "MASTER_PASSWORD",
  "MASTER_ACCESS_TOKEN",
] as const;
