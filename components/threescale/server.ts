/**
 * The 3scale server: operator, our metering policy (Secret + CustomPolicyDefinition), a pre-created `system-seed` (so
 * the admin token is a Pulumi secret known up front), the databases 3scale 2.16 needs outside the APIManager, its
 * system storage (RWX claim or S3), the APIManager, and a CronJob that gives the gateway routes a long HAProxy timeout.
 * Exposes the tenant's URLs and the one admin API connection every 3scale object uses.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Connection } from "../../dynamic-providers/threescale/client";
import type { ReleaseSet } from "../config/releases";
import type { OperatorConfig, PlatformConfig } from "../config/schema";
import { createServiceAccountRbac, customResource, timeouts } from "../kubernetes";
import { OperatorInstall, operatorSpec } from "../operators";
import type { S3Connection } from "../storage";
import {
  ApiManagerInputs,
  buildApiManager,
  SYSTEM_SEED_SECRETS,
  SYSTEM_STORAGE_SECRET,
  systemSeedPlainValues,
  SystemStorage,
  systemStorageS3Values,
} from "./api-manager";
import { buildDatabaseManifests, DATABASE_PASSWORDS_SECRET, databaseSecretValues } from "./databases";
import { buildCustomPolicyDefinition, buildPolicySecret, PolicyBundle, readPolicyBundle } from "./policy-bundle";
import { buildRouteTimeoutManifests } from "./route-timeout";
import { threescaleUrls } from "./urls";

/** Our metering policy as products reference it in their policy chains. */
export interface MeteringPolicy {
  name: string;
  version: string;
  /** `apicast-policy.json`: products read the configuration schema from it. */
  manifest: PolicyBundle["manifest"];
  /** The CustomPolicyDefinition: 3scale validates a policy chain against the policies it knows. */
  definition: pulumi.Resource;
}

export interface ThreescaleServerArgs {
  releases: ReleaseSet;
  threescale: PlatformConfig["threescale"];
  operator: OperatorConfig;
  appsDomain: pulumi.Output<string>;
  cliImage: string;
  /** 3scale's system storage: an RWX class, or an S3 bucket; and what it needs first (ODF, the bucket). */
  systemStorage:
    | { kind: "pvc"; rwxStorageClass: string; ready: pulumi.Resource[] }
    | { kind: "s3"; s3: S3Connection; ready: pulumi.Resource[] };
  policyDir?: string;
}

export class ThreescaleServer extends pulumi.ComponentResource {
  readonly adminUrl: pulumi.Output<string>;
  readonly portalUrl: pulumi.Output<string>;
  readonly wildcardDomain: pulumi.Output<string>;
  readonly tenantName: pulumi.Output<string>;
  readonly adminAccessToken: pulumi.Output<string>;
  /** The admin API connection every dynamic 3scale resource takes; a secret (it holds the token). */
  readonly connection: pulumi.Output<Connection>;
  readonly apiManager: k8s.apiextensions.CustomResource;
  readonly customPolicyDefinition: k8s.apiextensions.CustomResource;
  readonly policy: MeteringPolicy;
  readonly namespace: string;

  constructor(name: string, args: ThreescaleServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "maas:threescale:ThreescaleServer",
      name,
      {},
      {
        ...opts,
        aliases: [{ type: "maas:threescale-platform:ThreescalePlatform" }, ...(opts?.aliases ?? [])],
      },
    );
    const ts = args.threescale;
    const ns = ts.namespace;
    this.namespace = ns;
    this.wildcardDomain = args.appsDomain;
    this.tenantName = pulumi.output(ts.tenantName);
    const operator = new OperatorInstall(
      `${name}-operator`,
      { spec: operatorSpec("threescale", ns), config: args.operator, cliImage: args.cliImage },
      { parent: this },
    );
    const afterOperator = { parent: this, dependsOn: operator.ready };

