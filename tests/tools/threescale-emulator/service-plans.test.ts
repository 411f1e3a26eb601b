/** Service plans: list/read, create, update with state_event, default, delete guard. */
import { productWithBackend, useEmulator } from "./test-support";

describe("service plans", () => {
  const ctx = useEmulator();

  it("creates hidden plans, updates name/approval, publishes and hides with state_event", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const base = `/admin/api/services/${serviceId}/service_plans`;
    const created = await ctx.api("POST", `${base}.json`, {
      form: { name: "Premium Support", approval_required: "true" },
    });
    expect(created.status).toBe(201);
    const plan = created.body.service_plan;
    // porta service_plan_representer.rb + plan_representer.rb: no system_name, no service_id; trial days `to_i`
    expect(plan).toMatchObject({
      name: "Premium Support",
      state: "hidden",
      approval_required: true,
      default: false,
      trial_period_days: 0,
      setup_fee: 0,
      cost_per_month: 0,
    });
    expect(plan).not.toHaveProperty("system_name");
    expect(plan).not.toHaveProperty("service_id");

    const updated = await ctx.api("PUT", `${base}/${plan.id}.json`, {
      json: { name: "Premium", approval_required: false, state_event: "publish" },
    });
    expect(updated.status).toBe(200);
    expect(updated.body.service_plan).toMatchObject({
      id: plan.id,
      name: "Premium",
      state: "published",
      approval_required: false,
    });
    expect(ctx.emulator.state.servicePlans.find((p) => p.id === plan.id)!.system_name).toBe("premium_support");
    const redundant = await ctx.api("PUT", `${base}/${plan.id}.json`, { form: { state_event: "publish" } });
    expect(redundant.status).toBe(422);
    expect(redundant.body.errors.state_event).toEqual(["is invalid"]);
    const hidden = await ctx.api("PUT", `${base}/${plan.id}.json`, { form: { state_event: "hide" } });
    expect(hidden.body.service_plan.state).toBe("hidden");

    const list = await ctx.api("GET", `${base}.json`);
    expect(list.body.plans.map((p: any) => p.service_plan.name)).toEqual(["Default", "Premium"]);
    expect((await ctx.api("GET", `${base}/${plan.id}.json`)).body.service_plan.name).toBe("Premium");
  });

  it("validates name and system_name, and needs the wrapped fields in the body", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const base = `/admin/api/services/${serviceId}/service_plans`;
    const blank = await ctx.api("POST", `${base}.json`, { form: { name: "" } });
    expect(blank.status).toBe(422);
    expect(blank.body.errors.name).toEqual(["can't be blank"]);
    const dup = await ctx.api("POST", `${base}.json`, { form: { name: "Another", system_name: "default" } });
    expect(dup.body.errors.system_name).toEqual(["has already been taken"]);
    const [plan] = (await ctx.api("GET", `${base}.json`)).body.plans;
    const queryOnly = await ctx.api("PUT", `${base}/${plan.service_plan.id}.json`, { query: { name: "X" } });
    expect(queryOnly.status).toBe(400);
    expect(queryOnly.text).toBe("Required parameter missing: service_plan");
  });

  it("moves the default, refuses deleting a plan with subscriptions, deletes an unused one", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const base = `/admin/api/services/${serviceId}/service_plans`;
    const [seeded] = (await ctx.api("GET", `${base}.json`)).body.plans.map((p: any) => p.service_plan);
    expect(seeded).toMatchObject({ name: "Default", default: false });
    const appPlan = await ctx.api("POST", `/admin/api/services/${serviceId}/application_plans.json`, {
      json: { name: "Free" },
    });
    const account = await ctx.api("POST", "/admin/api/signup.json", {
      form: { org_name: "Sub Co", username: "subscriber", email: "sub@example.com", password: "pw-123456" },
    });
    await ctx.api("POST", `/admin/api/accounts/${account.body.account.id}/applications.json`, {
      form: { plan_id: String(appPlan.body.application_plan.id), name: "App" },
    });
    // the application subscribed the account through the first service plan (logic/contracting.rb L53-70)
    expect(ctx.emulator.state.serviceContracts.filter((c) => c.plan_id === seeded.id)).toHaveLength(1);
    const refused = await ctx.api("DELETE", `${base}/${seeded.id}.json`);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      errors: { base: ["This service plan cannot be deleted! At least one contract depends on it."] },
    });

    const spare = (await ctx.api("POST", `${base}.json`, { form: { name: "Spare" } })).body.service_plan;
    const moved = await ctx.api("PUT", `${base}/${spare.id}/default.json`, { form: {} });
    expect(moved.body.service_plan).toMatchObject({ id: spare.id, default: true });
    expect((await ctx.api("GET", `${base}/${seeded.id}.json`)).body.service_plan.default).toBe(false);
    const gone = await ctx.api("POST", `${base}.json`, { form: { name: "Unused" } });
    const deleted = await ctx.api("DELETE", `${base}/${gone.body.service_plan.id}.json`);
    expect(deleted.status).toBe(200);
    expect(deleted.text).toBe("");
    expect((await ctx.api("GET", `${base}/${gone.body.service_plan.id}.json`)).status).toBe(404);
    const otherProduct = await productWithBackend(ctx.api);
    const foreign = `/admin/api/services/${otherProduct.serviceId}/service_plans/${spare.id}.json`;
    expect((await ctx.api("GET", foreign)).status).toBe(404);
  });
});
