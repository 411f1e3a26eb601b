/**
 * Identity provider for the developer portal behind one interface, two flavors (`maas:sso.flavor`):
 * - `rhsso`: Red Hat SSO 7.6 (keycloak.org/v1alpha1); served under /auth; admin secret `credential-<name>`.
 * - `rhbk`: Red Hat build of Keycloak (k8s.keycloak.org/v2alpha1) with its own PostgreSQL; no /auth; admin secret
 *   `<name>-initial-admin`.
 * Both create only the realm; clients, mappers and identity providers are configured later through @pulumi/keycloak.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { PlatformConfig } from "./config/schema";
import { awaitAnnotations, customResource, Manifest, secretKey, timeouts } from "./kubernetes";
import { OperatorInstall, operatorSpec } from "./operators";

/** What the portal/SSO-integration layer needs from either flavor. */
export interface SsoPlatform {
  /** e.g. https://keycloak-rh-sso.apps.example.com/auth/realms/maas */
  realmUrl: pulumi.Output<string>;
  /** Server URL without the base path (what @pulumi/keycloak's `url` takes). */
  serverUrl: pulumi.Output<string>;
  basePath: "/auth" | "";
  realm: string;
  adminUsername: pulumi.Output<string>;
  adminPassword: pulumi.Output<string>;
  /** Depend on this before talking to the realm. */
  ready: pulumi.Resource;
}

type SsoConfig = PlatformConfig["sso"];
const READY_MINUTES = 20;

export function keycloakHost(sso: SsoConfig, appsDomain: string): string {
  return `keycloak-${sso.namespace}.${appsDomain}`;
}

export function ssoUrls(sso: SsoConfig, appsDomain: string) {
  const basePath = sso.flavor === "rhsso" ? "/auth" : "";
  const serverUrl = `https://${keycloakHost(sso, appsDomain)}`;
  return { basePath, serverUrl, realmUrl: `${serverUrl}${basePath}/realms/${sso.realm}` } as const;
}

const realmRepresentation = (sso: SsoConfig) => ({
  id: sso.realm,
  realm: sso.realm,
  enabled: true,
  displayName: sso.realmDisplayName,
});

/** RH-SSO: the Keycloak CR (labelled so the realm's instanceSelector matches) and the KeycloakRealm. */
export function buildRhssoManifests(sso: SsoConfig): { keycloak: Manifest; realm: Manifest } {
  const selector = { app: sso.instanceName };
  const ready = awaitAnnotations("jsonpath={.status.ready}=true", READY_MINUTES);
  return {
    keycloak: {
      apiVersion: "keycloak.org/v1alpha1",
      kind: "Keycloak",
      metadata: { name: sso.instanceName, namespace: sso.namespace, labels: { ...selector }, annotations: ready },
      spec: { instances: sso.instances, externalAccess: { enabled: true } },
    },
    realm: {
      apiVersion: "keycloak.org/v1alpha1",
      kind: "KeycloakRealm",
      metadata: { name: sso.realm, namespace: sso.namespace, labels: { ...selector }, annotations: ready },
      spec: { instanceSelector: { matchLabels: { ...selector } }, realm: realmRepresentation(sso) },
    },
  };
}

export function postgresName(sso: SsoConfig): string {
  return `${sso.instanceName}-postgresql`;
}

