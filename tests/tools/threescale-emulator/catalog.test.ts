/** Backends, products, usages, metrics/methods, mapping rules: seeding, naming, normalisation, guards, deletion. */
import { startEmulator } from "../../../tools/threescale-emulator";
import { apiFor, productWithBackend, unique, useEmulator } from "./test-support";

describe("tenant and product seeding", () => {
  const ctx = useEmulator({ tenantName: "acme", wildcardDomain: "apps.c1.example.com" });

  it("starts with the default product, backend and usage, a Default service plan and an access code", () => {
    const snap = ctx.emulator.snapshot();
    expect(Object.keys(snap.products)).toEqual(["api"]);
    expect(snap.products.api.name).toBe("API");
    // porta names the default backend after its product.
    expect(snap.products.api.backendUsages).toEqual({ api: { path: "/" } });
    expect(snap.products.api.servicePlans).toEqual(["default"]);
    expect(snap.backends.api).toMatchObject({ name: "API Backend", description: "Backend of API" });
    // The `GET /` rule belongs to the product; the default backend has only its hits metric.
    expect(snap.products.api.mappingRules).toMatchObject([{ http_method: "GET", pattern: "/", metric: "hits" }]);
    expect(snap.backends.api.mappingRules).toEqual([]);
    expect(snap.provider.site_access_code).toMatch(/^[0-9a-f]{10}$/);
    expect(snap.authProviders).toEqual({});
    expect(snap.cms.sections.root).toMatchObject({ parent: null, partial_path: "/" });
    expect(Object.keys(snap.cms.builtinPages).length).toBeGreaterThan(0);
  });

  it("seeds a new product with hits, the GET / rule, proxy defaults, hosted endpoints and the apicast policy", async () => {
    const res = await ctx.api("POST", "/admin/api/services.json", { form: { name: "My Model API" } });
    expect(res.status).toBe(201);
    const service = res.body.service;
    expect(service).toMatchObject({ system_name: "my_model_api", state: "incomplete", backend_version: "1" });
    const metrics = await ctx.api("GET", `/admin/api/services/${service.id}/metrics.json`);
    const hits = metrics.body.metrics[0].metric;
    expect(hits).toMatchObject({ name: "hits", system_name: "hits", friendly_name: "Hits", unit: "hit" });
    const rules = await ctx.api("GET", `/admin/api/services/${service.id}/proxy/mapping_rules.json`);
    expect(rules.body.mapping_rules.map((r: any) => r.mapping_rule)).toMatchObject([
      { http_method: "GET", pattern: "/", delta: 1, metric_id: hits.id, position: 1 },
    ]);
    const proxy = (await ctx.api("GET", `/admin/api/services/${service.id}/proxy.json`)).body.proxy;
    expect(proxy).toMatchObject({
      credentials_location: "query",
      auth_user_key: "user_key",
      error_status_auth_failed: 403,
      error_status_no_match: 404,
      error_status_limits_exceeded: 429,
      api_test_path: "/",
      endpoint: "https://my-model-api-acme-apicast-production.apps.c1.example.com:443",
      sandbox_endpoint: "https://my-model-api-acme-apicast-staging.apps.c1.example.com:443",
    });
    expect(proxy.secret_token).toMatch(/^Shared_secret_sent_from_proxy_to_API_backend_[0-9a-f]{16}$/);
    const policies = await ctx.api("GET", `/admin/api/services/${service.id}/proxy/policies.json`);
    expect(policies.body).toEqual({
      policies_config: [{ name: "apicast", version: "builtin", configuration: {}, enabled: true }],
    });
    const plans = await ctx.api("GET", `/admin/api/services/${service.id}/service_plans.json`);
    // porta service.rb L552-560: a "Default" service plan, published (service plans hidden in the portal), not default
    expect(plans.body.plans.map((p: any) => p.service_plan)).toMatchObject([
      { name: "Default", state: "published", default: false },
    ]);
    expect((await ctx.api("GET", `/admin/api/services/${service.id}/application_plans.json`)).body).toEqual({
      plans: [],
    });
  });

  it("starts empty with seedDefaults: false", async () => {
    const bare = await startEmulator({ seedDefaults: false });
    try {
      expect(bare.state.products).toEqual([]);
      expect(bare.state.cmsTemplates).toEqual([]);
      // Settings and the root section exist in every tenant, so the CMS works on an empty one too.
      const page = await apiFor(bare)("POST", "/admin/api/cms/templates.json", {
        json: { type: "page", title: "Home", path: "/" },
      });
      expect(page.status).toBe(201);
      expect((await apiFor(bare)("GET", "/admin/api/settings.json")).body.settings.signups_enabled).toBe(true);
    } finally {
      await bare.close();
    }
  });
});

