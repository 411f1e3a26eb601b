/** Metric and method specifics beyond the common lifecycle: deleting one the promoted gateway configuration uses. */
import { MappingRuleProvider } from "../../dynamic-providers/mapping-rule";
import { MetricProvider } from "../../dynamic-providers/metric";
import { ProxyPromotionProvider } from "../../dynamic-providers/proxy-promotion";
import { buildWorld, FAST_CLIENT, withEmulator } from "./support";

const promotion = new ProxyPromotionProvider(FAST_CLIENT);

test("deleting a method used by the promoted config redeploys, promotes and then deletes it", () =>
  withEmulator(async (emulator, connection) => {
    const { productId } = await buildWorld(connection);
    const methods = new MetricProvider("method", FAST_CLIENT);
    const method = await methods.create({ connection, productId, systemName: "guarded", friendlyName: "Guarded" });
    const rules = new MappingRuleProvider(FAST_CLIENT);
    const rule = await rules.create({
      connection,
      productId,
      httpMethod: "POST",
      pattern: "/guarded",
      metricId: method.outs!.metricId,
      delta: 1,
    });
    await promotion.create({ connection, productId, revision: "with-rule" });
    await rules.delete(rule.id, rule.outs);
    await methods.delete(method.id, method.outs);
    expect(emulator.state.metrics.some((m) => m.id === method.outs!.metricId)).toBe(false);
    const latest = (env: string) =>
      Math.max(
        ...emulator.state.proxyConfigs
          .filter((c) => c.service_id === productId && c.environment === env)
          .map((c) => c.version),
      );
    expect(latest("production")).toBe(latest("sandbox"));
  }));
