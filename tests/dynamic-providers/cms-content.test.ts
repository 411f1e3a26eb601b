import { CmsContentProvider, type CmsContentInputs } from "../../dynamic-providers/cms-content";
import { FAST_CLIENT, FORMS, inForm, useEmulator, withEmulator } from "./support";

const ctx = useEmulator();

const content = (extra = ""): CmsContentInputs => ({
  connection: ctx.connection,
  sections: [
    { systemName: "models_docs", title: "Models" },
    { systemName: "models_guides", title: "Guides", parent: "models_docs" },
  ],
  files: [
    {
      path: "/images/logo.svg",
      section: "models_docs",
      contentType: "image/svg+xml",
      contentBase64: Buffer.from("<svg/>").toString("base64"),
    },
  ],
  layouts: [
    {
      systemName: "maas_layout",
      title: "MaaS",
      content: "<html><body><h1>{{ page.title }}</h1>{% content %}</body></html>",
      liquidEnabled: true,
    },
  ],
  partials: [{ systemName: "model_card", content: "<div>{{ model }}</div>" }],
  pages: [
    {
      systemName: "models",
      title: "Models",
      path: "/models",
      section: "models_guides",
      layout: "maas_layout",
      contentType: "text/html",
      content: `<h1>Models</h1>${extra}`,
    },
  ],
  builtinPages: [{ systemName: "dashboards/show", layout: "maas_layout", content: "<h1>Your models</h1>" }],
  builtinPartials: [{ systemName: "submenu", content: "<nav>models</nav>" }],
});

const template = (systemName: string) => ctx.emulator.state.cmsTemplates.find((t) => t.system_name === systemName)!;

describe.each(FORMS)("CmsContent (%s)", (form) => {
  const provider = () => inForm(form, new CmsContentProvider(FAST_CLIENT));

  it("uploads everything published, writes nothing on a no-op, only changed items on update, and cleans up", async () => {
    const p = await provider();
    const builtinBefore = { ...template("dashboards/show") };
    const submenuBefore = template("submenu").published;
    const inputs = content();
    const { id, outs } = await p.create(inputs);
    const state = ctx.emulator.state;
    const guides = state.cmsSections.find((s) => s.system_name === "models_guides")!;
    expect(guides.parent_id).toBe(state.cmsSections.find((s) => s.system_name === "models_docs")!.id);
    expect(template("models")).toMatchObject({ published: "<h1>Models</h1>", draft: null, section_id: guides.id });
    expect(template("models").layout_id).toBe(template("maas_layout").id);
    expect(template("maas_layout").published).toContain("{% content %}");
    expect(template("dashboards/show").published).toBe("<h1>Your models</h1>");
    expect(state.cmsFiles.filter((f) => f.path === "/images/logo.svg")).toHaveLength(1);
    expect(outs.managed.map((m: any) => m.kind)).toEqual([
      "section",
      "section",
      "file",
      "layout",
      "partial",
      "page",
      "builtin_page",
      "builtin_partial",
    ]);

    // a second create (crashed run) adopts instead of duplicating
    const again = await p.create(inputs);
    expect(state.cmsTemplates.filter((t) => t.system_name === "models")).toHaveLength(1);
    expect(again.outs.managed.map((m: any) => m.id)).toEqual(outs.managed.map((m: any) => m.id));

    ctx.emulator.resetCalls();
    expect((await p.diff(id, outs, inputs)).changes).toBe(false);
    await p.update(id, outs, inputs);
    expect(ctx.emulator.writes()).toEqual([]);

    const changed = content("<p>new</p>");
    const updated = await p.update(id, outs, changed);
    expect(ctx.emulator.writes().map((c) => `${c.method} ${c.path}`)).toEqual([
      `PUT /admin/api/cms/templates/${template("models").id}.json`,
      `PUT /admin/api/cms/templates/${template("models").id}/publish.json`,
    ]);
    expect(template("models").published).toBe("<h1>Models</h1><p>new</p>");

    // drift: someone edits the page draft in the CMS UI
    template("models").draft = "<h1>edited</h1>";
    const read = await p.read(id, updated.outs);
    expect(read.id).toBe(id);
    expect((await p.diff(id, read.props, changed)).changes).toBe(true);
    await p.update(id, read.props, changed);
    expect(template("models")).toMatchObject({ draft: null, published: "<h1>Models</h1><p>new</p>" });

    // dropping a page deletes it; dropping a builtin override restores the original
    const fewer = { ...changed, pages: [], builtinPages: [] };
    const reduced = await p.update(id, updated.outs, fewer);
    expect(state.cmsTemplates.some((t) => t.system_name === "models")).toBe(false);
    expect(template("dashboards/show").published).toBe(builtinBefore.published);
    expect(template("dashboards/show").layout_id).toBe(builtinBefore.layout_id);

    await p.delete(id, reduced.outs);
    expect(state.cmsSections.some((s) => s.system_name.startsWith("models_"))).toBe(false);
    expect(state.cmsTemplates.some((t) => ["maas_layout", "model_card"].includes(t.system_name ?? ""))).toBe(false);
    expect(state.cmsFiles.some((f) => f.path === "/images/logo.svg")).toBe(false);
    expect(template("submenu").published).toBe(submenuBefore);
  });

  it("rejects bad items in check without API calls", async () => {
    const p = await provider();
    const bad = content();
    bad.pages = [
      { ...bad.pages[0], path: "models" },
      { ...bad.pages[0], path: "/x" },
    ];
    bad.sections = [{ systemName: "s p a c e", title: "" }];
    const result = await p.check({}, bad);
    expect(result.failures?.map((f) => f.property).sort()).toEqual([
      "pages[0].path",
      "pages[1].systemName",
      "sections[0].systemName",
      "sections[0].title",
    ]);
    expect(ctx.emulator.calls).toEqual([]);
  });
});

