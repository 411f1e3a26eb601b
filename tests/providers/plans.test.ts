import { ApplicationPlanProvider, type ApplicationPlanInputs } from "../../dynamic-providers/application-plan";
import { FAST_CLIENT, useEmulator } from "./support";
import { lifecycleSuite, makeProduct } from "./support-b";

const ctx = useEmulator();

describe("ApplicationPlan", () => {
  lifecycleSuite<ApplicationPlanInputs>(ctx, {
    Provider: ApplicationPlanProvider,
    inputs: async (connection, unique) => ({
      connection,
      productId: (await makeProduct(connection, `p_${unique}`)).id,
      systemName: "basic",
      name: "Basic",
      description: "1000 tokens a day",
      published: true,
      default: true,
      costPerMonth: 0,
    }),
    matching: (emulator, inputs) =>
      emulator.state.applicationPlans.filter(
        (p) => p.service_id === inputs.productId && p.system_name === inputs.systemName,
      ),
    expectApplied: (plan, inputs) => {
      expect(plan).toMatchObject({
        name: inputs.name,
        description: inputs.description,
        state: inputs.published ? "published" : "hidden",
      });
    },
    change: (inputs) => ({ ...inputs, name: "Basic tier", published: false, trialPeriodDays: 7 }),
    drift: (plan) => {
      plan.name = "renamed in the admin UI";
      plan.state = "hidden";
    },
    expectDeleted: (emulator, inputs) =>
      expect(emulator.state.applicationPlans.filter((p) => p.service_id === inputs.productId)).toEqual([]),
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
