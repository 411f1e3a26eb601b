/** Validation, CMS and proxy read-back rules transcribed from porta (gateway-facts §2.7, §2.10-§2.12). */
import { startEmulator } from "../../../tools/threescale-emulator";
import { apiFor, productWithBackend, useEmulator } from "./test-support";

describe("proxy error texts (porta proxy.rb L43 HTTP_HEADER, L72-76, L79-85)", () => {
  const ctx = useEmulator();

  it("checks error bodies and content types against the header pattern, and their length", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const patch = (json: Record<string, unknown>) =>
      ctx.api("PATCH", `/admin/api/services/${serviceId}/proxy.json`, { json });
    const accepted = await patch({
      error_limits_exceeded: '{"error":"Rate limit exceeded"}',
      error_headers_limits_exceeded: "application/json; charset=utf-8",
      error_auth_failed: "Authentication failed\n", // Ruby's \Z allows one final newline
    });
    expect(accepted.status).toBe(200);
    for (const bad of ["You've exceeded the limit", "Stop!", "<b>no</b>", "Überschritten", "", "two\nlines"]) {
      const res = await patch({ error_no_match: bad });
      expect({ bad, status: res.status, body: res.body }).toEqual({
        bad,
        status: 422,
        body: { errors: { error_no_match: ["is invalid"] } },
      });
    }
    const long = await patch({ error_headers_no_match: "a".repeat(256) });
    expect(long.body).toEqual({ errors: { error_headers_no_match: ["is too long (maximum is 255 characters)"] } });
  });
});

describe("mapping rules (porta proxy_rule.rb, mapping_rules_controller.rb)", () => {
  const ctx = useEmulator();

  it("checks the pattern grammar and the variables, refuses lowercase methods, 404s a foreign metric", async () => {
    const { serviceId, backendId } = await productWithBackend(ctx.api);
    const hits = ctx.emulator.state.metrics.find((m) => m.owner.type === "service" && m.owner.id === serviceId)!;
    const post = (json: Record<string, unknown>) =>
      ctx.api("POST", `/admin/api/services/${serviceId}/proxy/mapping_rules.json`, {
        json: { http_method: "GET", delta: 1, metric_id: hits.id, ...json },
      });
    for (const pattern of [
      "/",
      "/v1/chat/completions$",
      "/v1/models/{model}",
      "/a;b=c/%20x",
      "/search?q={query}&lang=en",
      "/~user/@me:1+2,3",
    ]) {
      const res = await post({ pattern });
      expect({ pattern, status: res.status }).toEqual({ pattern, status: 201 });
    }
    const refused: Array<[string, string[]]> = [
      ["v1/models", ["is invalid"]],
      ["/v1/{model", ["is invalid"]],
      ["/a b", ["is invalid"]],
      ["/x$/y", ["is invalid"]],
      ["/%zz", ["is invalid"]],
      ["/{id}/{id}", ["Can't have repeated variable names"]],
      ["/{id}?id=1", ["Can't have repeated variable names"]],
      ["/x?{key}=1", ["is invalid", "Can't use variables as keys in the querystring"]],
      [`/${"a".repeat(255)}`, ["is too long (maximum is 255 characters)"]],
    ];
    for (const [pattern, messages] of refused) {
      const res = await post({ pattern });
      expect({ pattern, status: res.status, errors: res.body.errors?.pattern }).toEqual({
        pattern,
        status: 422,
        errors: messages,
      });
    }
    // ALLOWED_HTTP_METHODS L27, inclusion L89, no normalisation
    const lower = await post({ pattern: "/lower", http_method: "get" });
    expect(lower.body).toEqual({ errors: { http_method: ["is not included in the list"] } });
    // a backend's metric is not the product's (mapping_rules_controller.rb L69-73): 404, before validation
    const backendHits = ctx.emulator.state.metrics.find((m) => m.owner.type === "backend" && m.owner.id === backendId)!;
    const foreign = await post({ pattern: "bad", metric_id: backendHits.id });
    expect([foreign.status, foreign.body]).toEqual([404, { status: "Not found" }]);
    // and a product's metric is not a backend's (backend_apis/mapping_rules_controller.rb L50-53)
    const backendRule = await ctx.api("POST", `/admin/api/backend_apis/${backendId}/mapping_rules.json`, {
      json: { http_method: "GET", pattern: "/b", delta: 1, metric_id: hits.id },
    });
    expect(backendRule.status).toBe(404);
  });
});

