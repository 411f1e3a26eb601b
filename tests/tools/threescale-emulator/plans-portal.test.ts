/** Application plans and limits, provider/settings, developer-portal SSO, ActiveDocs, accounts and applications. */
import { productWithBackend, unique, useEmulator } from "./test-support";

describe("application plans and limits", () => {
  const ctx = useEmulator();

  it("creates hidden plans, publishes with state_event and refuses redundant events", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const base = `/admin/api/services/${serviceId}/application_plans`;
    const plan = (await ctx.api("POST", `${base}.json`, { json: { name: "Basic", system_name: "basic" } })).body
      .application_plan;
    expect(plan).toMatchObject({ state: "hidden", default: false, system_name: "basic", setup_fee: 0 });
    const published = await ctx.api("PUT", `${base}/${plan.id}.json`, { json: { state_event: "publish" } });
    expect(published.body.application_plan.state).toBe("published");
    const again = await ctx.api("PUT", `${base}/${plan.id}.json`, { json: { state_event: "publish" } });
    expect(again.status).toBe(422);
    expect(again.body.errors.state_event).toBeDefined();
    const dup = await ctx.api("POST", `${base}.json`, { json: { name: "Basic 2", system_name: "basic" } });
    expect(dup.body).toEqual({ errors: { system_name: ["has already been taken"] } });
    const def = await ctx.api("PUT", `${base}/${plan.id}/default.json`, { json: {} });
    expect(def.body.application_plan.default).toBe(true);
    const list = await ctx.api("GET", `${base}.json`);
    expect(Object.keys(list.body)).toEqual(["plans"]);
    expect(list.body.plans[0].application_plan).toMatchObject({ id: plan.id, default: true });
    expect(
      ctx.emulator.snapshot().products[ctx.emulator.state.products.find((p) => p.id === serviceId)!.system_name],
    ).toHaveProperty("applicationPlans.basic", expect.objectContaining({ state: "published", default: true }));
  });

  it("limits: one per (plan, metric, period), backend metrics allowed, per-metric list spans plans", async () => {
    const { serviceId, backendId, backendSystemName } = await productWithBackend(ctx.api);
    const tokens = await ctx.api("POST", `/admin/api/backend_apis/${backendId}/metrics.json`, {
      json: { friendly_name: "Total tokens", system_name: "total_tokens", unit: "token" },
    });
    const metricId = tokens.body.metric.id;
    const mkPlan = async (name: string) =>
      (await ctx.api("POST", `/admin/api/services/${serviceId}/application_plans.json`, { json: { name } })).body
        .application_plan.id as number;
    const [gold, silver] = [await mkPlan("Gold"), await mkPlan("Silver")];
    const limit = (plan: number, body: Record<string, unknown>) =>
      ctx.api("POST", `/admin/api/application_plans/${plan}/metrics/${metricId}/limits.json`, { json: body });
    expect((await limit(gold, { period: "day", value: 1000 })).status).toBe(201);
    expect((await limit(silver, { period: "day", value: 10 })).status).toBe(201);
    const dup = await limit(gold, { period: "day", value: 5 });
    expect(dup.body).toEqual({ errors: { period: ["has already been taken"] } });
    // porta usage_limit.rb L28: a bad period "is invalid"; L81-83: a negative value is no error (stored as 0)
    const bad = await limit(gold, { period: "fortnight", value: -1 });
    expect(bad.body).toEqual({ errors: { period: ["is invalid"] } });
    const planWide = await ctx.api("GET", `/admin/api/application_plans/${gold}/limits.json`);
    expect(planWide.body.limits.map((l: any) => l.limit)).toMatchObject([
      { period: "day", value: 1000, plan_id: gold },
    ]);
    const perMetric = await ctx.api("GET", `/admin/api/application_plans/${gold}/metrics/${metricId}/limits.json`);
    expect(perMetric.body.limits.map((l: any) => l.limit.plan_id).sort()).toEqual([gold, silver].sort());
    const snapshotPlan = Object.values(ctx.emulator.snapshot().products).find((p) => p.applicationPlans.gold)!;
    expect(snapshotPlan.applicationPlans.gold.limits).toEqual([
      { metric: "total_tokens", backend: backendSystemName, period: "day", value: 1000 },
    ]);
    // 2.16 (the default release): removing the usage drops the plan limits on that backend's metrics.
    const usage = (await ctx.api("GET", `/admin/api/services/${serviceId}/backend_usages.json`)).body[0].backend_usage;
    await ctx.api("DELETE", `/admin/api/services/${serviceId}/backend_usages/${usage.id}.json`);
    expect((await ctx.api("GET", `/admin/api/application_plans/${gold}/limits.json`)).body.limits).toEqual([]);
  });

  it("refuses limits on metrics of backends the product does not use", async () => {
    const a = await productWithBackend(ctx.api);
    const b = await productWithBackend(ctx.api);
    const foreign = ctx.emulator.state.metrics.find((m) => m.owner.type === "backend" && m.owner.id === b.backendId)!;
    const plan = (
      await ctx.api("POST", `/admin/api/services/${a.serviceId}/application_plans.json`, { json: { name: "Lim" } })
    ).body.application_plan.id;
    const res = await ctx.api("POST", `/admin/api/application_plans/${plan}/metrics/${foreign.id}/limits.json`, {
      json: { period: "day", value: 1 },
    });
    expect(res.status).toBe(404);
  });
});

