/**
 * The databases 3scale 2.16 no longer deploys itself (3scale-operator 3scale-2.16-stable apimanager_controller.go
 * L296-309; doc/operator-user-guide.md "External databases"): a MySQL 8 system database and a Redis 7 holding the
 * backend storage, the backend queues and the system Redis in separate logical databases, with the three Secrets the
 * APIManager reads (`system-database`, `backend-redis`, `system-redis`, keys as in that guide).
 */
import type * as k8s from "@pulumi/kubernetes";

export const MYSQL_NAME = "maas-system-mysql";
export const REDIS_NAME = "maas-redis";

export interface DatabaseImages {
  mysql: string;
  redis: string;
}

export interface DatabaseManifests {
  mysqlService: k8s.core.v1.ServiceArgs;
  mysql: k8s.apps.v1.StatefulSetArgs;
  redisService: k8s.core.v1.ServiceArgs;
  redis: k8s.apps.v1.StatefulSetArgs;
}

/** The Secret holding the generated database passwords (`MYSQL_ROOT_PASSWORD`, `REDIS_PASSWORD`). */
export const DATABASE_PASSWORDS_SECRET = "maas-3scale-databases";

function statefulSet(
  name: string,
  namespace: string,
  container: k8s.types.input.core.v1.Container,
  dataPath: string,
  size: string,
): k8s.apps.v1.StatefulSetArgs {
  const labels = { app: name, "app.kubernetes.io/part-of": "maas" };
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name, namespace, labels },
    spec: {
      serviceName: name,
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: { containers: [{ ...container, volumeMounts: [{ name: "data", mountPath: dataPath }] }] },
      },
      volumeClaimTemplates: [
        {
          metadata: { name: "data" },
          spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } } },
        },
      ],
    },
  };
}

function service(name: string, namespace: string, port: number): k8s.core.v1.ServiceArgs {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace, labels: { app: name } },
    spec: { selector: { app: name }, ports: [{ name: "db", port, targetPort: port }] },
  };
}

const fromPasswords = (key: string) => ({ secretKeyRef: { name: DATABASE_PASSWORDS_SECRET, key } });

export function buildDatabaseManifests(namespace: string, images: DatabaseImages): DatabaseManifests {
  return {
    mysqlService: service(MYSQL_NAME, namespace, 3306),
    mysql: statefulSet(
      MYSQL_NAME,
      namespace,
      {
        name: "mysql",
        image: images.mysql,
        env: [
          { name: "MYSQL_ROOT_PASSWORD", valueFrom: fromPasswords("MYSQL_ROOT_PASSWORD") },
          { name: "MYSQL_DATABASE", value: "system" },
          // The rhel8/mysql-80 image needs an application user besides root.
          { name: "MYSQL_USER", value: "system" },
          { name: "MYSQL_PASSWORD", valueFrom: fromPasswords("MYSQL_ROOT_PASSWORD") },
        ],
        ports: [{ containerPort: 3306, name: "db" }],
        readinessProbe: { tcpSocket: { port: 3306 }, initialDelaySeconds: 10 },
        resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "2Gi" } },
      },
      "/var/lib/mysql/data",
      "10Gi",
    ),
    redisService: service(REDIS_NAME, namespace, 6379),
    redis: statefulSet(
      REDIS_NAME,
      namespace,
      {
        name: "redis",
        image: images.redis,
        env: [{ name: "REDIS_PASSWORD", valueFrom: fromPasswords("REDIS_PASSWORD") }],
        ports: [{ containerPort: 6379, name: "db" }],
        readinessProbe: { tcpSocket: { port: 6379 }, initialDelaySeconds: 5 },
        resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
      },
      "/var/lib/redis/data",
      "5Gi",
    ),
  };
}

/** The values of the Secrets the APIManager reads, for the given passwords. */
export function databaseSecretValues(namespace: string, mysqlRootPassword: string, redisPassword: string) {
  const redis = (db: number) => `redis://:${redisPassword}@${REDIS_NAME}.${namespace}.svc:6379/${db}`;
  return {
    "system-database": {
      URL: `mysql2://root:${mysqlRootPassword}@${MYSQL_NAME}.${namespace}.svc:3306/system`,
      DB_USER: "root",
      DB_PASSWORD: mysqlRootPassword,
    },
    "backend-redis": { REDIS_STORAGE_URL: redis(0), REDIS_QUEUES_URL: redis(1) },
    "system-redis": { URL: redis(2) },
  };
}
