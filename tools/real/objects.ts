/**
 * Every object the API server holds, as `group/Kind namespace/name` keys, for before/after comparisons (`pulumi
 * destroy` must leave exactly what was there before `up`, plus what is left by design). Discovered from the server's
 * own API list, so a kind added by a CRD is covered without naming it. Leaves out what controllers churn on their own
 * and nobody deploys: Events, Leases, EndpointSlices and Endpoints (they follow Services), and read-only kinds.
 */
import type { KubeApi } from "./kube-api";

const CHURN = new Set(["events", "leases", "endpointslices", "endpoints", "componentstatuses"]);

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

async function groupVersions(api: KubeApi): Promise<string[]> {
  const core = ["v1"];
  const groups = await api.request<{ groups: { preferredVersion: { groupVersion: string } }[] }>("GET", "/apis");
  return [...core, ...groups.groups.map((g) => g.preferredVersion.groupVersion)];
}

/** `group/Kind namespace/name` (cluster-scoped objects have no namespace part) for every listable object. */
export async function listAllObjects(api: KubeApi): Promise<Set<string>> {
  const out = new Set<string>();
  for (const gv of await groupVersions(api)) {
    const base = gv === "v1" ? "/api/v1" : `/apis/${gv}`;
    const res = await api.raw("GET", base);
    if (res.status !== 200) continue;
    const resources = (JSON.parse(res.text) as { resources: ApiResource[] }).resources;
    const group = gv.includes("/") ? gv.split("/")[0] : "core";
    for (const r of resources) {
      if (r.name.includes("/") || !r.verbs.includes("list") || CHURN.has(r.name)) continue;
      const list = await api.raw("GET", `${base}/${r.name}`);
      if (list.status !== 200) continue;
      for (const item of (JSON.parse(list.text) as { items: { metadata: { name: string; namespace?: string } }[] })
        .items) {
        out.add(
          `${group}/${r.kind} ${item.metadata.namespace ? `${item.metadata.namespace}/` : ""}${item.metadata.name}`,
        );
      }
    }
  }
  return out;
}

export function difference(a: Set<string>, b: Set<string>): string[] {
  return [...a].filter((x) => !b.has(x)).sort();
}
