/**
 * The one-endpoint product in headless Chromium: the portal (served on loopback from our CMS content, the endpoint
 * enabled) presents it first on the home and examples pages, and an application of it draws its usage as one chart
 * per model from a fake gateway on another loopback port that speaks the policy's `GET /v1/usage` and APIcast's CORS.
 * Checks what the chart shows (used / limit per model and period), its states (loading, error, no limits), that the
 * key went only to the gateway (in the Authorization header, after a real CORS preflight) and stayed masked, and that
 * no page logged an error. Screenshots go to out/portal/endpoint-*.png.
 *
 * No Playwright route here: with a route, Playwright answers CORS preflights itself and the gateway's CORS would go
 * untested. Requests are recorded by the page and by both servers; host names do not resolve in this browser.
 */
import * as fs from "fs";
import * as path from "path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { ENDPOINT, ENDPOINT_APPS, gatewayUrl, keyOf, portalContent, type Persona } from "./fixtures";
import {
  invalidKey,
  limitsUnavailable,
  startFakeGateway,
  usageDocument,
  type FakeGateway,
  type UsageRow,
} from "./fake-gateway";
import { startPortalServer, type PortalServer } from "./portal-server";
import { launchChromium } from "../../support/chromium";

const SHOTS = path.resolve(__dirname, "../../../out/portal");
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

let browser: Browser;
let gateway: FakeGateway;
let server: PortalServer;
let models: string[];
let doc: ReturnType<typeof usageDocument>;
/** Every request a page made (Chromium does not report preflights here; the gateway records them). */
const pageRequests: { url: string; headers: Record<string, string> }[] = [];
/** Console errors and uncaught exceptions, with the URL the console attributes them to. */
let consoleErrors: { page: string; text: string; source: string }[] = [];

const number = (n: number) => n.toLocaleString("en-US");
const LABELS: Record<string, string> = { requests: "Requests", total_tokens: "Tokens" };
const PERIODS: Record<string, string> = { minute: "this minute", day: "today", month: "this month" };
const rowLabel = (row: UsageRow) => `${LABELS[row.kind]} ${PERIODS[row.period]}`;

beforeAll(async () => {
  // The gateway is up first: the portal is built with its URL, and it allows the portal's origin once that is known.
  gateway = await startFakeGateway(() => server.url);
  const portal = portalContent(5, { gatewayUrl: gateway.url });
  models = portal.config.models.map((m) => m.name);
  server = await startPortalServer(portal.content, models);
  doc = usageDocument(models);
  gateway.answer(keyOf(ENDPOINT_APPS.usage), { status: 200, body: doc });
  gateway.answer(keyOf(ENDPOINT_APPS.refused), invalidKey(keyOf(ENDPOINT_APPS.refused)));
  gateway.answer(keyOf(ENDPOINT_APPS.noLimits), {
    status: 200,
    body: { ...doc, models: models.slice(0, 2), data: [] },
  });
  // Nothing but loopback: any host name fails to resolve.
  browser = await launchChromium(["--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]);
  fs.mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await gateway?.close();
});

beforeEach(() => {
  gateway.requests.length = 0;
  server.requests.length = 0;
  consoleErrors = [];
});

async function open(persona: Persona, viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  await context.addCookies([{ name: "persona", value: persona, url: server.url }]);
  const page = await context.newPage();
  page.on("request", (r) => pageRequests.push({ url: r.url(), headers: r.headers() }));
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push({ page: page.url(), text: m.text(), source: m.location().url });
  });
  page.on("pageerror", (e) => consoleErrors.push({ page: page.url(), text: e.message, source: "" }));
  return { context, page };
}

async function visit(page: Page, route: string, shot?: string): Promise<void> {
  const response = await page.goto(`${server.url}${route}`, { waitUntil: "networkidle" });
  expect(response?.status()).toBe(200);
  if (shot) await page.screenshot({ path: path.join(SHOTS, `${shot}.png`), fullPage: true });
}

async function usageState(page: Page, state: string): Promise<void> {
  await page.locator(`#usage[data-usage-state="${state}"]`).waitFor();
}