describe("provider account and settings", () => {
  const ctx = useEmulator();

  it("sets and clears the developer portal access code", async () => {
    const set = await ctx.api("PUT", "/admin/api/provider.json", { form: { site_access_code: "letmein" } });
    expect(set.body.account).toMatchObject({ site_access_code: "letmein", domain: "maas.example.test" });
    const cleared = await ctx.api("PUT", "/admin/api/provider.json", { form: { site_access_code: "" } });
    expect(cleared.body.account.site_access_code).toBeNull();
    expect(ctx.emulator.snapshot().provider.site_access_code).toBeNull();
  });

  it("reads and writes settings with typed values", async () => {
    const res = await ctx.api("PUT", "/admin/api/settings.json", {
      form: { signups_enabled: "false", account_approval_required: "true" },
    });
    expect(res.body.settings).toMatchObject({ signups_enabled: false, account_approval_required: true });
    expect((await ctx.api("GET", "/admin/api/settings.json")).body.settings.signups_enabled).toBe(false);
    const sso = await ctx.api("PUT", "/admin/api/settings.json", { form: { enforce_sso: "true" } });
    expect(sso.status).toBe(422);
  });
});

describe("developer portal SSO providers", () => {
  const ctx = useEmulator();
  const keycloak = {
    kind: "keycloak",
    client_id: "3scale",
    client_secret: "s3cret",
    site: "https://sso.example.com/auth/realms/maas",
  };

  it("creates with defaults and callback_url, one per kind, updates, and has no DELETE", async () => {
    const created = await ctx.api("POST", "/admin/api/authentication_providers.json", { json: keycloak });
    expect(created.status).toBe(201);
    const provider = created.body.authentication_provider;
    expect(provider).toMatchObject({
      kind: "keycloak",
      name: "Red Hat Single Sign-On",
      system_name: "keycloak",
      client_secret: "s3cret",
      published: false,
      account_type: "developer",
      callback_url: "https://maas.example.test/auth/keycloak/callback",
    });
    const second = await ctx.api("POST", "/admin/api/authentication_providers.json", { json: keycloak });
    expect(second.status).toBe(422);
    expect(second.body.errors.kind).toEqual(["has already been taken"]);
    const updated = await ctx.api("PUT", `/admin/api/authentication_providers/${provider.id}.json`, {
      json: { published: true, client_secret: "rotated" },
    });
    expect(updated.body.authentication_provider).toMatchObject({ published: true, client_secret: "rotated" });
    const del = await ctx.api("DELETE", `/admin/api/authentication_providers/${provider.id}.json`);
    expect(del.status).toBe(404);
    expect(ctx.emulator.snapshot().authProviders.keycloak).toMatchObject({ published: true });
  });

  it("requires credentials and a realm URL for keycloak", async () => {
    const res = await ctx.api("POST", "/admin/api/authentication_providers.json", {
      json: { kind: "auth0", client_id: "" },
    });
    expect(Object.keys(res.body.errors).sort()).toEqual(["client_id", "client_secret"]);
  });
});

