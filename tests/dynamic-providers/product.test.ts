/** Product specifics beyond the common lifecycle: the seeded service plan, and the tenant's last product. */
import { ProductProvider } from "../../dynamic-providers/product";
import { FAST_CLIENT, withEmulator } from "./support";

test("a product's seeded service plan is made published and default, also when adopted", () =>
  withEmulator(async (emulator, connection) => {
    const products = new ProductProvider(FAST_CLIENT);
    const inputs = { connection, systemName: "svc_plan", name: "Service plan check" };
    const created = await products.create(inputs);
    const productId = Number(created.id);
    const plan = emulator.state.servicePlans.find((p) => p.service_id === productId)!;
    const product = emulator.state.products.find((p) => p.id === productId)!;
    // someone hid the plan and unset the default in the admin UI; a re-run adopts the product and fixes both
    plan.state = "hidden";
    product.default_service_plan_id = null;
    emulator.resetCalls();
    await products.create(inputs);
    expect(emulator.writes().map((c) => `${c.method} ${c.path}`)).toEqual([
      `PUT /admin/api/services/${productId}/service_plans/${plan.id}.json`,
      `PUT /admin/api/services/${productId}/service_plans/${plan.id}/default.json`,
    ]);
    expect(plan.state).toBe("published");
    expect(product.default_service_plan_id).toBe(plan.id);
  }));

test("deleting the tenant's last product leaves it in place and succeeds; an up that wants it again adopts it", () =>
  withEmulator(async (emulator, connection) => {
    const products = new ProductProvider(FAST_CLIENT);
    const first = await products.create({ connection, systemName: "first", name: "First" });
    const last = await products.create({ connection, systemName: "last", name: "Last" });
    const sample = emulator.state.products.find((p) => p.system_name === "api")!;
    emulator.state.products = emulator.state.products.filter((p) => p !== sample); // the sample product is gone
    emulator.resetCalls();

    await products.delete(first.id, first.outs);
    expect(emulator.state.products.map((p) => p.system_name)).toEqual(["last"]);
    await products.delete(last.id, last.outs); // 3scale refuses: a tenant keeps its last product
    expect(emulator.state.products.map((p) => p.system_name)).toEqual(["last"]);
    const refused = emulator.calls.filter((c) => c.method === "DELETE").map((c) => [c.path, c.status]);
    expect(refused).toEqual([
      [`/admin/api/services/${first.id}.json`, 200],
      [`/admin/api/services/${last.id}.json`, 422],
    ]);

    const again = await products.create({ connection, systemName: "last", name: "Last" });
    expect(again.id).toBe(last.id);
  }));

test("a delete refused for another reason still fails", () =>
  withEmulator(async (_emulator, connection) => {
    const products = new ProductProvider(FAST_CLIENT);
    const created = await products.create({ connection, systemName: "kept", name: "Kept" });
    const readOnly = { ...connection, accessToken: connection.accessToken + "x" };
    await expect(products.delete(created.id, { ...created.outs!, connection: readOnly } as any)).rejects.toThrow(
      /HTTP 403/,
    );
  }));
