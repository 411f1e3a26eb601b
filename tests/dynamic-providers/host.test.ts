/**
 * Layer 3: the real dynamic-provider host shipped in @pulumi/pulumi, spawned from the project root and driven over
 * gRPC the way the engine drives it, for Product, PolicyChain, ProxyPromotion and SsoIntegration. `__provider` is
 * what the resources store: a reference the host resolves through dynamic-providers/registry.ts.
 */
import { policyChainProvider } from "../../dynamic-providers/policy-chain";
import { providerReference } from "../../dynamic-providers/provider-reference";
import { productProvider } from "../../dynamic-providers/product";
import { proxyPromotionProvider } from "../../dynamic-providers/proxy-promotion";
import { ssoIntegrationProvider } from "../../dynamic-providers/sso-integration";
import { UNKNOWN } from "../../dynamic-providers/threescale/unknown";
import {
  buildWorld,
  expectNoToken,
  HostClient,
  isSecretEnvelope,
  secret,
  serialize,
  startHost,
  urnOf,
  useEmulator,
} from "./support";

const env = useEmulator();
let host: HostClient;
const texts: Record<string, string> = {};

beforeAll(async () => {
  host = await startHost();
  texts.Product = (await serialize(providerReference("threescale:Product", productProvider))).text;
  texts.PolicyChain = (await serialize(providerReference("threescale:PolicyChain", policyChainProvider))).text;
  texts.ProxyPromotion = (await serialize(providerReference("threescale:ProxyPromotion", proxyPromotionProvider))).text;
  texts.SsoIntegration = (await serialize(providerReference("threescale:SsoIntegration", ssoIntegrationProvider))).text;
});
afterAll(async () => {
  await host?.close();
});

/** Properties as the engine sends them: the connection is a secret, `__provider` the serialized text. */
const props = (type: string, inputs: Record<string, unknown>) => ({
  __provider: texts[type],
  connection: secret(env.connection),
  ...inputs,
});

afterEach(() => {
  expectNoToken(host.logs(), env.emulator.accessToken);
});

test("Product: check, create, diff, read (drift), update, replace on systemName, delete", async () => {
  const urn = urnOf("pulumi-nodejs:dynamic/threescale:Product", "llama");
  const news = props("Product", { systemName: "llama_host", name: "Llama", description: "d" });

  const checked = await host.check(urn, news);
  expect(checked.failures).toEqual([]);
  expect(checked.inputs.__provider).toBe(texts.Product);
  const bad = await host.check(urn, props("Product", { systemName: "no spaces allowed", name: "x" }));
  expect(bad.failures).toEqual([{ property: "systemName", reason: expect.stringContaining('e.g. "llama_3_8b"') }]);

  const created = await host.create(urn, news);
  const productId = Number(created.id);
  expect(created.properties).toMatchObject({ systemName: "llama_host", productId, hitsMetricId: expect.any(Number) });
  expect(isSecretEnvelope(created.properties.connection)).toBe(true);
  expect(env.emulator.state.products.filter((p) => p.system_name === "llama_host")).toHaveLength(1);

  expect(await host.diff(urn, created.id, created.properties, news)).toEqual({
    changes: "none",
    replaces: [],
    deleteBeforeReplace: false,
  });
  expect(await host.diff(urn, created.id, created.properties, { ...news, systemName: "other" })).toEqual({
    changes: "some",
    replaces: ["systemName"],
    deleteBeforeReplace: true,
  });
  expect((await host.diff(urn, created.id, created.properties, { ...news, name: UNKNOWN })).changes).toBe("some");

  env.emulator.state.products.find((p) => p.id === productId)!.name = "Edited in the UI";
  const read = await host.read(urn, created.id, created.properties);
  expect(read.id).toBe(created.id);
  expect(read.properties.name).toBe("Edited in the UI");
  expect((await host.diff(urn, created.id, read.properties, news)).changes).toBe("some");

  env.emulator.resetCalls();
  const updated = await host.update(urn, created.id, read.properties, news);
  expect(updated.name).toBe("Llama");
  expect(env.emulator.writes().map((w) => w.method + " " + w.path)).toEqual([
    `PUT /admin/api/services/${productId}.json`,
  ]);
  expect(env.emulator.state.products.find((p) => p.id === productId)!.name).toBe("Llama");

  await host.delete(urn, created.id, updated);
  const gone = await host.read(urn, created.id, updated);
  expect(gone.id).toBe(""); // an empty id on refresh tells the engine the resource is gone
});

