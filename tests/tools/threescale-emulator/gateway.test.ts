/** Proxy settings, policy chain, staging deploys and promotion. */
import { productWithBackend, useEmulator, type Api } from "./test-support";

const latest = async (api: Api, serviceId: number, env: string) => {
  const res = await api("GET", `/admin/api/services/${serviceId}/proxy/configs/${env}/latest.json`);
  return res.status === 404 ? null : (res.body.proxy_config.version as number);
};

describe("staging deploy", () => {
  const ctx = useEmulator();

  it("saves nothing for a product without backends, but still answers 201", async () => {
    const product = await ctx.api("POST", "/admin/api/services.json", { json: { name: "No backend" } });
    const id = product.body.service.id;
    const deploy = await ctx.api("POST", `/admin/api/services/${id}/proxy/deploy.json`);
    expect(deploy.status).toBe(201);
    expect(deploy.body).toHaveProperty("proxy.service_id", id);
    const res = await ctx.api("GET", `/admin/api/services/${id}/proxy/configs/sandbox/latest.json`);
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ status: "Not found" });
  });

  it("creates a sandbox version only when the generated content changed", async () => {
    const { serviceId, backendId } = await productWithBackend(ctx.api);
    const deploy = () => ctx.api("POST", `/admin/api/services/${serviceId}/proxy/deploy.json`);
    await deploy();
    expect(await latest(ctx.api, serviceId, "sandbox")).toBe(1);
    await deploy();
    expect(await latest(ctx.api, serviceId, "staging")).toBe(1);
    const hits = (await ctx.api("GET", `/admin/api/backend_apis/${backendId}/metrics.json`)).body.metrics[0].metric.id;
    await ctx.api("POST", `/admin/api/backend_apis/${backendId}/mapping_rules.json`, {
      json: { http_method: "POST", pattern: "/v1/chat/completions", delta: 1, metric_id: hits },
    });
    expect(await latest(ctx.api, serviceId, "sandbox")).toBe(1); // rules alone do not deploy
    await deploy();
    expect(await latest(ctx.api, serviceId, "sandbox")).toBe(2);
    const config = (await ctx.api("GET", `/admin/api/services/${serviceId}/proxy/configs/sandbox/2.json`)).body
      .proxy_config;
    expect(config).toMatchObject({ version: 2, environment: "sandbox" });
    expect(config.content.proxy.proxy_rules.map((r: any) => `${r.http_method} ${r.pattern}`)).toEqual([
      "GET /",
      "POST /v1/chat/completions",
    ]);
    expect(config.content.proxy.policy_chain).toEqual([{ name: "apicast", version: "builtin", configuration: {} }]);
    const all = await ctx.api("GET", `/admin/api/services/${serviceId}/proxy/configs/sandbox.json`);
    expect(all.body.proxy_configs.map((c: any) => c.proxy_config.version)).toEqual([1, 2]);
  });

  it("routes PATCH to updates like Rails, while spec strictness refuses undocumented PATCHes", async () => {
    const { backendId } = await productWithBackend(ctx.api);
    const hits = ctx.emulator.state.metrics.find((m) => m.owner.type === "backend" && m.owner.id === backendId)!;
    const rule = await ctx.api("POST", `/admin/api/backend_apis/${backendId}/mapping_rules.json`, {
      json: { http_method: "GET", pattern: "/p", delta: 1, metric_id: hits.id },
    });
    const patch = await ctx.api(
      "PATCH",
      `/admin/api/backend_apis/${backendId}/mapping_rules/${rule.body.mapping_rule.id}.json`,
      {
        json: { delta: 2 },
      },
    );
    expect(patch.status).toBe(400);
    expect(patch.body.error).toContain("method is not in the OpenAPI spec");
    const put = await ctx.api(
      "PUT",
      `/admin/api/backend_apis/${backendId}/mapping_rules/${rule.body.mapping_rule.id}.json`,
      {
        json: { delta: 2 },
      },
    );
    expect(put.body.mapping_rule.delta).toBe(2);
  });

  it("validates environments", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const res = await ctx.api("GET", `/admin/api/services/${serviceId}/proxy/configs/preprod/latest.json`);
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ error: "invalid environment" });
    expect((await ctx.api("GET", `/admin/api/services/${serviceId}/proxy/configs/sandbox/9.json`)).status).toBe(404);
  });
});

describe("promotion", () => {
  const ctx = useEmulator();

  it("copies the version to production once; repeats and staging targets are 422; unknown versions 404", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    await ctx.api("POST", `/admin/api/services/${serviceId}/proxy/deploy.json`);
    expect(await latest(ctx.api, serviceId, "production")).toBeNull();
    const promote = (version: number, to: string) =>
      ctx.api("POST", `/admin/api/services/${serviceId}/proxy/configs/sandbox/${version}/promote.json`, {
        form: { to },
      });
    const ok = await promote(1, "production");
    expect(ok.status).toBe(201);
    expect(ok.body.proxy_config).toMatchObject({ version: 1, environment: "production" });
    expect(await latest(ctx.api, serviceId, "production")).toBe(1);
    expect((await promote(1, "production")).status).toBe(422);
    expect((await promote(1, "staging")).status).toBe(422);
    expect((await promote(7, "production")).status).toBe(404);
  });
});

