/** Long HAProxy timeouts on the gateway routes that zync creates per product. */
import type * as k8s from "@pulumi/kubernetes";
import { buildServiceAccountRbac, cliContainer, ServiceAccountRbac } from "../kubernetes";

export const ROUTE_TIMEOUT_JOB = "gateway-route-timeout";

/**
 * Zync creates one Route per product and environment (names generated, not owned by the APIManager), so their
 * HAProxy timeout cannot be set declaratively. A CronJob annotates every zync-managed route every 5 minutes.
 */
export interface RouteTimeoutManifests extends ServiceAccountRbac {
  cronJob: k8s.batch.v1.CronJobArgs;
}

export function buildRouteTimeoutManifests(
  namespace: string,
  timeoutSeconds: number,
  cliImage: string,
): RouteTimeoutManifests {
  const meta = { name: ROUTE_TIMEOUT_JOB, namespace };
  return {
    ...buildServiceAccountRbac(meta, [
      { apiGroups: ["route.openshift.io"], resources: ["routes"], verbs: ["get", "list", "patch"] },
    ]),
    cronJob: {
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
                  cliContainer(cliImage, "annotate", [
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
  };
}
