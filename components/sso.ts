/**
 * Identity provider for the developer portal behind one interface, two flavors (`maas:sso.flavor`):
 * - `rhbk`: Red Hat build of Keycloak 26 (k8s.keycloak.org/v2alpha1) with its own PostgreSQL; no /auth;
 * - `rhsso`: Red Hat SSO 7.6 (keycloak.org/v1alpha1, end of life); served under /auth.
 * Both create only the realm; clients, mappers and identity providers are configured later through @pulumi/keycloak.
 * The admin credentials are generated here and given to the operator (RHBK `spec.bootstrapAdmin.user.secret`; the
 * RH-SSO operator keeps a `credential-<name>` Secret that already exists), so nothing is read back from the cluster:
 * a preview on a fresh cluster has nothing to read.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { OperatorConfig, PlatformConfig } from "./config/schema";
import type { ReleaseSet } from "./config/releases";
import { awaitAnnotations, customResource, Manifest, timeouts } from "./kubernetes";
import { OperatorInstall, operatorSpec } from "./operators";
import { waitFor } from "./readiness";

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
export function buildRhssoManifests(sso: SsoConfig, releases: ReleaseSet): { keycloak: Manifest; realm: Manifest } {
  const selector = { app: sso.instanceName };
  const ready = (kind: "Keycloak" | "KeycloakRealm") => awaitAnnotations(waitFor(kind, releases), READY_MINUTES);
  return {
    keycloak: {
      apiVersion: "keycloak.org/v1alpha1",
      kind: "Keycloak",
      metadata: {
        name: sso.instanceName,
        namespace: sso.namespace,
        labels: { ...selector },
        annotations: ready("Keycloak"),
      },
      spec: { instances: sso.instances, externalAccess: { enabled: true } },
    },
    realm: {
      apiVersion: "keycloak.org/v1alpha1",
      kind: "KeycloakRealm",
      metadata: {
        name: sso.realm,
        namespace: sso.namespace,
        labels: { ...selector },
        annotations: ready("KeycloakRealm"),
      },
      spec: { instanceSelector: { matchLabels: { ...selector } }, realm: realmRepresentation(sso) },
    },
  };
}

export function postgresName(sso: SsoConfig): string {
  return `${sso.instanceName}-postgresql`;
}

/** RHBK's database: a single-replica PostgreSQL (StatefulSet + Service); credentials Secret is built separately. */
export function buildPostgresManifests(sso: SsoConfig): {
  service: k8s.core.v1.ServiceArgs;
  statefulSet: k8s.apps.v1.StatefulSetArgs;
} {
  const name = postgresName(sso);
  const labels = { app: name };
  const fromSecret = (key: string) => ({ secretKeyRef: { name, key } });
  return {
    service: {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, namespace: sso.namespace, labels },
      spec: { selector: labels, ports: [{ name: "postgresql", port: 5432, targetPort: 5432 }] },
    },
    statefulSet: {
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
  };
}

/** The Secret of RH-SSO's admin (`credential-<name>`, keys of the legacy operator's model/keycloak_admin_secret.go). */
export const rhssoAdminSecretName = (sso: SsoConfig) => `credential-${sso.instanceName}`;
/** The Secret of RHBK's bootstrap admin (`username`/`password`, a basic-auth Secret). */
export const rhbkAdminSecretName = (sso: SsoConfig) => `${sso.instanceName}-bootstrap-admin`;

/** RHBK Keycloak (HTTP behind an edge Route), the Route, and the realm import. */
export function buildRhbkManifests(
  sso: SsoConfig,
  appsDomain: string,
  releases: ReleaseSet,
): { keycloak: Manifest; route: Manifest; realmImport: Manifest } {
  const db = postgresName(sso);
  return {
    keycloak: {
      apiVersion: "k8s.keycloak.org/v2alpha1",
      kind: "Keycloak",
      metadata: {
        name: sso.instanceName,
        namespace: sso.namespace,
        annotations: awaitAnnotations(waitFor("Keycloak", releases), READY_MINUTES),
      },
      spec: {
        instances: sso.instances,
        bootstrapAdmin: { user: { secret: rhbkAdminSecretName(sso) } },
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
        annotations: awaitAnnotations(waitFor("KeycloakRealmImport", releases), READY_MINUTES),
      },
      spec: { keycloakCRName: sso.instanceName, realm: realmRepresentation(sso) },
    },
  };
}

export interface SsoServerArgs {
  releases: ReleaseSet;
  sso: SsoConfig;
  /** The OLM subscription of the selected flavor's operator. */
  operator: OperatorConfig;
  appsDomain: pulumi.Output<string>;
  cliImage: string;
}