const usageUrl = () => `${gateway.url}/v1/usage`;
const gatewayGets = () => gateway.requests.filter((r) => r.method === "GET");

/** Chromium's own line for a failed fetch (status >= 400): the only console error an error state may bring. */
function expectOnlyFailedFetch(status: number): void {
  expect(consoleErrors).toHaveLength(1);
  expect(consoleErrors[0].text).toMatch(
    new RegExp(`^Failed to load resource: the server responded with a status of ${status}`),
  );
  expect(consoleErrors[0].source).toBe(usageUrl());
}

test("home page presents the one endpoint first: its URL and every model", async () => {
  for (const [viewport, suffix] of [
    [DESKTOP, "desktop"],
    [PHONE, "phone"],
  ] as const) {
    const { context, page } = await open("anonymous", viewport);
    await visit(page, "/", `endpoint-home-${suffix}`);
    const section = page.getByRole("region", { name: ENDPOINT.name });
    await expect(section.isVisible()).resolves.toBe(true);
    // Before the model catalog, in the document and on screen.
    const order = await page.evaluate(() => {
      const all = document.getElementById("all-models")!;
      const catalog = document.getElementById("models")!;
      return [
        Boolean(all.compareDocumentPosition(catalog) & Node.DOCUMENT_POSITION_FOLLOWING),
        all.getBoundingClientRect().top < catalog.getBoundingClientRect().top,
      ];
    });
    expect(order).toEqual([true, true]);
    await expect(section.getByText("One key, every model").isVisible()).resolves.toBe(true);
    expect(await section.locator("#all-models-url").textContent()).toBe(`${gateway.url}/v1`);
    const links = section.locator(".endpoint-model-list a");
    expect(await links.count()).toBe(models.length);
    expect(await links.evaluateAll((as) => as.map((a) => a.getAttribute("href")))).toEqual(
      models.map((m) => `#model-${m}`),
    );
    if (viewport === DESKTOP) {
      await section.locator('[data-copy-from="all-models-url"]').click();
      await section.locator('[data-copy-from="all-models-url"][data-copied="true"]').waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(`${gateway.url}/v1`);
    } else {
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    }
    await context.close();
  }
  expect(gateway.requests).toEqual([]);
  expect(consoleErrors).toEqual([]);
});

test("examples page: OpenAI Python and JavaScript clients switching models by name, first", async () => {
  const { context, page } = await open("endpoint");
  await visit(page, "/examples", "endpoint-examples-desktop");
  expect(await page.locator("section.example").first().getAttribute("id")).toBe("examples-all_models");
  const python = page.locator("#code-all_models-python");
  await expect(python.isVisible()).resolves.toBe(true);
  const py = (await python.textContent())!;
  expect(py).toContain("from openai import OpenAI");
  expect(py).toContain(`base_url="${gateway.url}/v1"`);
  expect(py).toContain('api_key=os.environ["MAAS_API_KEY"]');
  expect(py).toContain(`model="${models[0]}"`);
  expect(py).toContain(`model="${models[1]}"`);

  await page.locator("#tab-all_models-javascript").click();
  const javascript = page.locator("#code-all_models-javascript");
  await expect(javascript.isVisible()).resolves.toBe(true);
  await expect(python.isVisible()).resolves.toBe(false);
  await page.locator('[data-copy-from="code-all_models-javascript"]').click();
  await page.locator('[data-copy-from="code-all_models-javascript"][data-copied="true"]').waitFor();
  const js = await page.evaluate(() => navigator.clipboard.readText());
  expect(js).toContain('import OpenAI from "openai"');
  expect(js).toContain(`baseURL: "${gateway.url}/v1"`);
  expect(js).toContain("apiKey: process.env.MAAS_API_KEY");
  expect(js).toContain(`model: "${models[0]}"`);
  expect(js).toContain(`model: "${models[1]}"`);
  await page.screenshot({ path: path.join(SHOTS, "endpoint-examples-javascript-desktop.png") });

  await page.keyboard.press("ArrowRight");
  const curl = (await page.locator("#code-all_models-curl").textContent())!;
  expect(curl).toContain(`curl -sS ${gateway.url}/v1/usage -H "Authorization: Bearer $MAAS_API_KEY"`);
  // The per-model examples follow, unchanged.
  expect(await page.locator("section.example").count()).toBe(1 + models.length);
  await context.close();
  expect(gateway.requests).toEqual([]);
  expect(consoleErrors).toEqual([]);
});

