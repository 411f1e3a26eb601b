/**
 * TenantDefaults removes the tenant's sample product and its backend, for good: a second `up` with them gone makes
 * no write, and delete leaves the tenant as it is (a sample product made again is the admin's own). The sample
 * backend is the one the sample product uses, whatever its name; one that another product also uses stays.
 */
import { defaultBackendId, TenantDefaultsProvider } from "../../dynamic-providers/tenant-defaults";
import type { Connection } from "../../dynamic-providers/threescale/client";
import { adminClient, FAST_CLIENT, FORMS, inForm, makeProduct, withEmulator } from "./support";

const inputs = { removeDefaultProduct: true, productSystemName: "api" };

describe.each(FORMS)("TenantDefaults removes the sample product for good (%s)", (form) => {
  it("removes the sample product and its backend; a second up with them gone makes no write", () =>
    withEmulator(async (emulator, connection) => {
      const provider = await inForm(form, new TenantDefaultsProvider(FAST_CLIENT));
      await makeProduct(connection, "models_first"); // 3scale refuses to delete the last product
      expect(Object.keys(emulator.snapshot().products).sort()).toEqual(["api", "models_first"]);

      const { id, outs } = await provider.create({ connection, ...inputs });
      expect(Object.keys(emulator.snapshot().products)).toEqual(["models_first"]);
      expect(Object.keys(emulator.snapshot().backends)).toEqual([]);
      expect(outs.removed).toEqual({ product: "api", backend: "api" });

      emulator.resetCalls();
      const again = await provider.update(id, outs, { connection, ...inputs });
      expect(emulator.writes()).toEqual([]);
      expect(again.outs.removed).toEqual(outs.removed);

      // A new stack (or a replaced resource) on a tenant already cleaned up.
      const fresh = await provider.create({ connection, ...inputs });
      expect(emulator.writes()).toEqual([]);
      expect(fresh.outs.removed).toEqual({});
    }));

  it("delete forgets the resource: the tenant keeps what it has, products the admin made since included", () =>
    withEmulator(async (emulator, connection) => {
      const provider = await inForm(form, new TenantDefaultsProvider(FAST_CLIENT));
      await makeProduct(connection, "models_first");
      const { id, outs } = await provider.create({ connection, ...inputs });
      await makeProduct(connection, "echo"); // the admin wants a sample product back
      const before = emulator.snapshot();

      emulator.resetCalls();
      expect(await provider.read(id, outs)).toEqual({ id, props: outs });
      await provider.delete(id, outs);
      expect(emulator.calls).toEqual([]);
      expect(emulator.snapshot()).toEqual(before);
    }));

  it("finds the sample backend by usage when it is named differently from the product", () =>
    withEmulator(async (emulator, connection) => {
      const provider = await inForm(form, new TenantDefaultsProvider(FAST_CLIENT));
      await makeProduct(connection, "models_first");
      // A tenant whose sample product runs on `echo_backend`; the backend `api` is no longer used by anything.
      await replaceSampleBackend(connection, "echo_backend", "/v1");
      expect(emulator.snapshot().products.api.backendUsages).toEqual({ echo_backend: { path: "/v1" } });

      const { outs } = await provider.create({ connection, ...inputs });
      expect(Object.keys(emulator.snapshot().products)).toEqual(["models_first"]);
      expect(Object.keys(emulator.snapshot().backends)).toEqual(["api"]);
      expect(outs.removed).toEqual({ product: "api", backend: "echo_backend" });
    }));

  it("keeps a sample backend another product also uses", () =>
    withEmulator(async (emulator, connection) => {
      const provider = await inForm(form, new TenantDefaultsProvider(FAST_CLIENT));
      const models = await makeProduct(connection, "models_first");
      const client = adminClient(connection);
      const shared = await findBySystemName(client, "backend_apis", "backend_api", "api");
      await client.post(`/admin/api/services/${models.id}/backend_usages.json`, {
        backend_api_id: shared.id,
        path: "/shared",
      });
      const before = emulator.snapshot();

      const { outs } = await provider.create({ connection, ...inputs });
      expect(Object.keys(emulator.snapshot().products)).toEqual(["models_first"]);
      expect(emulator.snapshot().backends.api).toEqual(before.backends.api);
      expect(outs.removed).toEqual({ product: "api", keptBackend: "api" });
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
    const badProduct = await provider.check({}, { connection, ...inputs, productSystemName: "a" });
    expect(badProduct.failures?.map((f) => f.property)).toEqual(["productSystemName"]);
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
      expect(outs.removed).toEqual({ product: "api", backend: "extra" });
      expect(Object.keys(emulator.snapshot().backends)).toEqual(["api"]);
    }));

  it("turned off, it removes nothing", () =>
    withEmulator(async (emulator, connection) => {
      const provider = new TenantDefaultsProvider(FAST_CLIENT);
      await makeProduct(connection, "models_first");
      emulator.resetCalls();
      const { id, outs } = await provider.create({ connection, ...inputs, removeDefaultProduct: false });
      await provider.update(id, outs, { connection, ...inputs, removeDefaultProduct: false });
      expect(emulator.calls).toEqual([]);
      expect(Object.keys(emulator.snapshot().products).sort()).toEqual(["api", "models_first"]);
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

/** Moves the sample product onto a new backend named `systemName`, used at `path`. */
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
}
