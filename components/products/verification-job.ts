/**
 * Pure builders of the post-deploy smoke test: a Job per model that calls the predictor directly, then the production
 * gateway with a real application key, and says in its log which hop failed. Plain objects in, manifests out.
 */
import { createHash } from "crypto";
import { awaitAnnotations, restrictedSecurityContext } from "../kubernetes";
import { waitFor } from "../readiness";

export const VERIFICATION_IMAGE = "registry.access.redhat.com/ubi9/ubi-minimal:9.6";
/** How long `pulumi up` waits for a verification Job. */
const JOB_WAIT_MINUTES = 15;
/** Secret key holding the application's user key. */
export const API_KEY_ENV = "API_KEY";

export interface VerificationTarget {
  /** Model (product system) name. */
  model: string;
  /** `model` field sent in the completion. */
  servedModelName: string;
  /** Production public base URL of the product's gateway. */
  gatewayUrl: string;
  /** The predictor's in-cluster URL. */
  predictorUrl: string;
  /** Gateway calls to make (only endpoints the product serves). */
  listModels: boolean;
  completion: "chat" | "text" | "none";
  /** Skip TLS verification of the gateway route (self-signed router certificates). */
  insecure: boolean;
  /** Anything that should re-run the Job when it changes (e.g. the promoted gateway version). */
  revision: string;
}

/**
 * The Job's shell script. Gateway hops retry for a while: production APIcast picks up a newly promoted
 * configuration only after its cache period.
 */
export function verificationScript(t: VerificationTarget): string {
  const tls = t.insecure ? " --insecure" : "";
  const completion =
    t.completion === "chat"
      ? `hop "gateway POST /v1/chat/completions" POST "$GATEWAY_URL/v1/chat/completions" '{"model":"'"$MODEL"'","messages":[{"role":"user","content":"Say OK"}],"max_tokens":1}'`
      : t.completion === "text"
        ? `hop "gateway POST /v1/completions" POST "$GATEWAY_URL/v1/completions" '{"model":"'"$MODEL"'","prompt":"OK","max_tokens":1}'`
        : `echo "skip: the product serves no completion endpoint"`;
  return [
    "set -u",
    `ATTEMPTS=\${ATTEMPTS:-40}`,
    "hop() {",
    '  name="$1"; method="$2"; url="$3"; data="${4:-}"; auth="${5:-key}"; i=1',
    "  while :; do",
    `    if [ "$auth" = key ]; then set -- -H "Authorization: Bearer $${API_KEY_ENV}"; else set --; fi`,
    '    if [ -n "$data" ]; then set -- "$@" -H "Content-Type: application/json" --data "$data"; fi',
    `    code=$(curl -sS${tls} --max-time 60 -o /tmp/body -w '%{http_code}' -X "$method" "$@" "$url" 2>/tmp/err) || code="000"`,
    '    case "$code" in 2??) echo "ok: $name ($code)"; return 0;; esac',
    '    if [ "$i" -ge "$ATTEMPTS" ]; then',
    '      echo "FAILED hop: $name -> HTTP $code from $url"; cat /tmp/err /tmp/body 2>/dev/null | head -c 2000; echo',
    "      exit 1",
    "    fi",
    "    i=$((i + 1)); sleep 10",
    "  done",
    "}",
    `hop "predictor GET /v1/models (in-cluster, no gateway)" GET "$PREDICTOR_URL/v1/models" "" none`,
    t.listModels
      ? `hop "gateway GET /v1/models" GET "$GATEWAY_URL/v1/models"`
      : `echo "skip: the product does not serve /v1/models"`,
    completion,
    'echo "verification passed for $MODEL"',
  ].join("\n");
}

/** Job name that changes with everything the Job checks, so a changed configuration runs it again. */
export function verificationJobName(t: VerificationTarget): string {
  const hash = createHash("sha256").update(JSON.stringify(t)).digest("hex").slice(0, 8);
  return `verify-${t.model}`.slice(0, 63 - 9) + `-${hash}`;
}

export function verificationJob(t: VerificationTarget, namespace: string, secretName: string): Record<string, any> {
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: verificationJobName(t),
      namespace,
      labels: {
        "app.kubernetes.io/part-of": "maas",
        "app.kubernetes.io/component": "verification",
        "maas/model": t.model,
      },
      // `pulumi up` waits for the Job and fails when a hop fails.
      annotations: awaitAnnotations(waitFor("Job"), JOB_WAIT_MINUTES),
    },
    spec: {
      backoffLimit: 0,
      // The Job gives up a minute before the wait does, so the failure is the Job's log, not a timeout.
      activeDeadlineSeconds: (JOB_WAIT_MINUTES - 1) * 60,
      template: {
        metadata: { labels: { "maas/model": t.model } },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "verify",
              image: VERIFICATION_IMAGE,
              command: ["/bin/sh", "-c", verificationScript(t)],
              env: [
                { name: "MODEL", value: t.servedModelName },
                { name: "GATEWAY_URL", value: t.gatewayUrl.replace(/\/+$/, "") },
                { name: "PREDICTOR_URL", value: t.predictorUrl.replace(/\/+$/, "") },
                { name: API_KEY_ENV, valueFrom: { secretKeyRef: { name: secretName, key: API_KEY_ENV } } },
              ],
              resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
              securityContext: restrictedSecurityContext(),
            },
          ],
        },
      },
    },
  };
}
