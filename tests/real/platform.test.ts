/**
 * The program against real counterparts: the real Pulumi engine (CLI, Node.js language host, provider plugins) through
 * the Automation API, a real Kubernetes control plane that validates and prunes every object against the upstream
 * CRDs, a real Keycloak, and stand-ins for OLM, the operators, the OpenShift router and the 3scale admin API
 * (tools/real/). One stack with every layer on (tools/real/stack.ts), scenarios in order:
 *   1. preview on the fresh cluster; 2. up converges; 3. no-op preview, zero admin API writes; browser sign-in;
 *   4. refresh finds no drift, then drift in the tenant and in the API server is found and repaired;
 *   5. a model added changes only its resources, removed deletes only its resources; 7. destroy leaves the cluster,
 *   the tenant and Keycloak as they were. (6, the killed CLI, is tests/real/crash.test.ts.)
 */
import type { TenantSnapshot } from "../../tools/threescale-emulator";
import { AdminClient } from "../../dynamic-providers/threescale/client";
import { adminToken } from "../../tools/real/keycloak";
import type { CommandReport, Deployment } from "../../tools/real/deployment";
import { KSERVE_CRDS } from "../../tools/real/catalog";
import { resourcePath } from "../../tools/real/kube-api";
import { difference, listAllObjects } from "../../tools/real/objects";
import { APPS_DOMAIN, realModels } from "../../tools/real/stack";
import { recordKeycloak, say, scenario } from "../../tools/real/summary";
import { signIn } from "./browser";
import { unrecoveredDeletes } from "./tenant-deletes";
import { useDeployment } from "./use-deployment";

const FILE = "tests/real/platform.test.ts";
const MIN = 60_000;
const MODELS = realModels(3);
const TWO = MODELS.slice(0, 2);

let d: Deployment;
let tenantAtStart: TenantSnapshot;
/** Every namespace the stack adopted (by NamespacePatch) at any point: they stay, by design, even after the model goes. */
const adopted = new Set<string>();
async function noteAdoptedNamespaces() {
  for (const r of (await d.exportState()).resources as any[])
    if (r.type === "kubernetes:core/v1:NamespacePatch" && r.outputs?.metadata?.name)
      adopted.add(r.outputs.metadata.name);
}

const tenant = () => {
  const t = d.env.operators.tenant("3scale");
  if (!t) throw new Error("the 3scale tenant is not running (APIManager not ready?)");
  return t;
};
/** `op name` of every step that changed something (providers included unless `providers` is false). */
const changed = (r: CommandReport, providers = true) =>
  r.steps
    .filter((s) => !["same", "read", "refresh"].includes(s.op))
    .filter((s) => providers || !s.type.startsWith("pulumi:providers:"))
    .map((s) => `${s.op} ${s.urn.split("::").pop()}`);

const deployment = useDeployment({ models: TWO });
beforeAll(() => {
  d = deployment();
  say(
    "not real: @pulumi/aws: its provider plugin cannot be built here (not served by the Go module proxy); the stack takes weights from a Hugging Face download Job into an external bucket and creates no aws resource; the aws path is covered by the mock suites",
  );
  say(`pulumi ${d.stack.bins.cliVersion}; kube-apiserver ${d.env.cp.version}`);
});

