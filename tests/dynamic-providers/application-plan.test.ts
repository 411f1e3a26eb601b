import { ApplicationPlanProvider, applicationPlanProvider } from "../../dynamic-providers/application-plan";
import { lifecycleSuite } from "./lifecycle";
import { FAST_CLIENT, makeProduct, useEmulator } from "./support";

const plan = (s: { applicationPlans: Array<{ id: number }> }, id: number) =>
  s.applicationPlans.find((p) => p.id === id)!;

describe("ApplicationPlan lifecycle", () => {
  lifecycleSuite({
    type: "ApplicationPlan",
    shared: applicationPlanProvider,
    make: (o) => new ApplicationPlanProvider(o),
    inputs: async (connection) => ({
      productId: (await makeProduct(connection, "plans")).id,
      systemName: "basic",
      name: "Basic",
      description: "1000 tokens a day",
      published: true,
      default: true,
      costPerMonth: 0,
    }),
    changed: (i) => ({ ...i, name: "Basic tier", published: false, trialPeriodDays: 7 }),
    drift: (s, id) => Object.assign(plan(s, id), { name: "renamed in the admin UI", state: "hidden" }),
    count: (s, i) =>
      s.applicationPlans.filter((p) => p.service_id === i.productId && p.system_name === i.systemName).length,
    expectApplied: (s, id, i) =>
      expect(plan(s, id)).toMatchObject({
        name: i.name,
        description: i.description,
        state: i.published ? "published" : "hidden",
      }),
    badInputs: [
      { what: "system name with a space", mutate: (i) => ({ ...i, systemName: "a b" }), property: "systemName" },
      { what: "published not a boolean", mutate: (i) => ({ ...i, published: "yes" }), property: "published" },
      { what: "negative cost", mutate: (i) => ({ ...i, costPerMonth: -1 }), property: "costPerMonth" },
      {
        what: "bad admin URL",
        mutate: (i) => ({ ...i, connection: { ...i.connection, adminUrl: "ftp://x" } }),
        property: "connection.adminUrl",
      },
    ],
  });
});

describe("ApplicationPlan", () => {
  const ctx = useEmulator();

  it("makes the plan the product's default and publishes it only when that must change", async () => {
    const provider = new ApplicationPlanProvider(FAST_CLIENT);
    const product = await makeProduct(ctx.connection, "default_plan_check");
    const base = { connection: ctx.connection, productId: product.id, published: true };
    const a = await provider.create({ ...base, systemName: "plan_a", name: "A", default: true });
    const b = await provider.create({ ...base, systemName: "plan_b", name: "B" });
    const defaultOf = () => ctx.emulator.state.products.find((p) => p.id === product.id)!.default_application_plan_id;
    expect(defaultOf()).toBe(Number(a.id));

    ctx.emulator.resetCalls();
    await provider.update(b.id, b.outs, { ...base, systemName: "plan_b", name: "B", default: true });
    expect(defaultOf()).toBe(Number(b.id));
    expect(ctx.emulator.writes().map((c) => `${c.method} ${c.path}`)).toEqual([
      `PUT /admin/api/services/${product.id}/application_plans/${b.id}/default.json`,
    ]);
  });

  it("changing the system name or product replaces the plan", async () => {
    const provider = new ApplicationPlanProvider(FAST_CLIENT);
    const olds = { connection: ctx.connection, productId: 1, systemName: "plan_a", name: "A", published: true };
    const diff = await provider.diff("1", olds, { ...olds, systemName: "plan_b", productId: 2 });
    expect(diff).toMatchObject({ changes: true, deleteBeforeReplace: true });
    expect([...diff.replaces!].sort()).toEqual(["productId", "systemName"]);
  });
});
