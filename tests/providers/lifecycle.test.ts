/** Layer 1: every resource type of this suite, called directly against the emulator, with and without faults. */
import { buildWorld, CASES, runLifecycle } from "./lifecycle";
import { withEmulator } from "./support";

describe.each(CASES)("$type", (c) => {
  test("create adopts, no-change update writes nothing, drift is seen and repaired, delete is idempotent", () =>
    withEmulator(async (emulator, connection) => {
      const world = await buildWorld(connection);
      await runLifecycle(c, c.direct(), emulator, connection, world);
    }));

  test("converges without duplicates when 20% of calls fail (5xx, 429, 409, resets)", () =>
    withEmulator(
      async (emulator, connection) => {
        const world = await buildWorld(connection);
        const faults = await runLifecycle(c, c.direct(), emulator, connection, world, false);
        expect(faults).toBeGreaterThan(0);
      },
      { faults: { rate: 0.2 }, seed: 7 },
    ));
});
