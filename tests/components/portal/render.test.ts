/**
 * Every portal template renders under a strict 3scale Liquid stand-in (undefined variables and unknown filters fail)
 * for anonymous and signed-in developers with 0, 1 and many applications, and 1 and 5 models; with the one-endpoint
 * product too, for its applications and a model's.
 */
import {
  API_KEY,
  ENDPOINT,
  ENDPOINT_APPS,
  endpointGatewayUrl,
  gatewayUrl,
  keyOf,
  pageContext,
  portalContent,
  stackConfig,
  type Persona,
} from "./fixtures";
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

/** The one-endpoint product (`threescale.endpoint.enabled`): the same strict renders, and what each branch shows. */
describe.each([1, 5])("portal with the one endpoint and %i model(s)", (modelCount) => {
  const { config, content } = portalContent(modelCount, true);
  const renderer = new PortalRenderer(content);
  const models = config.models.map((m) => m.name);
  const url = endpointGatewayUrl.replace(":443", "");
  const show = (id: number) =>
    renderer.render("applications/show", pageContext("applications/show", "endpoint", models, id));

  const cases: [string, Persona, number | undefined][] = [
    ...renderer.pageNames.flatMap((page) =>
      [...PERSONAS, "endpoint" as const]
        .filter((p) => p !== "anonymous" || !SIGNED_IN_ONLY.includes(page))
        .map((persona): [string, Persona, undefined] => [page, persona, undefined]),
    ),
    ...Object.values(ENDPOINT_APPS).map((id): [string, Persona, number] => ["applications/show", "endpoint", id]),
  ];

  test.each(cases)("%s renders for %s developers (application %s) with no leftover template syntax", (page, p, id) => {
    const html = renderer.render(page, pageContext(page, p, models, id));
    expect(html).toMatch(/^<!DOCTYPE html>/);
    for (const marker of ["{{", "}}", "{%", "%}", "[[", "]]", "[%", "%]"]) expect(html).not.toContain(marker);
    expect(html).not.toMatch(/undefined|\[object Object\]/);
  });

  test("the home page shows the one endpoint first, with its URL and every model", () => {
    const html = renderer.render("maas_home", pageContext("maas_home", "anonymous", models));
    const section = html.indexOf('<section id="all-models"');
    expect(section).toBeGreaterThan(0);
    expect(section).toBeLessThan(html.indexOf('<section id="models"'));
    const card = html.slice(section, html.indexOf('<section id="models"'));
    expect(card).toContain("One key, every model");
    expect(card).toContain(`<h2 id="all-models-title">${ENDPOINT.name}</h2>`);
    expect(card).toContain(`id="all-models-url">${url}/v1</code>`);
    for (const m of models) expect(card).toContain(`<a href="#model-${m}">`);
    expect(card).toContain(`${modelCount} model${modelCount === 1 ? "" : "s"} on this endpoint`);
    expect(card).toContain("GET /v1/usage");
    expect(card).toContain('href="/examples#examples-all_models"');
    const signedIn = renderer.render("maas_home", pageContext("maas_home", "endpoint", models));
    expect(signedIn).toContain(`href="/admin/applications/new?service_id=${ENDPOINT.systemName}"`);
  });

  test("the examples page starts with OpenAI Python and JavaScript clients switching models by name", () => {
    const html = renderer.render("maas_examples", pageContext("maas_examples", "endpoint", models));
    const section = html.indexOf('id="examples-all_models"');
    expect(section).toBeGreaterThan(0);
    expect(section).toBeLessThan(html.indexOf(`id="examples-${models[0]}"`));
    const code = (lang: string) => {
      const start = html.indexOf(`id="code-all_models-${lang}">`);
      return html.slice(start, html.indexOf("</code>", start));
    };
    const second = models[1] ?? models[0];
    const py = code("python");
    expect(py).toContain("from openai import OpenAI");
    expect(py).toContain(`base_url="${url}/v1"`);
    expect(py).toContain('api_key=os.environ["MAAS_API_KEY"]');
    expect(py).toContain(`model="${models[0]}"`);
    expect(py).toContain(`model="${second}"`);
    expect(py.match(/client\.chat\.completions\.create/g)).toHaveLength(modelCount > 1 ? 2 : 1);
    const js = code("javascript");
    expect(js).toContain('import OpenAI from "openai"');
    expect(js).toContain(`baseURL: "${url}/v1"`);
    expect(js).toContain("apiKey: process.env.MAAS_API_KEY");
    expect(js).toContain(`model: "${models[0]}"`);
    expect(js).toContain(`model: "${second}"`);
    expect(js.match(/client\.chat\.completions\.create/g)).toHaveLength(modelCount > 1 ? 2 : 1);
    const curl = code("curl");
    expect(curl).toContain(`curl -sS ${url}/v1/models -H`);
    expect(curl).toContain(`curl -sS ${url}/v1/usage -H`);
    expect(curl).toContain(`-d '{"model": "${models[0]}"`);
    // The per-model examples are all still there.
    for (const m of models) expect(html).toContain(`base_url="${gatewayUrl(m).replace(":443", "")}/v1"`);
  });

  test("an application of the endpoint: its URL, every model, the masked key and a usage chart fed by the gateway", () => {
    const html = show(ENDPOINT_APPS.usage);
    expect(html).toContain("Connect to every model");
    expect(html).toContain(`id="field-endpoint" type="text" value="${url}/v1"`);
    expect(html).not.toContain('id="field-model"');
    for (const m of models) expect(html).toContain(`>${m}</code></li>`);
    expect(html).toMatch(new RegExp(`id="secret-api-key" type="password" value="${keyOf(ENDPOINT_APPS.usage)}"`));
    expect(html).toContain(`data-usage data-usage-url="${url}/v1/usage" data-usage-key-from="secret-api-key"`);
    expect(html).toContain('role="status" aria-live="polite" data-usage-status');
    expect(html).toContain('href="/examples#examples-all_models"');
    // The key is in the page once: in its masked field.
    expect(html.split(keyOf(ENDPOINT_APPS.usage))).toHaveLength(2);
  });

  test("an application of a model on the same portal: its model, no usage chart", () => {
    const html = show(ENDPOINT_APPS.model);
    expect(html).toContain("Connect to the model");
    expect(html).toContain(`id="field-model" type="text" value="${models[0]}"`);
    expect(html).toContain(`value="${gatewayUrl(models[0]).replace(":443", "")}/v1"`);
    expect(html).not.toContain('id="usage"');
    expect(html).not.toContain("data-usage");
  });

  test("a pending application of the endpoint asks the gateway nothing", () => {
    const html = show(ENDPOINT_APPS.pending);
    expect(html).toContain('id="usage"');
    expect(html).not.toContain("data-usage");
    expect(html).toContain("Usage appears here once the application is live.");
  });

  test("the applications list and the product choice put the endpoint as every model, first", () => {
    const list = renderer.render("applications/index", pageContext("applications/index", "endpoint", models));
    const card = list.slice(list.indexOf(`id="application-${ENDPOINT_APPS.usage}"`));
    expect(card.slice(0, card.indexOf("</li>"))).toContain("Every model <span");
    expect(list).toContain(`or one key for every model (${ENDPOINT.name})`);
    const choose = renderer.render(
      "applications/choose_service",
      pageContext("applications/choose_service", "endpoint", models),
    );
    const uses = [...choose.matchAll(/\?service_id=([\w-]+)"/g)].map((m) => m[1]);
    expect(uses).toEqual([ENDPOINT.systemName, ...models]);
  });
});

describe("the one endpoint's branches", () => {
  const models = stackConfig(5).models.map((m) => m.name);

  test("off: no endpoint section, example, chart or lookup branch", () => {
    const { content } = portalContent(5);
    const renderer = new PortalRenderer(content);
    expect(renderer.render("maas_home", pageContext("maas_home", "one", models))).not.toContain("all-models");
    expect(renderer.render("maas_examples", pageContext("maas_examples", "one", models))).not.toContain("all_models");
    expect(renderer.render("applications/show", pageContext("applications/show", "one", models))).not.toContain(
      "usage",
    );
    const lookup = content.partials.find((p) => p.systemName === "maas_model_lookup")!.content;
    expect(lookup).not.toContain("maas_all_models = true");
    // The endpoint's own partials are empty without it.
    for (const name of ["maas_usage", "maas_endpoint_models"]) {
      expect(content.partials.find((p) => p.systemName === name)!.content).not.toMatch(/<(section|div)/);
    }
  });

  test("without the system name, the endpoint's applications are recognised by the product's name", () => {
    const { content } = portalContent(5, { systemName: undefined });
    const lookup = content.partials.find((p) => p.systemName === "maas_model_lookup")!.content;
    expect(lookup).toContain(`{% if lookup_service.name == '${ENDPOINT.name}' %}`);
    const renderer = new PortalRenderer(content);
    const html = renderer.render(
      "applications/show",
      pageContext("applications/show", "endpoint", models, ENDPOINT_APPS.usage),
    );
    expect(html).toContain("data-usage-url=");
    expect(renderer.render("maas_home", pageContext("maas_home", "endpoint", models))).toContain(
      'href="/admin/applications/new">Get a key for every model',
    );
  });

  test("usage off: the endpoint without a chart or a usage example", () => {
    const { content } = portalContent(5, { usage: false });
    const renderer = new PortalRenderer(content);
    const html = renderer.render(
      "applications/show",
      pageContext("applications/show", "endpoint", models, ENDPOINT_APPS.usage),
    );
    expect(html).toContain("Connect to every model");
    expect(html).not.toContain('id="usage"');
    const examples = renderer.render("maas_examples", pageContext("maas_examples", "endpoint", models));
    expect(examples).toContain("/v1/models");
    expect(examples).not.toContain("/v1/usage");
    expect(renderer.render("maas_home", pageContext("maas_home", "endpoint", models))).not.toContain("/v1/usage");
  });
});