test("application page: a chart per model and for all models, used / limit per period, from the gateway", async () => {
  for (const [viewport, suffix] of [
    [DESKTOP, "desktop"],
    [PHONE, "phone"],
  ] as const) {
    gateway.requests.length = 0;
    server.requests.length = 0;
    const mark = pageRequests.length;
    const { context, page } = await open("endpoint", viewport);
    await page.goto(`${server.url}/admin/applications/${ENDPOINT_APPS.usage}`, { waitUntil: "networkidle" });
    await usageState(page, "ready");
    await page.screenshot({ path: path.join(SHOTS, `endpoint-application-usage-${suffix}.png`), fullPage: true });

    const usage = page.locator("#usage");
    expect(await usage.getAttribute("aria-busy")).toBe("false");
    expect(await usage.locator("[data-usage-status]").textContent()).toMatch(
      /^Usage as of .+, against your plan's limits\.$/,
    );
    // One chart for all models together, then one per model of the plan, in the document's order.
    const charts = usage.getByRole("figure");
    expect(await charts.locator("figcaption").allTextContents()).toEqual(["All models together", ...doc.models]);
    for (const row of doc.data) {
      const chart = usage.getByRole("figure", { name: row.model ?? "All models together", exact: true });
      const meter = chart.getByRole("meter", { name: rowLabel(row), exact: true });
      expect(await meter.getAttribute("aria-valuenow")).toBe(String(row.used));
      expect(await meter.getAttribute("aria-valuemax")).toBe(String(row.limit));
      expect(await meter.getAttribute("aria-valuetext")).toContain(
        `${number(row.used)} of ${number(row.limit)} ${row.unit}`,
      );
      const item = chart
        .locator(".usage-row")
        .filter({ has: page.getByRole("meter", { name: rowLabel(row), exact: true }) });
      expect(await item.locator(".usage-figures").textContent()).toBe(`${number(row.used)} / ${number(row.limit)}`);
      // The bar's length is the share used.
      const [bar, fill] = await Promise.all([meter.boundingBox(), meter.locator(".usage-fill").boundingBox()]);
      expect(fill!.width / bar!.width).toBeCloseTo(Math.min(1, row.used / row.limit), 2);
    }
    // Tokens before requests, and a day before a month; resets and states in words, not only in colour.
    expect(
      await usage.getByRole("figure", { name: models[0], exact: true }).locator(".usage-label").allTextContents(),
    ).toEqual(["Tokens today", "Tokens this month", "Requests this minute"]);
    const granite = usage.getByRole("figure", { name: models[0], exact: true });
    await expect(granite.getByText("9,000 left (82% used) · resets in 9 h 18 min").isVisible()).resolves.toBe(true);
    await expect(granite.getByText("390,000 left (61% used) · resets in 27 days 9 h").isVisible()).resolves.toBe(true);
    const mistral = usage.getByRole("figure", { name: models[2], exact: true });
    expect(await mistral.locator(".usage-row").getAttribute("class")).toContain("is-full");
    await expect(mistral.getByText("0 left (100% used)", { exact: false }).isVisible()).resolves.toBe(true);
    const qwen = usage.getByRole("figure", { name: models[3], exact: true });
    await expect(qwen.getByText("No limit of its own").isVisible()).resolves.toBe(true);
    expect(await qwen.getByRole("meter").count()).toBe(0);

    // The key: one CORS preflight, then one GET carrying it as a Bearer token, from the portal's origin, no cookies.
    expect(gateway.requests.map((r) => `${r.method} ${r.url}`)).toEqual(["OPTIONS /v1/usage", "GET /v1/usage"]);
    const [preflight, get] = gateway.requests;
    expect(preflight.headers.origin).toBe(server.url);
    expect(preflight.headers["access-control-request-method"]).toBe("GET");
    expect(preflight.headers["access-control-request-headers"]).toContain("authorization");
    expect(get.headers.authorization).toBe(`Bearer ${keyOf(ENDPOINT_APPS.usage)}`);
    expect(get.headers.origin).toBe(server.url);
    expect(get.headers.cookie).toBeUndefined();
    expect(get.headers.referer).toBeUndefined();
    // Every other request went to the portal, and none of them carried the key.
    const mine = pageRequests.slice(mark);
    expect(mine.filter((r) => !r.url.startsWith(`${server.url}/`)).map((r) => r.url)).toEqual([usageUrl()]);
    expect(server.requests.length).toBeGreaterThan(3);
    for (const r of server.requests) {
      expect(r.headers.authorization).toBeUndefined();
      expect(JSON.stringify(r)).not.toContain(keyOf(ENDPOINT_APPS.usage));
    }

    // The key stays masked, and reveal and copy still work.
    const key = page.getByLabel("API key", { exact: true });
    expect(await key.getAttribute("type")).toBe("password");
    expect(await page.locator("main").innerText()).not.toContain(keyOf(ENDPOINT_APPS.usage));
    expect(await page.getByLabel("Endpoint URL").inputValue()).toBe(`${gateway.url}/v1`);
    expect(await page.getByLabel("Model name").count()).toBe(0);
    if (viewport === DESKTOP) {
      await page.locator('[data-copy-from="secret-api-key"]').click();
      await page.locator('[data-copy-from="secret-api-key"][data-copied="true"]').waitFor();
      expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(keyOf(ENDPOINT_APPS.usage));
      await page.getByRole("button", { name: "Reveal" }).click();
      expect(await key.getAttribute("type")).toBe("text");
    } else {
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    }
    await context.close();
  }
  expect(consoleErrors).toEqual([]);
});

