/**
 * A small fake OpenShift cluster for the harness, as a fresh cluster is before `pulumi up`: it answers reads (`.get`)
 * of what every OpenShift cluster has (the ingress config, the default IngressController and its certificate, the
 * installer's MachineSets) and refuses any other, as the real API server does for objects that do not exist yet. It
 * also adds the status the provider would wait for on Subscriptions. The values are exported so tests can assert on
 * them (and that the secret ones never leak).
 */
import { defaultHandler } from "./default-handlers";
import type { ResourceHandler, ResourceHandlerArgs } from "./mock-runner";

export const FIXTURE_APPS_DOMAIN = "apps.fixture.example.com";
/** Secret values held by the fake cluster (the router certificate's key). */
export const FIXTURE_SECRETS = {
  routerKey: "fixture-router-private-key",
} as const;
export const FIXTURE_ROUTER_CERT = "fixture-router-certificate";

const b64 = (s: string) => Buffer.from(s).toString("base64");

/** Secrets that exist on a fresh cluster, by `<namespace>/<name>`. */
function clusterSecret(id: string): Record<string, string> | undefined {
  if (id === "openshift-ingress/router-certs-default") {
    return { "tls.crt": b64(FIXTURE_ROUTER_CERT), "tls.key": b64(FIXTURE_SECRETS.routerKey) };
  }
  return undefined;
}

export interface InstallerMachineSetOptions {
  /** The installer's infrastructure name (`machine.openshift.io/cluster-api-cluster`). */
  cluster: string;
  replicas: number;
  instanceType: string;
}

/** A worker MachineSet as the installer creates it on AWS (trimmed to the fields the clone touches). */
export function installerMachineSet(name: string, o: InstallerMachineSetOptions) {
  const cluster = { "machine.openshift.io/cluster-api-cluster": o.cluster };
  return {
    apiVersion: "machine.openshift.io/v1beta1",
    kind: "MachineSet",
    metadata: { name, namespace: "openshift-machine-api", labels: cluster },
    spec: {
      replicas: o.replicas,
      selector: { matchLabels: { ...cluster, "machine.openshift.io/cluster-api-machineset": name } },
      template: {
        metadata: {
          labels: {
            ...cluster,
            "machine.openshift.io/cluster-api-machine-role": "worker",
            "machine.openshift.io/cluster-api-machine-type": "worker",
            "machine.openshift.io/cluster-api-machineset": name,
          },
        },
        spec: {
          metadata: {},
          providerSpec: {
            value: {
              apiVersion: "machine.openshift.io/v1beta1",
              kind: "AWSMachineProviderConfig",
              instanceType: o.instanceType,
              placement: { region: "us-east-2", availabilityZone: "us-east-2a" },
            },
          },
        },
      },
    },
  };
}

/** The fixture cluster's worker MachineSets. */
export const fixtureMachineSet = (name: string) =>
  installerMachineSet(name, { cluster: "fixture", replicas: 2, instanceType: "m6i.2xlarge" });

const notFound = (a: ResourceHandlerArgs): never => {
  throw new Error(`fixture cluster: ${a.type} ${a.id} not found`);
};

/** Reads answered from the fixture; creates fall through to the default handler. */
const readOr =
  (read: (a: ResourceHandlerArgs) => Record<string, any> | undefined): ResourceHandler =>
  async (a) => {
    if (a.id === undefined) return defaultHandler(a);
    const state = read(a);
    return state ? { id: a.id, state } : notFound(a);
  };

export const clusterFixtureHandlers: Record<string, ResourceHandler> = {
  "kubernetes:config.openshift.io/v1:Ingress": readOr((a) =>
    a.id === "cluster"
      ? { apiVersion: "config.openshift.io/v1", kind: "Ingress", spec: { domain: FIXTURE_APPS_DOMAIN } }
      : undefined,
  ),
  "kubernetes:operator.openshift.io/v1:IngressController": readOr((a) =>
    a.id === "openshift-ingress-operator/default"
      ? { apiVersion: "operator.openshift.io/v1", kind: "IngressController", spec: { replicas: 2 } }
      : undefined,
  ),
  "kubernetes:core/v1:Secret": readOr((a) => {
    const data = clusterSecret(a.id as string);
    return data && { apiVersion: "v1", kind: "Secret", metadata: { name: (a.id as string).split("/")[1] }, data };
  }),
  "kubernetes:machine.openshift.io/v1beta1:MachineSet": readOr((a) =>
    fixtureMachineSet((a.id as string).split("/")[1]),
  ),
  // OLM resolves the Subscription to a CSV; the readiness gate patches that CSV.
  "kubernetes:operators.coreos.com/v1alpha1:Subscription": async (a) => {
    const r = await defaultHandler(a);
    const pkg = a.inputs.spec?.name ?? a.name;
    const csv = a.inputs.spec?.startingCSV ?? `${pkg}.v1.0.0`;
    return { id: r.id, state: { ...r.state, status: { installedCSV: csv, currentCSV: csv, state: "AtLatestKnown" } } };
  },
};
