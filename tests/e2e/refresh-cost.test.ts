/**
 * Refresh cost of the dev stack's 3scale layer: one admin API call per managed object, except the promotion, which
 * needs the latest staging and the latest production version (two GETs, nothing cheaper tells both).
 */
import { startDeployment } from "./support";

it("pulumi refresh reads each managed object with one call (the promotion with two)", async () => {
  const d = await startDeployment();
  try {
    await d.up();
    await d.refresh();
    const callsPerRead: Record<string, number[]> = {};
    for (const op of d.engine.operations.filter((o) => o.kind === "read")) {
      (callsPerRead[op.type.replace(/^.*:/, "")] ??= []).push(op.calls);
    }
    const worst = Object.fromEntries(Object.entries(callsPerRead).map(([type, calls]) => [type, Math.max(...calls)]));
    expect(Object.keys(worst)).toEqual(expect.arrayContaining(["Product", "PolicyChain", "ProxyPromotion"]));
    const { ProxyPromotion, TenantDefaults, ...others } = worst;
    expect(ProxyPromotion).toBe(2);
    expect(TenantDefaults).toBe(0); // its state is the record of what it removed: nothing to read
    expect(Object.entries(others).filter(([, calls]) => calls !== 1)).toEqual([]);
  } finally {
    await d.close();
  }
});