describe("products, limits, object status", () => {
  const ctx = useEmulator();

  it("accepts exactly porta's deployment options (service.rb L134-161)", async () => {
    let n = 0;
    const create = (deployment_option: string) =>
      ctx.api("POST", "/admin/api/services.json", { json: { name: `Deploy ${++n}`, deployment_option } });
    for (const ok of ["plugin_csharp", "plugin_rest", "self_managed", "service_mesh_istio", "hosted"])
      expect((await create(ok)).status).toBe(201);
    for (const bad of ["plugin_go", "service_mesh_linkerd", "HOSTED"]) {
      const res = await create(bad);
      expect(res.body).toEqual({ errors: { deployment_option: ["is not included in the list"] } });
    }
  });

  it("stores a blank or negative limit value as 0 (usage_limit.rb L34, L81-83)", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const hits = ctx.emulator.state.metrics.find((m) => m.owner.type === "service" && m.owner.id === serviceId)!;
    const plan = (
      await ctx.api("POST", `/admin/api/services/${serviceId}/application_plans.json`, { json: { name: "Zero" } })
    ).body.application_plan.id;
    const limit = (body: Record<string, unknown>) =>
      ctx.api("POST", `/admin/api/application_plans/${plan}/metrics/${hits.id}/limits.json`, { json: body });
    expect((await limit({ period: "day", value: -5 })).body.limit.value).toBe(0);
    expect((await limit({ period: "hour", value: "" })).body.limit.value).toBe(0);
    expect((await limit({ period: "minute" })).body.limit.value).toBe(0);
  });

  it("objects/status: 403 for an unknown type, 400 without params, 200 with an empty body (objects_controller.rb)", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const status = (query: Record<string, string>) => ctx.api("GET", "/admin/api/objects/status.json", { query });
    const found = await status({ object_type: "service", object_id: String(serviceId) });
    expect([found.status, found.text]).toEqual([200, ""]);
    expect((await status({ object_type: "proxy", object_id: String(serviceId) })).status).toBe(200);
    const unknown = await status({ object_type: "metric", object_id: "1" });
    expect([unknown.status, unknown.body]).toEqual([403, { status: "Forbidden" }]);
    const missing = await status({ object_type: "service" });
    expect([missing.status, missing.text]).toEqual([400, "Required parameter missing: object_id"]);
    expect((await status({ object_type: "account", object_id: "999999" })).status).toBe(404);
  });

  it("application plans render without description, trial days as 0 (plan_representer.rb, application_plan_representer.rb)", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const created = await ctx.api("POST", `/admin/api/services/${serviceId}/application_plans.json`, {
      json: { name: "Described", description: "1000 tokens a day" },
    });
    const plan = created.body.application_plan;
    expect(Object.keys(plan).sort()).toEqual(
      [
        "id",
        "name",
        "state",
        "setup_fee",
        "cost_per_month",
        "trial_period_days",
        "cancellation_period",
        "approval_required",
        "default",
        "created_at",
        "updated_at",
        "custom",
        "system_name",
        "links",
      ].sort(),
    );
    expect(plan).toMatchObject({ state: "hidden", trial_period_days: 0, setup_fee: 0, cost_per_month: 0 });
    // written all the same
    expect(ctx.emulator.state.applicationPlans.find((p) => p.id === plan.id)!.description).toBe("1000 tokens a day");
  });
});

