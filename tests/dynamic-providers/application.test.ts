import { ApplicationPlanProvider } from "../../dynamic-providers/application-plan";
import { ApplicationProvider, applicationProvider } from "../../dynamic-providers/application";
import { DeveloperAccountProvider } from "../../dynamic-providers/developer-account";
import type { Connection } from "../../dynamic-providers/threescale/client";
import { lifecycleSuite } from "./lifecycle";
import { developerAccount, FAST_CLIENT, makeProduct, useEmulator } from "./support";

/** A published plan of a product; the product is made unless given. */
async function plan(connection: Connection, unique: string, productId?: number, systemName = "basic"): Promise<number> {
  const created = await new ApplicationPlanProvider(FAST_CLIENT).create({
    connection,
    productId: productId ?? (await makeProduct(connection, `a_${unique}`)).id,
    systemName,
    name: systemName,
    published: true,
    default: true,
  });
  return Number(created.id);
}

describe("Application", () => {
  lifecycleSuite({
    type: "Application",
    shared: applicationProvider,
    make: (o) => new ApplicationProvider(o),
    inputs: async (connection) => {
      const owner = await new DeveloperAccountProvider(FAST_CLIENT).create({ connection, ...developerAccount("app") });
      return { accountId: Number(owner.id), planId: await plan(connection, "app"), name: "e2e", description: "app" };
    },
    changed: (i) => ({ ...i, description: "now described" }),
    drift: (s, id) => (s.applications.find((a) => a.id === id)!.description = "edited by hand"),
    count: (s, i) => s.applications.filter((a) => a.account_id === i.accountId && a.name === i.name).length,
    expectApplied: (s, id, i) =>
      expect(s.applications.find((a) => a.id === id)).toMatchObject({
        plan_id: i.planId,
        name: i.name,
        description: i.description,
      }),
    badInputs: [
      { what: "plan id missing", mutate: (i) => ({ ...i, planId: undefined }), property: "planId" },
      { what: "account id zero", mutate: (i) => ({ ...i, accountId: 0 }), property: "accountId" },
    ],
  });

  const ctx = useEmulator();
  it("outputs the user key the gateway accepts", async () => {
    const provider = new ApplicationProvider(FAST_CLIENT);
    const owner = await new DeveloperAccountProvider(FAST_CLIENT).create({
      connection: ctx.connection,
      ...developerAccount("key"),
    });
    const inputs = {
      connection: ctx.connection,
      accountId: Number(owner.id),
      planId: await plan(ctx.connection, "key"),
      name: "k",
    };
    const { id, outs } = await provider.create(inputs);
    const app = ctx.emulator.state.applications.find((a) => a.id === Number(id))!;
    expect(outs.userKey).toBe(app.user_key);
    expect(outs.userKey).toMatch(/^[\w.-]{8,}$/);
  });

  it("moves the application to another plan of its product with change_plan", async () => {
    const provider = new ApplicationProvider(FAST_CLIENT);
    const owner = await new DeveloperAccountProvider(FAST_CLIENT).create({
      connection: ctx.connection,
      ...developerAccount("mv"),
    });
    const product = await makeProduct(ctx.connection, "moving");
    const basic = await plan(ctx.connection, "mv", product.id, "basic");
    const pro = await plan(ctx.connection, "mv", product.id, "pro");
    const inputs = { connection: ctx.connection, accountId: Number(owner.id), planId: basic, name: "mover" };
    const { id, outs } = await provider.create(inputs);
    ctx.emulator.resetCalls();
    const moved = { ...inputs, planId: pro };
    expect((await provider.diff(id, outs, moved)).changes).toBe(true);
    const updated = await provider.update(id, outs, moved);
    expect(ctx.emulator.writes().map((c) => `${c.method} ${c.path}`)).toEqual([
      `PUT /admin/api/accounts/${owner.id}/applications/${id}/change_plan.json`,
    ]);
    expect(ctx.emulator.state.applications.find((a) => a.id === Number(id))!.plan_id).toBe(pro);
    expect(updated.outs).toMatchObject({ planId: pro, applicationId: Number(id), userKey: outs.userKey });
    // drift: moved back by hand; refresh shows it and the next update moves it again
    ctx.emulator.state.applications.find((a) => a.id === Number(id))!.plan_id = basic;
    const read = await provider.read(id, updated.outs);
    expect(read.props!.planId).toBe(basic);
    await provider.update(id, read.props, moved);
    expect(ctx.emulator.state.applications.find((a) => a.id === Number(id))!.plan_id).toBe(pro);
  });
});
