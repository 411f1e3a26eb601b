/** Developer Portal (CMS) API rules. */
import { createHash } from "node:crypto";
import { startEmulator } from "../../../tools/threescale-emulator";
import { apiFor, useEmulator } from "./test-support";

describe("CMS", () => {
  const ctx = useEmulator();

  it("lists with the collection envelope, 20 per page by default and 100 at most (a larger per_page is clamped)", async () => {
    for (let i = 0; i < 50; i++) {
      await ctx.api("POST", "/admin/api/cms/templates.json", {
        json: { type: "partial", system_name: `bulk_${i}`, draft: `<p>${i}</p>` },
      });
    }
    const first = await ctx.api("GET", "/admin/api/cms/templates.json");
    expect(Object.keys(first.body)).toEqual(["collection"]);
    expect(first.body.collection).toHaveLength(20);
    expect(first.body.collection[0]).not.toHaveProperty("draft");
    const total = ctx.emulator.state.cmsTemplates.length;
    const big = await ctx.api("GET", "/admin/api/cms/templates.json", { query: { per_page: "100" } });
    expect(big.body.collection).toHaveLength(Math.min(total, 100));
    // porta admin/api/cms/base_controller.rb L17-22: `[params[:per_page].to_i, MAX_PER_PAGE].min`
    const tooBig = await ctx.api("GET", "/admin/api/cms/templates.json", { query: { per_page: "101" } });
    expect(total).toBeGreaterThan(101);
    expect(tooBig.body.collection).toHaveLength(100);
    const partials = await ctx.api("GET", "/admin/api/cms/templates.json", {
      query: { type: "partial", content: "true", per_page: "100" },
    });
    expect(partials.body.collection.every((t: any) => t.type === "partial")).toBe(true);
    expect(partials.body.collection[0]).toHaveProperty("draft");
  });

  it("creates sections addressed by id or system_name, and refuses deleting builtin ones", async () => {
    const created = await ctx.api("POST", "/admin/api/cms/sections.json", { json: { title: "Models Docs" } });
    expect(created.status).toBe(201);
    // porta cms/section.rb L162-170: system_name and partial_path default to `title.parameterize` (hyphens)
    expect(created.body).toMatchObject({ system_name: "models-docs", partial_path: "models-docs", public: true });
    expect(created.body).not.toHaveProperty("section");
    const bySystemName = await ctx.api("GET", "/admin/api/cms/sections/models-docs.json");
    expect(bySystemName.body.id).toBe(created.body.id);
    const root = await ctx.api("GET", "/admin/api/cms/sections/root.json");
    expect(created.body.parent_id).toBe(root.body.id);
    const del = await ctx.api("DELETE", "/admin/api/cms/sections/root.json");
    expect(del.status).toBe(422);
    expect(del.body).toEqual({ error: "Built-in resources can't be deleted" });
  });

  it("stores multipart file uploads byte for byte", async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 13, 10, 45, 45, 120]);
    const form = new FormData();
    form.set("path", "/images/logo.png");
    form.set("downloadable", "true");
    form.set("attachment", new Blob([bytes], { type: "image/png" }), "logo.png");
    const res = await ctx.api("POST", "/admin/api/cms/files.json", { multipart: form });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ path: "/images/logo.png", downloadable: true, content_type: "image/png" });
    const stored = ctx.emulator.state.cmsFiles.find((f) => f.id === res.body.id)!;
    expect(stored.data.equals(bytes)).toBe(true);
    expect(ctx.emulator.snapshot().cms.files["/images/logo.png"].sha256).toBe(
      createHash("sha256").update(bytes).digest("hex"),
    );
    const dup = new FormData();
    dup.set("path", "/images/logo.png");
    dup.set("attachment", new Blob([bytes]), "logo.png");
    expect((await ctx.api("POST", "/admin/api/cms/files.json", { multipart: dup })).body.errors.path).toEqual([
      "has already been taken",
    ]);
  });

  it("keeps drafts until publish, which copies draft to published and clears draft", async () => {
    const page = await ctx.api("POST", "/admin/api/cms/templates.json", {
      json: {
        type: "page",
        title: "Models",
        path: "/models/",
        layout_name: "main_layout",
        section_name: "root",
        draft: "<h1>{{ 'Models' }}</h1>",
        liquid_enabled: true,
      },
    });
    expect(page.status).toBe(201);
    expect(page.body).toMatchObject({ path: "/models", system_name: "models", published: null });
    const published = await ctx.api("PUT", `/admin/api/cms/templates/${page.body.id}/publish.json`, { json: {} });
    expect(published.body).toMatchObject({ draft: null, published: "<h1>{{ 'Models' }}</h1>" });
    expect(ctx.emulator.snapshot().cms.pages["/models"]).toMatchObject({ layout: "main_layout", section: "root" });
    const samePath = await ctx.api("POST", "/admin/api/cms/templates.json", {
      json: { type: "page", title: "Again", path: "/models" },
    });
    expect(samePath.body.errors.path).toEqual(["has already been taken"]);
  });

  it("rejects unknown types, unknown layouts, bad liquid and deleting builtins", async () => {
    const type = await ctx.api("POST", "/admin/api/cms/templates.json", { json: { type: "email", system_name: "x" } });
    expect(type.body).toEqual({ error: "Unknown template type 'email'" });
    const layout = await ctx.api("POST", "/admin/api/cms/templates.json", {
      json: { type: "page", title: "T", path: "/t", layout_name: "nope" },
    });
    expect(layout.body).toEqual({ error: "Unknown layout: 'nope'" });
    const liquid = await ctx.api("POST", "/admin/api/cms/templates.json", {
      json: { type: "layout", system_name: "broken", liquid_enabled: true, draft: "{% if %}" },
    });
    expect(liquid.status).toBe(422);
    expect(liquid.body.errors.draft).toEqual([
      "Liquid syntax error: Syntax Error in tag 'if' - Valid syntax: if [expression]",
    ]);
    const builtin = ctx.emulator.state.cmsTemplates.find((t) => t.type === "builtin_page")!;
    const del = await ctx.api("DELETE", `/admin/api/cms/templates/${builtin.id}.json`);
    expect(del.status).toBe(422);
    expect(del.body).toEqual({ error: "Built-in resources can't be deleted" });
    const reserved = await ctx.api("POST", "/admin/api/cms/templates.json", {
      json: { type: "partial", system_name: "submenu" },
    });
    expect(reserved.status).toBe(422);
  });

  it("answers 422 Unpermitted parameters when spec strictness is off, 400 when on", async () => {
    const strict = await ctx.api("POST", "/admin/api/cms/sections.json", { json: { title: "S1", colour: "red" } });
    expect(strict.status).toBe(400);
    const lax = await startEmulator({ strictSpec: false });
    try {
      const res = await apiFor(lax)("POST", "/admin/api/cms/sections.json", { json: { title: "S1", colour: "red" } });
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ error: 'Unpermitted parameters: ["colour"]' });
      // A field of another template type is unpermitted too.
      const layoutWithPath = await apiFor(lax)("POST", "/admin/api/cms/templates.json", {
        json: { type: "layout", system_name: "l2", path: "/x" },
      });
      expect(layoutWithPath.body).toEqual({ error: 'Unpermitted parameters: ["path"]' });
    } finally {
      await lax.close();
    }
  });
});
