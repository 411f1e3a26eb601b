/**
 * TenantDefaults removes the tenant's sample product and backend and, on delete, puts them back as they were: the
 * same metrics, methods, mapping rules (backend and product), usage path, integration settings (secret_token
 * included), policy chain and application plans with their limits. Only what the admin API cannot recreate
 * differs: ids, timestamps and the gateway-configuration history.
 */
import { TenantDefaultsProvider, type TenantDefaultsOutputs } from "../../dynamic-providers/developer-portal";
import type { TenantSnapshot } from "../emulator";
import { adminClient, expectNoToken, FAST_CLIENT, FORMS, inForm, makeProduct, withEmulator } from "./support";

const inputs = { removeDefaultProduct: true, productSystemName: "api", backendSystemName: "api_backend" };

/** The snapshot without what no API call can restore: the gateway-configuration history of the sample product. */
function restorable(snapshot: TenantSnapshot): TenantSnapshot {
  const products = Object.fromEntries(
    Object.entries(snapshot.products).map(([name, p]) => [
      name,
      name === "api" ? { ...p, latestVersions: { sandbox: null, production: null } } : p,
    ]),
  );
  return { ...snapshot, products };
}

describe.each(FORMS)("TenantDefaults restores the sample product faithfully (%s)", (form) => {
  it("an untouched sample tenant comes back identical, configuration history included", () =>
    withEmulator(async (emulator, connection) => {
      const provider = await inForm(form, new TenantDefaultsProvider(FAST_CLIENT));
      await makeProduct(connection, "models_first"); // 3scale refuses to delete the last product
      const before = emulator.snapshot();
      const { id, outs } = await provider.create({ connection, ...inputs });
      expect(Object.keys(emulator.snapshot().products)).toEqual(["models_first"]);
      expect(Object.keys(emulator.snapshot().backends)).toEqual([]);

      await provider.delete(id, outs as TenantDefaultsOutputs);
      expect(emulator.snapshot()).toEqual(before);
      expectNoToken(JSON.stringify(outs.removed), emulator.accessToken);
    }));

  it("a customised sample product comes back with its methods, rules, settings, policies and plans", () =>
    withEmulator(async (emulator, connection) => {
      const provider = await inForm(form, new TenantDefaultsProvider(FAST_CLIENT));
      await makeProduct(connection, "models_first");
      await customiseSampleProduct(connection);
      const before = emulator.snapshot();
      expect(before.products.api.applicationPlans.gold.limits).toHaveLength(2);

      const { id, outs } = await provider.create({ connection, ...inputs });
      expect(emulator.snapshot().products.api).toBeUndefined();
      await provider.delete(id, outs as TenantDefaultsOutputs);
      expect(restorable(emulator.snapshot())).toEqual(restorable(before));
    }));
});

it("restoring again after a crash half way through adds nothing twice", () =>
  withEmulator(async (emulator, connection) => {
    const provider = new TenantDefaultsProvider(FAST_CLIENT);
    await makeProduct(connection, "models_first");
    await customiseSampleProduct(connection);
    const before = emulator.snapshot();
    const { id, outs } = await provider.create({ connection, ...inputs });
    emulator.failAfter(12);
    await expect(provider.delete(id, outs as TenantDefaultsOutputs)).rejects.toThrow();
    emulator.failAfter(null);
    await provider.delete(id, outs as TenantDefaultsOutputs);
    expect(restorable(emulator.snapshot())).toEqual(restorable(before));
  }));

/** What an admin might have done to the sample product before our first `up`. */
async function customiseSampleProduct(connection: { adminUrl: string; accessToken: string }): Promise<void> {
  const client = adminClient(connection);
  const product = (await client.list("/admin/api/services.json", "services", "service")).find(
    (s) => s.system_name === "api",
  );
  const backend = (await client.list("/admin/api/backend_apis.json", "backend_apis", "backend_api")).find(
    (b) => b.system_name === "api_backend",
  );
  const base = `/admin/api/services/${product.id}`;
  const metrics = await client.list(`${base}/metrics.json`, "metrics", "metric");
  const hits = metrics.find((m) => m.system_name === "hits").id;
  const method = (
    await client.post(`${base}/metrics/${hits}/methods.json`, { system_name: "echo", friendly_name: "Echo" })
  ).method;
  await client.post(`${base}/metrics.json`, { system_name: "bytes", friendly_name: "Bytes", unit: "byte" });
  await client.post(`${base}/proxy/mapping_rules.json`, {
    http_method: "POST",
    pattern: "/echo$",
    delta: 2,
    metric_id: method.id,
    last: true,
  });
  const backendMetrics = await client.list(`/admin/api/backend_apis/${backend.id}/metrics.json`, "metrics", "metric");
  const backendHits = backendMetrics.find((m) => m.system_name.startsWith("hits")).id;
  const backendMethod = (
    await client.post(`/admin/api/backend_apis/${backend.id}/metrics/${backendHits}/methods.json`, {
      system_name: "ping",
      friendly_name: "Ping",
    })
  ).method;
  await client.post(`/admin/api/backend_apis/${backend.id}/mapping_rules.json`, {
    http_method: "GET",
    pattern: "/ping",
    delta: 1,
    metric_id: backendMethod.id,
  });
  await client.patch(`${base}/proxy.json`, {
    credentials_location: "headers",
    secret_token: "sample_secret_token_1234",
    error_no_match: "Nothing here",
  });
  await client.put(`${base}/proxy/policies.json`, {
    policies_config: [
      { name: "cors", version: "builtin", configuration: { allow_origin: "*" }, enabled: true },
      { name: "apicast", version: "builtin", configuration: {}, enabled: true },
    ],
  });
  const plan = (
    await client.post(`${base}/application_plans.json`, {
      name: "Gold",
      system_name: "gold",
      setup_fee: 5,
      state_event: "publish",
    })
  ).application_plan;
  await client.put(`${base}/application_plans/${plan.id}/default.json`);
  await client.post(`/admin/api/application_plans/${plan.id}/metrics/${hits}/limits.json`, {
    period: "day",
    value: 100,
  });
  await client.post(`/admin/api/application_plans/${plan.id}/metrics/${backendHits}/limits.json`, {
    period: "minute",
    value: 10,
  });
}
