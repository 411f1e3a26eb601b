import { ApplicationPlanProvider } from "../../dynamic-providers/application-plan";
import { PlanLimitProvider, planLimitProvider } from "../../dynamic-providers/plan-limit";
import type { Connection } from "../../dynamic-providers/threescale/client";
import { lifecycleSuite } from "./lifecycle";
import { FAST_CLIENT, makeMetric, makeProduct, useEmulator } from "./support";

async function planWithMetric(connection: Connection, systemName: string) {
  const product = await makeProduct(connection, systemName);
  const plan = await new ApplicationPlanProvider(FAST_CLIENT).create({
    connection,
    productId: product.id,
    systemName: "basic",
    name: "Basic",
    published: true,
  });
  return { planId: Number(plan.id), metricId: await makeMetric(connection, product.id, "total_tokens") };
}

describe("PlanLimit lifecycle", () => {
  lifecycleSuite({
    type: "PlanLimit",
    shared: planLimitProvider,
    make: (o) => new PlanLimitProvider(o),
    inputs: async (connection) => ({ ...(await planWithMetric(connection, "limits")), period: "day", value: 1000 }),
    changed: (i) => ({ ...i, value: 0 }),
    drift: (s, id) => (s.limits.find((l) => l.id === id)!.value = 5),
    count: (s, i) =>
      s.limits.filter((l) => l.plan_id === i.planId && l.metric_id === i.metricId && l.period === i.period).length,
    expectApplied: (s, id, i) => expect(s.limits.find((l) => l.id === id)!.value).toBe(i.value),
    badInputs: [
      { what: "unknown period", mutate: (i) => ({ ...i, period: "fortnight" }), property: "period" },
      { what: "fractional value", mutate: (i) => ({ ...i, value: 1.5 }), property: "value" },
      { what: "negative value", mutate: (i) => ({ ...i, value: -1 }), property: "value" },
      { what: "plan id as text", mutate: (i) => ({ ...i, planId: "12" }), property: "planId" },
    ],
  });
});

describe("PlanLimit", () => {
  const ctx = useEmulator();

  it("keeps limits of different periods on one metric apart, and a period change replaces", async () => {
    const provider = new PlanLimitProvider(FAST_CLIENT);
    const ids = await planWithMetric(ctx.connection, "periods");
    const base = { connection: ctx.connection, ...ids, value: 10 };
    const day = await provider.create({ ...base, period: "day" });
    const minute = await provider.create({ ...base, period: "minute", value: 1 });
    expect(day.id).not.toBe(minute.id);
    expect(ctx.emulator.state.limits.filter((l) => l.plan_id === ids.planId)).toHaveLength(2);
    const diff = await provider.diff(day.id, day.outs, { ...base, period: "hour" });
    expect(diff.replaces).toEqual(["period"]);
  });
});