describe("ActiveDocs", () => {
  const ctx = useEmulator();
  const spec = JSON.stringify({ openapi: "3.0.0", info: { title: "LLM", version: "1" }, paths: {} });

  it("creates, updates and deletes api docs with spec validation", async () => {
    const serviceId = ctx.emulator.state.products[0].id;
    const created = await ctx.api("POST", "/admin/api/active_docs.json", {
      form: { name: "LLM API", body: spec, service_id: String(serviceId), published: "true" },
    });
    expect(created.status).toBe(201);
    expect(created.body.api_doc).toMatchObject({ system_name: "llm_api", published: true, service_id: serviceId });
    const invalid = await ctx.api("POST", "/admin/api/active_docs.json", {
      form: { name: unique("Broken"), body: "{not json" },
    });
    expect(invalid.body.errors.body).toBeDefined();
    const notSwagger = await ctx.api("POST", "/admin/api/active_docs.json", {
      form: { name: unique("Plain"), body: "{}" },
    });
    expect(notSwagger.status).toBe(422);
    const skipped = await ctx.api("POST", "/admin/api/active_docs.json", {
      form: { name: unique("Skip"), body: "{}", skip_swagger_validations: "true" },
    });
    expect(skipped.status).toBe(201);
    const id = created.body.api_doc.id;
    const updated = await ctx.api("PUT", `/admin/api/active_docs/${id}.json`, { form: { description: "docs" } });
    expect(updated.body.api_doc.description).toBe("docs");
    expect(ctx.emulator.snapshot().activeDocs.llm_api).toMatchObject({ product: "api", description: "docs" });
    expect((await ctx.api("GET", "/admin/api/active_docs.json")).body.api_docs[0]).toHaveProperty("api_doc.id", id);
    expect((await ctx.api("DELETE", `/admin/api/active_docs/${id}.json`)).text).toBe("");
  });
});

describe("accounts and applications", () => {
  const ctx = useEmulator();

  it("signs up a developer, creates an application with a user_key, finds it and cascades account deletion", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const plan = (
      await ctx.api("POST", `/admin/api/services/${serviceId}/application_plans.json`, { json: { name: "Free" } })
    ).body.application_plan;
    const signup = await ctx.api("POST", "/admin/api/signup.json", {
      form: { org_name: "Dev Co", username: "dev", email: "dev@example.com", password: "pw-123456" },
    });
    expect(signup.status).toBe(201);
    const accountId = signup.body.account.id;
    const found = await ctx.api("GET", "/admin/api/accounts/find.json", { query: { username: "dev" } });
    expect(found.body.account.id).toBe(accountId);
    const app = await ctx.api("POST", `/admin/api/accounts/${accountId}/applications.json`, {
      form: { plan_id: String(plan.id), name: "My app" },
    });
    expect(app.status).toBe(201);
    expect(app.body.application).toMatchObject({ state: "live", plan_id: plan.id, service_id: serviceId });
    expect(app.body.application.user_key).toMatch(/^[0-9a-f]{32}$/);
    const byKey = await ctx.api("GET", "/admin/api/applications/find.json", {
      query: { user_key: app.body.application.user_key },
    });
    expect(byKey.body.application.id).toBe(app.body.application.id);
    const planDelete = await ctx.api("DELETE", `/admin/api/services/${serviceId}/application_plans/${plan.id}.json`);
    expect(planDelete.status).toBe(403);
    expect(ctx.emulator.snapshot().accounts.dev.applications["My app"]).toMatchObject({ state: "live" });
    expect((await ctx.api("DELETE", `/admin/api/accounts/${accountId}.json`)).status).toBe(200);
    expect(ctx.emulator.state.applications.some((a) => a.account_id === accountId)).toBe(false);
    expect((await ctx.api("GET", "/admin/api/accounts/find.json", { query: { username: "dev" } })).status).toBe(404);
  });

  it("validates signup fields", async () => {
    const res = await ctx.api("POST", "/admin/api/signup.json", { form: { org_name: "X" } });
    expect(res.status).toBe(422);
    expect(Object.keys(res.body.errors).sort()).toEqual(["email", "password", "username"]);
  });
});
