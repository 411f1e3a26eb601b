/**
 * A `pulumi up` that dies after a random number of admin API calls (the emulator drops every later connection),
 * then a second `up`: it must converge to exactly what an uninterrupted up builds, without duplicates. The crashed
 * run's partial state is lost, as when the CLI is killed, so the second up must adopt what the first created.
 */
import { mulberry32 } from "../../tools/threescale-emulator";
import type { TenantSnapshot } from "../../tools/threescale-emulator";
import { startDeployment } from "./support";

const SEEDS = [11, 23, 37];

/**
 * Rules are created concurrently, so their positions follow scheduling, not config, in any run. Our rules never
 * overlap (distinct patterns, none `last`), so their order has no effect at the gateway: compare them as a set.
 */
function withoutRulePositions(snapshot: TenantSnapshot): TenantSnapshot {
  const copy: TenantSnapshot = JSON.parse(JSON.stringify(snapshot));
  for (const product of Object.values(copy.products)) {
    product.mappingRules = product.mappingRules
      .map(({ position: _position, ...rule }) => rule as (typeof product.mappingRules)[number])
      .sort((a, b) => `${a.http_method} ${a.pattern}`.localeCompare(`${b.http_method} ${b.pattern}`));
  }
  return copy;
}
let reference: TenantSnapshot;
let referenceCalls = 0;

beforeAll(async () => {
  const clean = await startDeployment();
  try {
    await clean.up();
    reference = clean.emulator.snapshot();
    referenceCalls = clean.emulator.calls.length;
  } finally {
    await clean.close();
  }
});

describe.each(SEEDS)("crash during the first up (seed %i)", (seed) => {
  it("converges on the next up with no duplicates", async () => {
    const crashAfter = 5 + Math.floor(mulberry32(seed)() * (referenceCalls - 10));
    const d = await startDeployment({
      clientOptions: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2, timeoutMs: 5_000 },
    });
    try {
      d.emulator.failAfter(crashAfter);
      await expect(d.up()).rejects.toThrow();
      d.emulator.failAfter(null);
      await d.up();
      expect(withoutRulePositions(d.emulator.snapshot())).toEqual(withoutRulePositions(reference));
      // No duplicates hidden behind the snapshot's keys: one object per name in the raw state.
      const names = d.emulator.state.products.map((p) => p.system_name);
      expect(new Set(names).size).toBe(names.length);
      const rules = d.emulator.state.mappingRules.map((r) => `${r.owner.id} ${r.http_method} ${r.pattern}`);
      expect(new Set(rules).size).toBe(rules.length);
      const metrics = d.emulator.state.metrics.map((m) => `${m.owner.type}${m.owner.id} ${m.system_name}`);
      expect(new Set(metrics).size).toBe(metrics.length);
    } finally {
      await d.close();
    }
  });
});

it("the reference up made enough calls to crash in the middle", () => {
  expect(referenceCalls).toBeGreaterThan(50);
});
