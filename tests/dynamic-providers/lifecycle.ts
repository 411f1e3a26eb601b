/**
 * The idempotency lifecycle every 3scale resource type goes through, in three runs against a fresh emulator each:
 * the provider called directly, the same under 20% random faults, and the module's shared instance re-loaded from
 * its serialized text (what the host runs). Steps: check passes, create, create again (adopts, no duplicate),
 * update without change (zero writes, no diff), drift made in the emulator (visible in read, repaired by update),
 * an in-place change (only it is written), delete (gone; deleting again is fine). Plus bad inputs failing in check
 * without any API call.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ClientOptions, Connection } from "../../dynamic-providers/threescale/client";
import { RELEASES, type EmulatorState } from "../../tools/threescale-emulator";
import { Emulator, expectNoToken, FAST_CLIENT, serialize, withEmulator } from "./support";

/** A provider as the host drives it (every method present). */
export type LoadedProvider = Required<Omit<pulumi.dynamic.ResourceProvider, "configure">> & {
  clientOptions: ClientOptions;
};
type Inputs = Record<string, any>;

export interface LifecycleSpec {
  /** Resource type name, e.g. "Product". */
  type: string;
  /** The module's shared instance: its serialized form is what `pulumi up` stores. */
  shared: unknown;
  /** A fresh instance with the given client options. */
  make: (options: ClientOptions) => unknown;
  /** Fixtures made in the emulator and the valid inputs (without `connection`). */
  inputs: (connection: Connection) => Promise<Inputs>;
  /** The same object with an in-place (non-replacing) change. */
  changed: (inputs: Inputs) => Inputs;
  /** Someone edits the object in the admin UI. */
  drift: (state: EmulatorState, id: number, inputs: Inputs) => void;
  /** Objects in the tenant with this resource's identity; omit for per-product singletons (settings, chain). */
  count?: (state: EmulatorState, inputs: Inputs) => number;
  /** Asserts the tenant object reflects the inputs. */
  expectApplied?: (state: EmulatorState, id: number, inputs: Inputs) => void;
  /** False where delete disables rather than removes (3scale has no DELETE for portal SSO providers). */
  deleteRemoves?: boolean;
  /** What must hold after delete where the object is not removed (settings, chain, SSO provider). */
  afterDelete?: (state: EmulatorState, inputs: Inputs) => void;
  /** Inputs check must reject, with the property named in the failure. */
  badInputs?: Array<{ what: string; mutate: (inputs: Inputs) => Inputs; property: string }>;
}

/**
 * Runs the lifecycle; `strict` asserts the exact write counts (off under faults, where retries add writes).
 * Returns how many calls the emulator failed on purpose meanwhile.
 */
export async function runLifecycle(
  spec: LifecycleSpec,
  provider: LoadedProvider,
  emulator: Emulator,
  connection: Connection,
  strict = true,
): Promise<number> {
  let faults = 0;
  const resetCalls = () => {
    faults += emulator.calls.filter((call) => call.fault !== undefined).length;
    emulator.resetCalls();
  };
  const inputs = { connection, ...(await spec.inputs(connection)) };
  const expectCount = (n: number) => spec.count && expect(spec.count(emulator.state, inputs)).toBe(n);
  const noDiff = async (id: string, props: Inputs | undefined, news: Inputs) =>
    expect((await provider.diff(id, props, news)).changes).toBe(false);
  expect((await provider.check({}, inputs)).failures ?? []).toEqual([]);

  const created = await provider.create(inputs);
  const id = created.id;
  expect(created.outs).toMatchObject(inputs);
  spec.expectApplied?.(emulator.state, Number(id), inputs);
  expect((await provider.create(inputs)).id).toBe(id);
  expectCount(1);

  resetCalls();
  await provider.update(id, created.outs, inputs);
  if (strict) expect(emulator.writes()).toEqual([]);
  await noDiff(id, created.outs, inputs);

  spec.drift(emulator.state, Number(id), inputs);
  const drifted = await provider.read(id, created.outs);
  expect(drifted.id).toBe(id);
  expect((await provider.diff(id, drifted.props, inputs)).changes).toBe(true);
  const repaired = await provider.update(id, drifted.props, inputs);
  spec.expectApplied?.(emulator.state, Number(id), inputs);
  await noDiff(id, (await provider.read(id, repaired.outs)).props, inputs);

  const changed = spec.changed(inputs);
  expect(await provider.diff(id, repaired.outs, changed)).toMatchObject({ changes: true, replaces: [] });
  resetCalls();
  const updated = await provider.update(id, repaired.outs, changed);
  if (strict) expect(emulator.writes().length).toBeGreaterThan(0);
  spec.expectApplied?.(emulator.state, Number(id), changed);
  resetCalls();
  await provider.update(id, updated.outs, changed);
  if (strict) expect(emulator.writes()).toEqual([]);
  await noDiff(id, (await provider.read(id, updated.outs)).props, changed);
  expectCount(1);

  await provider.delete(id, updated.outs);
  await provider.delete(id, updated.outs); // already gone (or reset): still fine
  if (spec.count && spec.deleteRemoves !== false) {
    expectCount(0);
    expect((await provider.read(id, updated.outs)).id ?? "").toBe("");
  }
  spec.afterDelete?.(emulator.state, changed);
  resetCalls();
  return faults;
}

