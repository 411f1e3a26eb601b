/**
 * The portal content and the portal's SSO integration end to end against the 3scale emulator, through the real
 * providers in their serialized form (the harness dynamic engine): `up` uploads and publishes, a second `up` writes
 * nothing, changing one model's description rewrites and republishes exactly one page, and destroy removes what we
 * manage, restores the builtin pages and unpublishes the SSO integration.
 */
import * as pulumi from "@pulumi/pulumi";
import { CmsContent } from "../../../dynamic-providers/cms-content";
import { SsoIntegration } from "../../../dynamic-providers/sso-integration";
import { buildPortalContent } from "../../../components/portal/content";
import { portalModels } from "./fixtures";
import { ssoDisplayName } from "../../../components/portal/developer-portal";
import { parseConfig, type PlatformConfig } from "../../../components/config/schema";
import { BUILTIN_PAGES } from "../../../tools/threescale-emulator/seed";
import { describeCalls, FAST_RETRIES } from "../../e2e/support";
import { startEmulator, type Emulator } from "../../../tools/threescale-emulator";
import { createDynamicEngine, type DynamicEngine } from "../../../scripts/plan/dynamic-engine";
import { runProgram, type HarnessState } from "../../../scripts/plan/mock-runner";

const WILDCARD = "apps.example.test";
const CLIENT_SECRET = "portal-client-secret-0123456789";
const REALM_URL = "https://keycloak-rh-sso.apps.example.test/auth/realms/maas";
/** Replaced by the engine with the emulator's URL and token. */
const PLACEHOLDER_CONNECTION = {
  adminUrl: "https://placeholder.invalid",
  accessToken: "placeholder",
  verifyTls: false,
};

function stack(description: string): PlatformConfig {
  return parseConfig({
    models: [
      { name: "granite-33-2b-instruct", description },
      { name: "llama-31-8b-instruct", description: "Llama 3.1 8B" },
    ],
  });
}

const portalProgram = (config: PlatformConfig) => () => {
  const content = buildPortalContent({
    models: portalModels(config, (m) => `https://${m}-maas-apicast-production.${WILDCARD}:443`),
    portalUrl: `https://maas.${WILDCARD}`,
  });
  const connection = pulumi.secret(PLACEHOLDER_CONNECTION);
  const cms = new CmsContent("portal-content", { connection, ...content });
  const sso = new SsoIntegration("portal-sso", {
    connection,
    kind: "keycloak",
    name: ssoDisplayName(config.sso.flavor),
    clientId: config.sso.clientId,
    clientSecret: pulumi.secret(CLIENT_SECRET),
    site: REALM_URL,
    published: true,
    automaticallyApproveAccounts: config.sso.autoApproveAccounts,
  });
  return { managed: cms.managed, callbackUrl: sso.callbackUrl };
};

let emulator: Emulator;
let engine: DynamicEngine;
let state: HarnessState = { resources: {} };

async function up(config: PlatformConfig) {
  emulator.resetCalls();
  engine.resetOperations();
  const result = await runProgram({ stack: "dev", program: portalProgram(config), handlers: engine.handlers, state });
  await engine.destroy(result.removed);
  state = result.state;
  return result;
}

const template = (type: string, systemName: string) =>
  emulator.state.cmsTemplates.find((t) => t.type === type && t.system_name === systemName);

beforeAll(async () => {
  emulator = await startEmulator({ latencyMs: 0, wildcardDomain: WILDCARD });
  engine = createDynamicEngine({
    connection: { adminUrl: emulator.url, accessToken: emulator.accessToken, verifyTls: false },
    clientOptions: FAST_RETRIES,
  });
});
afterAll(() => emulator?.close());

test("up, no-op up, one page changed, destroy", async () => {
  const builtinsBefore = Object.fromEntries(
    BUILTIN_PAGES.map((name) => [name, template("builtin_page", name)?.published ?? null]),
  );

  // 1. First up: everything uploaded and published; SSO integration published with auto-approval.
  const first = await up(stack("IBM Granite 3.3 2B"));
  const home = template("page", "maas_home") ?? emulator.state.cmsTemplates.find((t) => t.path === "/");
  expect(home?.published).toContain("IBM Granite 3.3 2B");
  expect(home?.draft).toBeNull();
  expect(template("layout", "maas_main")?.published).toContain("maas.css");
  expect(template("builtin_page", "login/new")?.published).toContain("maas_sso_buttons");
  expect(emulator.state.cmsFiles.map((f) => f.path)).toEqual(expect.arrayContaining(["/maas/css/maas.css"]));
  const [provider] = emulator.state.authProviders;
  expect(provider).toMatchObject({
    kind: "keycloak",
    client_id: "3scale",
    client_secret: CLIENT_SECRET,
    site: REALM_URL,
    published: true,
    automatically_approve_accounts: true,
  });
  expect(first.outputs.callbackUrl).toMatch(/^https:\/\/.+\/auth\/keycloak\/callback$/);

  // 2. Same inputs: zero writes.
  await up(stack("IBM Granite 3.3 2B"));
  expect(describeCalls(emulator.writes())).toEqual([]);
  expect(engine.operations.every((o) => o.kind === "same")).toBe(true);

  // 3. One model's description changed: only the home page is rewritten and published.
  await up(stack("IBM Granite 3.3 2B, now with a longer description"));
  const writes = describeCalls(emulator.writes());
  expect(writes).toHaveLength(2);
  expect(writes[0]).toMatch(new RegExp(`^PUT /admin/api/cms/templates/${home!.id}\\.json$`));
  expect(writes[1]).toMatch(new RegExp(`^PUT /admin/api/cms/templates/${home!.id}/publish\\.json$`));
  expect(template("page", home!.system_name!)?.published).toContain("now with a longer description");

  // 4. Destroy: our templates, files and section are gone, builtin pages are back, SSO is unpublished.
  await engine.destroy(Object.values(state.resources));
  expect(template("layout", "maas_main")).toBeUndefined();
  expect(template("partial", "maas_header")).toBeUndefined();
  expect(emulator.state.cmsFiles.filter((f) => f.path.startsWith("/maas/"))).toEqual([]);
  expect(emulator.state.cmsSections.find((s) => s.system_name === "maas")).toBeUndefined();
  for (const name of BUILTIN_PAGES)
    expect(template("builtin_page", name)?.published ?? null).toBe(builtinsBefore[name]);
  expect(emulator.state.authProviders[0].published).toBe(false);
});
