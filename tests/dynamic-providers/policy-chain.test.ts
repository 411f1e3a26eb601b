/** PolicyChain specifics beyond the common lifecycle (lifecycle.test.ts): the chain as 3scale stores it. */
import { chainFromApi, normalizeChain } from "../../dynamic-providers/policy-chain";

test("the desired chain gets explicit enabled flags and apicast at the end unless placed", () => {
  const cors = { name: "cors", version: "builtin", configuration: {} };
  expect(normalizeChain([cors]).map((p) => [p.name, p.enabled])).toEqual([
    ["cors", true],
    ["apicast", true],
  ]);
  const apicastFirst = normalizeChain([
    { name: "apicast", version: "builtin", configuration: {} },
    { ...cors, enabled: false },
  ]);
  expect(apicastFirst.map((p) => [p.name, p.enabled])).toEqual([
    ["apicast", true],
    ["cors", false],
  ]);
  expect(chainFromApi([{ name: "cors", version: "builtin", configuration: {} }])[0].enabled).toBe(false);
});
