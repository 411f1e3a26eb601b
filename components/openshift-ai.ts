/**
 * OpenShift AI 2.x with KServe: Service Mesh 2 and Serverless operators first, then rhods-operator, the
 * DSCInitialization `default-dsci` (this program owns it: the operator runs with DISABLE_DSC_CONFIG, which both 2.16
 * and 2.25 honour) and the DataScienceCluster `default-dsc`. The operator creates the SMCP and KnativeServing from
 * these. What "ready" means differs by release (components/readiness.ts).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ReleaseSet } from "./config/releases";
import { DSC_COMPONENTS, PlatformConfig } from "./config/schema";
import { awaitAnnotations, customResource, Manifest, readClusterObject, timeouts } from "./kubernetes";
import { OperatorInstall, operatorSpec } from "./operators";
import { waitFor } from "./readiness";

export const APPLICATIONS_NAMESPACE = "redhat-ods-applications";
export const CONTROL_PLANE_NAMESPACE = "istio-system";
export const KNATIVE_CERT_SECRET = "knative-serving-cert";

export function buildDsci(releases: ReleaseSet, readyTimeoutMinutes: number): Manifest {
  return {
    apiVersion: "dscinitialization.opendatahub.io/v1",
    kind: "DSCInitialization",
    metadata: {
      name: "default-dsci",
      annotations: awaitAnnotations(waitFor("DSCInitialization", releases), readyTimeoutMinutes),
    },
    spec: {
      applicationsNamespace: APPLICATIONS_NAMESPACE,
      monitoring: { managementState: "Managed", namespace: "redhat-ods-monitoring" },
      serviceMesh: {
        managementState: "Managed",
        controlPlane: { name: "data-science-smcp", namespace: CONTROL_PLANE_NAMESPACE, metricsCollection: "Istio" },
      },
      trustedCABundle: { managementState: "Managed", customCABundle: "" },
    },
  };
}

/** KServe default mode: Serverless when any model needs it, else RawDeployment. */
export function defaultDeploymentMode(models: PlatformConfig["models"]): "Serverless" | "RawDeployment" {
  return models.some((m) => m.deploymentMode === "Serverless") ? "Serverless" : "RawDeployment";
}

export function buildDsc(
  releases: ReleaseSet,
  openshiftAi: PlatformConfig["openshiftAi"],
  kserveDeploymentMode: "Serverless" | "RawDeployment",
): Manifest {
  const enabled = new Set<string>(openshiftAi.components);
  const components: Record<string, unknown> = {};
  for (const c of DSC_COMPONENTS) components[c] = { managementState: enabled.has(c) ? "Managed" : "Removed" };
  const certificate =
    openshiftAi.ingressCertificate === "Provided"
      ? { type: "Provided", secretName: KNATIVE_CERT_SECRET }
      : { type: "OpenshiftDefaultIngress" };
  components.kserve = {
    managementState: "Managed",
    defaultDeploymentMode: kserveDeploymentMode,
    serving: { managementState: "Managed", name: "knative-serving", ingressGateway: { certificate } },
  };
  return {
    apiVersion: "datasciencecluster.opendatahub.io/v1",
    kind: "DataScienceCluster",
    metadata: {
      name: "default-dsc",
      annotations: awaitAnnotations(waitFor("DataScienceCluster", releases), openshiftAi.readyTimeoutMinutes),
    },
    spec: { components },
  };
}

/** Secret holding the default ingress certificate: the custom one when set, else the operator-generated one. */
export function routerCertificateSecretName(
  ingressControllerSpec: { defaultCertificate?: { name?: string } } | undefined,
) {
  return ingressControllerSpec?.defaultCertificate?.name || "router-certs-default";
}

/** The certificate copy for `Provided` mode: same tls.crt/tls.key in istio-system (the gateway's namespace). */
export function buildKnativeCertSecret(data: Record<string, string>): Manifest {
  for (const key of ["tls.crt", "tls.key"]) {
    if (!data[key])
      throw new Error(`the router certificate secret has no ${key}; it must be a kubernetes.io/tls secret`);
  }
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: KNATIVE_CERT_SECRET, namespace: CONTROL_PLANE_NAMESPACE },
    type: "kubernetes.io/tls",
    data: { "tls.crt": data["tls.crt"], "tls.key": data["tls.key"] },
  };
}