describe("system names", () => {
  const ctx = useEmulator();

  it("generates, validates, scopes and never updates system_name", async () => {
    const a = await ctx.api("POST", "/admin/api/backend_apis.json", {
      json: { name: "Émbed-dings v1.2", private_endpoint: "https://a.example.com" },
    });
    expect(a.body.backend_api.system_name).toBe("embed_dings_v1_2");
    const dup = await ctx.api("POST", "/admin/api/backend_apis.json", {
      json: { name: "Other", system_name: "embed_dings_v1_2", private_endpoint: "https://a.example.com" },
    });
    expect(dup.status).toBe(422);
    expect(dup.body).toEqual({ errors: { system_name: ["has already been taken"] } });
    const bad = await ctx.api("POST", "/admin/api/backend_apis.json", {
      json: { name: "Bad", system_name: "-x", private_endpoint: "https://a.example.com" },
    });
    expect(bad.body.errors.system_name).toEqual(["is invalid"]);
    // Same system_name is fine in another scope (a product).
    const product = await ctx.api("POST", "/admin/api/services.json", {
      json: { name: "P", system_name: "embed_dings_v1_2" },
    });
    expect(product.status).toBe(201);
    const update = await ctx.api("PUT", `/admin/api/backend_apis/${a.body.backend_api.id}.json`, {
      json: { name: "Renamed", system_name: "changed" },
    });
    expect(update.status).toBe(200);
    expect(update.body.backend_api).toMatchObject({ name: "Renamed", system_name: "embed_dings_v1_2" });
  });

  it("reports every validation problem at once", async () => {
    const res = await ctx.api("POST", "/admin/api/backend_apis.json", { json: { name: "", description: "x" } });
    expect(res.status).toBe(422);
    expect(res.body.errors).toEqual({ name: ["can't be blank"], private_endpoint: ["can't be blank"] });
  });
});

describe("URL and path normalisation", () => {
  const ctx = useEmulator();

  it.each([
    ["https://echo.example.com", "https://echo.example.com:443"],
    ["http://model.ns.svc.cluster.local", "http://model.ns.svc.cluster.local:80"],
    ["http://model.ns.svc:8080/v1", "http://model.ns.svc:8080/v1"],
    ["https://h.example.com/a/b?x=1", "https://h.example.com:443/a/b?x=1"],
  ])("stores private_endpoint %s as %s", async (given, stored) => {
    const res = await ctx.api("POST", "/admin/api/backend_apis.json", {
      json: { name: unique("Url"), private_endpoint: given },
    });
    expect(res.body.backend_api.private_endpoint).toBe(stored);
  });

  it.each(["ftp://x.example.com", "not a url", "http://localhost:8080"])("rejects private_endpoint %s", async (url) => {
    const res = await ctx.api("POST", "/admin/api/backend_apis.json", {
      json: { name: unique("Bad"), private_endpoint: url },
    });
    expect(res.status).toBe(422);
    expect(res.body.errors.private_endpoint).toBeDefined();
  });

  it("normalises usage paths, returns backend_id, lists usages as a bare array and enforces uniqueness", async () => {
    const { serviceId, backendId } = await productWithBackend(ctx.api);
    const second = await ctx.api("POST", "/admin/api/backend_apis.json", {
      json: { name: unique("Second"), private_endpoint: "https://s.example.com" },
    });
    const created = await ctx.api("POST", `/admin/api/services/${serviceId}/backend_usages.json`, {
      form: { backend_api_id: String(second.body.backend_api.id), path: "v2/" },
    });
    expect(created.status).toBe(201);
    expect(created.body.backend_usage).toMatchObject({ path: "/v2", backend_id: second.body.backend_api.id });
    const list = await ctx.api("GET", `/admin/api/services/${serviceId}/backend_usages.json`);
    expect(Array.isArray(list.body)).toBe(true);
    expect(list.body.map((u: any) => u.backend_usage.path)).toEqual(["/", "/v2"]);
    const again = await ctx.api("POST", `/admin/api/services/${serviceId}/backend_usages.json`, {
      json: { backend_api_id: backendId, path: "/other" },
    });
    expect(again.body).toEqual({ errors: { backend_api_id: ["has already been taken"] } });
    const samePath = await ctx.api(
      "PUT",
      `/admin/api/services/${serviceId}/backend_usages/${created.body.backend_usage.id}.json`,
      {
        json: { path: "/" },
      },
    );
    expect(samePath.body.errors.path).toEqual(["This path is already taken. Specify a different path."]);
    const missing = await ctx.api("POST", `/admin/api/services/${serviceId}/backend_usages.json`, {
      json: { backend_api_id: 999999 },
    });
    expect(missing.status).toBe(404);
  });
});

