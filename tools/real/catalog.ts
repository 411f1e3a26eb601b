/**
 * The operator catalog the stand-in OLM resolves Subscriptions against: per package, the head CSV of each channel and
 * the CRDs its bundle installs (from the project's contracts/, in the release the channel names).
 *
 * CSV names follow the catalogs' own naming: `rhods-operator.<x.y.z>` (RHOAI-Build-Config
 * catalog/rhoai-2.25/v4.18/rhods-operator/catalog.yaml, heads 2.16.5 and 2.25.10; Pulumi.prod.yaml pins
 * startingCSV rhods-operator.2.25.10), `3scale-operator.v0.12.5` / `v0.13.4` (3scale-operator version/version.go on
 * the 3scale-2.15-stable / 3scale-2.16-stable branches), `rhbk-operator.v26.6.7-opr.1` (the stable-v26 head quoted in
 * /work/notes/cluster-facts.md A6.2). The others are shaped like Red Hat's (`<package>.v<version>`) with z-versions
 * that are illustrative: nothing in the program reads them (it waits on whatever `installedCSV` names).
 */
import * as fs from "fs";
import * as path from "path";
import type { KubeObject } from "./kube-api";

export const CONTRACTS_DIR = path.resolve(__dirname, "..", "..", "contracts");

export interface CatalogPackage {
  /** channel → head CSV name */
  channels: Record<string, string>;
  /** CRD files (contracts/crds names); `versions/<release>/` wins when it has the same file. */
  crds: string[];
  /** The contracts/versions/ directory for a channel, when the channel selects a release with its own CRDs. */
  release?: (channel: string) => string | undefined;
  /** CRDs the contracts lack, as minimal structural stand-ins (named in the real-suite summary). */
  standInCrds?: KubeObject[];
}

const rhoai = (channel: string) => {
  const r = /(\d+\.\d+)$/.exec(channel)?.[1];
  return r && r !== "2.16" ? `rhoai-${r}` : undefined;
};
const threescale = (channel: string) => {
  const r = /(\d+\.\d+)$/.exec(channel)?.[1];
  return r && r !== "2.15" ? `3scale-${r}` : undefined;
};

/** A CRD with an open schema, for a kind the program only waits for (it never creates one). */
export function standInCrd(group: string, kind: string, plural: string, version: string): KubeObject {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${plural}.${group}` },
    spec: {
      group,
      scope: "Namespaced",
      names: { kind, plural, singular: kind.toLowerCase(), listKind: `${kind}List` },
      versions: [
        {
          name: version,
          served: true,
          storage: true,
          subresources: { status: {} },
          schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
        },
      ],
    },
  };
}

export const CATALOG: Record<string, CatalogPackage> = {
  servicemeshoperator: {
    channels: { stable: "servicemeshoperator.v2.6.11" },
    crds: ["servicemeshcontrolplanes.crd.json"],
    // maistra.io ServiceMeshMember: not among the upstream CRDs in contracts/ (the program only waits for it).
    standInCrds: [standInCrd("maistra.io", "ServiceMeshMember", "servicemeshmembers", "v1")],
  },
  "serverless-operator": {
    channels: Object.fromEntries(
      ["stable", "stable-1.33", "stable-1.34", "stable-1.35", "stable-1.36"].map((c) => [
        c,
        `serverless-operator.v${c === "stable" ? "1.36" : c.slice(7)}.1`,
      ]),
    ),
    crds: ["operator.knative.dev_knativeservings.json"],
  },
  "rhods-operator": {
    channels: {
      "stable-2.16": "rhods-operator.2.16.5",
      "eus-2.16": "rhods-operator.2.16.5",
      "stable-2.25": "rhods-operator.2.25.10",
      "eus-2.25": "rhods-operator.2.25.10",
    },
    crds: [
      "dscinitialization.opendatahub.io_dscinitializations.json",
      "datasciencecluster.opendatahub.io_datascienceclusters.json",
    ],
    release: rhoai,
  },
  "3scale-operator": {
    channels: { "threescale-2.15": "3scale-operator.v0.12.5", "threescale-2.16": "3scale-operator.v0.13.4" },
    crds: ["apps.3scale.net_apimanagers.json", "capabilities.3scale.net_custompolicydefinitions.json"],
    release: threescale,
  },
  "rhbk-operator": {
    channels: Object.fromEntries(
      ["stable-v26", "stable-v26.0", "stable-v26.2", "stable-v26.4"].map((c) => [c, "rhbk-operator.v26.6.7-opr.1"]),
    ),
    crds: ["keycloaks.k8s.keycloak.org-v1.json", "keycloakrealmimports.k8s.keycloak.org-v1.json"],
  },
  "rhsso-operator": {
    channels: { stable: "rhsso-operator.7.6.12-opr-001" },
    crds: [
      "keycloak.org_keycloaks_crd.json",
      "keycloak.org_keycloakrealms_crd.json",
      "keycloak.org_keycloakclients_crd.json",
    ],
  },
  nfd: { channels: { stable: "nfd.4.18.0-202511040930" }, crds: ["nfd.openshift.io_nodefeaturediscoveries.json"] },
  "gpu-operator-certified": {
    channels: {
      stable: "gpu-operator-certified.v25.10.1",
      "v25.10": "gpu-operator-certified.v25.10.1",
      "v25.3": "gpu-operator-certified.v25.3.4",
    },
    crds: ["nvidia.com_clusterpolicies.json"],
  },
  "odf-operator": {
    channels: Object.fromEntries(
      ["4.14", "4.15", "4.16", "4.17", "4.18", "4.19"].map((v) => [`stable-${v}`, `odf-operator.v${v}.11-rhodf`]),
    ),
    crds: ["ocs.openshift.io_storageclusters.json", "odf.openshift.io_storagesystems.json"],
  },
};

/** KServe's CRDs, which the RHOAI operator installs when the DataScienceCluster manages KServe. */
export const KSERVE_CRDS = ["serving.kserve.io_inferenceservices.json", "serving.kserve.io_servingruntimes.json"];

/** CRDs every OpenShift cluster serves before any operator is installed (OLM, Routes, the machine API). */
export const CLUSTER_CRDS = [
  "operators.coreos.com_subscriptions.json",
  "operators.coreos.com_clusterserviceversions.json",
  "operators.coreos.com_operatorgroups.json",
  "routes-Default.crd.json",
  "0000_10_machine-api_01_machinesets.crd.json",
];

/** The contracts file for `name`, from `versions/<release>/` when that release has its own copy. */
export function crdFile(name: string, release?: string): string {
  if (release) {
    const versioned = path.join(CONTRACTS_DIR, "versions", release, name);
    if (fs.existsSync(versioned)) return versioned;
  }
  return path.join(CONTRACTS_DIR, "crds", name);
}
