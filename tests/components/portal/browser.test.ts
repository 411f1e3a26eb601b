/**
 * The portal in headless Chromium: pages rendered from our CMS content and served on loopback. Checks what a
 * developer relies on (masked key, reveal, copy to clipboard, SSO first, working tabs and docs) and what we promise
 * (no request leaves the machine, no console errors), and writes screenshots to out/portal/ for review.
 */
import * as fs from "fs";
import * as path from "path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { API_KEY, gatewayUrl, portalContent, type Persona } from "./fixtures";
import { startPortalServer, type PortalServer } from "./portal-server";
import { launchChromium } from "../../support/chromium";

const SHOTS = path.resolve(__dirname, "../../../out/portal");
const DESKTOP = { width: 1366, height: 900 };
const PHONE = { width: 390, height: 844 };

let browser: Browser;
let server: PortalServer;
const requests: string[] = [];
const consoleErrors: string[] = [];
const portal = portalContent(5);
const models = portal.config.models.map((m) => m.name);

beforeAll(async () => {
  server = await startPortalServer(portal.content, models);
  browser = await launchChromium();
  fs.mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function open(persona: Persona, viewport = DESKTOP): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: server.url });
  await context.addCookies([{ name: "persona", value: persona, url: server.url }]);
  // Record every request; anything not served by our loopback server is aborted (and fails the test below).
  await context.route("**/*", (route) => {
    const url = route.request().url();
    requests.push(url);
    return url.startsWith(`${server.url}/`) ? route.continue() : route.abort();
  });
  const page = await context.newPage();
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(`${page.url()}: ${m.text()}`);
  });
  page.on("pageerror", (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
  return { context, page };
}

async function visit(page: Page, route: string, shot: string): Promise<void> {
  const response = await page.goto(`${server.url}${route}`, { waitUntil: "networkidle" });
  expect(response?.status()).toBe(200);
  await page.screenshot({ path: path.join(SHOTS, `${shot}.png`), fullPage: true });
}

test("home page, anonymous, desktop and phone", async () => {
  for (const [viewport, suffix] of [
    [DESKTOP, "desktop"],
    [PHONE, "phone"],
  ] as const) {
    const { context, page } = await open("anonymous", viewport);
    await visit(page, "/", `home-anonymous-${suffix}`);
    expect(await page.locator(".model-card").count()).toBe(models.length);
    await expect(page.getByRole("link", { name: "Sign in to get an API key" }).isVisible()).resolves.toBe(true);
    if (viewport === PHONE) {
      // The menu collapses behind a button that opens it.
      const toggle = page.getByRole("button", { name: "Menu" });
      await expect(page.locator("#site-nav").isVisible()).resolves.toBe(false);
      await toggle.click();
      await expect(page.locator("#site-nav").isVisible()).resolves.toBe(true);
      expect(await toggle.getAttribute("aria-expanded")).toBe("true");
      // Nothing is wider than the phone's screen.
      expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    }
    await context.close();
  }
});

test("home page, signed in", async () => {
  const { context, page } = await open("many");
  await visit(page, "/", "home-signed-in-desktop");
  await expect(page.getByRole("heading", { name: "Welcome back, ada" }).isVisible()).resolves.toBe(true);
  await context.close();
});

test("sign-in page puts the SSO button first", async () => {
  const { context, page } = await open("anonymous");
  await visit(page, "/login", "sign-in-desktop");
  const first = page.locator("main a.button, main button, main summary").first();
  expect(await first.textContent()).toContain("Sign in with Red Hat Single Sign-On");
  expect(await first.getAttribute("href")).toBe("/auth/keycloak");
  await expect(page.locator("#session_password").isVisible()).resolves.toBe(false);
  await context.close();
});

test("applications list masks every key", async () => {
  const { context, page } = await open("many");
  await visit(page, "/admin/applications", "applications-desktop");
  const inputs = page.locator(".app-card .secret-input");
  expect(await inputs.count()).toBe(2 * models.length);
  for (const type of await inputs.evaluateAll((els) => els.map((e) => (e as HTMLInputElement).type))) {
    expect(type).toBe("password");
  }
  await context.close();
});

test("application page: key masked until revealed, copy puts it on the clipboard", async () => {
  for (const [viewport, suffix] of [
    [DESKTOP, "desktop"],
    [PHONE, "phone"],
  ] as const) {
    const { context, page } = await open("one", viewport);
    await visit(page, "/admin/applications/1", `application-${suffix}`);
    const key = page.getByLabel("API key", { exact: true });
    expect(await key.getAttribute("type")).toBe("password");
    expect(await page.locator("main").innerText()).not.toContain(API_KEY);
    expect(await page.getByLabel("Endpoint URL").inputValue()).toBe(`${gatewayUrl(models[0]).replace(":443", "")}/v1`);
    expect(await page.getByLabel("Model name").inputValue()).toBe(models[0]);

    const reveal = page.getByRole("button", { name: "Reveal" });
    await reveal.click();
    expect(await key.getAttribute("type")).toBe("text");
    expect(await page.getByRole("button", { name: "Hide" }).getAttribute("aria-pressed")).toBe("true");
    if (viewport === DESKTOP) await page.screenshot({ path: path.join(SHOTS, "application-revealed-desktop.png") });
    await page.getByRole("button", { name: "Hide" }).click();
    expect(await key.getAttribute("type")).toBe("password");

    await page.locator('[data-copy-from="secret-api-key"]').click();
    await page.locator('[data-copy-from="secret-api-key"][data-copied="true"]').waitFor();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(API_KEY);
    await context.close();
  }
});

test("examples page: tabs switch with mouse and keyboard, snippets copy", async () => {
  const { context, page } = await open("one");
  await visit(page, "/examples", "examples-desktop");
  const model = models[0];
  const python = page.locator(`#panel-${model}-python`);
  await expect(python.isVisible()).resolves.toBe(false);
  await page.locator(`#tab-${model}-python`).click();
  await expect(python.isVisible()).resolves.toBe(true);
  await page.keyboard.press("ArrowRight");
  await expect(page.locator(`#panel-${model}-langchain`).isVisible()).resolves.toBe(true);
  await page.locator(`[data-copy-from="code-${model}-langchain"]`).click();
  await page.locator(`[data-copy-from="code-${model}-langchain"][data-copied="true"]`).waitFor();
  const copied = await page.evaluate(() => navigator.clipboard.readText());
  expect(copied).toContain(`model="${model}"`);
  expect(copied).toContain(`${gatewayUrl(model).replace(":443", "")}/v1`);
  await context.close();
});

test("docs page renders the OpenAPI documents with our own viewer", async () => {
  const { context, page } = await open("anonymous");
  await page.goto(`${server.url}/docs`, { waitUntil: "networkidle" });
  await page.locator(".operation").first().waitFor();
  // Every published spec (the fixture hides the second) lists its two operations.
  expect(await page.locator(".operation").count()).toBe(2 * (models.length - 1));
  await page.locator(".operation summary").first().click();
  await expect(page.getByText("Served model name").first().isVisible()).resolves.toBe(true);
  await page.screenshot({ path: path.join(SHOTS, "docs-desktop.png"), fullPage: true });
  await context.close();
});

test("no request left the machine and no page logged an error", () => {
  expect(requests.length).toBeGreaterThan(10);
  expect(requests.filter((u) => !u.startsWith(`${server.url}/`))).toEqual([]);
  expect(consoleErrors).toEqual([]);
});