test("error state: the gateway's OpenAI-style message, with the key it names masked", async () => {
  const id = ENDPOINT_APPS.refused;
  const { context, page } = await open("endpoint");
  await page.goto(`${server.url}/admin/applications/${id}`, { waitUntil: "networkidle" });
  await usageState(page, "error");
  await page.screenshot({ path: path.join(SHOTS, "endpoint-application-error-desktop.png"), fullPage: true });
  const status = page.locator("#usage [data-usage-status]");
  expect(await status.textContent()).toBe(
    `The gateway refused: Authentication failed: user key "…${keyOf(id).slice(-4)}" is invalid (invalid_api_key)`,
  );
  expect(await status.getAttribute("role")).toBe("status");
  expect(await page.locator("main").innerText()).not.toContain(keyOf(id));
  expect(await page.locator("#usage").getByRole("figure").count()).toBe(0);
  expect(gatewayGets().map((r) => r.headers.authorization)).toEqual([`Bearer ${keyOf(id)}`]);
  await context.close();
  expectOnlyFailedFetch(401);
});

test("a gateway that does not allow the portal's origin: the answer stays unread, the page says so", async () => {
  const id = ENDPOINT_APPS.blocked;
  gateway.answer(keyOf(id), { status: 200, body: doc, cors: false });
  const { context, page } = await open("endpoint");
  await page.goto(`${server.url}/admin/applications/${id}`, { waitUntil: "networkidle" });
  await usageState(page, "error");
  expect(await page.locator("#usage [data-usage-status]").textContent()).toBe(
    `Could not reach the gateway at ${gateway.url}. Try again later.`,
  );
  expect(await page.locator("#usage").getByRole("meter").count()).toBe(0);
  // The request went (the browser, not the page, withholds the answer), and Chromium says why in the console.
  expect(gatewayGets().map((r) => r.headers.authorization)).toEqual([`Bearer ${keyOf(id)}`]);
  await context.close();
  expect(consoleErrors.map((e) => e.text).join("\n")).toMatch(/blocked by CORS policy/);
  for (const e of consoleErrors) expect(e.text).toMatch(/CORS policy|Failed to load resource: net::ERR_FAILED/);
});