/**
 * Registers the lifecycle tests of one resource type, once per 3scale release the emulator reproduces; `reach` maps
 * an emulator to the connection to use.
 */
export function lifecycleSuite(
  spec: LifecycleSpec,
  reach: (emulator: Emulator, connection: Connection) => Connection = (_emulator, connection) => connection,
): void {
  describe.each(RELEASES)("against 3scale %s", (release) => releaseSuite(spec, reach, release));
}

function releaseSuite(
  spec: LifecycleSpec,
  reach: (emulator: Emulator, connection: Connection) => Connection,
  release: (typeof RELEASES)[number],
): void {
  const direct = () => spec.make(FAST_CLIENT) as LoadedProvider;
  const withTenant = (fn: (emulator: Emulator, connection: Connection) => Promise<unknown>, opts = {}) =>
    withEmulator((emulator, connection) => fn(emulator, reach(emulator, { ...connection, release })), {
      ...opts,
      release,
    });

  test("direct: create adopts, no-change update writes nothing, drift is seen and repaired, delete is idempotent", () =>
    withTenant((emulator, connection) => runLifecycle(spec, direct(), emulator, connection)));

  test("direct: converges without duplicates when 20% of calls fail (5xx, 429, 409, resets)", () =>
    withTenant(
      async (emulator, connection) => {
        expect(await runLifecycle(spec, direct(), emulator, connection, false)).toBeGreaterThan(0);
      },
      { faults: { rate: 0.2 }, seed: 7 },
    ));

  test("serialized shared instance: the same lifecycle through __provider; the text holds no token", () =>
    withTenant(async (emulator, connection) => {
      const { text, provider } = await serialize(spec.shared as LoadedProvider);
      expect(text).toContain("exports.handler");
      provider.clientOptions = FAST_CLIENT; // as the test engine does: keep the suite fast
      await runLifecycle(spec, provider, emulator, connection);
      expectNoToken(text, emulator.accessToken);
    }));

  if (spec.badInputs) {
    const badInputs = spec.badInputs;
    test("bad inputs fail in check with a clear message and no API call", () =>
      withTenant(async (emulator, connection) => {
        const provider = direct();
        const inputs = { connection, ...(await spec.inputs(connection)) };
        emulator.resetCalls();
        for (const bad of badInputs) {
          const result = await provider.check({}, bad.mutate(structuredClone(inputs)));
          const failure = (result.failures ?? []).find((f) => f.property === bad.property);
          expect({ what: bad.what, failure: failure?.reason ?? "(none)" }).toEqual({
            what: bad.what,
            failure: expect.stringMatching(/e\.g\./),
          });
          expectNoToken(JSON.stringify(result.failures), emulator.accessToken);
        }
        expect((await provider.check({}, inputs)).failures ?? []).toEqual([]);
        expect(emulator.calls).toEqual([]);
      }));
  }
}