describe("one stack, every layer, on the real engine", () => {
  scenario(
    FILE,
    "1 preview on a fresh cluster",
    async (details) => {
      const r = await d.preview();
      details.ops = r.ops;
      details.wallSeconds = r.wallMs / 1000;
      expect(r.ops.create).toBeGreaterThan(150);
      expect(Object.keys(r.ops).sort()).toEqual(["create", "read"].filter((k) => r.ops[k] !== undefined));
    },
    5 * MIN,
  );

  scenario(
    FILE,
    "2 up converges, every wait passing",
    async (details) => {
      const r = await d.up();
      details.ops = r.ops;
      details.wallSeconds = r.wallMs / 1000;
      details.engineIdleSeconds = r.engineIdleMs / 1000;
      expect(r.ops.create).toBeGreaterThan(150);
      tenantAtStart = tenant().initial;
      await noteAdoptedNamespaces();

      // What each wait waited for is there.
      const api = d.env.api;
      const dsc = await api.get<any>(
        resourcePath("datasciencecluster.opendatahub.io/v1", "datascienceclusters", undefined, "default-dsc"),
      );
      expect(dsc.status.phase).toBe("Ready");
      for (const m of TWO) {
        const isvc = await api.get<any>(resourcePath("serving.kserve.io/v1beta1", "inferenceservices", m.name, m.name));
        expect(isvc.status.conditions.find((c: any) => c.type === "Ready").status).toBe("True");
        // The predictor really got a GPU: the scheduler placed it on a node the GPU operator advertised GPUs on.
        const pods = await api.list<any>(`/api/v1/namespaces/${m.name}/pods`);
        const predictor = pods.find((p) => p.metadata.name.startsWith(`${m.name}-predictor`));
        expect(predictor.spec.nodeName).toMatch(/gpu/);
        expect(predictor.status.phase).toBe("Running");
      }
      const nodes = await api.list<any>("/api/v1/nodes");
      expect(nodes.filter((n) => n.status.allocatable["nvidia.com/gpu"] === "4")).toHaveLength(1);

      // 3scale: one product per model, promoted; 2.16's databases in place.
      const s = tenant().emulator.snapshot();
      for (const m of TWO) {
        const p = s.products[m.name];
        expect(p).toBeDefined();
        expect(p.policies.map((x) => x.name)).toEqual(["cors", "llm_metrics", "upstream_connection", "apicast"]);
        expect(p.latestVersions.production).not.toBeNull();
        expect(p.latestVersions.production).toBe(p.latestVersions.sandbox);
        expect(s.activeDocs[m.name]?.product).toBe(m.name);
        expect(s.accounts["maas-verification"].applications[`verification-${m.name}`]).toBeDefined();
      }
      // The one endpoint: every model's backend mounted at /<model>, routed by the metering policy, promoted.
      const endpoint = s.products["maas-api"];
      expect(endpoint).toBeDefined();
      expect(endpoint.backendUsages).toEqual(
        Object.fromEntries(TWO.map((m) => [`${m.name}-backend`, { path: `/${m.name}` }])),
      );
      expect(endpoint.policies.map((x) => x.name)).toContain("llm_metrics");
      expect(endpoint.latestVersions.production).toBe(endpoint.latestVersions.sandbox);
      expect(Object.keys(s.products)).toContain("api"); // removeDefaultProduct: false
      expect(Object.values(s.authProviders)).toHaveLength(1);

      // Keycloak: the realm the import created, the client the keycloak provider created in it.
      const kc = [...d.env.operators.keycloaks.values()][0];
      recordKeycloak(kc.version);
      say(`Keycloak ${kc.version}`);
      const token = await adminToken(kc);
      const clients = await (
        await fetch(`${kc.url}/admin/realms/maas/clients?clientId=3scale`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).json();
      expect(clients).toHaveLength(1);
      details.keycloak = kc.version;
    },
    15 * MIN,
  );

  scenario(
    FILE,
    "3 preview --expect-no-changes after up, zero admin API writes",
    async (details) => {
      tenant().emulator.resetCalls();
      const r = await d.preview({ expectNoChanges: true });
      details.ops = r.ops;
      details.wallSeconds = r.wallMs / 1000;
      expect(tenant().emulator.writes()).toEqual([]);
      details.adminApiCalls = tenant().emulator.calls.length;
    },
    5 * MIN,
  );

  scenario(
    FILE,
    "browser: sign-in to the configured realm, mapped claims, exact redirect URI",
    async (details) => {
      const kc = [...d.env.operators.keycloaks.values()][0];
      const result = await signIn({
        keycloak: kc,
        realm: "maas",
        clientId: "3scale",
        appsDomain: APPS_DOMAIN,
        stack: d,
      });
      details.claims = result.claims;
      expect(result.claims.email_verified).toBe(true);
      expect(result.claims.org_name).toBe(result.email);
      expect(result.rejectedRedirects.length).toBeGreaterThan(0);
      for (const r of result.rejectedRedirects) expect(r.error).toMatch(/redirect_uri/i);
    },
    5 * MIN,
  );

  scenario(
    FILE,
    "4 refresh finds no drift; drift in the tenant and the API server is found and repaired",
    async (details) => {
      const t = tenant();
      t.emulator.resetCalls();
      const clean = await d.refresh({ expectNoChanges: true });
      details.cleanRefreshSeconds = clean.wallMs / 1000;
      expect(t.emulator.writes()).toEqual([]);
      // One GET per 3scale object (the promotion reads staging and production).
      const dynamic = clean.steps.filter((s) => s.type.startsWith("pulumi-nodejs:dynamic/")).length;
      details.adminApiReadsPerObject = +(t.emulator.calls.length / dynamic).toFixed(2);
      expect(t.emulator.calls.length / dynamic).toBeLessThan(1.2);

      // Drift in 3scale: metering removed from a chain, deployed and promoted outside Pulumi; a rule's delta changed.
      const state = t.emulator.state;
      const product = state.products.find((p) => p.system_name === TWO[0].name)!;
      product.proxy.policies_config = product.proxy.policies_config.filter((p) => p.name !== "llm_metrics");
      const rule = state.mappingRules.find(
        (r) => r.owner.type === "service" && r.owner.id === product.id && r.pattern === "/health",
      )!;
      rule.delta = 5;
      const admin = new AdminClient({ adminUrl: t.emulator.url, accessToken: t.emulator.accessToken });
      await admin.post(`/admin/api/services/${product.id}/proxy/deploy.json`);
      const sandbox = t.emulator.snapshot().products[product.system_name].latestVersions.sandbox!;
      await admin.post(`/admin/api/services/${product.id}/proxy/configs/sandbox/${sandbox}/promote.json`, {
        to: "production",
      });
      // Drift in the API server: someone edits the download script and scales the 3scale MySQL down.
      const api = d.env.api;
      const ns = TWO[1].name;
      const cms = await api.list<any>(`/api/v1/namespaces/${ns}/configmaps`);
      const script = cms.find((c) => c.metadata.name.endsWith("-script"));
      await api.request(
        "PATCH",
        `/api/v1/namespaces/${ns}/configmaps/${script.metadata.name}`,
        { data: { "hf_to_s3.py": "print('edited')" } },
        "application/merge-patch+json",
      );
      await api.request(
        "PATCH",
        resourcePath("apps/v1", "statefulsets", "3scale", "maas-system-mysql"),
        { spec: { replicas: 0 } },
        "application/merge-patch+json",
      );

      t.emulator.resetCalls();
      const drifted = await d.refresh();
      expect(t.emulator.writes()).toEqual([]);
      const names = changed(drifted).map((x) => x.replace(/^\S+ /, ""));
      details.drifted = names;
      expect(names).toEqual(
        expect.arrayContaining([
          `maas-3scale-config-${TWO[0].name}-policies`,
          `maas-3scale-config-${TWO[0].name}-rule-health`,
          `maas-model-${ns}-download-script`,
          "maas-threescale-mysql",
        ]),
      );

      const repair = await d.up();
      details.repair = changed(repair);
      const s = t.emulator.snapshot().products[product.system_name];
      expect(s.policies.map((x) => x.name)).toContain("llm_metrics");
      expect(s.mappingRules.find((r) => r.pattern === "/health")?.delta).toBe(1);
      expect(s.latestVersions.production).toBe(s.latestVersions.sandbox);
      expect(s.latestVersions.production).toBeGreaterThan(sandbox);
      const cm = await api.get<any>(`/api/v1/namespaces/${ns}/configmaps/${script.metadata.name}`);
      expect(cm.data["hf_to_s3.py"]).not.toBe("print('edited')");
      const mysql = await api.get<any>(resourcePath("apps/v1", "statefulsets", "3scale", "maas-system-mysql"));
      expect(mysql.spec.replicas).toBe(1);
      await d.preview({ expectNoChanges: true });
    },
    15 * MIN,
  );

  scenario(
    FILE,
    "5 a model added changes only its resources; removed, only its resources go",
    async (details) => {
      const third = MODELS[2].name;
      /** Resources outside the model that legitimately follow the set of models (each named with why). */
      const followsModels = [
        /-portal-content$/, // the portal's catalog lists every model
        /-gpu-capacity$/, // the capacity check is named after the GPUs required (replaced: a new check)
        / maas-endpoint-(product|doc|policies|promotion)$/, // the one endpoint routes and documents every model
        / maas-3scale-config-verification-maas-api-job$/, // and its verification calls each model (replaced)
      ];
      // The endpoint's per-model metrics and methods carry the model's name as a 3scale system name (`model_03`).
      const ofThird = (c: string) => c.includes(third) || c.includes(third.replace(/-/g, "_"));
      // Providers are engine bookkeeping (the default dynamic provider is re-registered when the stack config changes).
      const outside = (rep: CommandReport) =>
        changed(rep, false).filter((c) => !ofThird(c) && !followsModels.some((re) => re.test(c)));

      await d.configure(MODELS);
      const added = await d.up();
      details.added = changed(added);
      expect(outside(added)).toEqual([]);
      expect(changed(added).filter((c) => c.includes(third)).length).toBeGreaterThan(30);
      expect(tenant().emulator.snapshot().products[third]).toBeDefined();
      await noteAdoptedNamespaces();

      const calls = tenant().emulator;
      calls.resetCalls();
      await d.configure(TWO);
      const removed = await d.up();
      details.removed = changed(removed);
      expect(outside(removed)).toEqual([]);
      expect(
        changed(removed)
          .filter((c) => c.startsWith("delete"))
          .filter((c) => !ofThird(c) && !followsModels.some((re) => re.test(c))),
      ).toEqual([]);
      details.refusedDeletes = calls.calls.filter((c) => c.method === "DELETE" && c.status >= 300).length;
      expect(unrecoveredDeletes(calls.calls)).toEqual([]);
      expect(tenant().emulator.snapshot().products[third]).toBeUndefined();
      expect(
        await d.env.api.get(resourcePath("serving.kserve.io/v1beta1", "inferenceservices", third, third)),
      ).toBeUndefined();
      await d.preview({ expectNoChanges: true });
    },
    15 * MIN,
  );

  scenario(
    FILE,
    "7 destroy leaves the API server, the tenant and Keycloak as they were",
    async (details) => {
      await noteAdoptedNamespaces();
      details.adoptedNamespaces = [...adopted].sort();
      const kcUrl = [...d.env.operators.keycloaks.values()][0].url;
      const r = await d.destroy();
      details.destroy = r.ops;
      details.wallSeconds = r.wallMs / 1000;

      const before = d.env.initialObjects;
      const after = await listAllObjects(d.env.api);
      // Nothing that was there before is gone.
      expect(difference(before, after)).toEqual([]);
      // What stays, by design:
      // The API groups of the CRDs that stay: the aggregator keeps an APIService per served group version.
      const crdGroups = difference(after, before)
        .filter((k) => k.startsWith("apiextensions.k8s.io/CustomResourceDefinition "))
        .map((k) => k.split(" ")[1])
        .map((name) => name.slice(name.indexOf(".") + 1));
      const expected = (key: string) =>
        // namespaces adopted by patch (never deleted), and what Kubernetes puts in every namespace;
        [...adopted].some(
          (ns) =>
            key === `core/Namespace ${ns}` ||
            key === `core/ServiceAccount ${ns}/default` ||
            key === `core/ConfigMap ${ns}/kube-root-ca.crt`,
        ) ||
        // OLM keeps an operator's CSV when its Subscription is deleted, and never deletes CRDs (the bundles', KServe's);
        key.startsWith("operators.coreos.com/ClusterServiceVersion ") ||
        key.startsWith("apiextensions.k8s.io/CustomResourceDefinition ") ||
        (key.startsWith("apiregistration.k8s.io/APIService ") && crdGroups.some((g) => key.endsWith(`.${g}`))) ||
        // a StatefulSet's claims outlive it (persistentVolumeClaimRetentionPolicy whenDeleted: Retain, the default),
        /^core\/PersistentVolumeClaim [^/]+\/data-/.test(key) ||
        key.startsWith("core/PersistentVolume pvc-");
      const left = difference(after, before);
      details.leftByDesign = left.filter(expected);
      expect(left.filter((k) => !expected(k))).toEqual([]);
      expect(left.filter((k) => k.startsWith("apiextensions.k8s.io/")).length).toBeGreaterThanOrEqual(
        KSERVE_CRDS.length,
      );

      // The tenant as it was (the suite's stack keeps the default product), minus what 3scale cannot delete.
      const final = d.env.operators.finalTenants.get("3scale");
      expect(final).toBeDefined();
      const { authProviders: finalAuth, ...finalRest } = final!;
      const { authProviders: startAuth, ...startRest } = tenantAtStart;
      expect(finalRest).toEqual(startRest);
      // 3scale's API has no DELETE for developer-portal SSO providers: destroy unpublishes it.
      details.authProvidersLeft = Object.values(finalAuth).map((a) => ({ kind: a.kind, published: a.published }));
      expect(Object.keys(startAuth)).toEqual([]);
      expect(Object.values(finalAuth).every((a) => a.published === false)).toBe(true);

      // No realm: the Keycloak CR is gone and so is the server that held the realm.
      expect(d.env.operators.keycloaks.size).toBe(0);
      await expect(fetch(`${kcUrl}/realms/maas`)).rejects.toThrow();
    },
    10 * MIN,
  );
});
