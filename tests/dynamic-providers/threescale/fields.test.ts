/** Field mapping: "only what differs" update bodies and refreshed properties. */
import { differingBody, refreshed, snakeCase, urlPorts } from "../../../dynamic-providers/threescale/fields";

test("update bodies hold only managed fields that differ, with URL ports and numbers normalised", () => {
  const fields = { name: "name", privateEndpoint: "private_endpoint", description: "description", delta: "delta" };
  const actual = { name: "A", private_endpoint: "https://x.svc:443", description: null, delta: "2" };
  const same = differingBody(
    { name: "A", privateEndpoint: "https://x.svc", delta: 2 },
    actual,
    fields,
    urlPorts(["private_endpoint"]),
  );
  expect(same).toEqual({});
  expect(differingBody({ name: "B", description: "" }, actual, fields)).toEqual({ name: "B" });
  expect(differingBody({ name: "A" }, undefined, fields)).toEqual({ name: "A" });
});

test("refresh replaces only the managed fields", () => {
  expect(refreshed({ name: "A", unit: undefined }, { name: "B", unit: "hit" }, { name: "name", unit: "unit" })).toEqual(
    {
      name: "B",
      unit: undefined,
    },
  );
  expect(snakeCase("errorStatusAuthFailed")).toBe("error_status_auth_failed");
});