describe("proxy settings", () => {
  const ctx = useEmulator();

  it("normalises endpoints, validates fields and deploys to staging only when something changed", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const patch = (body: Record<string, unknown>) =>
      ctx.api("PATCH", `/admin/api/services/${serviceId}/proxy.json`, { json: body });
    const changed = await patch({ credentials_location: "authorization", endpoint: "https://gw.example.com" });
    expect(changed.status).toBe(200);
    expect(changed.body.proxy).toMatchObject({
      credentials_location: "authorization",
      endpoint: "https://gw.example.com:443",
    });
    expect(await latest(ctx.api, serviceId, "sandbox")).toBe(1);
    await patch({ credentials_location: "authorization", endpoint: "https://gw.example.com:443" });
    expect(await latest(ctx.api, serviceId, "sandbox")).toBe(1);
    const invalid = await patch({
      credentials_location: "cookie",
      auth_user_key: "bad key",
      error_status_no_match: 700,
      sandbox_endpoint: "ftp://x",
    });
    expect(invalid.status).toBe(422);
    expect(Object.keys(invalid.body.errors).sort()).toEqual([
      "auth_user_key",
      "credentials_location",
      "error_status_no_match",
      "sandbox_endpoint",
    ]);
    const header = await patch({ auth_user_key: "Authorization", error_status_auth_failed: "401" });
    expect(header.body.proxy).toMatchObject({ auth_user_key: "Authorization", error_status_auth_failed: 401 });
    expect(await latest(ctx.api, serviceId, "sandbox")).toBe(2);
  });

  it("runs the staging deploy on every successful update, so a no-op bump publishes pending rule changes", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    await ctx.api("POST", `/admin/api/services/${serviceId}/proxy/deploy.json`);
    const hits = (await ctx.api("GET", `/admin/api/services/${serviceId}/metrics.json`)).body.metrics[0].metric.id;
    await ctx.api("POST", `/admin/api/services/${serviceId}/proxy/mapping_rules.json`, {
      json: { http_method: "POST", pattern: "/bump", delta: 1, metric_id: hits },
    });
    const bump = await ctx.api("PATCH", `/admin/api/services/${serviceId}/proxy.json`, {
      form: { service_id: String(serviceId) },
    });
    expect(bump.status).toBe(200);
    expect(await latest(ctx.api, serviceId, "sandbox")).toBe(2);
    await ctx.api("PATCH", `/admin/api/services/${serviceId}/proxy.json`, { form: { service_id: String(serviceId) } });
    expect(await latest(ctx.api, serviceId, "sandbox")).toBe(2);
  });

  it("refuses blank endpoints on hosted products", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const res = await ctx.api("PUT", `/admin/api/services/${serviceId}/proxy.json`, { json: { endpoint: "" } });
    expect(res.status).toBe(422);
    expect(res.body.errors.endpoint).toEqual(["can't be blank"]);
  });
});

describe("policy chain", () => {
  const ctx = useEmulator();
  const cors = { name: "cors", version: "builtin", configuration: { allow_origin: "*" }, enabled: true };

  it("accepts a JSON array, appends apicast when missing and keeps order and only the known keys", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const res = await ctx.api("PUT", `/admin/api/services/${serviceId}/proxy/policies.json`, {
      json: { policies_config: [{ ...cors, removable: true, humanName: "CORS" }] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      policies_config: [cors, { name: "apicast", version: "builtin", configuration: {}, enabled: true }],
    });
    expect(await latest(ctx.api, serviceId, "sandbox")).toBe(1);
  });

  it("accepts a form-encoded JSON string, stores omitted enabled as absent and leaves it out of the gateway chain", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const chain = [
      { name: "apicast", version: "builtin", configuration: {}, enabled: true },
      { name: "llm_metrics", version: "1.0.0", configuration: { metric: "total_tokens" } },
    ];
    const res = await ctx.api("PUT", `/admin/api/services/${serviceId}/proxy/policies.json`, {
      form: { policies_config: JSON.stringify(chain) },
    });
    expect(res.body.policies_config[1]).toEqual(chain[1]);
    expect(res.body.policies_config[1]).not.toHaveProperty("enabled");
    const config = (await ctx.api("GET", `/admin/api/services/${serviceId}/proxy/configs/sandbox/latest.json`)).body
      .proxy_config;
    expect(config.content.proxy.policy_chain.map((p: any) => p.name)).toEqual(["apicast"]);
  });

  it("does not deploy when the chain is unchanged", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const put = () =>
      ctx.api("PUT", `/admin/api/services/${serviceId}/proxy/policies.json`, { json: { policies_config: [cors] } });
    await put();
    await put();
    expect(await latest(ctx.api, serviceId, "sandbox")).toBe(1);
  });

  it("answers per-entry errors with the chain itself", async () => {
    const { serviceId } = await productWithBackend(ctx.api);
    const res = await ctx.api("PUT", `/admin/api/services/${serviceId}/proxy/policies.json`, {
      json: { policies_config: [cors, { name: "alaska" }] },
    });
    expect(res.status).toBe(422);
    expect(res.body.policies_config[0]).not.toHaveProperty("errors");
    expect(res.body.policies_config[1]).toEqual({
      name: "alaska",
      errors: { version: ["can't be blank"], configuration: ["can't be blank"] },
    });
    const missing = await ctx.api("PUT", `/admin/api/services/${serviceId}/proxy/policies.json`, { json: {} });
    expect([missing.status, missing.text]).toEqual([400, "Required parameter missing: proxy"]);
    const notJson = await ctx.api("PUT", `/admin/api/services/${serviceId}/proxy/policies.json`, {
      form: { policies_config: "[not json" },
    });
    expect(notJson.status).toBe(422);
    expect(notJson.body.errors.policies_config).toBeDefined();
  });
});
