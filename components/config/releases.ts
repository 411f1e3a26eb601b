/**
 * The product releases a stack can select, and what each pins: OLM channels and the vLLM image OpenShift AI ships.
 * Adding a release: its channels and images here, its ready states in components/readiness.ts, its CRD schemas in
 * contracts/ (npm run contracts). Pure data.
 */

/** What a stack runs; the support matrix of the README. */
export interface ReleaseSet {
  openshiftAi: "2.16" | "2.25";
  threescale: "2.15" | "2.16";
  /** `rhsso`: Red Hat SSO 7.6 (legacy keycloak-operator); `rhbk`: Red Hat build of Keycloak 26. */
  sso: "rhsso" | "rhbk";
}

type OperatorKey =
  "openshiftAi" | "serviceMesh" | "serverless" | "threescale" | "rhsso" | "rhbk" | "odf" | "nfd" | "gpu";

/**
 * The channel each operator subscribes to by default. RHOAI and 3scale channels name their release (a channel such as
 * RHOAI `fast` could jump to a major version), read from the Red Hat catalog (RHOAI-Build-Config
 * `catalog/rhoai-2.25/v4.18/rhods-operator/catalog.yaml`: stable-2.16, stable-2.25) and the products' install guides.
 */
function defaultChannel(key: OperatorKey, releases: ReleaseSet): string {
  switch (key) {
    case "openshiftAi":
      return `stable-${releases.openshiftAi}`;
    case "threescale":
      return `threescale-${releases.threescale}`;
    case "rhbk":
      return "stable-v26";
    case "odf":
      return "stable-4.18";
    case "gpu":
      return "v25.10";
    default:
      // Service Mesh 2, Serverless, RH-SSO and NFD publish one `stable` channel per cluster version.
      return "stable";
  }
}

/** The catalog of each package: Red Hat's, except NVIDIA's GPU operator (certified). */
function defaultSource(key: OperatorKey): string {
  return key === "gpu" ? "certified-operators" : "redhat-operators";
}

/** Channels accepted per operator (a channel outside this list would install a release this program does not know). */
export const SUPPORTED_CHANNELS: Record<OperatorKey, readonly string[]> = {
  openshiftAi: ["stable-2.16", "eus-2.16", "stable-2.25", "eus-2.25"],
  serviceMesh: ["stable"],
  serverless: ["stable", "stable-1.33", "stable-1.34", "stable-1.35", "stable-1.36"],
  threescale: ["threescale-2.15", "threescale-2.16"],
  rhsso: ["stable"],
  rhbk: ["stable-v26", "stable-v26.0", "stable-v26.2", "stable-v26.4"],
  odf: ["stable-4.14", "stable-4.15", "stable-4.16", "stable-4.17", "stable-4.18", "stable-4.19"],
  nfd: ["stable"],
  gpu: ["stable", "v25.3", "v25.10"],
};

/** The release a channel installs, for the operators whose release the stack selects. */
export function channelRelease(channel: string): string | undefined {
  return /(\d+\.\d+)$/.exec(channel)?.[1];
}

export const RELEASES = {
  openshiftAi: ["2.16", "2.25"] as const,
  threescale: ["2.15", "2.16"] as const,
  /**
   * The vLLM image of the `vllm` ServingRuntime template each release ships:
   * 2.16: rhods-operator rhoai-2.16 `prefetched-manifests/odh-model-controller/base/params.env` (`vllm-image`);
   * 2.25: the `odh_vllm_cuda_image` related image of the rhods-operator 2.25.10 bundle (RHOAI-Build-Config catalog).
   */
  vllmImage: {
    "2.16": "quay.io/modh/vllm@sha256:c349d6c978be694c1f533ed8c0ef6b800351d3eb40bd8e96f21cda1f54d47591",
    "2.25":
      "registry.redhat.io/rhoai/odh-vllm-cuda-rhel9@sha256:ca0bf2704b8d6ad958ce2e91a469e01a86a42c837eded349d369123ed6b7c349",
  } as const,
  /** vLLM in those images: 0.6.3.post1 (built from the rhoai-2.16 vllm branch); 0.10.1.1 (the 2.25 template's runtime-version). */
  vllmVersion: { "2.16": "0.6.3", "2.25": "0.10.1" } as const,
  defaultChannel,
  defaultSource,
};

/** vLLM accepts `--enable-force-include-usage` from 0.9.2 (vllm-project/vllm#19695, `entrypoints/openai/cli_args.py`). */
export function supportsForceIncludeUsage(vllmVersion: string): boolean {
  const [major, minor, patch] = vllmVersion.split(".").map((n) => parseInt(n, 10));
  return major > 0 || minor > 9 || (minor === 9 && (patch ?? 0) >= 2);
}
