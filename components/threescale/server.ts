/**
 * 3scale API Management: operator, the LLM metering policy (Secret + CustomPolicyDefinition), a pre-created
 * `system-seed` (so the admin token is a Pulumi secret known up front), the APIManager, and a CronJob that gives the
 * gateway routes a long HAProxy timeout.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { PlatformConfig } from "../config/schema";
import { awaitAnnotations, cliContainer, customResource, Manifest, timeouts } from "../kubernetes";
import { OperatorInstall, operatorSpec } from "../operators";
import { portalOrigin } from "../products/builders";

export const POLICY_DIR = path.resolve(__dirname, "../../assets/apicast-policies/llm-metrics");
export const APIMANAGER_NAME = "apimanager";
const CPD_SCHEMA_FIELDS = ["$schema", "name", "summary", "description", "version", "configuration"] as const;

export interface PolicyBundle {
  /** APIcast policy id: the directory (module) name with '_' (the manifest's `name` is a display name). */
  name: string;
  version: string;
  /** apicast-policy.json parsed. */
  manifest: Record<string, any>;
  /** File name → base64 content, every file of the policy directory. */
  files: Record<string, string>;
  /** Content-hashed, so a changed policy is a new Secret and APIcast rolls. */
  secretName: string;
}

/** Reads every file of the policy directory (at plan time) and derives the Secret name from their content. */
export function readPolicyBundle(dir: string = POLICY_DIR): PolicyBundle {
  const manifestPath = path.join(dir, "apicast-policy.json");
  if (!fs.existsSync(manifestPath)) throw new Error(`APIcast policy manifest not found: ${manifestPath}`);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
  if (typeof manifest.version !== "string" || !manifest.configuration) {
    throw new Error(`${manifestPath}: needs a string "version" and a "configuration" schema`);
  }
  const names = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith("."))
    .map((e) => e.name)
    .sort();
  if (!names.includes("init.lua")) throw new Error(`${dir}: an APIcast policy needs init.lua`);
  const hash = crypto.createHash("sha256");
  const files: Record<string, string> = {};
  for (const n of names) {
    const content = fs.readFileSync(path.join(dir, n));
    files[n] = content.toString("base64");
    hash.update(n).update("\0").update(content).update("\0");
  }
  const dirName = path.basename(dir);
  return {
    name: dirName.replace(/-/g, "_"),
    version: manifest.version,
    manifest,
    files,
    secretName: `${dirName}-${hash.digest("hex").slice(0, 8)}`,
  };
}

export function buildPolicySecret(bundle: PolicyBundle, namespace: string): Manifest {
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: bundle.secretName,
      namespace,
      labels: { "apimanager.apps.3scale.net/watched-by": "apimanager" },
    },
    type: "Opaque",
    data: { ...bundle.files },
  };
}

export function buildCustomPolicyDefinition(bundle: PolicyBundle, namespace: string, readyMinutes: number): Manifest {
  const schema: Record<string, unknown> = {};
  for (const f of CPD_SCHEMA_FIELDS) if (bundle.manifest[f] !== undefined) schema[f] = bundle.manifest[f];
  return {
    apiVersion: "capabilities.3scale.net/v1beta1",
    kind: "CustomPolicyDefinition",
    metadata: {
      name: bundle.name.replace(/_/g, "-"),
      namespace,
      annotations: awaitAnnotations("condition=Ready", readyMinutes),
    },
    spec: { name: bundle.name, version: bundle.version, schema },
  };
}

export interface ApiManagerInputs {
  namespace: string;
  tenantName: string;
  wildcardDomain: string;
  rwxStorageClass: string;
  apicastReplicas: number;
  readyTimeoutMinutes: number;
  policy: { name: string; version: string; secretName: string };
}

