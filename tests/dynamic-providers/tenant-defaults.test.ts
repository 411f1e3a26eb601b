/**
 * TenantDefaults removes the tenant's sample product and backend and, on delete, puts them back as they were: the
 * same metrics, methods, mapping rules (backend and product), usage path, integration settings (secret_token
 * included), policy chain and application plans with their limits. Only what the admin API cannot recreate
 * differs: ids, timestamps and the gateway-configuration history. The sample backend is the one the sample product
 * uses, whatever its name; one that another product also uses stays.
 */
import {
  defaultBackendId,
  TenantDefaultsProvider,
  type TenantDefaultsOutputs,
} from "../../dynamic-providers/developer-portal";
import type { Connection } from "../../dynamic-providers/threescale/client";
import type { TenantSnapshot } from "../../tools/threescale-emulator";
import { adminClient, expectNoToken, FAST_CLIENT, FORMS, inForm, makeProduct, withEmulator } from "./support";

const inputs = { removeDefaultProduct: true, productSystemName: "api" };

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
      expect(outs.removed.backend).toMatchObject({ systemName: "api", name: "API Backend" });

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

  it("finds the sample backend by usage when it is named differently from the product", () =>
    withEmulator(async (emulator, connection) => {
      const provider = await inForm(form, new TenantDefaultsProvider(FAST_CLIENT));
      await makeProduct(connection, "models_first");
      await customiseSampleProduct(connection);
      // A tenant whose sample product runs on `echo_backend`; the backend `api` is no longer used by anything.
      await replaceSampleBackend(connection, "echo_backend", "/v1");
      const before = emulator.snapshot();
      expect(before.products.api.backendUsages).toEqual({ echo_backend: { path: "/v1" } });
      expect(before.products.api.applicationPlans.gold.limits).toContainEqual(
        expect.objectContaining({ backend: "echo_backend", metric: "hits", value: 5 }),
      );

      const { id, outs } = await provider.create({ connection, ...inputs });
      expect(Object.keys(emulator.snapshot().products)).toEqual(["models_first"]);
      expect(Object.keys(emulator.snapshot().backends)).toEqual(["api"]);
      expect(outs.removed).toMatchObject({ backend: { systemName: "echo_backend" }, usagePath: "/v1" });

      await provider.delete(id, outs as TenantDefaultsOutputs);
      expect(restorable(emulator.snapshot())).toEqual(restorable(before));
    }));

  it("keeps a sample backend another product also uses, and the restored product uses it again", () =>
    withEmulator(async (emulator, connection) => {
      const provider = await inForm(form, new TenantDefaultsProvider(FAST_CLIENT));
      const models = await makeProduct(connection, "models_first");
      await customiseSampleProduct(connection);
      const client = adminClient(connection);
      const shared = await findBySystemName(client, "backend_apis", "backend_api", "api");
      await client.post(`/admin/api/services/${models.id}/backend_usages.json`, {
        backend_api_id: shared.id,
        path: "/shared",
      });
      const before = emulator.snapshot();

      const { id, outs } = await provider.create({ connection, ...inputs });
      expect(Object.keys(emulator.snapshot().products)).toEqual(["models_first"]);
      expect(emulator.snapshot().backends.api).toEqual(before.backends.api);
      expect(outs.removed.backend).toBeUndefined();
      expect(outs.removed).toMatchObject({ product: { systemName: "api" }, keptBackend: "api", usagePath: "/" });

      await provider.delete(id, outs as TenantDefaultsOutputs);
      expect(restorable(emulator.snapshot())).toEqual(restorable(before));
    }));
});

