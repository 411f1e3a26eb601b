/**
 * The provider a resource stores is a reference (dynamic-providers/provider-reference.ts): small, free of
 * credentials, resolving to the registered provider with the same methods and the same answers, and every resource
 * class's type token is in the registry (a missing one would fail only in the engine's host).
 */
import * as fs from "fs";
import * as path from "path";
import { providerReference } from "../../dynamic-providers/provider-reference";
import { PROVIDERS } from "../../dynamic-providers/registry";
import { productProvider } from "../../dynamic-providers/product";
import { UNKNOWN } from "../../dynamic-providers/threescale/unknown";
import { FAST_CLIENT, PROJECT_ROOT, serialize } from "./support";

const METHODS = ["check", "diff", "create", "read", "update", "delete"];
const methodsOf = (p: object) => METHODS.filter((m) => typeof (p as Record<string, unknown>)[m] === "function");

test.each(Object.entries(PROVIDERS))(
  "%s: a reference of under 4 KB with the provider's methods",
  async (token, provider) => {
    const { text, provider: loaded } = await serialize(providerReference(token, provider));
    expect(text.length).toBeLessThan(4096);
    expect(text).toContain(JSON.stringify(token));
    expect(methodsOf(loaded)).toEqual(methodsOf(provider));
  },
);

test("a call through the reference is the registered provider's answer, with the caller's client options", async () => {
  const { provider: loaded } = await serialize(providerReference("threescale:Product", productProvider));
  const inputs = { connection: UNKNOWN, systemName: "no spaces allowed", name: "x" };
  const direct = await productProvider.check!({}, inputs);
  expect(await loaded.check!({}, inputs)).toEqual(direct);
  expect(direct.failures?.[0]?.property).toBe("systemName");
  // The test engine sets shorter retries on the loaded object; they reach the provider's admin client.
  const withOptions = Object.assign(loaded, { clientOptions: FAST_CLIENT });
  expect(await withOptions.check!({}, inputs)).toEqual(direct);
});

test("a token missing from the registry fails naming it", async () => {
  const { provider: loaded } = await serialize(providerReference("threescale:Nothing", productProvider));
  await expect(Promise.resolve().then(() => loaded.check!({}, {}))).rejects.toThrow(
    /registry\.ts has no provider for threescale:Nothing/,
  );
});

test("every resource class's type token is registered", () => {
  const dir = path.join(PROJECT_ROOT, "dynamic-providers");
  const sources = [...fs.readdirSync(dir), ...fs.readdirSync(path.join(dir, "s3")).map((f) => `s3/${f}`)]
    .filter((f) => f.endsWith(".ts"))
    .map((f) => fs.readFileSync(path.join(dir, f), "utf8"))
    .join("\n");
  const tokens = new Set<string>();
  // `super(xProvider, "Type", ...)` / `super(\n xProvider,\n "Type",` and the metric kinds' `type: "ProductMetric"`.
  for (const m of sources.matchAll(/super\(\s*\w+Provider,\s*"(\w+)"/g)) tokens.add(`threescale:${m[1]}`);
  for (const m of sources.matchAll(/provider: \w+Provider, type: "(\w+)"/g)) tokens.add(`threescale:${m[1]}`);
  for (const m of sources.matchAll(/providerReference\("(\w+:\w+)"/g)) tokens.add(m[1]);
  expect(tokens.size).toBeGreaterThan(15);
  expect([...tokens].filter((t) => !(t in PROVIDERS))).toEqual([]);
  expect(Object.keys(PROVIDERS).filter((t) => !tokens.has(t))).toEqual([]);
});

test("one reference object per provider and token, so Pulumi serializes it once", () => {
  const reference = providerReference("threescale:Product", productProvider);
  expect(providerReference("threescale:Product", productProvider)).toBe(reference);
  expect(providerReference("threescale:Other", productProvider)).not.toBe(reference);
});
