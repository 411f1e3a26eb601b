/** Liquid validation of CMS drafts with 3scale's own tags, and the builtin portal content of a new tenant. */
import { THREESCALE_BLOCK_TAGS, liquidSyntaxError } from "../../../tools/threescale-emulator/liquid";
import { BUILTIN_PAGES, BUILTIN_PARTIALS } from "../../../tools/threescale-emulator/seed";
import { useEmulator } from "./test-support";

const ACCEPTED: Record<string, string> = {
  "3scale simple tags": `{% content %}{% csrf %}{% disable_client_cache %}{% flash %}{% cdn_asset '/swagger-ui/3.js' %}
    {% portlet 'latest_messages' %}{% essential_assets %}{% 3scale_essentials %}{% active_docs version: '2.0' %}`,
  "form block with a body": `{% form 'application.create', application, class: 'app' %}
    {% csrf %}<input name="application[name]" value="{{ application.name }}">{% endform %}`,
  "email block with its sub-tags": `{% email %}{% subject = 'Welcome' %}{% reply-to = 'support@example.com' %}
    {% header 'X-Group' = 'maas' %}{% do_not_send %}{% endemail %}`,
  "content_for block": "{% content_for javascripts %}<script src='/x.js'></script>{% endcontent_for %}",
  "3scale include syntax": "{% include 'shared/pagination' with pagination %}{% include 'login/sso' %}",
  "unknown simple tag": "{% some_future_tag with: 'args' %}",
  "unknown tag used as a block": "{% some_block %}x{% endsome_block %}",
  "core tags around 3scale blocks":
    "{% if current_user %}{% form 'x' %}{% endform %}{% else %}{% content %}{% endif %}",
  "raw text": "{% raw %}{% not a tag {{ %}{% endraw %}",
  "filters nobody registered": "{{ 'x' | html_safe | some_3scale_filter: 1 }}",
};

const REJECTED: Record<string, string> = {
  "unclosed output": "<p>{{ model.name </p>",
  "unclosed tag": "{% content ",
  "unclosed core block": "{% if current_user %}<p>hi</p>",
  "unclosed form": "{% form 'application.create', application %}<input>",
  "unclosed email": "{% email %}{% do_not_send %}",
  "stray end tag": "<p></p>{% endform %}",
  "crossed blocks": "{% if a %}{% form 'x' %}{% endif %}{% endform %}",
  "malformed for": "{% for %}{% endfor %}",
};

describe("Liquid syntax check", () => {
  it.each(Object.entries(ACCEPTED))("accepts %s", (_name, source) => {
    expect(liquidSyntaxError(source)).toBeNull();
  });

  it.each(Object.entries(REJECTED))("rejects %s", (_name, source) => {
    expect(liquidSyntaxError(source)).toEqual(expect.any(String));
  });

  it("knows 3scale's block tags", () => {
    expect([...THREESCALE_BLOCK_TAGS].sort()).toEqual(["content_for", "email", "form"]);
  });
});

describe("CMS drafts with 3scale tags", () => {
  const ctx = useEmulator();

  it("stores a layout using 3scale tags and refuses an unclosed form with a 422 on draft", async () => {
    const layout = await ctx.api("POST", "/admin/api/cms/templates.json", {
      json: {
        type: "layout",
        system_name: "maas_test_layout",
        draft: `<html><head>{% disable_client_cache %}</head><body>{% flash %}{% content %}</body></html>`,
      },
    });
    expect(layout.status).toBe(201);
    const page = await ctx.api("PUT", `/admin/api/cms/templates/${builtinId("applications/new")}.json`, {
      json: { draft: "{% form 'application.create', application %}{% csrf %}<button>Create</button>" },
    });
    expect(page.status).toBe(422);
    expect(page.body.errors.draft[0]).toMatch(/^Liquid error: .*not closed/);
    const fixed = await ctx.api("PUT", `/admin/api/cms/templates/${builtinId("applications/new")}.json`, {
      json: { draft: "{% form 'application.create', application %}{% csrf %}<button>Create</button>{% endform %}" },
    });
    expect(fixed.status).toBe(200);
  });

  it("does not check Liquid in pages that have it disabled", async () => {
    const page = await ctx.api("POST", "/admin/api/cms/templates.json", {
      json: { type: "page", title: "Plain", path: "/plain", liquid_enabled: false, draft: "{{ not closed" },
    });
    expect(page.status).toBe(201);
  });

  const builtinId = (systemName: string) =>
    ctx.emulator.state.cmsTemplates.find((t) => t.type === "builtin_page" && t.system_name === systemName)!.id;
});

