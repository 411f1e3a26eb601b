/** Liquid validation of CMS drafts with 3scale's own tags, and the builtin portal content of a new tenant. */
import { THREESCALE_BLOCK_TAGS, liquidSyntaxError } from "../../../tools/threescale-emulator/liquid";
import { BUILTIN_PAGES, BUILTIN_PARTIALS } from "../../../tools/threescale-emulator/seed";
import { useEmulator } from "./test-support";

// Each source is parsed the way porta parses a draft: liquid 3.0.6 `Liquid::Template.parse` with 3scale's tags.
const ACCEPTED: Record<string, string> = {
  "3scale simple tags": `{% content %}{% csrf %}{% disable_client_cache %}{% flash %}{% cdn_asset '/swagger-ui/3.js' %}
    {% portlet 'latest_messages' %}{% essential_assets %}{% 3scale_essentials %}{% active_docs version: '2.0' %}`,
  "form block with a body": `{% form 'application.create', application, class: 'app' %}
    {% csrf %}<input name="application[name]" value="{{ application.name }}">{% endform %}`,
  // porta liquid/tags/email.rb L65-95 (`reply-to` cannot work: Block::FullToken reads the tag name as `\w+`)
  "email block with its sub-tags": `{% email %}{% subject = 'Welcome' %}{% reply_to = 'support@example.com' %}
    {% header 'X-Group' = 'maas' %}{% cc = 'a@example.com' %}{% do_not_send %}{% endemail %}`,
  "content_for block": "{% content_for javascripts %}<script src='/x.js'></script>{% endcontent_for %}",
  "3scale include syntax": "{% include 'shared/pagination' with pagination %}{% include 'login/sso' %}",
  "core tags around 3scale blocks":
    "{% if current_user %}{% form 'x' %}{% endform %}{% elsif a and b %}x{% else %}{% content %}{% endif %}",
  "case, for with else, unless, capture, assign, cycle":
    "{% case x %}{% when 1, 2 %}a{% else %}b{% endcase %}{% for i in items reversed %}{% cycle 'a', 'b' %}" +
    "{% else %}none{% endfor %}{% unless x %}{% capture y %}z{% endcapture %}{% endunless %}{% assign v = 'w' %}",
  "unknown tags inside a comment": "{% comment %}{% whatever %}{% endcomment %}",
  "raw text": "{% raw %}{% not a tag {{ %}{% endraw %}",
  "filters nobody registered": "{{ 'x' | html_safe | some_3scale_filter: 1 }}",
  "a trailing lone brace": "price {",
};

// liquid 3.0.6 lib/liquid/locales/en.yml, prefixed as Liquid::Error#to_s does (errors.rb)
const REJECTED: Record<string, [string, string]> = {
  "unknown simple tag": ["{% some_future_tag with: 'args' %}", "Unknown tag 'some_future_tag'"],
  "unknown tag used as a block": ["{% some_block %}x{% endsome_block %}", "Unknown tag 'some_block'"],
  "reply-to sub-tag": ["{% email %}{% reply-to = 'x@example.com' %}{% endemail %}", "Unknown tag 'reply'"],
  "unclosed output": ["<p>{{ model.name </p>", "Variable '{{' was not properly terminated with regexp: /\\}\\}/"],
  "unclosed tag": ["{% content ", "Tag '{%' was not properly terminated with regexp: /\\%\\}/"],
  "unclosed core block": ["{% if current_user %}<p>hi</p>", "'if' tag was never closed"],
  "unclosed form": ["{% form 'application.create', application %}<input>", "'form' tag was never closed"],
  "unclosed email": ["{% email %}{% do_not_send %}", "'email' tag was never closed"],
  "stray end tag": ["<p></p>{% endform %}", "Unknown tag 'endform'"],
  "crossed blocks": ["{% if a %}{% form 'x' %}{% endif %}{% endform %}", "Unknown tag 'endif'"],
  "bare end": ["{% if a %}{% end %}", "'end' is not a valid delimiter for if tags. use endif"],
  "else in a form": ["{% form 'x' %}{% else %}{% endform %}", "form tag does not expect else tag"],
  "malformed for": ["{% for %}{% endfor %}", "Syntax Error in 'for loop' - Valid syntax: for [item] in [collection]"],
  "empty if": ["{% if %}{% endif %}", "Syntax Error in tag 'if' - Valid syntax: if [expression]"],
  "assign without =": ["{% assign %}", "Syntax Error in 'assign' - Valid syntax: assign [var] = [source]"],
  "else with arguments in case": [
    "{% case a %}{% else b %}{% endcase %}",
    "Syntax Error in tag 'case' - Valid else condition: {% else %} (no parameters) ",
  ],
}; // prettier-ignore