export interface OpenShiftAiArgs {
  releases: ReleaseSet;
  openshiftAi: PlatformConfig["openshiftAi"];
  /** OLM subscriptions of the operators OpenShift AI needs. */
  operators: Pick<PlatformConfig["operators"], "serviceMesh" | "serverless" | "openshiftAi">;
  /** KServe's default deployment mode (see `defaultDeploymentMode`). */
  kserveDeploymentMode: "Serverless" | "RawDeployment";
  cliImage: string;
}

export class OpenShiftAi extends pulumi.ComponentResource {
  readonly dsci: k8s.apiextensions.CustomResource;
  readonly dsc: k8s.apiextensions.CustomResource;

  constructor(name: string, args: OpenShiftAiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:openshift-ai:OpenShiftAi", name, {}, opts);
    const { openshiftAi } = args;
    const ops = args.operators;
    const serviceMesh = new OperatorInstall(
      `${name}-servicemesh`,
      { spec: operatorSpec("serviceMesh"), config: ops.serviceMesh, cliImage: args.cliImage },
      { parent: this },
    );
    const serverless = new OperatorInstall(
      `${name}-serverless`,
      { spec: operatorSpec("serverless"), config: ops.serverless, cliImage: args.cliImage },
      { parent: this },
    );
    const rhoai = new OperatorInstall(
      `${name}-rhods`,
      { spec: operatorSpec("openshiftAi"), config: ops.openshiftAi, cliImage: args.cliImage },
      { parent: this, dependsOn: [...serviceMesh.ready, ...serverless.ready] },
    );
    const readyMinutes = openshiftAi.readyTimeoutMinutes;
    this.dsci = customResource(`${name}-dsci`, buildDsci(args.releases, readyMinutes), {
      parent: this,
      dependsOn: rhoai.ready,
      customTimeouts: timeouts(readyMinutes),
    });
    const certSecret = openshiftAi.ingressCertificate === "Provided" ? this.copyRouterCertificate(name) : undefined;
    this.dsc = customResource(`${name}-dsc`, buildDsc(args.releases, openshiftAi, args.kserveDeploymentMode), {
      parent: this,
      // Teardown: DSC goes before the DSCI (webhook), and before the operators that run their finalizers.
      dependsOn: [
        this.dsci,
        ...rhoai.ready,
        ...serviceMesh.ready,
        ...serverless.ready,
        ...(certSecret ? [certSecret] : []),
      ],
      customTimeouts: timeouts(readyMinutes),
    });
    this.registerOutputs({});
  }

  private copyRouterCertificate(name: string): k8s.core.v1.Secret {
    const controller = readClusterObject(
      `${name}-ingresscontroller-default`,
      {
        apiVersion: "operator.openshift.io/v1",
        kind: "IngressController",
        id: "openshift-ingress-operator/default",
        fields: ["spec"],
      },
      { parent: this },
    );
    const secretName = controller.apply((c) => routerCertificateSecretName(c.spec));
    const source = k8s.core.v1.Secret.get(
      `${name}-router-certificate`,
      pulumi.interpolate`openshift-ingress/${secretName}`,
      {
        parent: this,
      },
    );
    const manifest = pulumi.secret(source.data.apply((d) => buildKnativeCertSecret(d)));
    return new k8s.core.v1.Secret(
      `${name}-knative-serving-cert`,
      {
        metadata: { name: KNATIVE_CERT_SECRET, namespace: CONTROL_PLANE_NAMESPACE },
        type: "kubernetes.io/tls",
        data: manifest.apply((m) => m.data as Record<string, string>),
      },
      // istio-system exists once the DSCI has created the service mesh control plane.
      { parent: this, dependsOn: [this.dsci] },
    );
  }
}