export function buildApiManager(i: ApiManagerInputs): Manifest {
  const customPolicies = [{ name: i.policy.name, version: i.policy.version, secretRef: { name: i.policy.secretName } }];
  return {
    apiVersion: "apps.3scale.net/v1alpha1",
    kind: "APIManager",
    metadata: {
      name: APIMANAGER_NAME,
      namespace: i.namespace,
      annotations: awaitAnnotations("condition=Available", i.readyTimeoutMinutes),
    },
    spec: {
      wildcardDomain: i.wildcardDomain,
      tenantName: i.tenantName,
      system: { fileStorage: { persistentVolumeClaim: { storageClassName: i.rwxStorageClass } } },
      apicast: {
        stagingSpec: { replicas: 1, customPolicies },
        productionSpec: { replicas: i.apicastReplicas, customPolicies },
      },
    },
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

export function threescaleUrls(tenant: string, wildcardDomain: string) {
  return {
    adminUrl: `https://${tenant}-admin.${wildcardDomain}`,
    portalUrl: portalOrigin(tenant, wildcardDomain),
    gatewayUrl: (product: string) => `https://${product}-${tenant}-apicast-production.${wildcardDomain}:443`,
    stagingGatewayUrl: (product: string) => `https://${product}-${tenant}-apicast-staging.${wildcardDomain}:443`,
  };
}

export const ROUTE_TIMEOUT_JOB = "gateway-route-timeout";

/**
 * Zync creates one Route per product and environment (names generated, not owned by the APIManager), so their
 * HAProxy timeout cannot be set declaratively. A CronJob annotates every zync-managed route every 5 minutes.
 */
export function buildRouteTimeoutManifests(namespace: string, timeoutSeconds: number): Manifest[] {
  const meta = { name: ROUTE_TIMEOUT_JOB, namespace };
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { ...meta } },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { ...meta },
      rules: [{ apiGroups: ["route.openshift.io"], resources: ["routes"], verbs: ["get", "list", "patch"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { ...meta },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: ROUTE_TIMEOUT_JOB },
      subjects: [{ kind: "ServiceAccount", name: ROUTE_TIMEOUT_JOB, namespace }],
    },
    {
      apiVersion: "batch/v1",
      kind: "CronJob",
      metadata: { ...meta },
      spec: {
        schedule: "*/5 * * * *",
        concurrencyPolicy: "Forbid",
        successfulJobsHistoryLimit: 1,
        failedJobsHistoryLimit: 1,
        jobTemplate: {
          spec: {
            backoffLimit: 1,
            template: {
              spec: {
                serviceAccountName: ROUTE_TIMEOUT_JOB,
                restartPolicy: "Never",
                containers: [
                  cliContainer("annotate", [
                    "oc",
                    "annotate",
                    "route",
                    "-n",
                    namespace,
                    "-l",
                    "zync.3scale.net/route-to",
                    "--overwrite",
                    `haproxy.router.openshift.io/timeout=${timeoutSeconds}s`,
                  ]),
                ],
              },
            },
          },
        },
      },
    },
  ];
}

export interface ThreescalePlatformArgs {
  config: PlatformConfig;
  appsDomain: pulumi.Output<string>;
  rwxStorageClass: string;
  /** Resources the RWX storage class needs (ODF). */
  storageReady: pulumi.Resource[];
  policyDir?: string;
}

export class ThreescalePlatform extends pulumi.ComponentResource {
  readonly adminUrl: pulumi.Output<string>;
  readonly portalUrl: pulumi.Output<string>;
  readonly wildcardDomain: pulumi.Output<string>;
  readonly tenantName: pulumi.Output<string>;
  readonly adminAccessToken: pulumi.Output<string>;
  readonly apiManager: k8s.apiextensions.CustomResource;
  readonly customPolicyDefinition: k8s.apiextensions.CustomResource;
  readonly policy: { name: string; version: string };
  readonly namespace: string;

  constructor(name: string, args: ThreescalePlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:threescale-platform:ThreescalePlatform", name, {}, opts);
    const ts = args.config.threescale;
    const ns = ts.namespace;
    this.namespace = ns;
    this.wildcardDomain = args.appsDomain;
    this.tenantName = pulumi.output(ts.tenantName);
    const operator = new OperatorInstall(
      `${name}-operator`,
      { spec: operatorSpec("threescale", ns), config: args.config.operators.threescale },
      { parent: this },
    );
    const afterOperator = { parent: this, dependsOn: operator.ready };

    const bundle = readPolicyBundle(args.policyDir);
    this.policy = { name: bundle.name, version: bundle.version };
    const policySecret = new k8s.core.v1.Secret(
      `${name}-policy-${bundle.name}`,
      buildPolicySecret(bundle, ns) as k8s.core.v1.SecretArgs,
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

    const apiManagerInputs = (wildcardDomain: string): ApiManagerInputs => ({
      namespace: ns,
      tenantName: ts.tenantName,
      wildcardDomain,
      rwxStorageClass: args.rwxStorageClass,
      apicastReplicas: ts.apicastReplicas,
      readyTimeoutMinutes: ts.readyTimeoutMinutes,
      policy: { ...this.policy, secretName: bundle.secretName },
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
        dependsOn: [...operator.ready, policySecret, systemSeed, ...args.storageReady],
        customTimeouts: timeouts(ts.readyTimeoutMinutes),
      },
    );
    this.customPolicyDefinition = customResource(
      `${name}-policy-definition`,
      buildCustomPolicyDefinition(bundle, ns, ts.readyTimeoutMinutes),
      {
        parent: this,
        dependsOn: [this.apiManager, ...operator.ready],
        customTimeouts: timeouts(ts.readyTimeoutMinutes),
      },
    );
    this.createRouteTimeout(name, ns, ts.routeTimeoutSeconds, operator.ready);

    const urls = args.appsDomain.apply((d) => threescaleUrls(ts.tenantName, d));
    this.adminUrl = urls.apply((u) => u.adminUrl);
    this.portalUrl = urls.apply((u) => u.portalUrl);
    this.registerOutputs({ adminUrl: this.adminUrl, portalUrl: this.portalUrl });
  }

  gatewayUrl(productSystemName: string): pulumi.Output<string> {
    return pulumi
      .all([this.tenantName, this.wildcardDomain])
      .apply(([t, d]) => threescaleUrls(t, d).gatewayUrl(productSystemName));
  }

  stagingGatewayUrl(productSystemName: string): pulumi.Output<string> {
    return pulumi
      .all([this.tenantName, this.wildcardDomain])
      .apply(([t, d]) => threescaleUrls(t, d).stagingGatewayUrl(productSystemName));
  }

  private createRouteTimeout(name: string, ns: string, seconds: number, ready: pulumi.Resource[]) {
    const [sa, role, binding, cron] = buildRouteTimeoutManifests(ns, seconds) as any[];
    const o = { parent: this, dependsOn: ready };
    const account = new k8s.core.v1.ServiceAccount(`${name}-route-timeout-sa`, sa, o);
    const r = new k8s.rbac.v1.Role(`${name}-route-timeout-role`, role, o);
    const b = new k8s.rbac.v1.RoleBinding(`${name}-route-timeout-binding`, binding, { ...o, dependsOn: [r, account] });
    new k8s.batch.v1.CronJob(`${name}-route-timeout`, cron, { ...o, dependsOn: [b] });
  }
}
