/** The plan-time portal builder: structure, data escaping, and clear errors for bad input. */
import * as path from "path";
import {
  buildPortalContent,
  catalogEndpoint,
  catalogModel,
  describeLimit,
  displayUrl,
  escapeForPortal,
  MAIN_LAYOUT,
  PAGES,
} from "../../../components/portal/content";
import { parseConfig } from "../../../components/config/schema";
import {
  ENDPOINT,
  endpointGatewayUrl,
  gatewayUrl,
  PORTAL_URL,
  portalContent,
  portalModels,
  stackConfig,
} from "./fixtures";

describe("buildPortalContent", () => {
  const { content } = portalContent(5);

  test("our pages, layout, partials, builtin overrides and assets, all on our layout and published", () => {
    expect(content.pages.map((p) => p.path)).toEqual(PAGES.map((p) => p.path));
    expect(content.layouts.map((l) => l.systemName)).toEqual([MAIN_LAYOUT]);
    expect(content.builtinPages.map((p) => p.systemName)).toEqual(
      expect.arrayContaining(["login/new", "applications/index", "applications/show", "applications/new"]),
    );
    for (const p of [...content.pages, ...content.builtinPages]) expect(p.layout).toBe(MAIN_LAYOUT);
    expect(content.publish).toBe(true);
    const types = Object.fromEntries(content.files.map((f) => [f.path, f.contentType]));
    expect(types).toMatchObject({
      "/maas/css/maas.css": "text/css",
      "/maas/javascripts/maas.js": "text/javascript",
      "/maas/images/logo.svg": "image/svg+xml",
    });
    for (const f of content.files) expect(f.section).toBe(content.sections[0].systemName);
  });

  test.each([
    ["without", content],
    ["with", portalContent(5, true).content],
  ])("no external URL in any template or asset (%s the one endpoint): everything is served by the portal", (_, c) => {
    const texts = [
      ...c.layouts.map((l) => l.content),
      ...c.partials.map((p) => p.content),
      ...c.pages.map((p) => p.content),
      ...c.builtinPages.map((p) => p.content),
      ...c.files.map((f) => Buffer.from(f.contentBase64, "base64").toString("utf8")),
    ];
    const external = texts.flatMap((t) => t.match(/(?:src|href)=["'](?:https?:)?\/\/[^"']+/g) ?? []);
    expect(external).toEqual([]);
    expect(texts.join("\n")).not.toMatch(/@import|cdn\.|googleapis|unpkg|jsdelivr/);
  });

  test("the product lookup maps every model's product to its gateway URL", () => {
    const lookup = content.partials.find((p) => p.systemName === "maas_model_lookup")!.content;
    for (const m of stackConfig(5).models) {
      expect(lookup).toContain(`{% when '${m.name}' %}`);
      expect(lookup).toContain(`{% assign maas_endpoint = '${displayUrl(gatewayUrl(m.name))}' %}`);
    }
  });

  test("stack text cannot inject HTML or 3scale Liquid into the portal", () => {
    const config = parseConfig({
      models: [{ name: "evil", displayName: "<script>x</script>", description: "{{ current_user.password }} {% x %}" }],
    });
    const built = buildPortalContent({ models: portalModels(config), portalUrl: PORTAL_URL });
    const home = built.pages.find((p) => p.path === "/")!.content;
    expect(home).not.toContain("<script>x");
    expect(home).not.toContain("{{ current_user.password");
    expect(home).toContain("&#123;&#123; current_user.password &#125;&#125;");
    expect(escapeForPortal(`a"b'<c>{d}&`)).toBe("a&quot;b&#39;&lt;c&gt;&#123;d&#125;&amp;");
  });

  test("the one endpoint's name cannot inject HTML or 3scale Liquid either, even where templates compare it", () => {
    const config = stackConfig(2);
    const evil = `<img src=x onerror=alert(1)>{{ current_user.password }}{% x %}'`;
    for (const systemName of [ENDPOINT.systemName, undefined]) {
      const built = buildPortalContent({
        models: portalModels(config),
        portalUrl: PORTAL_URL,
        endpoint: { name: evil, systemName, gatewayUrl: endpointGatewayUrl },
      });
      const texts = [...built.pages, ...built.builtinPages, ...built.partials].map((t) => t.content).join("\n");
      expect(texts).not.toContain("<img src=x");
      expect(texts).not.toContain("{{ current_user.password");
      expect(texts).not.toContain("{% x %}");
      expect(texts).toContain("&lt;img src=x onerror=alert(1)&gt;&#123;&#123; current_user.password &#125;&#125;");
      const lookup = built.partials.find((p) => p.systemName === "maas_model_lookup")!.content;
      // Compared by name only without a system name: the quote is an entity, so the Liquid string literal holds.
      if (systemName === undefined) expect(lookup).toContain("{% if lookup_service.name == '&lt;img src=x");
      else expect(lookup).toContain(`{% if lookup_service.system_name == '${systemName}' %}`);
    }
  });

  test("the one endpoint in the build-time context: display URL, usage URL and every model", () => {
    const models = portalModels(stackConfig(2)).map(catalogModel);
    expect(catalogEndpoint({ name: "All models", gatewayUrl: endpointGatewayUrl }, models)).toEqual({
      name: "All models",
      systemName: "",
      gatewayUrl: displayUrl(endpointGatewayUrl),
      usageUrl: `${displayUrl(endpointGatewayUrl)}/v1/usage`,
      models: [
        { name: "granite-33-2b-instruct", displayName: "Granite 33 2b Instruct" },
        { name: "llama-31-8b-instruct", displayName: "Llama 31 8b Instruct" },
      ],
    });
    expect(
      catalogEndpoint({ name: "x", systemName: "maas-api", gatewayUrl: endpointGatewayUrl, usage: false }, models),
    ).toMatchObject({ systemName: "maas-api", usageUrl: "" });
  });

  test("a missing or unsafe gateway URL is a clear error naming the key", () => {
    const config = stackConfig(1);
    const withUrl = (url: string | undefined) => portalModels(config, () => url as string);
    expect(() => buildPortalContent({ models: withUrl(undefined), portalUrl: PORTAL_URL })).toThrow(
      /models\[name=granite-33-2b-instruct\]\.gatewayUrl: must be an http\(s\) URL .* e\.g\. "https:\/\/granite-33-2b-instruct-maas-apicast-production/,
    );
    expect(() => buildPortalContent({ models: withUrl("https://x.example.com/'%}"), portalUrl: PORTAL_URL })).toThrow(
      /must be an http\(s\) URL without query or quotes/,
    );
    expect(() => buildPortalContent({ models: withUrl(gatewayUrl("g")), portalUrl: "maas" })).toThrow(
      /^portalUrl: .*e\.g\. "https:\/\/maas\.apps\.example\.com"/,
    );
    expect(() =>
      buildPortalContent({
        models: portalModels(config),
        portalUrl: PORTAL_URL,
        endpoint: { name: "All models", gatewayUrl: "https://maas-api.example.com/?k='{{x}}'" },
      }),
    ).toThrow(/^endpoint\.gatewayUrl: must be an http\(s\) URL .* e\.g\. "https:\/\/maas-api-maas-apicast-production/);
  });

  test("a template with a build-time error names its file", () => {
    const dir = path.join(__dirname, "fixtures-bad-assets");
    const config = stackConfig(1);
    expect(() => buildPortalContent({ models: portalModels(config), portalUrl: PORTAL_URL, assetsDir: dir })).toThrow(
      /assets\/portal\/pages\/index\.html\.liquid: undefined variable: portal\.nmae/,
    );
  });
});

test("limits read like a plan sheet", () => {
  expect(describeLimit({ metric: "hits", period: "minute", value: 60 })).toBe("60 requests / minute");
  expect(describeLimit({ metric: "total_tokens", period: "day", value: 200000 })).toBe("200,000 tokens / day");
  expect(describeLimit({ metric: "chat_completions", period: "eternity", value: 5 })).toBe(
    "5 chat completions calls in total",
  );
  expect(describeLimit({ metric: "completion_tokens", period: "hour", value: 0 })).toBe("no completion tokens");
  expect(displayUrl("https://a.example.com:443")).toBe("https://a.example.com");
  expect(displayUrl("https://a.example.com:8443/x/")).toBe("https://a.example.com:8443/x");
});