describe("metrics, methods and mapping rules", () => {
  const ctx = useEmulator();

  it("suffixes backend metric system names with the backend id and omits name", async () => {
    const { backendId } = await productWithBackend(ctx.api);
    const created = await ctx.api("POST", `/admin/api/backend_apis/${backendId}/metrics.json`, {
      json: { friendly_name: "Total tokens", unit: "token" },
    });
    expect(created.status).toBe(201);
    expect(created.body.metric.system_name).toBe(`total_tokens.${backendId}`);
    expect(created.body.metric).not.toHaveProperty("name");
    const list = await ctx.api("GET", `/admin/api/backend_apis/${backendId}/metrics.json`);
    expect(list.body.metrics.map((m: any) => m.metric.system_name)).toEqual([
      `hits.${backendId}`,
      `total_tokens.${backendId}`,
    ]);
  });

  it("creates methods only under hits, lists them with parent_id, and keeps friendly_name unique", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const metrics = (await ctx.api("GET", `/admin/api/services/${serviceId}/metrics.json`)).body.metrics;
    const hitsId = metrics[0].metric.id;
    const tokens = await ctx.api("POST", `/admin/api/services/${serviceId}/metrics.json`, {
      json: { friendly_name: "Tokens", unit: "token", system_name: "tokens" },
    });
    const notUnderHits = await ctx.api(
      "POST",
      `/admin/api/services/${serviceId}/metrics/${tokens.body.metric.id}/methods.json`,
      { json: { friendly_name: "Chat" } },
    );
    expect(notUnderHits.status).toBe(422);
    expect(notUnderHits.body.errors.parent_id).toBeDefined();
    const method = await ctx.api("POST", `/admin/api/services/${serviceId}/metrics/${hitsId}/methods.json`, {
      json: { friendly_name: "Chat completions", system_name: "chat_completions" },
    });
    expect(method.status).toBe(201);
    expect(method.body.method).toMatchObject({ parent_id: hitsId, system_name: "chat_completions" });
    const all = (await ctx.api("GET", `/admin/api/services/${serviceId}/metrics.json`)).body.metrics;
    expect(all.map((m: any) => [m.metric.system_name, m.metric.parent_id ?? null])).toEqual([
      ["hits", null],
      ["tokens", null],
      ["chat_completions", hitsId],
    ]);
    const dupFriendly = await ctx.api("POST", `/admin/api/services/${serviceId}/metrics.json`, {
      json: { friendly_name: "Tokens", unit: "token", system_name: "tokens2" },
    });
    expect(dupFriendly.body).toEqual({ errors: { friendly_name: ["has already been taken"] } });
    const hitsDelete = await ctx.api("DELETE", `/admin/api/services/${serviceId}/metrics/${hitsId}.json`);
    expect(hitsDelete.status).toBe(403);
    expect(hitsDelete.body).toEqual({ errors: { base: ["The Hits metric cannot be deleted"] } });
  });

  it("validates mapping rules and keeps acts_as_list positions", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const base = `/admin/api/services/${serviceId}/proxy/mapping_rules`;
    const hitsId = (await ctx.api("GET", `/admin/api/services/${serviceId}/metrics.json`)).body.metrics[0].metric.id;
    const invalid = await ctx.api("POST", `${base}.json`, {
      json: { http_method: "FETCH", pattern: "v1", metric_id: hitsId },
    });
    expect(invalid.status).toBe(422);
    expect(Object.keys(invalid.body.errors).sort()).toEqual(["delta", "http_method", "pattern"]);
    const rule = (pattern: string, position?: number) =>
      ctx.api("POST", `${base}.json`, {
        json: { http_method: "POST", pattern, delta: 1, metric_id: hitsId, ...(position ? { position } : {}) },
      });
    await rule("/a");
    await rule("/b");
    const inserted = await rule("/first", 1);
    expect(inserted.body.mapping_rule.position).toBe(1);
    const order = async () =>
      (await ctx.api("GET", `${base}.json`)).body.mapping_rules.map((r: any) => [
        r.mapping_rule.pattern,
        r.mapping_rule.position,
      ]);
    expect(await order()).toEqual([
      ["/first", 1],
      ["/", 2],
      ["/a", 3],
      ["/b", 4],
    ]);
    const moved = await ctx.api("PATCH", `${base}/${inserted.body.mapping_rule.id}.json`, { json: { position: 4 } });
    expect(moved.status).toBe(200);
    expect(await order()).toEqual([
      ["/", 1],
      ["/a", 2],
      ["/b", 3],
      ["/first", 4],
    ]);
    const put = await ctx.api("PUT", `${base}/${inserted.body.mapping_rule.id}.json`, { json: { delta: 5 } });
    expect(put.body.mapping_rule.delta).toBe(5);
    await ctx.api("DELETE", `${base}/${inserted.body.mapping_rule.id}.json`);
    expect((await order()).map((r: any) => r[1])).toEqual([1, 2, 3]);
    const otherProduct = await productWithBackend(ctx.api);
    const foreignMetric = (await ctx.api("GET", `/admin/api/services/${otherProduct.serviceId}/metrics.json`)).body
      .metrics[0].metric.id;
    // porta mapping_rules_controller.rb L69-73: `service.metrics.find(metric_id)` → 404 for another owner's metric
    const foreign = await ctx.api("POST", `${base}.json`, {
      json: { http_method: "GET", pattern: "/x", delta: 1, metric_id: foreignMetric },
    });
    expect([foreign.status, foreign.body]).toEqual([404, { status: "Not found" }]);
  });

  it("refuses deleting a metric used by the latest config, then allows it after the rule is gone and deployed", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const metric = await ctx.api("POST", `/admin/api/services/${serviceId}/metrics.json`, {
      json: { friendly_name: "Guarded", unit: "hit" },
    });
    const metricId = metric.body.metric.id;
    const rule = await ctx.api("POST", `/admin/api/services/${serviceId}/proxy/mapping_rules.json`, {
      json: { http_method: "GET", pattern: "/guarded", delta: 1, metric_id: metricId },
    });
    await ctx.api("POST", `/admin/api/services/${serviceId}/proxy/deploy.json`);
    const refused = await ctx.api("DELETE", `/admin/api/services/${serviceId}/metrics/${metricId}.json`);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({
      errors: { base: ["Metric is used by the latest gateway configuration and cannot be deleted"] },
    });
    await ctx.api("DELETE", `/admin/api/services/${serviceId}/proxy/mapping_rules/${rule.body.mapping_rule.id}.json`);
    await ctx.api("POST", `/admin/api/services/${serviceId}/proxy/deploy.json`);
    const removed = await ctx.api("DELETE", `/admin/api/services/${serviceId}/metrics/${metricId}.json`);
    expect(removed.status).toBe(200);
    expect(ctx.emulator.state.metrics.some((m) => m.id === metricId)).toBe(false);
  });

  it("cascades a metric delete to its rules and limits", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const metricId = (
      await ctx.api("POST", `/admin/api/services/${serviceId}/metrics.json`, {
        json: { friendly_name: "Cascade", unit: "x" },
      })
    ).body.metric.id;
    await ctx.api("POST", `/admin/api/services/${serviceId}/proxy/mapping_rules.json`, {
      json: { http_method: "GET", pattern: "/c", delta: 1, metric_id: metricId },
    });
    const plan = await ctx.api("POST", `/admin/api/services/${serviceId}/application_plans.json`, {
      json: { name: "Plan P" },
    });
    await ctx.api(
      "POST",
      `/admin/api/application_plans/${plan.body.application_plan.id}/metrics/${metricId}/limits.json`,
      {
        json: { period: "day", value: 5 },
      },
    );
    expect((await ctx.api("DELETE", `/admin/api/services/${serviceId}/metrics/${metricId}.json`)).status).toBe(200);
    expect(ctx.emulator.state.mappingRules.some((r) => r.metric_id === metricId)).toBe(false);
    expect(ctx.emulator.state.limits.some((l) => l.metric_id === metricId)).toBe(false);
  });
});