/** RHBK's database: a single-replica PostgreSQL (StatefulSet + Service); credentials Secret is built separately. */
export function buildPostgresManifests(sso: SsoConfig): Manifest[] {
  const name = postgresName(sso);
  const labels = { app: name };
  const fromSecret = (key: string) => ({ secretKeyRef: { name, key } });
  return [
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: sso.namespace, labels },
      spec: { selector: labels, ports: [{ name: "postgresql", port: 5432, targetPort: 5432 }] },
    },
    {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      metadata: { name, namespace: sso.namespace, labels },
      spec: {
        serviceName: name,
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            containers: [
              {
                name: "postgresql",
                image: sso.postgresImage,
                env: [
                  { name: "POSTGRESQL_USER", valueFrom: fromSecret("username") },
                  { name: "POSTGRESQL_PASSWORD", valueFrom: fromSecret("password") },
                  { name: "POSTGRESQL_DATABASE", value: "keycloak" },
                ],
                ports: [{ containerPort: 5432, name: "postgresql" }],
                readinessProbe: { exec: { command: ["/usr/libexec/check-container"] } },
                volumeMounts: [{ name: "data", mountPath: "/var/lib/pgsql/data" }],
              },
            ],
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: "data" },
            spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } },
          },
        ],
      },
    },
  ];
}

/** RHBK Keycloak (HTTP behind an edge Route), the Route, and the realm import. */
export function buildRhbkManifests(
  sso: SsoConfig,
  appsDomain: string,
): { keycloak: Manifest; route: Manifest; realmImport: Manifest } {
  const db = postgresName(sso);
  return {
    keycloak: {
      apiVersion: "k8s.keycloak.org/v2alpha1",
      kind: "Keycloak",
      metadata: {
        name: sso.instanceName,
        namespace: sso.namespace,
        annotations: awaitAnnotations("condition=Ready", READY_MINUTES),
      },
      spec: {
        instances: sso.instances,
        db: {
          vendor: "postgres",
          host: db,
          port: 5432,
          database: "keycloak",
          usernameSecret: { name: db, key: "username" },
          passwordSecret: { name: db, key: "password" },
        },
        hostname: { hostname: keycloakHost(sso, appsDomain) },
        http: { httpEnabled: true },
        proxy: { headers: "xforwarded" },
        ingress: { enabled: false },
      },
    },
    route: {
      apiVersion: "route.openshift.io/v1",
      kind: "Route",
      metadata: { name: "keycloak", namespace: sso.namespace },
      spec: {
        host: keycloakHost(sso, appsDomain),
        to: { kind: "Service", name: `${sso.instanceName}-service`, weight: 100 },
        port: { targetPort: "http" },
        tls: { termination: "edge", insecureEdgeTerminationPolicy: "Redirect" },
      },
    },
    realmImport: {
      apiVersion: "k8s.keycloak.org/v2alpha1",
      kind: "KeycloakRealmImport",
      metadata: {
        name: `${sso.instanceName}-${sso.realm}`,
        namespace: sso.namespace,
        annotations: awaitAnnotations("condition=Done", READY_MINUTES),
      },
      spec: { keycloakCRName: sso.instanceName, realm: realmRepresentation(sso) },
    },
  };
}

export interface SsoArgs {
  config: PlatformConfig;
  appsDomain: pulumi.Output<string>;
}

export class Sso extends pulumi.ComponentResource implements SsoPlatform {
  readonly realmUrl: pulumi.Output<string>;
  readonly serverUrl: pulumi.Output<string>;
  readonly basePath: "/auth" | "";
  readonly realm: string;
  readonly adminUsername: pulumi.Output<string>;
  readonly adminPassword: pulumi.Output<string>;
  readonly ready: pulumi.Resource;

  constructor(name: string, args: SsoArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:sso:Sso", name, {}, opts);
    const sso = args.config.sso;
    const urls = args.appsDomain.apply((d) => ssoUrls(sso, d));
    this.basePath = sso.flavor === "rhsso" ? "/auth" : "";
    this.realm = sso.realm;
    this.serverUrl = urls.apply((u) => u.serverUrl);
    this.realmUrl = urls.apply((u) => u.realmUrl);
    const operator = new OperatorInstall(
      `${name}-operator`,
      { spec: operatorSpec(sso.flavor, sso.namespace), config: args.config.operators[sso.flavor] },
      { parent: this },
    );
    const admin =
      sso.flavor === "rhsso"
        ? this.deployRhsso(name, sso, operator)
        : this.deployRhbk(name, sso, operator, args.appsDomain);
    this.adminUsername = admin.username;
    this.adminPassword = admin.password;
    this.ready = admin.ready;
    this.registerOutputs({ realmUrl: this.realmUrl });
  }

