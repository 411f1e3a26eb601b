/**
 * Support for the suites of the plan/portal/account providers: fixtures made directly through the admin client
 * (products, metrics) and one shared lifecycle suite that every provider type runs through its direct and its
 * serialized form — create, adopt on re-create, zero-write no-op update, drift read + repair, delete, bad input.
 */
import { AdminClient, type ClientOptions, type Connection } from "../../dynamic-providers/threescale/client";
import type { ThreescaleProvider } from "../../dynamic-providers/threescale/provider-kit";
import { FAST_CLIENT, expectNoToken, serialize, type Emulator } from "./support";

export function adminClient(connection: Connection): AdminClient {
  return new AdminClient(connection, FAST_CLIENT);
}

/** A product made through the API (engineer A's Product provider is tested on its own). */
export async function makeProduct(connection: Connection, systemName: string): Promise<{ id: number; hitsId: number }> {
  const client = adminClient(connection);
  const product = (await client.post("/admin/api/services.json", { name: systemName, system_name: systemName }))
    .service;
  const metrics = await client.list(`/admin/api/services/${product.id}/metrics.json`, "metrics", "metric");
  return { id: product.id, hitsId: metrics.find((m) => m.system_name === "hits").id };
}

export async function makeMetric(connection: Connection, productId: number, systemName: string): Promise<number> {
  const body = { system_name: systemName, friendly_name: systemName, unit: "token" };
  return (await adminClient(connection).post(`/admin/api/services/${productId}/metrics.json`, body)).metric.id;
}

type AnyProvider = ThreescaleProvider<any>;
type ProviderClass = new (options?: ClientOptions) => AnyProvider;

export interface LifecycleSpec<I> {
  /** Provider class under test (constructed with FAST_CLIENT options). */
  Provider: ProviderClass;
  /** Valid inputs; called once per test with a fresh fixture prefix. */
  inputs: (connection: Connection, unique: string) => Promise<I>;
  /** Emulator objects this resource manages matching the inputs' identity (to count duplicates). */
  matching: (emulator: Emulator, inputs: I) => any[];
  /** Asserts the emulator object reflects the inputs. */
  expectApplied: (object: any, inputs: I) => void;
  /** A changed version of the inputs that updates in place. */
  change: (inputs: I) => I;
  /** Edits the emulator object directly (someone using the admin UI); read must then show an input differing. */
  drift: (object: any) => void;
  /** Asserts the object is gone (or, where 3scale has no DELETE, disabled). */
  expectDeleted: (emulator: Emulator, inputs: I, id: string) => void;
  /** False where delete disables rather than removes (read then still finds the object). Default true. */
  deleteRemoves?: boolean;
  /** Inputs that check must reject, with the property named in the failure. */
  badInputs: Array<{ what: string; mutate: (inputs: I) => any; property: string }>;
}

/** The standard lifecycle tests for one provider type, through the provider and through its serialized form. */
export function lifecycleSuite<I extends { connection: Connection }>(
  ctx: { readonly emulator: Emulator; readonly connection: Connection },
  spec: LifecycleSpec<I>,
): void {
  let counter = 0;
  const unique = () => `t${process.pid % 1000}x${++counter}`;

  for (const form of ["direct", "serialized"] as const) {
    describe(`${form} provider`, () => {
      let provider: AnyProvider;
      beforeAll(async () => {
        const instance = new spec.Provider(FAST_CLIENT);
        if (form === "direct") provider = instance;
        else {
          const sf = await serialize(instance);
          expect(sf.text).not.toContain(ctx.emulator.accessToken);
          provider = sf.provider;
        }
      });

      it("creates the object, adopts it on a second create, and deletes it (404 on re-delete is fine)", async () => {
        const inputs = await spec.inputs(ctx.connection, unique());
        const first = await provider.create(inputs);
        const object = spec.matching(ctx.emulator, inputs);
        expect(object).toHaveLength(1);
        spec.expectApplied(object[0], inputs);
        expect(first.outs).toMatchObject({ ...inputs, connection: ctx.connection });

        const again = await provider.create(inputs);
        expect(again.id).toBe(first.id);
        expect(spec.matching(ctx.emulator, inputs)).toHaveLength(1);

        await provider.delete(first.id, first.outs);
        spec.expectDeleted(ctx.emulator, inputs, first.id);
        await provider.delete(first.id, first.outs);
      });

      it("makes zero writes when nothing changed and updates only what changed", async () => {
        const inputs = await spec.inputs(ctx.connection, unique());
        const { id, outs } = await provider.create(inputs);
        ctx.emulator.resetCalls();
        expect((await provider.diff!(id, outs, inputs)).changes).toBe(false);
        await provider.update!(id, outs, inputs);
        expect(ctx.emulator.writes()).toEqual([]);

        const changed = spec.change(inputs);
        expect((await provider.diff!(id, outs, changed)).changes).toBe(true);
        const updated = await provider.update!(id, outs, changed);
        expect(ctx.emulator.writes().length).toBeGreaterThan(0);
        spec.expectApplied(spec.matching(ctx.emulator, changed)[0], changed);
        ctx.emulator.resetCalls();
        await provider.update!(id, updated.outs, changed);
        expect(ctx.emulator.writes()).toEqual([]);
        await provider.delete(id, updated.outs);
      });

      it("shows drift made on the tenant in read and repairs it on update", async () => {
        const inputs = await spec.inputs(ctx.connection, unique());
        const { id, outs } = await provider.create(inputs);
        spec.drift(spec.matching(ctx.emulator, inputs)[0]);
        const read = await provider.read!(id, outs);
        expect(read.id).toBe(id);
        expect((await provider.diff!(id, read.props, inputs)).changes).toBe(true);
        await provider.update!(id, read.props, inputs);
        spec.expectApplied(spec.matching(ctx.emulator, inputs)[0], inputs);
        await provider.delete(id, outs);
      });

      if (spec.deleteRemoves !== false) {
        it("read of a deleted object returns no id (gone from state)", async () => {
          const inputs = await spec.inputs(ctx.connection, unique());
          const { id, outs } = await provider.create(inputs);
          await provider.delete(id, outs);
          const read = await provider.read!(id, outs);
          expect(read.id ?? "").toBe("");
        });
      }

      it("rejects bad inputs in check without calling the API", async () => {
        const inputs = await spec.inputs(ctx.connection, unique());
        ctx.emulator.resetCalls();
        for (const bad of spec.badInputs) {
          const result = await provider.check!({}, bad.mutate(structuredClone(inputs)));
          const failure = (result.failures ?? []).find((f) => f.property === bad.property);
          expect({ what: bad.what, failure: failure?.reason ?? "(none)" }).toEqual({
            what: bad.what,
            failure: expect.stringMatching(/e\.g\./),
          });
          expectNoToken(JSON.stringify(result.failures), ctx.emulator.accessToken);
        }
        expect(ctx.emulator.calls).toEqual([]);
        expect((await provider.check!({}, inputs)).failures ?? []).toEqual([]);
      });
    });
  }
}