describe("builtin portal content of a new tenant", () => {
  const ctx = useEmulator();

  it("has porta's builtin pages, including the application pages a portal overrides", () => {
    expect(BUILTIN_PAGES).toEqual(
      expect.arrayContaining([
        "applications/new",
        "applications/choose_service",
        "applications/index",
        "applications/show",
        "applications/edit",
        "login/new",
        "signup/show",
        "dashboards/show",
        "account/show",
        "search/index",
        "services/index",
        "errors/not_found",
        "errors/forbidden",
        "errors/internal_server_error",
      ]),
    );
    expect(BUILTIN_PAGES).not.toContain("accounts/show");
    expect(new Set(BUILTIN_PAGES).size).toBe(BUILTIN_PAGES.length);
  });

  it("lists every builtin page and partial through the API, in builtin sections, with their layouts", async () => {
    const all: any[] = [];
    for (let page = 1; ; page++) {
      const res = await ctx.api("GET", "/admin/api/cms/templates.json", {
        query: { page: String(page), per_page: "100" },
      });
      all.push(...res.body.collection);
      if (res.body.collection.length < 100) break;
    }
    const byType = (type: string) => all.filter((t) => t.type === type).map((t) => t.system_name);
    expect(byType("builtin_page").sort()).toEqual([...BUILTIN_PAGES].sort());
    expect(byType("builtin_partial").sort()).toEqual([...BUILTIN_PARTIALS].sort());

    const sections = (await ctx.api("GET", "/admin/api/cms/sections.json", { query: { per_page: "100" } })).body
      .collection;
    const section = (id: number) => sections.find((s: any) => s.id === id);
    const layouts = Object.fromEntries(all.filter((t) => t.type === "layout").map((t) => [t.id, t.system_name]));
    const page = (systemName: string) => all.find((t) => t.type === "builtin_page" && t.system_name === systemName);

    expect(section(page("applications/new").section_id)).toMatchObject({
      system_name: "applications",
      partial_path: "/applications",
    });
    expect(section(page("dashboards/show").section_id).system_name).toBe("root");
    expect(section(page("applications/alerts/index").section_id).system_name).toBe("application-alerts");
    const inbox = section(page("messages/inbox/show").section_id);
    expect(section(inbox.parent_id).system_name).toBe("messages");
    expect(layouts[page("login/new").layout_id]).toBe("main_layout");
    expect(layouts[page("errors/not_found").layout_id]).toBe("error");

    const builtinSection = sections.find((s: any) => s.system_name === "login");
    const del = await ctx.api("DELETE", `/admin/api/cms/sections/${builtinSection.id}.json`);
    expect(del.status).toBe(422);
  });

  it("publishes builtin pages with content and no draft, and lets a draft override them", async () => {
    const login = ctx.emulator.state.cmsTemplates.find((t) => t.system_name === "login/new")!;
    const read = await ctx.api("GET", `/admin/api/cms/templates/${login.id}.json`);
    expect(read.body).toMatchObject({ type: "builtin_page", draft: null, liquid_enabled: true });
    expect(read.body.published).not.toBe("");
    const put = await ctx.api("PUT", `/admin/api/cms/templates/${login.id}.json`, {
      json: { draft: "{% include 'login/sso' %}{% form 'session' %}{% csrf %}{% endform %}" },
    });
    expect(put.status).toBe(200);
    const published = await ctx.api("PUT", `/admin/api/cms/templates/${login.id}/publish.json`, { json: {} });
    expect(published.body).toMatchObject({ draft: null, published: expect.stringContaining("login/sso") });
  });
});