describe("TenantDefaults inputs", () => {
  it("still accepts an explicit backend system name and checks it", async () => {
    const provider = new TenantDefaultsProvider(FAST_CLIENT);
    const connection = { adminUrl: "https://maas-admin.apps.example.test", accessToken: "t" };
    expect((await provider.check({}, { connection, ...inputs })).failures).toBeUndefined();
    expect((await provider.check({}, { connection, ...inputs, backendSystemName: "api" })).failures).toBeUndefined();
    const bad = await provider.check({}, { connection, ...inputs, backendSystemName: "a b" });
    expect(bad.failures?.map((f) => f.property)).toEqual(["backendSystemName"]);
    expect(bad.failures?.[0].reason).toMatch(/e\.g\. "api"/);
  });

  it("an existing stack that named the backend is neither changed nor replaced when the name is dropped", async () => {
    const provider = new TenantDefaultsProvider(FAST_CLIENT);
    const connection = { adminUrl: "https://maas-admin.apps.example.test", accessToken: "t" };
    const olds = { connection, ...inputs, backendSystemName: "api_backend", removed: {} };
    expect(await provider.diff("tenant-defaults-api", olds, { connection, ...inputs })).toMatchObject({
      changes: false,
      replaces: [],
    });
  });

  it("with an explicit name removes that backend, even one the product does not use first", () =>
    withEmulator(async (emulator, connection) => {
      const provider = new TenantDefaultsProvider(FAST_CLIENT);
      await makeProduct(connection, "models_first");
      const client = adminClient(connection);
      const sample = await findBySystemName(client, "services", "service", "api");
      const extra = (
        await client.post("/admin/api/backend_apis.json", {
          name: "Extra",
          system_name: "extra",
          private_endpoint: "https://extra.example.test:443",
        })
      ).backend_api;
      await client.post(`/admin/api/services/${sample.id}/backend_usages.json`, {
        backend_api_id: extra.id,
        path: "/extra",
      });
      const { outs } = await provider.create({ connection, ...inputs, backendSystemName: "extra" });
      expect(outs.removed).toMatchObject({ backend: { systemName: "extra" }, usagePath: "/extra" });
      expect(Object.keys(emulator.snapshot().backends)).toEqual(["api"]);
    }));
});

describe("defaultBackendId", () => {
  it("is the backend of the product's first usage, whatever order 3scale lists them in", () => {
    const usages = [
      { id: 9, backend_id: 30 },
      { id: 4, backend_id: 12 },
      { id: 7, backend_id: 5 },
    ];
    expect(defaultBackendId(usages)).toBe(12);
    expect(usages.map((u) => u.id)).toEqual([9, 4, 7]);
  });

  it("is undefined for a product without backends", () => {
    expect(defaultBackendId([])).toBeUndefined();
  });
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

async function findBySystemName(
  client: ReturnType<typeof adminClient>,
  collection: "services" | "backend_apis",
  item: "service" | "backend_api",
  systemName: string,
): Promise<any> {
  return (await client.list(`/admin/api/${collection}.json`, collection, item)).find(
    (o) => o.system_name === systemName,
  );
}

/** Moves the sample product onto a new backend named `systemName`, used at `path`, with a plan limit on its hits. */
async function replaceSampleBackend(connection: Connection, systemName: string, path: string): Promise<void> {
  const client = adminClient(connection);
  const product = await findBySystemName(client, "services", "service", "api");
  const base = `/admin/api/services/${product.id}`;
  for (const usage of await client.list(`${base}/backend_usages.json`, undefined, "backend_usage")) {
    await client.delete(`${base}/backend_usages/${usage.id}.json`);
  }
  const backend = (
    await client.post("/admin/api/backend_apis.json", {
      name: "Echo Backend",
      system_name: systemName,
      description: "Echo",
      private_endpoint: "https://echo.example.test:443",
    })
  ).backend_api;
  await client.post(`${base}/backend_usages.json`, { backend_api_id: backend.id, path });
  const hits = (await client.list(`/admin/api/backend_apis/${backend.id}/metrics.json`, "metrics", "metric")).find(
    (m) => m.system_name.startsWith("hits"),
  );
  const plan = (await client.list(`${base}/application_plans.json`, "plans", "application_plan")).find(
    (p) => p.system_name === "gold",
  );
  await client.post(`/admin/api/application_plans/${plan.id}/metrics/${hits.id}/limits.json`, {
    period: "hour",
    value: 5,
  });
}

/** What an admin might have done to the sample product before our first `up`. */
async function customiseSampleProduct(connection: Connection): Promise<void> {
  const client = adminClient(connection);
  const product = await findBySystemName(client, "services", "service", "api");
  const backend = await findBySystemName(client, "backend_apis", "backend_api", "api");
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
