/** Developer accounts: update, their users, and moving an application to another plan. */
import { productWithBackend, useEmulator, type Api } from "./test-support";

const signup = async (api: Api, username: string) => {
  const res = await api("POST", "/admin/api/signup.json", {
    form: { org_name: `${username} Inc`, username, email: `${username}@example.com`, password: "pw-123456" },
  });
  expect(res.status).toBe(201);
  return res.body.account.id as number;
};

const createPlan = async (api: Api, serviceId: number, name: string) => {
  const res = await api("POST", `/admin/api/services/${serviceId}/application_plans.json`, { json: { name } });
  expect(res.status).toBe(201);
  return res.body.application_plan.id as number;
};

describe("account update", () => {
  const ctx = useEmulator();

  it("changes org_name, the billing switches and extra fields from flat params; a blank org_name is a 422", async () => {
    const id = await signup(ctx.api, "upd");
    const res = await ctx.api("PUT", `/admin/api/accounts/${id}.json`, {
      json: { org_name: "Renamed Inc", monthly_billing_enabled: false, vat_code: "EU123" },
    });
    expect(res.status).toBe(200);
    expect(res.body.account).toMatchObject({
      id,
      org_name: "Renamed Inc",
      monthly_billing_enabled: false,
      monthly_charging_enabled: true,
      extra_fields: { vat_code: "EU123" },
    });
    const read = await ctx.api("GET", `/admin/api/accounts/${id}.json`);
    expect(read.body.account.org_name).toBe("Renamed Inc");
    expect(ctx.emulator.snapshot().accounts.upd.org_name).toBe("Renamed Inc");

    const blank = await ctx.api("PUT", `/admin/api/accounts/${id}.json`, { form: { org_name: " " } });
    expect(blank.status).toBe(422);
    expect(blank.body).toEqual({ errors: { org_name: ["can't be blank"] } });
    expect((await ctx.api("GET", `/admin/api/accounts/${id}.json`)).body.account.org_name).toBe("Renamed Inc");
  });

  it("answers 404 for an unknown account and counts only real changes as updates", async () => {
    expect((await ctx.api("PUT", "/admin/api/accounts/999999.json", { json: { org_name: "X" } })).status).toBe(404);
    const id = await signup(ctx.api, "same");
    const before = ctx.emulator.state.accounts.find((a) => a.id === id)!.updated_at;
    const res = await ctx.api("PUT", `/admin/api/accounts/${id}.json`, { json: { org_name: "same Inc" } });
    expect(res.status).toBe(200);
    expect(res.body.account.updated_at).toBe(before);
  });
});

describe("account users", () => {
  const ctx = useEmulator();

  it("signup creates the account's active admin user, listed and readable, and findable by user_id", async () => {
    const id = await signup(ctx.api, "alice");
    const list = await ctx.api("GET", `/admin/api/accounts/${id}/users.json`);
    expect(list.status).toBe(200);
    expect(list.body.users).toHaveLength(1);
    const user = list.body.users[0].user;
    expect(user).toMatchObject({
      account_id: id,
      username: "alice",
      email: "alice@example.com",
      role: "admin",
      state: "active",
    });
    expect(user).not.toHaveProperty("password");
    const read = await ctx.api("GET", `/admin/api/accounts/${id}/users/${user.id}.json`);
    expect(read.body.user).toEqual(user);
    const byUserId = await ctx.api("GET", "/admin/api/accounts/find.json", { query: { user_id: String(user.id) } });
    expect(byUserId.body.account.id).toBe(id);
  });

  it("filters by state and role, scopes users to their account, and drops them with the account", async () => {
    const id = await signup(ctx.api, "bob");
    const other = await signup(ctx.api, "carol");
    const members = await ctx.api("GET", `/admin/api/accounts/${id}/users.json`, { query: { role: "member" } });
    expect(members.body.users).toEqual([]);
    const pending = await ctx.api("GET", `/admin/api/accounts/${id}/users.json`, { query: { state: "pending" } });
    expect(pending.body.users).toEqual([]);
    const admins = await ctx.api("GET", `/admin/api/accounts/${id}/users.json`, { query: { role: "admin" } });
    const bobId = admins.body.users[0].user.id;
    expect((await ctx.api("GET", `/admin/api/accounts/${other}/users/${bobId}.json`)).status).toBe(404);
    expect((await ctx.api("GET", "/admin/api/accounts/999999/users.json")).status).toBe(404);

    const taken = await ctx.api("POST", "/admin/api/signup.json", {
      form: { org_name: "Other", username: "bob", email: "bob2@example.com", password: "pw-123456" },
    });
    expect(taken.body.errors.username).toEqual(["has already been taken"]);

    expect((await ctx.api("DELETE", `/admin/api/accounts/${id}.json`)).status).toBe(200);
    expect(ctx.emulator.state.users.some((u) => u.account_id === id)).toBe(false);
    expect((await ctx.api("GET", "/admin/api/accounts/find.json", { query: { username: "bob" } })).status).toBe(404);
  });
});

describe("application change_plan", () => {
  const ctx = useEmulator();

  it("moves an application to another plan of its product and answers with the plan", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const free = await createPlan(ctx.api, serviceId, "Free");
    const pro = await createPlan(ctx.api, serviceId, "Pro");
    const accountId = await signup(ctx.api, "mover");
    const app = await ctx.api("POST", `/admin/api/accounts/${accountId}/applications.json`, {
      form: { plan_id: String(free), name: "App" },
    });
    const appId = app.body.application.id;
    const path = `/admin/api/accounts/${accountId}/applications/${appId}/change_plan.json`;

    const moved = await ctx.api("PUT", path, { form: { plan_id: String(pro) } });
    expect(moved.status).toBe(200);
    expect(moved.body).toEqual({ application_plan: expect.objectContaining({ id: pro, name: "Pro" }) });
    const read = await ctx.api("GET", `/admin/api/accounts/${accountId}/applications/${appId}.json`);
    expect(read.body.application).toMatchObject({ plan_id: pro, plan_name: "Pro" });
    expect(ctx.emulator.snapshot().accounts.mover.applications.App.plan).toBe("pro");

    const again = await ctx.api("PUT", path, { json: { plan_id: pro } });
    expect(again.status).toBe(200);
    expect(again.body.application_plan.id).toBe(pro);
  });

  it("refuses a plan of another product (422 on plan) and an unknown plan (404)", async () => {
    const a = await productWithBackend(ctx.api);
    const b = await productWithBackend(ctx.api);
    const planA = await createPlan(ctx.api, a.serviceId, "Alpha");
    const planB = await createPlan(ctx.api, b.serviceId, "Beta");
    const accountId = await signup(ctx.api, "stayer");
    const app = await ctx.api("POST", `/admin/api/accounts/${accountId}/applications.json`, {
      form: { plan_id: String(planA), name: "App" },
    });
    const path = `/admin/api/accounts/${accountId}/applications/${app.body.application.id}/change_plan.json`;
    const other = await ctx.api("PUT", path, { form: { plan_id: String(planB) } });
    expect(other.status).toBe(422);
    expect(other.body).toEqual({ errors: { plan: ["not allowed in this context"] } });
    expect((await ctx.api("PUT", path, { form: { plan_id: "999999" } })).status).toBe(404);
    expect(ctx.emulator.state.applications.find((x) => x.id === app.body.application.id)!.plan_id).toBe(planA);
  });
});