  /** Reads the operator-generated admin credentials back as secrets. */
  private adminCredentials(
    name: string,
    namespace: string,
    secretName: string,
    keys: [string, string],
    after: pulumi.Resource,
  ) {
    const secret = k8s.core.v1.Secret.get(`${name}-admin-credentials`, `${namespace}/${secretName}`, {
      parent: this,
      dependsOn: [after],
    });
    return {
      username: secretKey(secret.data, keys[0], secretName),
      password: secretKey(secret.data, keys[1], secretName),
    };
  }

  private deployRhsso(name: string, sso: SsoConfig, operator: OperatorInstall) {
    const m = buildRhssoManifests(sso);
    const wait = timeouts(READY_MINUTES);
    const keycloak = customResource(`${name}-keycloak`, m.keycloak, {
      parent: this,
      dependsOn: operator.ready,
      customTimeouts: wait,
    });
    // Teardown: the realm (finalizer calls Keycloak) goes before the Keycloak and before the operator.
    const realm = customResource(`${name}-realm`, m.realm, {
      parent: this,
      dependsOn: [keycloak, ...operator.ready],
      customTimeouts: wait,
    });
    const creds = this.adminCredentials(
      name,
      sso.namespace,
      `credential-${sso.instanceName}`,
      ["ADMIN_USERNAME", "ADMIN_PASSWORD"],
      keycloak,
    );
    return { ...creds, ready: realm };
  }

  private deployRhbk(name: string, sso: SsoConfig, operator: OperatorInstall, appsDomain: pulumi.Output<string>) {
    const dbName = postgresName(sso);
    const dbPassword = new random.RandomPassword(
      `${name}-db-password`,
      { length: 32, special: false },
      { parent: this },
    );
    const dbSecret = new k8s.core.v1.Secret(
      `${name}-db-credentials`,
      {
        metadata: { name: dbName, namespace: sso.namespace },
        type: "Opaque",
        stringData: pulumi.secret(dbPassword.result.apply((p) => ({ username: "keycloak", password: p }))),
      },
      { parent: this, dependsOn: operator.ready },
    );
    const [svc, sts] = buildPostgresManifests(sso) as any[];
    const dbService = new k8s.core.v1.Service(`${name}-db-service`, svc, { parent: this, dependsOn: operator.ready });
    const db = new k8s.apps.v1.StatefulSet(`${name}-db`, sts, { parent: this, dependsOn: [dbSecret, dbService] });
    const shape = buildRhbkManifests(sso, "");
    const fromDomain = (k: "keycloak" | "route") =>
      new k8s.apiextensions.CustomResource(
        `${name}-${k}`,
        {
          apiVersion: shape[k].apiVersion,
          kind: shape[k].kind,
          metadata: shape[k].metadata,
          spec: appsDomain.apply((d) => buildRhbkManifests(sso, d)[k].spec),
        },
        {
          parent: this,
          dependsOn: k === "keycloak" ? [db, dbSecret, ...operator.ready] : operator.ready,
          customTimeouts: timeouts(READY_MINUTES),
        },
      );
    const keycloak = fromDomain("keycloak");
    fromDomain("route");
    const realmImport = customResource(`${name}-realm-import`, shape.realmImport, {
      parent: this,
      dependsOn: [keycloak, ...operator.ready],
      customTimeouts: timeouts(READY_MINUTES),
    });
    const creds = this.adminCredentials(
      name,
      sso.namespace,
      `${sso.instanceName}-initial-admin`,
      ["username", "password"],
      keycloak,
    );
    return { ...creds, ready: realmImport };
  }
}