describe("deletion guards and asynchronous deletion", () => {
  it("guards used backends, deletes asynchronously for a time and reports status until the worker is done", async () => {
    // porta backend_api.rb L64-77, L107-118, services_controller.rb L45-50, system_name.rb L14-20,
    // objects_controller.rb: gone from the API at once, the row (system_name, objects/status 200, the product's
    // backend usages) stays until DeleteObjectHierarchyWorker runs. Here the worker needs 15 minutes.
    let now = 1_000_000;
    const emulator = await startEmulator({ deletionLagMs: 15 * 60_000, clock: () => now });
    const api = apiFor(emulator);
    try {
      const { serviceId, backendId } = await productWithBackend(api, "gone");
      const used = await api("DELETE", `/admin/api/backend_apis/${backendId}.json`);
      expect(used.status).toBe(403);
      expect(used.body).toEqual({ errors: { base: ["cannot be deleted because it is used by at least one Product"] } });
      expect((await api("DELETE", `/admin/api/services/${serviceId}.json`)).status).toBe(200);
      expect((await api("GET", `/admin/api/services/${serviceId}.json`)).status).toBe(404);
      const status = () =>
        api("GET", "/admin/api/objects/status.json", {
          query: { object_type: "service", object_id: String(serviceId) },
        });
      now += 10 * 60_000; // 10 minutes later the worker has still not run
      const namesake = await api("POST", "/admin/api/services.json", { json: { name: "gone" } });
      expect(namesake.status).toBe(422);
      expect(namesake.body).toEqual({ errors: { system_name: ["has already been taken"] } });
      const pending = await status();
      expect([pending.status, pending.text]).toEqual([200, ""]);
      // the deleted product's backend usage still holds its backend
      expect((await api("DELETE", `/admin/api/backend_apis/${backendId}.json`)).status).toBe(403);
      now += 5 * 60_000;
      expect((await status()).status).toBe(404);
      expect((await api("POST", "/admin/api/services.json", { json: { name: "gone" } })).status).toBe(201);
      expect((await api("DELETE", `/admin/api/backend_apis/${backendId}.json`)).status).toBe(200);
      expect(
        (await api("GET", "/admin/api/backend_apis.json")).body.backend_apis.map((b: any) => b.backend_api.id),
      ).not.toContain(backendId);
      const backendStatus = await api("GET", "/admin/api/objects/status.json", {
        query: { object_type: "backend_api", object_id: String(backendId) },
      });
      expect(backendStatus.status).toBe(200);
      now += 15 * 60_000;
      const gone = await api("GET", "/admin/api/objects/status.json", {
        query: { object_type: "backend_api", object_id: String(backendId) },
      });
      expect([gone.status, gone.body]).toEqual([404, { status: "Not found" }]);
    } finally {
      await emulator.close();
    }
  });

  it("runs the worker on real time by default (deletionLagMs)", async () => {
    const emulator = await startEmulator({ deletionLagMs: 300 });
    const api = apiFor(emulator);
    try {
      const { serviceId } = await productWithBackend(api, "soon_gone");
      await api("DELETE", `/admin/api/services/${serviceId}.json`);
      expect((await api("POST", "/admin/api/services.json", { json: { name: "soon_gone" } })).status).toBe(422);
      await new Promise((resolve) => setTimeout(resolve, 350));
      expect((await api("POST", "/admin/api/services.json", { json: { name: "soon_gone" } })).status).toBe(201);
    } finally {
      await emulator.close();
    }
  });

  it("refuses to delete the last product with a state-machine error", async () => {
    const emulator = await startEmulator();
    try {
      const api = apiFor(emulator);
      const only = emulator.state.products[0];
      const res = await api("DELETE", `/admin/api/services/${only.id}.json`);
      expect(res.status).toBe(422);
      expect(res.body.error).toMatchObject({ from: "incomplete", event: "mark_as_deleted" });
      expect(emulator.state.products).toHaveLength(1);
    } finally {
      await emulator.close();
    }
  });
});
