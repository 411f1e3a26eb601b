/**
 * Layer 2: each shared provider instance serialized exactly as `pulumi.dynamic.Resource` stores it in `__provider`,
 * re-loaded the way the host does, and driven through the full lifecycle against the emulator. The text must hold
 * no credential, and errors raised through it must not either.
 */
import { backendProvider } from "../../dynamic-providers/backend";
import { backendUsageProvider } from "../../dynamic-providers/backend-usage";
import { backendRuleProvider, productRuleProvider } from "../../dynamic-providers/mapping-rule";
import {
  backendMethodProvider,
  backendMetricProvider,
  productMethodProvider,
  productMetricProvider,
} from "../../dynamic-providers/metric";
import { policyChainProvider } from "../../dynamic-providers/policy-chain";
import { productProvider } from "../../dynamic-providers/product";
import { proxyPromotionProvider } from "../../dynamic-providers/proxy-promotion";
import { proxySettingsProvider } from "../../dynamic-providers/proxy-settings";
import { AnyProvider, buildWorld, CASES, runLifecycle } from "./lifecycle";
import { expectNoToken, rejectionOf, serialize, withEmulator } from "./support";

const SHARED: Record<string, unknown> = {
  Product: productProvider,
  Backend: backendProvider,
  ProductMetric: productMetricProvider,
  ProductMethod: productMethodProvider,
  BackendMetric: backendMetricProvider,
  BackendMethod: backendMethodProvider,
  ProductMappingRule: productRuleProvider,
  BackendMappingRule: backendRuleProvider,
  BackendUsage: backendUsageProvider,
  ProxySettings: proxySettingsProvider,
  PolicyChain: policyChainProvider,
};

test("every lifecycle case has its shared provider here", () => {
  expect(Object.keys(SHARED).sort()).toEqual(CASES.map((c) => c.type).sort());
});

describe.each(CASES)("$type serialized", (c) => {
  test("round-trips through __provider and runs the whole lifecycle; the text holds no token", () =>
    withEmulator(async (emulator, connection) => {
      const { text, provider } = await serialize(SHARED[c.type] as AnyProvider);
      expect(text).toContain("exports.handler");
      const world = await buildWorld(connection);
      await runLifecycle(c, provider, emulator, connection, world);
      expectNoToken(text, emulator.accessToken);
    }));
});

test("ProxyPromotion serialized: deploys, promotes and fails with token-free errors", () =>
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
