/** Cross-cutting protocol behaviour: auth, formats, Rails params, envelopes, pagination, strictness, recording. */
import { startEmulator } from "../../../tools/threescale-emulator";
import { specIndex } from "../../../tools/threescale-emulator/spec";
import { METHOD_EXCEPTIONS, PARAM_EXCEPTIONS } from "../../../tools/threescale-emulator/spec-exceptions";
import { apiFor, unique, useEmulator } from "./test-support";

describe("authentication", () => {
  const ctx = useEmulator({ readOnlyToken: "read-only-token-42" });

  it.each(["query", "basic-user", "basic-password", "form", "json"] as const)(
    "accepts the token via %s",
    async (auth) => {
      const method = auth === "form" || auth === "json" ? "PUT" : "GET";
      const res =
        method === "GET"
          ? await ctx.api("GET", "/admin/api/provider.json", { auth })
          : await ctx.api("PUT", "/admin/api/provider.json", {
              auth,
              ...(auth === "form" ? { form: { from_email: "a@b.test" } } : { json: { from_email: "a@b.test" } }),
            });
      expect(res.status).toBe(200);
      expect(res.body.account.from_email).toBeDefined();
    },
  );

  it.each([
    ["a Bearer header", { auth: "bearer" as const }],
    ["no token", { auth: "none" as const }],
    ["a wrong token", { token: "nope" }],
  ])("answers 403 Access denied for %s", async (_what, opts) => {
    const res = await ctx.api("GET", "/admin/api/services.json", opts);
    expect(res.status).toBe(403);
    expect(res.body).toEqual({ error: "Access denied" });
  });

  it("lets a read-only token read but not write", async () => {
    const token = "read-only-token-42";
    expect((await ctx.api("GET", "/admin/api/backend_apis.json", { token })).status).toBe(200);
    const write = await ctx.api("POST", "/admin/api/backend_apis.json", {
      token,
      json: { name: "ro", private_endpoint: "https://x.example.com" },
    });
    expect(write.status).toBe(403);
    expect(write.body).toEqual({ error: "Your access token does not have the correct permissions" });
    expect(ctx.emulator.state.backends.some((b) => b.name === "ro")).toBe(false);
  });
});

describe("formats, envelopes and Rails parameters", () => {
  const ctx = useEmulator();

  it("requires the .json suffix (XML and suffix-less paths are refused with 406)", async () => {
    expect((await ctx.api("GET", "/admin/api/services.xml")).status).toBe(406);
    expect((await ctx.api("GET", "/admin/api/services")).status).toBe(406);
    expect((await ctx.api("GET", "/admin/api/services.json")).status).toBe(200);
  });

  it("wraps flat form fields and nested bracket fields alike", async () => {
    const flat = await ctx.api("POST", "/admin/api/backend_apis.json", {
      form: { name: "Flat one", private_endpoint: "https://flat.example.com" },
    });
    const nested = await ctx.api("POST", "/admin/api/backend_apis.json", {
      form: { "backend_api[name]": "Nested one", "backend_api[private_endpoint]": "https://nested.example.com" },
    });
    expect([flat.status, nested.status]).toEqual([201, 201]);
    expect(flat.body.backend_api.system_name).toBe("flat_one");
    expect(nested.body.backend_api.system_name).toBe("nested_one");
    const json = await ctx.api("POST", "/admin/api/backend_apis.json", {
      json: { backend_api: { name: "Json one", private_endpoint: "https://j.example.com" } },
    });
    expect(json.body.backend_api.private_endpoint).toBe("https://j.example.com:443");
  });

  it("answers 400 Required parameter missing when fields are only in the query string or absent", async () => {
    const id = ctx.emulator.state.backends[0].id;
    const queryOnly = await ctx.api("PUT", `/admin/api/backend_apis/${id}.json`, { query: { name: "renamed" } });
    expect(queryOnly.status).toBe(400);
    expect(queryOnly.text).toBe("Required parameter missing: backend_api");
    expect(ctx.emulator.state.backends[0].name).not.toBe("renamed");
    const empty = await ctx.api("PUT", `/admin/api/backend_apis/${id}.json`, { json: {} });
    expect(empty.status).toBe(400);
  });

  it("answers 422 when the wrapper key is a scalar", async () => {
    const res = await ctx.api("PUT", `/admin/api/backend_apis/${ctx.emulator.state.backends[0].id}.json`, {
      form: { backend_api: "abc" },
    });
    expect(res.status).toBe(422);
    expect(res.text).toBe("Wrong type for parameter: backend_api");
  });

  it("uses the documented envelopes, 404 body and empty DELETE body", async () => {
    const created = await ctx.api("POST", "/admin/api/backend_apis.json", {
      json: { name: unique("Env"), private_endpoint: "https://e.example.com" },
    });
    expect(created.status).toBe(201);
    expect(Object.keys(created.body)).toEqual(["backend_api"]);
    const list = await ctx.api("GET", "/admin/api/backend_apis.json");
    expect(list.body.backend_apis[0]).toHaveProperty("backend_api.id");
    const del = await ctx.api("DELETE", `/admin/api/backend_apis/${created.body.backend_api.id}.json`);
    expect(del.status).toBe(200);
    expect(del.text).toBe("");
    const gone = await ctx.api("GET", `/admin/api/backend_apis/${created.body.backend_api.id}.json`);
    expect(gone.status).toBe(404);
    expect(gone.body).toEqual({ status: "Not found" });
  });

  it("paginates in creation order, falls back to defaults out of range and adds metadata only when needed", async () => {
    for (let i = 0; i < 3; i++) {
      await ctx.api("POST", "/admin/api/backend_apis.json", {
        json: { name: unique("Page"), private_endpoint: "https://p.example.com" },
      });
    }
    const all = (await ctx.api("GET", "/admin/api/backend_apis.json")).body;
    expect(all.metadata).toBeUndefined();
    const ids = all.backend_apis.map((b: any) => b.backend_api.id);
    expect([...ids].sort((a: number, b: number) => a - b)).toEqual(ids);
    const page2 = (await ctx.api("GET", "/admin/api/backend_apis.json", { query: { page: "2", per_page: "2" } })).body;
    expect(page2.backend_apis.map((b: any) => b.backend_api.id)).toEqual(ids.slice(2, 4));
    expect(page2.metadata).toMatchObject({ per_page: 2, total_entries: ids.length, current_page: 2 });
    const fallback = (await ctx.api("GET", "/admin/api/backend_apis.json", { query: { per_page: "501", page: "0" } }))
      .body;
    expect(fallback.backend_apis).toHaveLength(ids.length);
  });
});

