/**
 * The whole dev stack against the emulator (the e2e driver): someone changes the product's policy chain, deploys it
 * and promotes it to production outside Pulumi. One `pulumi refresh` + ONE `pulumi up` repair the chain and promote
 * the repair, so production runs the declared configuration again; the next `up` makes no call that writes.
 */
import { AdminClient } from "../../dynamic-providers/threescale/client";
import { describeCalls, Deployment, DYNAMIC, startDeployment } from "./support";

let d: Deployment;
beforeAll(async () => {
  d = await startDeployment();
});
afterAll(async () => {
  await d?.close();
});

it("drift deployed and promoted outside Pulumi is repaired and promoted by one up after refresh", async () => {
  await d.up();
  const state = d.emulator.state;
  const product = state.products.find((p) => p.system_name !== "api")!;
  const productionChain = () => {
    const production = state.proxyConfigs.filter((c) => c.service_id === product.id && c.environment === "production");
    return (production[production.length - 1].content.proxy as any).policy_chain.map((p: any) => p.name);
  };
  expect(productionChain()).toContain("llm_metrics");

  // Outside Pulumi: metering removed from the chain, deployed to staging and promoted to production.
  const admin = new AdminClient({ adminUrl: d.emulator.url, accessToken: d.emulator.accessToken });
  product.proxy.policies_config = product.proxy.policies_config.filter((p) => p.name !== "llm_metrics");
  await admin.post(`/admin/api/services/${product.id}/proxy/deploy.json`);
  const drifted = d.emulator.snapshot().products[product.system_name].latestVersions.sandbox!;
  await admin.post(`/admin/api/services/${product.id}/proxy/configs/sandbox/${drifted}/promote.json`, {
    to: "production",
  });
  expect(productionChain()).not.toContain("llm_metrics");

  const refreshed = await d.refresh();
  // The chain differs; the promotion only shows new version numbers (staging == production: nothing pending).
  expect(refreshed.drifted.map((urn) => urn.split("::").pop()!.replace(/^.*-/, "")).sort()).toEqual([
    "policies",
    "promotion",
  ]);

  await d.up();
  const versions = d.emulator.snapshot().products[product.system_name].latestVersions;
  expect(versions.production).toBe(versions.sandbox);
  expect(versions.production).toBeGreaterThan(drifted);
  expect(productionChain()).toContain("llm_metrics");
  const updated = d.engine.operations.filter((o) => o.kind === "update").map((o) => o.type);
  expect(updated.sort()).toEqual([DYNAMIC("PolicyChain"), DYNAMIC("ProxyPromotion")].sort());

  await d.up();
  expect(describeCalls(d.emulator.writes())).toEqual([]);
  expect(d.engine.operations.filter((o) => o.kind !== "read")).toEqual([]);
});
