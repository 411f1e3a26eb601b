/** Signup subscribes the new account to the tenant's default plans (porta signup/plans_with_defaults.rb). */
import { startEmulator } from "../../../tools/threescale-emulator";
import { apiFor, productWithBackend, useEmulator, type Api } from "./test-support";

const developer = (name: string) => ({
  org_name: `${name} Co`,
  username: name,
  email: `${name}@example.com`,
  password: "pw-123456",
});

async function appPlan(api: Api, serviceId: number, name: string, makeDefault = false) {
  const plan = (await api("POST", `/admin/api/services/${serviceId}/application_plans.json`, { json: { name } })).body
    .application_plan;
  if (makeDefault) await api("PUT", `/admin/api/services/${serviceId}/application_plans/${plan.id}/default.json`);
  return plan.id as number;
}

describe("signup and default plans", () => {
  const ctx = useEmulator();

  it("gives the account an 'API signup' application on every product's default application plan", async () => {
    // porta signups_controller.rb L37-39 (defaults), plans_with_defaults.rb L14-18, L71-93, account_manager.rb L64-69
    const a = await productWithBackend(ctx.api);
    const b = await productWithBackend(ctx.api);
    const c = await productWithBackend(ctx.api); // no default application plan: no application
    const planA = await appPlan(ctx.api, a.serviceId, "A basic", true);
    const planB = await appPlan(ctx.api, b.serviceId, "B basic", true);
    const chosenB = await appPlan(ctx.api, b.serviceId, "B premium");
    await appPlan(ctx.api, c.serviceId, "C basic");

    const plain = await ctx.api("POST", "/admin/api/signup.json", { json: developer("plain") });
    expect(plain.status).toBe(201);
    // AccountRepresenter ignores `with_apps` (account_representer.rb L34-45): no applications in the answer
    expect(plain.body.account).not.toHaveProperty("applications");
    const apps = (
      await ctx.api("GET", `/admin/api/accounts/${plain.body.account.id}/applications.json`)
    ).body.applications.map((x: any) => x.application);
    expect(apps.map((x: any) => [x.plan_id, x.name, x.description]).sort()).toEqual(
      [
        [planA, "API signup", "API signup"],
        [planB, "API signup", "API signup"],
      ].sort(),
    );
    // each product with an application also got a subscription (its first published service plan), and so did the
    // sample product, whose Default service plan is its default (provider_signup.rb L27-30); c got none
    const contracts = ctx.emulator.state.serviceContracts.filter((x) => x.account_id === plain.body.account.id);
    const sample = ctx.emulator.state.products.find((p) => p.system_name === "api")!.id;
    expect(contracts.map((x) => x.service_id).sort()).toEqual([a.serviceId, b.serviceId, sample].sort());

    // an application_plan_id replaces its product's default; the other products keep theirs (L89)
    const chosen = await ctx.api("POST", "/admin/api/signup.json", {
      json: { ...developer("chooser"), application_plan_id: chosenB },
    });
    const chosenApps = (
      await ctx.api("GET", `/admin/api/accounts/${chosen.body.account.id}/applications.json`)
    ).body.applications.map((x: any) => x.application.plan_id);
    expect(chosenApps.sort()).toEqual([planA, chosenB].sort());

    // an unknown plan id is dropped (signups_controller.rb L44-48 `provided_plans.where(id:)`)
    const unknown = await ctx.api("POST", "/admin/api/signup.json", {
      json: { ...developer("unknown_plan"), application_plan_id: 999999 },
    });
    expect(unknown.status).toBe(201);
  });

  it("a plan with an application cannot be deleted: 403 with porta's message", async () => {
    // porta plan.rb L195-207, L504-506; en.yml L1119; ThreeScale::Api::Responder#error_status L67-75
    const { serviceId } = await productWithBackend(ctx.api);
    const plan = await appPlan(ctx.api, serviceId, "Held", true);
    const account = await ctx.api("POST", "/admin/api/signup.json", { json: developer("holder") });
    const refused = await ctx.api("DELETE", `/admin/api/services/${serviceId}/application_plans/${plan}.json`);
    expect([refused.status, refused.body]).toEqual([
      403,
      { errors: { base: ["This application plan cannot be deleted! At least one application depends on it."] } },
    ]);
    const app = ctx.emulator.state.applications.find(
      (x) => x.account_id === account.body.account.id && x.plan_id === plan,
    )!;
    await ctx.api("DELETE", `/admin/api/accounts/${account.body.account.id}/applications/${app.id}.json`);
    const done = await ctx.api("DELETE", `/admin/api/services/${serviceId}/application_plans/${plan}.json`);
    expect(done.status).toBe(200);
  });

  it("validation errors come first (422), then plan errors (404)", async () => {
    const blank = await ctx.api("POST", "/admin/api/signup.json", { json: { ...developer("x1"), org_name: "" } });
    expect([blank.status, blank.body]).toEqual([422, { errors: { org_name: ["can't be blank"] } }]);
  });
});

describe("signup without a default account plan", () => {
  it("answers 404 (signups_controller.rb L26: 'Account Plan is required' → RecordNotFound)", async () => {
    const emulator = await startEmulator({ seedDefaults: false });
    try {
      const api = apiFor(emulator);
      const res = await api("POST", "/admin/api/signup.json", { json: developer("orphan") });
      expect([res.status, res.body]).toEqual([404, { status: "Not found" }]);
      expect(emulator.state.accounts).toEqual([]);
      // with an account plan chosen explicitly, signup works
      emulator.state.accountPlans.push({
        id: 5,
        created_at: "",
        updated_at: "",
        name: "Chosen",
        system_name: "chosen",
        state: "published",
        approval_required: true,
      });
      const chosen = await api("POST", "/admin/api/signup.json", {
        json: { ...developer("chosen"), account_plan_id: 5 },
      });
      expect([chosen.status, chosen.body.account.state]).toEqual([201, "pending"]);
    } finally {
      await emulator.close();
    }
  });

  it("answers 404 when a product's default application plan has no service plan to go with it", async () => {
    // plans_with_defaults.rb L104-109: "Couldn't find a Service Plan for <product>..."
    const emulator = await startEmulator();
    try {
      const api = apiFor(emulator);
      const { serviceId } = await productWithBackend(api);
      await appPlan(api, serviceId, "Lonely", true);
      // the chosen service plan of another product does not help; the product's own is hidden and not default
      emulator.state.servicePlans.filter((p) => p.service_id === serviceId).forEach((p) => (p.state = "hidden"));
      const res = await api("POST", "/admin/api/signup.json", { json: developer("lonely") });
      expect([res.status, res.body]).toEqual([404, { status: "Not found" }]);
    } finally {
      await emulator.close();
    }
  });
});