    const bundle = readPolicyBundle(args.policyDir);
    const policySecret = new k8s.core.v1.Secret(
      `${name}-policy-${bundle.name}`,
      buildPolicySecret(bundle, ns),
      afterOperator,
    );

    const generated = (key: string) =>
      new random.RandomPassword(`${name}-seed-${key.toLowerCase()}`, { length: 32, special: false }, { parent: this })
        .result;
    const seedSecrets = Object.fromEntries(SYSTEM_SEED_SECRETS.map((k) => [k, generated(k)]));
    this.adminAccessToken = pulumi.secret(seedSecrets.ADMIN_ACCESS_TOKEN);
    const systemSeed = new k8s.core.v1.Secret(
      `${name}-system-seed`,
      {
        metadata: { name: "system-seed", namespace: ns },
        type: "Opaque",
        stringData: pulumi.secret(
          pulumi.all(seedSecrets).apply((s) => ({ ...systemSeedPlainValues(ts.tenantName), ...s })),
        ),
      },
      afterOperator,
    );

    const databases = args.releases.threescale === "2.16" ? this.deployDatabases(name, ns, ts, afterOperator) : [];
    const systemStorage = this.systemStorage(name, ns, args, afterOperator);

    const apiManagerInputs = (wildcardDomain: string): ApiManagerInputs => ({
      releases: args.releases,
      namespace: ns,
      tenantName: ts.tenantName,
      wildcardDomain,
      systemStorage: systemStorage.spec,
      apicastReplicas: ts.apicastReplicas,
      readyTimeoutMinutes: ts.readyTimeoutMinutes,
      policy: { name: bundle.name, version: bundle.version, secretName: bundle.secretName },
    });
    const apiManager = buildApiManager(apiManagerInputs(""));
    this.apiManager = new k8s.apiextensions.CustomResource(
      `${name}-apimanager`,
      {
        apiVersion: apiManager.apiVersion,
        kind: apiManager.kind,
        metadata: apiManager.metadata,
        spec: args.appsDomain.apply((d) => buildApiManager(apiManagerInputs(d)).spec),
      },
      {
        parent: this,
        dependsOn: [...operator.ready, policySecret, systemSeed, ...databases, ...systemStorage.ready],
        customTimeouts: timeouts(ts.readyTimeoutMinutes),
      },
    );
    this.customPolicyDefinition = customResource(
      `${name}-policy-definition`,
      buildCustomPolicyDefinition(bundle, ns, ts.readyTimeoutMinutes, args.releases),
      {
        parent: this,
        dependsOn: [this.apiManager, ...operator.ready],
        customTimeouts: timeouts(ts.readyTimeoutMinutes),
      },
    );
    this.policy = {
      name: bundle.name,
      version: bundle.version,
      manifest: bundle.manifest,
      definition: this.customPolicyDefinition,
    };
    const routeTimeout = buildRouteTimeoutManifests(ns, ts.routeTimeoutSeconds, args.cliImage);
    const routeTimeoutOpts = { parent: this, dependsOn: operator.ready };
    const binding = createServiceAccountRbac(`${name}-route-timeout`, routeTimeout, routeTimeoutOpts);
    new k8s.batch.v1.CronJob(`${name}-route-timeout`, routeTimeout.cronJob, {
      ...routeTimeoutOpts,
      dependsOn: [binding],
    });