describe("ActiveDocs (api_docs_services_controller.rb, swagger/validator.rb)", () => {
  const ctx = useEmulator();
  const doc = (servers: unknown) =>
    JSON.stringify({ openapi: "3.0.3", info: { title: "T", version: "1" }, paths: {}, servers });

  it("takes `api_docs_service` wrapped params and answers under `api_doc`", async () => {
    const res = await ctx.api("POST", "/admin/api/active_docs.json", {
      json: { api_docs_service: { name: "Wrapped", system_name: "wrapped", body: doc([]) } },
    });
    expect(res.status).toBe(201);
    expect(res.body.api_doc).toMatchObject({ name: "Wrapped", system_name: "wrapped" });
    const update = await ctx.api("PUT", `/admin/api/active_docs/${res.body.api_doc.id}.json`, {
      json: { api_docs_service: { description: "now described" } },
    });
    expect(update.body.api_doc.description).toBe("now described");
    const foreign = await ctx.api("POST", "/admin/api/active_docs.json", {
      json: { name: "Foreign", body: doc([]), service_id: 999999 },
    });
    expect([foreign.status, foreign.body]).toEqual([422, { error: "Service not found" }]);
  });

  it("checks the servers even with skip_swagger_validations; skips the schema then", async () => {
    const post = (name: string, body: string, skip: boolean) =>
      ctx.api("POST", "/admin/api/active_docs.json", { json: { name, body, skip_swagger_validations: skip } });
    expect((await post("Relative", doc([{ url: "/v1" }]), true)).body).toEqual({
      errors: { base_path: ["is invalid"] },
    });
    expect((await post("Ftp", doc([{ url: "ftp://files.example.com" }]), false)).body).toEqual({
      errors: { base_path: ["is invalid"] },
    });
    expect((await post("Local", doc([{ url: "http://localhost:8080" }]), false)).body).toEqual({
      errors: { base_path: ["can't be localhost"] },
    });
    const variables = doc([
      { url: "{scheme}://api.example.com", variables: { scheme: { default: "https", enum: ["https", "wss"] } } },
    ]);
    expect((await post("Variables", variables, false)).status).toBe(201);
    expect((await post("Skipped schema", JSON.stringify({ openapi: "3.0.3", nonsense: true }), true)).status).toBe(201);
    expect((await post("Skipped JSON", "{not json", true)).status).toBe(201);
  });
});

describe("CMS (gateway-facts §2.11)", () => {
  const ctx = useEmulator();
  const template = (json: Record<string, unknown>) => ctx.api("POST", "/admin/api/cms/templates.json", { json });

  it("leaves liquid_enabled unset for what the API creates without it (cms_templates.liquid_enabled has no default)", async () => {
    const layout = await template({ type: "layout", system_name: "plain_layout", draft: "<html>{% content %}</html>" });
    expect(layout.body.liquid_enabled).toBeNull(); // layout_representer.rb L12: raw attribute
    const page = await template({ type: "page", title: "Plain page", path: "/plain-page", draft: "{{ x }}" });
    expect(page.body.liquid_enabled).toBe(false); // page_representer.rb L18: liquid_enabled?
    const partial = await template({ type: "partial", system_name: "plain_partial", draft: "{{ x }}" });
    expect(partial.body).not.toHaveProperty("liquid_enabled");
    expect(ctx.emulator.state.cmsTemplates.find((t) => t.id === partial.body.id)!.liquid_enabled).toBeNull();
  });

  it("derives hyphenated page system names (cms/page.rb L98-100)", async () => {
    const page = await template({ type: "page", title: "My Model Page", path: "/my-model" });
    expect(page.body.system_name).toBe("my-model-page");
  });

  it("moves a deleted section's children to its parent (cms/section.rb L140-150)", async () => {
    const section = (json: Record<string, unknown>) => ctx.api("POST", "/admin/api/cms/sections.json", { json });
    const outer = (await section({ title: "Outer" })).body;
    const middle = (await section({ title: "Middle", parent_id: outer.id })).body;
    const inner = (await section({ title: "Inner", parent_id: middle.id })).body;
    const page = (await template({ type: "page", title: "In middle", path: "/in-middle", section_id: middle.id })).body;
    expect((await ctx.api("DELETE", `/admin/api/cms/sections/${middle.id}.json`)).status).toBe(200);
    expect((await ctx.api("GET", `/admin/api/cms/sections/${inner.id}.json`)).body.parent_id).toBe(outer.id);
    expect((await ctx.api("GET", `/admin/api/cms/templates/${page.id}.json`)).body.section_id).toBe(outer.id);
  });

  it("requires {% content %} in the main layout, with porta's literal message (cms/layout.rb L37-53, en.yml L1190)", async () => {
    const main = ctx.emulator.state.cmsTemplates.find((t) => t.system_name === "main_layout")!;
    const res = await ctx.api("PUT", `/admin/api/cms/templates/${main.id}.json`, { json: { draft: "<html></html>" } });
    expect([res.status, res.body]).toEqual([422, { errors: { draft: ["must contain '{&#37; content &#37;}' tag"] } }]);
    const other = await template({ type: "layout", system_name: "no_content_needed", draft: "<html></html>" });
    expect(other.status).toBe(201);
    const ok = await ctx.api("PUT", `/admin/api/cms/templates/${main.id}.json`, {
      json: { draft: "<html>{%content%}</html>" },
    });
    expect(ok.status).toBe(200);
  });
});