test("PolicyChain: check rejects a bad configuration; create, no-op update, drift, delete resets to apicast", async () => {
  const { productId } = await buildWorld(env.connection);
  const urn = urnOf("pulumi-nodejs:dynamic/threescale:PolicyChain", "chain");
  const cors = { name: "cors", version: "builtin", configuration: { allow_origin: "*", allow_credentials: true } };
  const news = props("PolicyChain", { productId, policies: [cors] });

  const bad = await host.check(
    urn,
    props("PolicyChain", { productId, policies: [{ ...cors, configuration: { max_age: "1h" } }] }),
  );
  expect(bad.failures[0]).toMatchObject({ property: "policies[0].configuration" });
  expect(bad.failures[0].reason).toContain("max_age: must be of type integer");
  expect((await host.check(urn, news)).failures).toEqual([]);

  const created = await host.create(urn, news);
  expect(created.id).toBe(String(productId));
  const chain = () => env.emulator.state.products.find((p) => p.id === productId)!.proxy.policies_config;
  expect(chain().map((p) => p.name)).toEqual(["cors", "apicast"]);

  env.emulator.resetCalls();
  await host.update(urn, created.id, created.properties, news);
  expect(env.emulator.writes()).toEqual([]);

  chain()[0].enabled = undefined; // stored without the flag: inactive in the gateway
  const read = await host.read(urn, created.id, created.properties);
  expect(read.properties.policies[0].enabled).toBe(false);
  expect((await host.diff(urn, created.id, read.properties, news)).changes).toBe("some");
  await host.update(urn, created.id, read.properties, news);
  expect(chain()[0].enabled).toBe(true);
  expect(
    await host.diff(urn, created.id, (await host.read(urn, created.id, created.properties)).properties, news),
  ).toMatchObject({
    changes: "none",
  });

  await host.delete(urn, created.id, created.properties);
  expect(chain()).toEqual([{ name: "apicast", version: "builtin", configuration: {}, enabled: true }]);
});

test("ProxyPromotion: create promotes, an unchanged revision is no diff, a new revision deploys without a new version", async () => {
  const { productId } = await buildWorld(env.connection);
  const urn = urnOf("pulumi-nodejs:dynamic/threescale:ProxyPromotion", "promote");
  const news = props("ProxyPromotion", { productId, revision: "rev-1" });
  expect((await host.check(urn, props("ProxyPromotion", { productId, revision: "" }))).failures).toEqual([
    { property: "revision", reason: expect.stringContaining("must be a non-empty string") },
  ]);

  const created = await host.create(urn, news);
  expect(created.properties.productionVersion).toBe(created.properties.stagingVersion);
  expect(await host.diff(urn, created.id, created.properties, news)).toMatchObject({ changes: "none" });
  const changed = { ...news, revision: "rev-2" };
  expect(await host.diff(urn, created.id, created.properties, changed)).toEqual({
    changes: "some",
    replaces: [],
    deleteBeforeReplace: false,
  });

  const production = () =>
    env.emulator.state.proxyConfigs.filter((c) => c.service_id === productId && c.environment === "production");
  const before = production().length;
  const updated = await host.update(urn, created.id, created.properties, changed);
  expect(updated.productionVersion).toBe(created.properties.productionVersion);
  expect(production()).toHaveLength(before);

  const read = await host.read(urn, created.id, updated);
  expect(read.properties).toMatchObject({
    stagingVersion: updated.stagingVersion,
    productionVersion: updated.productionVersion,
  });
  env.emulator.resetCalls();
  await host.delete(urn, created.id, updated);
  expect(env.emulator.calls).toEqual([]);
});

test("a failing create reaches the engine as an error naming the call, without the token", async () => {
  const urn = urnOf("pulumi-nodejs:dynamic/threescale:ProxyPromotion", "broken");
  const err: any = await host
    .create(urn, props("ProxyPromotion", { productId: 424242, revision: "r" }))
    .catch((e) => e);
  expect(err?.details ?? err?.message).toMatch(/deploy.json failed with HTTP 404/);
  expectNoToken(String(err?.details) + String(err?.message), env.emulator.accessToken);
});

test("SsoIntegration: check, create, read, diff, update, delete with the client secret kept secret", async () => {
  const clientSecret = "kc-client-secret-9f2e61";
  const urn = urnOf("pulumi-nodejs:dynamic/threescale:SsoIntegration", "portal-sso");
  const news = props("SsoIntegration", {
    kind: "keycloak",
    clientId: "portal-grpc",
    clientSecret: secret(clientSecret),
    site: "https://sso.apps.example.test/realms/maas",
    published: true,
    automaticallyApproveAccounts: true,
  });
  const bad = await host.check(urn, { ...news, site: "not a url" });
  expect(bad.failures.map((f) => f.property)).toEqual(["site"]);

  const created = await host.create(urn, news);
  expect(created.properties.callbackUrl).toMatch(/\/auth\/keycloak\/callback$/);
  expect(isSecretEnvelope(created.properties.clientSecret)).toBe(true);
  const read = await host.read(urn, created.id, created.properties);
  expect(read.id).toBe(created.id);
  expect((await host.diff(urn, created.id, created.properties, news)).changes).toBe("none");
  const changed = { ...news, published: false };
  expect((await host.diff(urn, created.id, created.properties, changed)).changes).toBe("some");
  const updated = await host.update(urn, created.id, created.properties, changed);
  expect(updated.published).toBe(false);
  await host.delete(urn, created.id, updated);
  expect(host.logs()).not.toContain(clientSecret);
});