    const urls = args.appsDomain.apply((d) => threescaleUrls(ts.tenantName, d));
    this.adminUrl = urls.apply((u) => u.adminUrl);
    this.portalUrl = urls.apply((u) => u.portalUrl);
    this.connection = pulumi.secret(
      pulumi.all([this.adminUrl, this.adminAccessToken]).apply(([adminUrl, accessToken]) => ({
        adminUrl,
        accessToken,
        verifyTls: ts.verifyTls,
        // Lets the providers refuse what this release would refuse (e.g. OpenAPI 3.1 on 2.15) before any write.
        release: args.releases.threescale,
      })),
    );
    this.registerOutputs({ adminUrl: this.adminUrl, portalUrl: this.portalUrl });
  }

  /** MySQL and Redis, their generated passwords, and the Secrets the APIManager reads. */
  private deployDatabases(
    name: string,
    ns: string,
    ts: PlatformConfig["threescale"],
    afterOperator: pulumi.CustomResourceOptions,
  ): pulumi.Resource[] {
    const generated = (key: string) =>
      new random.RandomPassword(`${name}-db-${key}`, { length: 32, special: false }, { parent: this }).result;
    const mysqlPassword = generated("mysql");
    const redisPassword = generated("redis");
    const passwords = new k8s.core.v1.Secret(
      `${name}-db-passwords`,
      {
        metadata: { name: DATABASE_PASSWORDS_SECRET, namespace: ns },
        type: "Opaque",
        stringData: pulumi.secret(
          pulumi.all([mysqlPassword, redisPassword]).apply(([m, r]) => ({ MYSQL_ROOT_PASSWORD: m, REDIS_PASSWORD: r })),
        ),
      },
      afterOperator,
    );
    const m = buildDatabaseManifests(ns, ts.databaseImages);
    const withPasswords = { ...afterOperator, dependsOn: [passwords] };
    const mysql = new k8s.apps.v1.StatefulSet(`${name}-mysql`, m.mysql, withPasswords);
    const redis = new k8s.apps.v1.StatefulSet(`${name}-redis`, m.redis, withPasswords);
    const services = [
      new k8s.core.v1.Service(`${name}-mysql-service`, m.mysqlService, afterOperator),
      new k8s.core.v1.Service(`${name}-redis-service`, m.redisService, afterOperator),
    ];
    const values = pulumi.all([mysqlPassword, redisPassword]).apply(([m, r]) => databaseSecretValues(ns, m, r));
    const secrets = (["system-database", "backend-redis", "system-redis"] as const).map(
      (secretName) =>
        new k8s.core.v1.Secret(
          `${name}-${secretName}`,
          {
            metadata: { name: secretName, namespace: ns },
            type: "Opaque",
            stringData: pulumi.secret(values.apply((v) => v[secretName] as Record<string, string>)),
          },
          afterOperator,
        ),
    );
    return [mysql, redis, ...services, ...secrets];
  }

  /** The APIManager's file storage, and the Secret describing the S3 bucket when it is in S3. */
  private systemStorage(
    name: string,
    ns: string,
    args: ThreescaleServerArgs,
    afterOperator: pulumi.CustomResourceOptions,
  ): { spec: SystemStorage; ready: pulumi.Resource[] } {
    const storage = args.systemStorage;
    if (storage.kind === "pvc")
      return { spec: { kind: "pvc", storageClassName: storage.rwxStorageClass }, ready: storage.ready };
    const s3 = storage.s3;
    const secret = new k8s.core.v1.Secret(
      `${name}-system-storage`,
      {
        metadata: { name: SYSTEM_STORAGE_SECRET, namespace: ns },
        type: "Opaque",
        stringData: pulumi.secret(
          pulumi
            .all([s3.accessKeyId, s3.secretAccessKey])
            .apply(([accessKeyId, secretAccessKey]) => systemStorageS3Values({ ...s3, accessKeyId, secretAccessKey })),
        ),
      },
      afterOperator,
    );
    return { spec: { kind: "s3", secretName: SYSTEM_STORAGE_SECRET }, ready: [secret, ...storage.ready] };
  }

  /** Production gateway URL of a product (the route zync creates for it). */
  gatewayUrl(productSystemName: string): pulumi.Output<string> {
    return pulumi
      .all([this.tenantName, this.wildcardDomain])
      .apply(([t, d]) => threescaleUrls(t, d).gatewayUrl(productSystemName));
  }
}
