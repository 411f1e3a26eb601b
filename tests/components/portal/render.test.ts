/**
 * Every portal template renders under a strict 3scale Liquid stand-in (undefined variables and unknown filters fail)
 * for anonymous and signed-in developers with 0, 1 and many applications, and 1 and 5 models.
 */
import { API_KEY, gatewayUrl, pageContext, portalContent, type Persona } from "./fixtures";
import { PortalRenderer } from "./liquid-3scale";

const PERSONAS: Persona[] = ["anonymous", "none", "one", "many"];
/** Pages only a signed-in developer reaches (3scale redirects anonymous visitors to the login page). */
const SIGNED_IN_ONLY = ["applications/index", "applications/show", "applications/new", "applications/choose_service"];

describe.each([1, 5])("portal with %i model(s)", (modelCount) => {
  const { config, content } = portalContent(modelCount);
  const renderer = new PortalRenderer(content);
  const models = config.models.map((m) => m.name);

  const cases = renderer.pageNames.flatMap((page) =>
    PERSONAS.filter((p) => p !== "anonymous" || !SIGNED_IN_ONLY.includes(page)).map((persona) => [page, persona]),
  );

  test.each(cases)("%s renders for %s developers with no leftover template syntax", (page, persona) => {
    const html = renderer.render(page, pageContext(page, persona as Persona, models));
    expect(html).toMatch(/^<!DOCTYPE html>/);
    for (const marker of ["{{", "}}", "{%", "%}", "[[", "]]", "[%", "%]"]) expect(html).not.toContain(marker);
    expect(html).toContain('<main id="main-content"');
    expect(html).not.toMatch(/undefined|\[object Object\]/);
  });

  test("the home page lists every model with its context length, accelerator, endpoints and plans", () => {
    const html = renderer.render("maas_home", pageContext("maas_home", "anonymous", models));
    expect(html.match(/class="card model-card"/g)).toHaveLength(modelCount);
    for (const m of config.models) {
      expect(html).toContain(`id="model-${m.name}"`);
      expect(html).toContain(`${m.maxModelLen.toLocaleString("en-US")} tokens`);
      expect(html).toContain(gatewayUrl(m.name).replace(":443", ""));
    }
    expect(html).toContain("60 requests / minute");
    expect(html).toContain("200,000 tokens / day");
    if (modelCount === 5) {
      expect(html).toContain("5,000,000 tokens / month");
      expect(html).toContain("2 × NVIDIA L40S");
      expect(html).toContain("/v1/embeddings");
    }
    expect(html).toContain('href="/login"');
  });

  test("the examples page fills curl, openai SDK and LangChain snippets with each model's URL and name", () => {
    const html = renderer.render("maas_examples", pageContext("maas_examples", "one", models));
    for (const m of models) {
      const url = gatewayUrl(m).replace(":443", "");
      expect(html).toContain(`curl -sS ${url}/v1/chat/completions`);
      expect(html).toContain(`base_url="${url}/v1"`);
      expect(html).toContain(`model="${m}"`);
      expect(html).toContain(`"model": "${m}"`);
    }
    expect(html).not.toContain("apps.cluster-");
  });

  test("the sign-in page shows the SSO buttons before the password form", () => {
    const html = renderer.render("login/new", pageContext("login/new", "anonymous", models));
    const sso = html.indexOf('href="/auth/keycloak"');
    expect(sso).toBeGreaterThan(0);
    expect(sso).toBeLessThan(html.indexOf('action="/session"'));
    expect(html).toContain("Sign in with Red Hat Single Sign-On");
  });

  test("the application page shows endpoint, model name and a masked key", () => {
    const html = renderer.render("applications/show", pageContext("applications/show", "one", models));
    expect(html).toMatch(new RegExp(`type="password" value="${API_KEY}"`));
    expect(html).toContain(`value="${gatewayUrl(models[0]).replace(":443", "")}/v1"`);
    expect(html).toContain(`id="field-model" type="text" value="${models[0]}"`);
  });

  test("the applications list shows one card per application, each with a masked key", () => {
    const ctx = pageContext("applications/index", "many", models);
    const html = renderer.render("applications/index", ctx);
    expect(html.match(/class="card app-card"/g)).toHaveLength(2 * modelCount);
    expect(html.match(/type="password"/g)).toHaveLength(2 * modelCount);
    expect(html).toContain("badge-pending");
    const empty = renderer.render("applications/index", pageContext("applications/index", "none", models));
    expect(empty).toContain("No applications yet");
  });

  test("the docs page has one section per published spec, fetched from the portal itself", () => {
    const html = renderer.render("maas_docs", pageContext("maas_docs", "anonymous", models));
    const published = modelCount === 1 ? 1 : modelCount - 1;
    expect(html.match(/data-openapi-url="\/swagger\/spec\/[^"]+\.json"/g)).toHaveLength(published);
    expect(html).not.toMatch(/src="(https?:)?\/\//);
  });
});

test("an unknown variable in a template fails the strict render", () => {
  const { content } = portalContent(1);
  const broken = {
    ...content,
    pages: content.pages.map((p) => (p.systemName === "maas_docs" ? { ...p, content: "{{ provider.nmae }}" } : p)),
  };
  expect(() => new PortalRenderer(broken).render("maas_docs", pageContext("maas_docs", "one", ["x"]))).toThrow(
    /undefined variable/,
  );
});