describe("spec strictness", () => {
  const ctx = useEmulator();

  it("rejects a misspelt parameter with a 400 naming it, before any change", async () => {
    const res = await ctx.api("POST", "/admin/api/backend_apis.json", {
      json: { name: "Typo", privte_endpoint: "https://x.example.com" },
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe(
      "emulator: POST /admin/api/backend_apis.json: parameter 'privte_endpoint' is not in the OpenAPI spec",
    );
    expect(ctx.emulator.state.backends.some((b) => b.name === "Typo")).toBe(false);
  });

  it("checks names inside the wrapper key and in the query string", async () => {
    const nested = await ctx.api("POST", "/admin/api/backend_apis.json", {
      json: { backend_api: { name: "N", private_endpoint: "https://x.example.com", colour: "red" } },
    });
    expect(nested.body.error).toContain("'colour'");
    const query = await ctx.api("GET", "/admin/api/services.json", { query: { pag: "1" } });
    expect(query.status).toBe(400);
    expect(query.body.error).toContain("'pag'");
  });

  it("rejects undocumented paths and accepts the documented exceptions", async () => {
    const unknown = await ctx.api("GET", "/admin/api/not_a_thing.json");
    expect(unknown.status).toBe(400);
    expect(unknown.body.error).toContain("path is not in the OpenAPI spec");
    const serviceId = ctx.emulator.state.products[0].id;
    const plan = await ctx.api("POST", `/admin/api/services/${serviceId}/application_plans.json`, {
      json: { name: "Gold", system_name: "gold" },
    });
    expect(plan.status).toBe(201);
    expect(plan.body.application_plan.system_name).toBe("gold");
    const put = await ctx.api("PUT", `/admin/api/services/${serviceId}/proxy.json`, {
      json: { secret_token: "changed-secret" },
    });
    expect(put.status).toBe(200);
  });

  it("keeps every exception anchored to a documented path and cites a source", () => {
    const templates = new Set(specIndex().templates());
    expect(templates.size).toBeGreaterThan(100);
    for (const e of [...PARAM_EXCEPTIONS, ...METHOD_EXCEPTIONS]) {
      if (e.path !== "*") expect(templates).toContain(e.path);
      expect(e.source).toMatch(/§\d/);
    }
  });

  it("lets a non-strict emulator drop unknown fields silently, as the real server does", async () => {
    const lax = await startEmulator({ strictSpec: false });
    try {
      const res = await apiFor(lax)("POST", "/admin/api/backend_apis.json", {
        json: { name: "Lax", private_endpoint: "https://x.example.com", colour: "red" },
      });
      expect(res.status).toBe(201);
      expect(res.body.backend_api).not.toHaveProperty("colour");
      expect((await apiFor(lax)("GET", "/admin/api/nothing_here.json")).status).toBe(404);
    } finally {
      await lax.close();
    }
  });
});

describe("call recording", () => {
  const ctx = useEmulator();

  it("records every call in order with the token redacted, and lists successful writes", async () => {
    ctx.emulator.resetCalls();
    await ctx.api("GET", "/admin/api/services.json");
    await ctx.api("POST", "/admin/api/backend_apis.json", {
      auth: "json",
      json: { name: "Rec", private_endpoint: "https://r.example.com", description: ctx.emulator.accessToken },
    });
    await ctx.api("POST", "/admin/api/backend_apis.json", { json: { name: "" } });
    const calls = ctx.emulator.calls;
    expect(calls.map((c) => [c.seq, c.method, c.path, c.status])).toEqual([
      [1, "GET", "/admin/api/services.json", 200],
      [2, "POST", "/admin/api/backend_apis.json", 201],
      [3, "POST", "/admin/api/backend_apis.json", 422],
    ]);
    expect(JSON.stringify(calls)).not.toContain(ctx.emulator.accessToken);
    expect(calls[0].query.access_token).toBe("***");
    expect(calls[1].body).toMatchObject({ access_token: "***", description: "***", name: "Rec" });
    expect(ctx.emulator.writes().map((c) => c.seq)).toEqual([2]);
  });

  it("generates a 40-hex token when none is given", async () => {
    const e = await startEmulator();
    try {
      expect(e.accessToken).toMatch(/^[0-9a-f]{40}$/);
      expect(e.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    } finally {
      await e.close();
    }
  });
});
