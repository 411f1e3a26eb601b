/**
 * Every DELETE the providers sent, checked against what 3scale does: each is accepted in the order the engine sent
 * it, with one refusal by design. porta keeps a metric or method that the latest gateway config still maps
 * (metric.rb; tools/threescale-emulator/routes/catalog.ts guardMetricDelete): the provider redeploys the product and
 * deletes it again (dynamic-providers/threescale/gateway-config.ts deleteReferencedByConfigs).
 */
import type { RecordedCall } from "../../tools/threescale-emulator";

const METRIC_PATH = /\/metrics\/\d+(\/methods\/\d+)?\.json$/;

/** The DELETEs that were refused for another reason, or refused and never retried successfully (empty when fine). */
export function unrecoveredDeletes(calls: RecordedCall[]): string[] {
  return calls
    .filter((c) => c.method === "DELETE" && c.status >= 300)
    .filter(
      (refused) =>
        !(
          refused.status === 403 &&
          METRIC_PATH.test(refused.path) &&
          calls.some((c) => c.seq > refused.seq && c.method === "DELETE" && c.path === refused.path && c.status === 200)
        ),
    )
    .map((c) => `${c.status} DELETE ${c.path}`);
}