export class SsoServer extends pulumi.ComponentResource {
  /** e.g. https://keycloak-rh-sso.apps.example.com/auth/realms/maas */
  readonly realmUrl: pulumi.Output<string>;
  /** Server URL without the base path (what @pulumi/keycloak's `url` takes). */
  readonly serverUrl: pulumi.Output<string>;
  readonly basePath: "/auth" | "";
  readonly realm: string;
  readonly adminUsername: pulumi.Output<string>;
  readonly adminPassword: pulumi.Output<string>;
  /** Depend on this before talking to the realm. */
  readonly ready: pulumi.Resource;

  constructor(name: string, args: SsoServerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "maas:sso:SsoServer",
      name,
      {},
      {
        ...opts,
        aliases: [{ type: "maas:sso:Sso" }, ...(opts?.aliases ?? [])],
      },
    );
    const sso = args.sso;
    const urls = args.appsDomain.apply((d) => ssoUrls(sso, d));
    this.basePath = sso.flavor === "rhsso" ? "/auth" : "";
    this.realm = sso.realm;
    this.serverUrl = urls.apply((u) => u.serverUrl);
    this.realmUrl = urls.apply((u) => u.realmUrl);
    const operator = new OperatorInstall(
      `${name}-operator`,
      { spec: operatorSpec(sso.flavor, sso.namespace), config: args.operator, cliImage: args.cliImage },
      { parent: this },
    );
    const admin = this.adminCredentials(name, sso, operator);
    this.adminUsername = pulumi.output(admin.username);
    this.adminPassword = admin.password;
    this.ready =
      sso.flavor === "rhsso"
        ? this.deployRhsso(name, sso, args.releases, operator, admin.secret)
        : this.deployRhbk(name, sso, args.releases, operator, args.appsDomain, admin.secret);
    this.registerOutputs({ realmUrl: this.realmUrl });
  }

  /** Generated admin credentials, in the Secret the flavor's operator takes them from. */
  private adminCredentials(name: string, sso: SsoConfig, operator: OperatorInstall) {
    const password = pulumi.secret(
      new random.RandomPassword(`${name}-admin-password`, { length: 32, special: false }, { parent: this }).result,
    );
    const username = "admin";
    const rhsso = sso.flavor === "rhsso";
    const secret = new k8s.core.v1.Secret(
      `${name}-admin-credentials`,
      {
        metadata: { name: rhsso ? rhssoAdminSecretName(sso) : rhbkAdminSecretName(sso), namespace: sso.namespace },
        type: rhsso ? "Opaque" : "kubernetes.io/basic-auth",
        stringData: pulumi.secret(
          password.apply((p): Record<string, string> =>
            rhsso ? { ADMIN_USERNAME: username, ADMIN_PASSWORD: p } : { username, password: p },
          ),
        ),
      },
      { parent: this, dependsOn: operator.ready },
    );
    return { username, password, secret };
  }

  private deployRhsso(
    name: string,
    sso: SsoConfig,
    releases: ReleaseSet,
    operator: OperatorInstall,
    adminSecret: pulumi.Resource,
  ): pulumi.Resource {
    const m = buildRhssoManifests(sso, releases);
    const wait = timeouts(READY_MINUTES);
    const keycloak = customResource(`${name}-keycloak`, m.keycloak, {
      parent: this,
      dependsOn: [...operator.ready, adminSecret],
      customTimeouts: wait,
    });
    // Teardown: the realm (finalizer calls Keycloak) goes before the Keycloak and before the operator.
    const realm = customResource(`${name}-realm`, m.realm, {
      parent: this,
      dependsOn: [keycloak, ...operator.ready],
      customTimeouts: wait,
    });
    return realm;
  }

  private deployRhbk(
    name: string,
    sso: SsoConfig,
    releases: ReleaseSet,
    operator: OperatorInstall,
    appsDomain: pulumi.Output<string>,
    adminSecret: pulumi.Resource,
  ): pulumi.Resource {
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
    const postgres = buildPostgresManifests(sso);
    const dbService = new k8s.core.v1.Service(`${name}-db-service`, postgres.service, {
      parent: this,
      dependsOn: operator.ready,
    });
    const db = new k8s.apps.v1.StatefulSet(`${name}-db`, postgres.statefulSet, {
      parent: this,
      dependsOn: [dbSecret, dbService],
    });
    const shape = buildRhbkManifests(sso, "", releases);
    const fromDomain = (k: "keycloak" | "route") =>
      new k8s.apiextensions.CustomResource(
        `${name}-${k}`,
        {
          apiVersion: shape[k].apiVersion,
          kind: shape[k].kind,
          metadata: shape[k].metadata,
          spec: appsDomain.apply((d) => buildRhbkManifests(sso, d, releases)[k].spec),
        },
        {
          parent: this,
          dependsOn: k === "keycloak" ? [db, dbSecret, adminSecret, ...operator.ready] : operator.ready,
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
    return realmImport;
  }
}
