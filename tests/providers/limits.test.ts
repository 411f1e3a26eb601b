import { ApplicationPlanProvider } from "../../dynamic-providers/application-plan";
import { LIMIT_PERIODS, PlanLimitProvider, type PlanLimitInputs } from "../../dynamic-providers/plan-limit";
import { LIMIT_PERIODS as CONFIG_LIMIT_PERIODS } from "../../components/config/schema";
import { FAST_CLIENT, useEmulator } from "./support";
import { lifecycleSuite, makeMetric, makeProduct } from "./support-b";

const ctx = useEmulator();

async function planWithMetric(unique: string) {
  const product = await makeProduct(ctx.connection, `l_${unique}`);
  const plan = await new ApplicationPlanProvider(FAST_CLIENT).create({
    connection: ctx.connection,
    productId: product.id,
    systemName: "basic",
    name: "Basic",
    published: true,
  });
  return { planId: Number(plan.id), metricId: await makeMetric(ctx.connection, product.id, "total_tokens") };
}

describe("PlanLimit", () => {
  lifecycleSuite<PlanLimitInputs>(ctx, {
    Provider: PlanLimitProvider,
    inputs: async (connection, unique) => ({
      connection,
      ...(await planWithMetric(unique)),
      period: "day",
      value: 1000,
    }),
    matching: (emulator, inputs) =>
      emulator.state.limits.filter(
        (l) => l.plan_id === inputs.planId && l.metric_id === inputs.metricId && l.period === inputs.period,
      ),
    expectApplied: (limit, inputs) => expect(limit.value).toBe(inputs.value),
    change: (inputs) => ({ ...inputs, value: 0 }),
    drift: (limit) => {
      limit.value = 5;
    },
    expectDeleted: (emulator, inputs) =>
      expect(emulator.state.limits.filter((l) => l.plan_id === inputs.planId)).toEqual([]),
    badInputs: [
      { what: "unknown period", mutate: (i) => ({ ...i, period: "fortnight" }), property: "period" },
      { what: "fractional value", mutate: (i) => ({ ...i, value: 1.5 }), property: "value" },
      { what: "negative value", mutate: (i) => ({ ...i, value: -1 }), property: "value" },
      { what: "plan id as text", mutate: (i) => ({ ...i, planId: "12" }), property: "planId" },
    ],
  });

  it("keeps limits of different periods on one metric apart, and a period change replaces", async () => {
    const provider = new PlanLimitProvider(FAST_CLIENT);
    const ids = await planWithMetric("periods");
    const base = { connection: ctx.connection, ...ids, value: 10 };
    const day = await provider.create({ ...base, period: "day" });
    const minute = await provider.create({ ...base, period: "minute", value: 1 });
    expect(day.id).not.toBe(minute.id);
    expect(ctx.emulator.state.limits.filter((l) => l.plan_id === ids.planId)).toHaveLength(2);
    const diff = await provider.diff(day.id, day.outs, { ...base, period: "hour" });
    expect(diff.replaces).toEqual(["period"]);
  });

  it("accepts exactly the periods the stack config offers", () => {
    expect([...LIMIT_PERIODS]).toEqual([...CONFIG_LIMIT_PERIODS]);
  });
});