test("no-limits state: nothing to chart, the plan's models named", async () => {
  const { context, page } = await open("endpoint");
  await page.goto(`${server.url}/admin/applications/${ENDPOINT_APPS.noLimits}`, { waitUntil: "networkidle" });
  await usageState(page, "empty");
  await page.screenshot({ path: path.join(SHOTS, "endpoint-application-no-limits-desktop.png"), fullPage: true });
  expect(await page.locator("#usage [data-usage-status]").textContent()).toBe(
    `Your plan sets no limits on this key: there is nothing to measure against. Models you can use: ${models[0]}, ${models[1]}.`,
  );
  expect(await page.locator("#usage").getByRole("meter").count()).toBe(0);
  await context.close();
  expect(consoleErrors).toEqual([]);
});

test("loading state, then a gateway outage, then Refresh draws the chart", async () => {
  const id = ENDPOINT_APPS.slow;
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  gateway.answer(keyOf(id), { ...limitsUnavailable, after: held }, { status: 200, body: doc });
  const { context, page } = await open("endpoint");
  await page.goto(`${server.url}/admin/applications/${id}`, { waitUntil: "domcontentloaded" });
  await usageState(page, "loading");
  const usage = page.locator("#usage");
  const refresh = usage.getByRole("button", { name: "Refresh" });
  expect(await usage.getAttribute("aria-busy")).toBe("true");
  expect(await usage.locator("[data-usage-status]").textContent()).toBe("Loading usage…");
  await expect(refresh.isDisabled()).resolves.toBe(true);
  await page.screenshot({ path: path.join(SHOTS, "endpoint-application-loading-desktop.png"), fullPage: true });

  release();
  await usageState(page, "error");
  expect(await usage.locator("[data-usage-status]").textContent()).toBe(
    "The gateway refused: The usage limits could not be checked; please try again later. (limits_unavailable)",
  );
  await expect(refresh.isEnabled()).resolves.toBe(true);
  await refresh.click();
  await usageState(page, "ready");
  expect(await usage.getByRole("meter").count()).toBe(doc.data.length);
  expect(gatewayGets().map((r) => r.headers.authorization)).toEqual([`Bearer ${keyOf(id)}`, `Bearer ${keyOf(id)}`]);
  await context.close();
  expectOnlyFailedFetch(503);
});

test("a model's application and a pending one ask the gateway nothing", async () => {
  const { context, page } = await open("endpoint");
  await visit(page, `/admin/applications/${ENDPOINT_APPS.model}`, "endpoint-model-application-desktop");
  expect(await page.locator("#usage").count()).toBe(0);
  expect(await page.getByLabel("Model name").inputValue()).toBe(models[0]);
  expect(await page.getByLabel("Endpoint URL").inputValue()).toBe(`${gatewayUrl(models[0]).replace(":443", "")}/v1`);

  await visit(page, `/admin/applications/${ENDPOINT_APPS.pending}`);
  await expect(page.getByText("Usage appears here once the application is live.").isVisible()).resolves.toBe(true);
  expect(await page.locator("[data-usage]").count()).toBe(0);

  await visit(page, "/admin/applications", "endpoint-applications-desktop");
  const card = page.locator(`#application-${ENDPOINT_APPS.usage}`);
  expect(await card.locator("dd").first().innerText()).toBe("Every model (one endpoint)");
  await visit(page, "/admin/applications/choose_service", "endpoint-choose-service-desktop");
  expect(await page.locator(".model-card h2").first().textContent()).toBe(ENDPOINT.name);
  await context.close();
  expect(gateway.requests).toEqual([]);
  expect(consoleErrors).toEqual([]);
});

test("no page request left loopback, and only usage requests reached the gateway", () => {
  expect(pageRequests.length).toBeGreaterThan(10);
  const elsewhere = pageRequests.filter((r) => !r.url.startsWith(`${server.url}/`));
  expect(elsewhere.length).toBeGreaterThan(0);
  for (const r of elsewhere) expect(r.url).toBe(usageUrl());
  // The key travels in the Authorization header of usage requests only.
  for (const r of pageRequests.filter((q) => q.url.startsWith(`${server.url}/`))) {
    expect(r.headers.authorization).toBeUndefined();
  }
});