describe("proxy read-back (gateway-facts §2.12)", () => {
  const ctx = useEmulator();

  it("api_backend is the first backend usage's private endpoint, null without one", async () => {
    const product = (await ctx.api("POST", "/admin/api/services.json", { json: { name: "Readback" } })).body.service;
    const proxy = async () => (await ctx.api("GET", `/admin/api/services/${product.id}/proxy.json`)).body.proxy;
    expect((await proxy()).api_backend).toBeNull();
    const backend = (
      await ctx.api("POST", "/admin/api/backend_apis.json", {
        json: { name: "First", private_endpoint: "https://first.svc" },
      })
    ).body.backend_api;
    const second = (
      await ctx.api("POST", "/admin/api/backend_apis.json", {
        json: { name: "Second", private_endpoint: "https://second.svc" },
      })
    ).body.backend_api;
    await ctx.api("POST", `/admin/api/services/${product.id}/backend_usages.json`, {
      json: { backend_api_id: backend.id, path: "/" },
    });
    await ctx.api("POST", `/admin/api/services/${product.id}/backend_usages.json`, {
      json: { backend_api_id: second.id, path: "/two" },
    });
    expect((await proxy()).api_backend).toBe("https://first.svc:443");
  });

  it("shows the OIDC fields only for OIDC products (proxy_representer.rb L44-48)", async () => {
    const make = async (name: string, backend_version: string) =>
      (await ctx.api("POST", "/admin/api/services.json", { json: { name, backend_version } })).body.service.id;
    const keyed = await make("Keyed", "1");
    const oidc = await make("Oidc", "oidc");
    const proxy = async (id: number) => (await ctx.api("GET", `/admin/api/services/${id}/proxy.json`)).body.proxy;
    expect(await proxy(keyed)).not.toHaveProperty("oidc_issuer_type");
    expect(await proxy(oidc)).toMatchObject({ oidc_issuer_type: "keycloak", oidc_issuer_endpoint: null });
  });

  it("a backend's own hits metric is deletable; a product's is not (metric.rb L225-231)", async () => {
    const { serviceId, backendId } = await productWithBackend(ctx.api);
    const hitsOf = (type: string, id: number) =>
      ctx.emulator.state.metrics.find((m) => m.owner.type === type && m.owner.id === id && m.system_name === "hits")!;
    const productHits = await ctx.api(
      "DELETE",
      `/admin/api/services/${serviceId}/metrics/${hitsOf("service", serviceId).id}.json`,
    );
    expect([productHits.status, productHits.body]).toEqual([
      403,
      { errors: { base: ["The Hits metric cannot be deleted"] } },
    ]);
    const backendHits = await ctx.api(
      "DELETE",
      `/admin/api/backend_apis/${backendId}/metrics/${hitsOf("backend", backendId).id}.json`,
    );
    expect(backendHits.status).toBe(200);
  });
});

describe("stale proxy (optimistic locking)", () => {
  it("answers 500, not 409, when another request saved the proxy meanwhile (base_controller.rb L28-34)", async () => {
    const emulator = await startEmulator({ latencyMs: 50 });
    try {
      const api = apiFor(emulator);
      const { serviceId } = await productWithBackend(api);
      const patch = (error_auth_failed: string) =>
        api("PATCH", `/admin/api/services/${serviceId}/proxy.json`, { json: { error_auth_failed } });
      const [first, second] = await Promise.all([patch("First writer"), patch("Second writer")]);
      expect([first.status, second.status].sort()).toEqual([200, 500]);
      expect(emulator.calls.some((c) => c.status === 409)).toBe(false);
      // a request that loaded the proxy after the save goes through
      expect((await patch("Third writer")).status).toBe(200);
    } finally {
      await emulator.close();
    }
  });
});