describe("Liquid syntax check", () => {
  it.each(Object.entries(ACCEPTED))("accepts %s", (_name, source) => {
    expect(liquidSyntaxError(source)).toBeNull();
  });

  it.each(Object.entries(REJECTED))("rejects %s with liquid 3.0.6's message", (_name, [source, message]) => {
    expect(liquidSyntaxError(source)).toBe(`Liquid syntax error: ${message}`);
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
    expect(page.body.errors).toEqual({ draft: ["Liquid syntax error: 'form' tag was never closed"] });
    const fixed = await ctx.api("PUT", `/admin/api/cms/templates/${builtinId("applications/new")}.json`, {
      json: { draft: "{% form 'application.create', application %}{% csrf %}<button>Create</button>{% endform %}" },
    });
    expect(fixed.status).toBe(200);
  });

  it("does not check Liquid in pages that have it disabled or unset, nor in partials (cms/template.rb L175-186)", async () => {
    const draft = "{% nonsense %}{{ not closed";
    const page = await ctx.api("POST", "/admin/api/cms/templates.json", {
      json: { type: "page", title: "Plain", path: "/plain", liquid_enabled: false, draft },
    });
    expect(page.status).toBe(201);
    const unset = await ctx.api("POST", "/admin/api/cms/templates.json", {
      json: { type: "page", title: "Unset", path: "/unset", draft },
    });
    expect([unset.status, unset.body.liquid_enabled]).toEqual([201, false]);
    const partial = await ctx.api("POST", "/admin/api/cms/templates.json", {
      json: { type: "partial", system_name: "plain_partial", draft },
    });
    expect(partial.status).toBe(201);
    const enabled = await ctx.api("POST", "/admin/api/cms/templates.json", {
      json: { type: "page", title: "Liquid", path: "/liquid", liquid_enabled: true, draft: "{% nonsense %}" },
    });
    expect([enabled.status, enabled.body]).toEqual([
      422,
      { errors: { draft: ["Liquid syntax error: Unknown tag 'nonsense'"] } },
    ]);
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

    // The API does not show a builtin page's section (CMS::Builtin skips page_representer.rb L12-19): the state does.
    expect(page("applications/new")).not.toHaveProperty("section_id");
    const stored = (systemName: string) =>
      ctx.emulator.state.cmsTemplates.find((t) => t.type === "builtin_page" && t.system_name === systemName)!;
    expect(section(stored("applications/new").section_id!)).toMatchObject({
      system_name: "applications",
      partial_path: "/applications",
    });
    expect(section(stored("dashboards/show").section_id!).system_name).toBe("root");
    expect(section(stored("applications/alerts/index").section_id!).system_name).toBe("application-alerts");
    const inbox = section(stored("messages/inbox/show").section_id!);
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
    expect(read.body).toMatchObject({ type: "builtin_page", draft: null });
    // porta CMS::Builtin::PageRepresenter: no path, section, content type, liquid flag, handler or hidden flag
    expect(Object.keys(read.body).sort()).toEqual(
      ["created_at", "draft", "id", "layout_id", "published", "system_name", "title", "type", "updated_at"].sort(),
    );
    expect(read.body.published).not.toBe("");
    const bad = await ctx.api("PUT", `/admin/api/cms/templates/${login.id}.json`, { json: { draft: "{% nope %}" } });
    expect(bad.body).toEqual({ errors: { draft: ["Liquid syntax error: Unknown tag 'nope'"] } });
    const put = await ctx.api("PUT", `/admin/api/cms/templates/${login.id}.json`, {
      json: { draft: "{% include 'login/sso' %}{% form 'session' %}{% csrf %}{% endform %}" },
    });
    expect(put.status).toBe(200);
    const published = await ctx.api("PUT", `/admin/api/cms/templates/${login.id}/publish.json`, { json: {} });
    expect(published.body).toMatchObject({ draft: null, published: expect.stringContaining("login/sso") });
  });
});
