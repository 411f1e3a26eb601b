/**
 * A 10-model stack through the real providers against the emulator: up, a no-op up and destroy.
 */
import type { TenantSnapshot } from "../../tools/threescale-emulator";
import { describeCalls, Deployment, manyModels, startDeployment } from "./support";

const models = manyModels(10);
let d: Deployment;
let fresh: TenantSnapshot;

beforeAll(async () => {
  d = await startDeployment({ config: { models } });
  fresh = d.emulator.snapshot();
});
afterAll(async () => {
  await d?.close();
});

describe("10-model stack", () => {
  it("up creates one complete, promoted product per model", async () => {
    await d.up();
    const s = d.emulator.snapshot();
    expect(Object.keys(s.products).sort()).toEqual(models.map((m) => m.name));
    expect(Object.keys(s.backends).sort()).toEqual(models.map((m) => `${m.name}-backend`));
    for (const m of models) {
      const product = s.products[m.name];
      expect(Object.keys(product.methods)).toHaveLength(7);
      expect(product.mappingRules).toHaveLength(7);
      expect(Object.keys(product.metrics)).toHaveLength(4);
      expect(product.policies.map((p) => p.name)).toEqual(["cors", "llm_metrics", "upstream_connection", "apicast"]);
      expect(product.latestVersions.production).not.toBeNull();
      expect(product.latestVersions.production).toBe(product.latestVersions.sandbox);
      expect(s.activeDocs[m.name].product).toBe(m.name);
      // No default plan unless one is marked (the deployment guide sets none).
      expect(Object.values(product.applicationPlans).filter((p) => p.default)).toHaveLength(0);
    }
    expect(Object.keys(s.accounts["maas-verification"].applications)).toHaveLength(10);
  });

  it("up again makes zero write calls", async () => {
    await d.up();
    expect(describeCalls(d.emulator.writes())).toEqual([]);
  });

  it("destroy removes every model's objects", async () => {
    await d.destroy();
    const s = d.emulator.snapshot();
    // 3scale keeps a tenant's last product (emptied); the sample product's removal is one-way.
    expect(Object.keys(s.products)).toHaveLength(1);
    expect(Object.values(s.products)[0].backendUsages).toEqual({});
    expect(s.backends).toEqual({});
    expect(s.activeDocs).toEqual({});
    expect(s.accounts).toEqual(fresh.accounts);
  });
});