describe.each(FORMS)("CmsContent adopting the tenant's own templates (%s)", (form) => {
  /** Takes over the seeded homepage (matched by path) and main layout, and adds a page of its own. */
  const takeover = (connection: CmsContentInputs["connection"], home = "<h1>Models as a Service</h1>") => ({
    connection,
    sections: [],
    files: [],
    layouts: [{ systemName: "main_layout", title: "MaaS main", content: "<main>{% content %}</main>" }],
    partials: [],
    pages: [
      { systemName: "maas_home", title: "Home", path: "/", layout: "main_layout", content: home },
      { systemName: "maas_models", title: "Models", path: "/models", layout: "main_layout", content: "<ul></ul>" },
    ],
    builtinPages: [],
  });

  it("records what the tenant had, restores it when dropped or destroyed, and deletes only what it created", () =>
    withEmulator(async (emulator, connection) => {
      const p = await inForm(form, new CmsContentProvider(FAST_CLIENT));
      const seeded = (path: string) => emulator.state.cmsTemplates.find((t) => t.type === "page" && t.path === path)!;
      // The tenant's homepage also has an unpublished edit: it must come back too.
      seeded("/").draft = "<h1>Welcome (draft)</h1>";
      const before = emulator.snapshot().cms;
      expect(before.pages["/"]).toMatchObject({ system_name: "homepage", published: "<h1>Welcome</h1>" });

      const inputs = takeover(connection);
      const { id, outs } = await p.create(inputs);
      expect(seeded("/")).toMatchObject({ title: "Home", published: "<h1>Models as a Service</h1>", draft: null });
      const home = outs.managed.find((m: any) => m.key === "maas_home");
      expect(home.original).toMatchObject({ content: "<h1>Welcome</h1>", draft: "<h1>Welcome (draft)</h1>" });
      expect(home.original.fields).toMatchObject({ title: "Homepage", path: "/" });
      expect(outs.managed.find((m: any) => m.key === "maas_models").original).toBeUndefined();

      // Refresh of templates only: one listing with content, no per-template GET, no section/file listing.
      emulator.resetCalls();
      const read = await p.read(id, outs);
      expect(emulator.calls.map((c) => `${c.method} ${c.path}`)).toEqual(["GET /admin/api/cms/templates.json"]);
      expect(read.props).toMatchObject({ pages: inputs.pages, layouts: inputs.layouts });

      // Later runs keep the first record, not the content this resource wrote.
      const changed = takeover(connection, "<h1>MaaS</h1>");
      const updated = await p.update(id, outs, changed);
      expect(updated.outs!.managed.find((m: any) => m.key === "maas_home")?.original).toEqual(home.original);

      // Dropping the homepage from the inputs gives the tenant its own back.
      const dropped = await p.update(id, updated.outs!, { ...changed, pages: [changed.pages[1]] });
      expect(emulator.snapshot().cms.pages["/"]).toEqual(before.pages["/"]);

      await p.delete(id, dropped.outs!);
      expect(emulator.snapshot().cms).toEqual(before);
    }));
});
