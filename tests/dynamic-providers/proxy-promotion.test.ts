/** ProxyPromotion semantics: deploy, promote only on difference, drift, and clear errors. */
import { ProxyPromotionProvider, proxyPromotionProvider } from "../../dynamic-providers/proxy-promotion";
import { MappingRuleProvider } from "../../dynamic-providers/mapping-rule";
import { ProductProvider } from "../../dynamic-providers/product";
import { PolicyChainProvider } from "../../dynamic-providers/policy-chain";
import { AdminClient } from "../../dynamic-providers/threescale/client";
import { UNKNOWN } from "../../dynamic-providers/threescale/unknown";
import { buildWorld, expectNoToken, FAST_CLIENT, rejectionOf, serialize, withEmulator } from "./support";

const promotion = new ProxyPromotionProvider(FAST_CLIENT);
const versions = (state: any, productId: number, environment: string) =>
  state.proxyConfigs.filter((c: any) => c.service_id === productId && c.environment === environment).length;

describe("ProxyPromotion", () => {
  test("deploys and promotes once; an unchanged product gets no new version", () =>
    withEmulator(async (emulator, connection) => {
      const { productId } = await buildWorld(connection);
      const inputs = { connection, productId, revision: "r1" };
      const created = await promotion.create(inputs);
      expect(created.outs).toMatchObject({ stagingVersion: expect.any(Number) });
      expect(created.outs!.productionVersion).toBe(created.outs!.stagingVersion);

      emulator.resetCalls();
      const again = await promotion.update(created.id, created.outs, { ...inputs, revision: "r2" });
      expect(again.outs).toMatchObject({ stagingVersion: created.outs!.stagingVersion });
      expect(emulator.writes().map((w) => `${w.method} ${w.path}`)).toEqual([
        `POST /admin/api/services/${productId}/proxy/deploy.json`,
      ]);
      expect(versions(emulator.state, productId, "production")).toBe(1);

      expect(await promotion.diff(created.id, created.outs, inputs)).toMatchObject({ changes: false });
      expect(await promotion.diff(created.id, created.outs, { ...inputs, revision: "r2" })).toMatchObject({
        changes: true,
        replaces: [],
      });
    }));

  test("a staging deploy made outside Pulumi shows on refresh and the update promotes it", () =>
    withEmulator(async (_emulator, connection) => {
      const { productId, methodId } = await buildWorld(connection);
      const inputs = { connection, productId, revision: "r1" };
      const created = await promotion.create(inputs);
      // Someone adds a rule and deploys to staging only (the proxy settings PATCH deploys as a side effect).
      await new MappingRuleProvider(FAST_CLIENT).create({
        connection,
        productId,
        httpMethod: "POST",
        pattern: "/v1/other",
        metricId: methodId,
        delta: 1,
      });
      await new ProxyPromotionProvider(FAST_CLIENT).create({ ...inputs, promoteToProduction: false });
      const refreshed = await promotion.read(created.id, created.outs);
      expect(refreshed.props!.stagingVersion).toBeGreaterThan(refreshed.props!.productionVersion);
      expect(await promotion.diff(created.id, refreshed.props, inputs)).toMatchObject({ changes: true });
      const updated = await promotion.update(created.id, refreshed.props, inputs);
      expect(updated.outs!.productionVersion).toBe(refreshed.props!.stagingVersion);
    }));

  test("drift deployed AND promoted outside: one up repairs the chain and promotes the repair; a no-op up is free", () =>
    withEmulator(async (emulator, connection) => {
      const { productId } = await buildWorld(connection);
      const chains = new PolicyChainProvider(FAST_CLIENT);
      const chainInputs = {
        connection,
        productId,
        policies: [{ name: "cors", version: "builtin", configuration: { allow_origin: "*" } }],
      };
      const chain = await chains.create(chainInputs);
      const inputs = (c: any) => ({ connection, productId, revision: "r1", triggers: [c.appliedRevision] });
      const created = await promotion.create(inputs(chain.outs));

      // Someone resets the chain in the admin portal, deploys it and promotes it: staging == production again.
      const admin = new AdminClient(connection, FAST_CLIENT);
      await admin.put(`/admin/api/services/${productId}/proxy/policies.json`, { policies_config: [] });
      const drifted = (await admin.get(`/admin/api/services/${productId}/proxy/configs/sandbox/latest.json`))
        .proxy_config.version;
      await admin.post(`/admin/api/services/${productId}/proxy/configs/sandbox/${drifted}/promote.json`, {
        to: "production",
      });

      // refresh
      const chainRead = await chains.read(chain.id, chain.outs);
      const promotionRead = await promotion.read(created.id, created.outs);
      expect(promotionRead.props).toMatchObject({ stagingVersion: drifted, productionVersion: drifted });
      // The versions alone give no reason to promote: only the chain's repair can.
      expect(await promotion.diff(created.id, promotionRead.props, inputs(chain.outs))).toMatchObject({
        changes: false,
      });

      // one up: the chain differs, is repaired, and its new appliedRevision makes the promotion update
      expect((await chains.diff(chain.id, chainRead.props, chainInputs)).changes).toBe(true);
      const repaired = await chains.update(chain.id, chainRead.props, chainInputs);
      expect(repaired.outs!.appliedRevision).not.toBe(chain.outs!.appliedRevision);
      const news = inputs(repaired.outs);
      expect((await promotion.diff(created.id, promotionRead.props, news)).changes).toBe(true);
      const promoted = await promotion.update(created.id, promotionRead.props, news);
      expect(promoted.outs!.productionVersion).toBe(promoted.outs!.stagingVersion);
      expect(promoted.outs!.productionVersion).toBeGreaterThan(drifted);
      const production = emulator.state.proxyConfigs.filter(
        (c) => c.service_id === productId && c.environment === "production",
      );
      const live = (production[production.length - 1].content.proxy as any).policy_chain.map((p: any) => p.name);
      expect(live).toContain("cors");

      // a no-op up after that: nothing differs, nothing is called
      emulator.resetCalls();
      const chainAgain = await chains.update(chain.id, repaired.outs, chainInputs);
      expect(chainAgain.outs!.appliedRevision).toBe(repaired.outs!.appliedRevision);
      expect(emulator.writes()).toEqual([]);
      expect((await chains.diff(chain.id, repaired.outs, chainInputs)).changes).toBe(false);
      expect((await promotion.diff(created.id, promoted.outs, inputs(chainAgain.outs))).changes).toBe(false);
    }));

  test("triggers must be a list of strings (checked without API calls)", () =>
    withEmulator(async (emulator, connection) => {
      const result = await promotion.check({}, { connection, productId: 1, revision: "r", triggers: "abc" });
      expect(result.failures?.map((f) => f.property)).toEqual(["triggers"]);
      const preview = await promotion.check({}, { connection, productId: 1, revision: "r", triggers: [UNKNOWN] });
      expect(preview.failures ?? []).toEqual([]);
      expect(emulator.calls).toEqual([]);
    }));

  test("serialized shared instance: deploys, promotes and fails with token-free errors", () =>
    withEmulator(async (emulator, connection) => {
      const { text, provider } = await serialize(proxyPromotionProvider);
      const { productId } = await buildWorld(connection);
      const created = await provider.create({ connection, productId, revision: "r1" });
      expect(created.outs.productionVersion).toBe(created.outs.stagingVersion);
      const read = await provider.read(created.id, created.outs);
      expect(await provider.diff(created.id, read.props, { connection, productId, revision: "r1" })).toMatchObject({
        changes: false,
      });
      const failure = await rejectionOf(provider.create({ connection, productId: 999999, revision: "r1" }));
      expect(failure.message).toMatch(/POST \/admin\/api\/services\/999999\/proxy\/deploy.json failed with HTTP 404/);
      const denied = await rejectionOf(
        provider.create({
          connection: { ...connection, accessToken: emulator.accessToken + "x" },
          productId,
          revision: "r2",
        }),
      );
      expect(denied.message).toMatch(/HTTP 403.*access token was rejected/);
      expectNoToken(text + failure.message + denied.message, emulator.accessToken);
    }));

  test("a product without a backend gives a clear error instead of a silent no-op deploy", () =>
    withEmulator(async (_emulator, connection) => {
      const product = await new ProductProvider(FAST_CLIENT).create({ connection, systemName: "empty", name: "E" });
      await expect(promotion.create({ connection, productId: product.outs!.productId, revision: "r" })).rejects.toThrow(
        /no staging configuration after deploy: give it a backend usage/,
      );
    }));
});
