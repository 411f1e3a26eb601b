/**
 * A liquidjs stand-in for the 3scale developer portal's Liquid runtime, for tests: the tags (`content`, `csrf`,
 * `form`, `disable_client_cache`, `include` by partial system name) and filters our templates may use, in strict mode
 * (undefined variables and unknown filters are errors). Form names map to the actions 3scale posts them to; an unknown
 * form name fails, so a typo in a template fails the test instead of rendering a dead form.
 */
import { Liquid } from "liquidjs";
import type { PortalContent } from "../../../components/portal/content";

/** 3scale form names → [method, action]. */
export const FORM_ACTIONS: Record<string, [string, string]> = {
  login: ["post", "/session"],
  "application.create": ["post", "/admin/applications"],
  "application.update": ["put", "/admin/applications"],
};

const CONTENT_SLOT = "__maas_page_content";

function escapeAttr(value: string): string {
  return value.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

/** An engine that resolves `{% include 'name' %}` to the CMS partial with that system name. */
export function portalEngine(partials: Record<string, string>): Liquid {
  const engine = new Liquid({
    strictVariables: true,
    strictFilters: true,
    relativeReference: false,
    extname: "",
    fs: {
      readFileSync: (file: string) => partials[file],
      readFile: async (file: string) => partials[file],
      existsSync: (file: string) => file in partials,
      exists: async (file: string) => file in partials,
      resolve: (_root: string, file: string) => file,
      contains: async () => true,
    },
  });
  engine.registerTag("content", {
    render(ctx: any, emitter: any) {
      emitter.write(String(ctx.getSync([CONTENT_SLOT])));
    },
  });
  engine.registerTag("csrf", {
    render(_ctx: any, emitter: any) {
      emitter.write(
        '<meta name="csrf-param" content="authenticity_token"><meta name="csrf-token" content="test-token">',
      );
    },
  });
  engine.registerTag("disable_client_cache", { render() {} });
  engine.registerTag("form", {
    parse(this: any, token: any, remainTokens: any[]) {
      const match = /^\s*'([^']+)'\s*(?:,\s*([A-Za-z_][\w.]*))?\s*(?:,\s*class:\s*'([^']*)')?\s*$/.exec(token.args);
      if (!match) throw new Error(`form: cannot parse arguments "${token.args}"`);
      const [, name, object, cssClass] = match;
      if (!FORM_ACTIONS[name]) throw new Error(`form: unknown 3scale form "${name}"`);
      Object.assign(this, { formName: name, formObject: object, cssClass, templates: [] });
      const stream = this.liquid.parser.parseStream(remainTokens);
      stream
        .on("tag:endform", () => stream.stop())
        .on("template", (t: any) => this.templates.push(t))
        .on("end", () => {
          throw new Error(`form "${name}" is not closed with endform`);
        });
      stream.start();
    },
    *render(this: any, ctx: any, emitter: any): any {
      // The form's object must exist in the page's context (3scale passes it, e.g. `user` on the login page).
      if (this.formObject) ctx.getSync(this.formObject.split("."));
      const [method, action] = FORM_ACTIONS[this.formName];
      const cls = this.cssClass ? ` class="${escapeAttr(this.cssClass)}"` : "";
      emitter.write(`<form action="${action}" method="post" accept-charset="UTF-8"${cls}>`);
      emitter.write('<input type="hidden" name="authenticity_token" value="test-token">');
      if (method !== "post") emitter.write(`<input type="hidden" name="_method" value="${method}">`);
      yield this.liquid.renderer.renderTemplates(this.templates, ctx, emitter);
      emitter.write("</form>");
    },
  });
  engine.registerFilter("html_safe", (v: unknown) => v);
  engine.registerFilter("link_to", (text: unknown, url: unknown) => `<a href="${escapeAttr(String(url))}">${text}</a>`);
  return engine;
}

/** Renders CMS content the way the portal serves it: the page body, then the layout around it. */
export class PortalRenderer {
  readonly engine: Liquid;
  private readonly layouts: Map<string, string>;
  private readonly pages: Map<string, { content: string; layout?: string; title: string }>;

  constructor(readonly content: PortalContent) {
    this.engine = portalEngine(Object.fromEntries(content.partials.map((p) => [p.systemName, p.content])));
    this.layouts = new Map(content.layouts.map((l) => [l.systemName, l.content]));
    this.pages = new Map([
      ...content.pages.map((p) => [p.systemName, { content: p.content, layout: p.layout, title: p.title }] as const),
      ...content.builtinPages.map(
        (p) => [p.systemName, { content: p.content, layout: p.layout, title: p.systemName }] as const,
      ),
    ]);
  }

  get pageNames(): string[] {
    return [...this.pages.keys()];
  }

  render(pageName: string, context: Record<string, unknown>): string {
    const page = this.pages.get(pageName);
    if (!page) throw new Error(`no page "${pageName}"; pages: ${this.pageNames.join(", ")}`);
    const scope = { page: { title: page.title }, ...context };
    const body = this.engine.parseAndRenderSync(page.content, scope);
    if (!page.layout) return body;
    const layout = this.layouts.get(page.layout);
    if (layout === undefined) throw new Error(`page "${pageName}" uses unknown layout "${page.layout}"`);
    return this.engine.parseAndRenderSync(layout, { ...scope, [CONTENT_SLOT]: body });
  }
}
