/**
 * Ten models on the real engine against the real counterparts: the first up builds one complete, promoted product
 * per model (and schedules ten GPU predictors on three GPU nodes), a no-op up makes zero admin API writes, a CORS
 * change rewrites only the policy chains and promotes each product once, and destroy removes every model's objects
 * from the tenant in an order 3scale accepts.
 */
import type { TenantSnapshot } from "../../tools/threescale-emulator";
import type { Deployment } from "../../tools/real/deployment";
import { realModels } from "../../tools/real/stack";
import { useDeployment } from "./use-deployment";
import { scenario } from "../../tools/real/summary";
import { unrecoveredDeletes } from "./tenant-deletes";

const FILE = "tests/real/ten-models.test.ts";
const MIN = 60_000;
const models = realModels(10);
const PORTAL = "https://maas.apps.maas-real.test";

let d: Deployment;
let fresh: TenantSnapshot;
const tenant = () => d.env.operators.tenant("3scale")!.emulator;
const writes = () =>
  tenant()
    .writes()
    .map((c) => `${c.method} ${c.path}`);

const deployment = useDeployment({ models, gpuNodes: 3 });
beforeAll(() => {
  d = deployment();
});

describe("ten models", () => {
  scenario(
    FILE,
    "ten models: up creates one complete, promoted product per model",
    async (details) => {
      const r = await d.up();
      details.ops = r.ops;
      details.wallSeconds = r.wallMs / 1000;
      fresh = d.env.operators.tenant("3scale")!.initial;
      const s = tenant().snapshot();
      expect(
        Object.keys(s.products)
          .filter((p) => p !== "api" && p !== "maas-api")
          .sort(),
      ).toEqual(models.map((m) => m.name));
      for (const m of models) {
        const product = s.products[m.name];
        expect(Object.keys(product.methods)).toHaveLength(7);
        expect(product.mappingRules).toHaveLength(7);
        expect(Object.keys(product.metrics).sort()).toEqual([
          "completion_tokens",
          "hits",
          "prompt_tokens",
          "total_tokens",
        ]);
        expect(product.policies.map((p) => p.name)).toEqual(["cors", "llm_metrics", "upstream_connection", "apicast"]);
        expect(product.policies[0].configuration).toMatchObject({ allow_origin: PORTAL });
        expect(product.latestVersions.production).not.toBeNull();
        expect(product.latestVersions.production).toBe(product.latestVersions.sandbox);
        expect(s.activeDocs[m.name].product).toBe(m.name);
        // No default plan: 3scale would subscribe every new developer to it.
        expect(Object.values(product.applicationPlans).filter((p) => p.default)).toHaveLength(0);
      }
      // The one endpoint routes to every model's backend; the verification account has an application per product.
      expect(Object.keys(s.products["maas-api"].backendUsages)).toHaveLength(10);
      expect(Object.keys(s.accounts["maas-verification"].applications)).toHaveLength(11);
      const pods = await d.env.api.list<any>("/api/v1/pods");
      const predictors = pods.filter((p) => /-predictor-/.test(p.metadata.name));
      expect(predictors).toHaveLength(10);
      expect(predictors.every((p) => p.status.phase === "Running" && /gpu/.test(p.spec.nodeName))).toBe(true);
    },
    20 * MIN,
  );

  scenario(
    FILE,
    "ten models: a no-op up makes zero admin API writes",
    async (details) => {
      tenant().resetCalls();
      const r = await d.up({ expectNoChanges: true });
      details.wallSeconds = r.wallMs / 1000;
      details.adminApiCalls = tenant().calls.length;
      expect(writes()).toEqual([]);
    },
    10 * MIN,
  );

  scenario(
    FILE,
    "ten models: a CORS change rewrites only the policy chains and promotes each product once (the endpoint too)",
    async (details) => {
      const before = tenant().snapshot();
      tenant().resetCalls();
      await d.configure(models, 3, { corsAllowOrigins: [PORTAL, "https://chat.example.org"] });
      const r = await d.up();
      details.ops = r.ops;
      const w = writes();
      details.writes = w.length;
      expect(w.filter((x) => /policies/.test(x))).toHaveLength(11);
      expect(w.filter((x) => /promote/.test(x))).toHaveLength(11);
      expect(w.every((x) => /policies|deploy|promote/.test(x))).toBe(true);
      const s = tenant().snapshot();
      for (const m of models) {
        expect(s.products[m.name].latestVersions.sandbox).toBe(before.products[m.name].latestVersions.sandbox! + 1);
        expect(s.products[m.name].latestVersions.production).toBe(s.products[m.name].latestVersions.sandbox);
      }
    },
    10 * MIN,
  );

  scenario(
    FILE,
    "ten models: destroy removes every model's objects from the tenant",
    async (details) => {
      tenant().resetCalls();
      const emulator = tenant();
      const r = await d.destroy();
      details.wallSeconds = r.wallMs / 1000;
      expect(unrecoveredDeletes(emulator.calls)).toEqual([]);
      const s = d.env.operators.finalTenants.get("3scale")!;
      expect(s.products).toEqual(fresh.products);
      expect(s.backends).toEqual(fresh.backends);
      expect(s.activeDocs).toEqual(fresh.activeDocs);
      expect(s.accounts).toEqual(fresh.accounts);
    },
    15 * MIN,
  );
});
