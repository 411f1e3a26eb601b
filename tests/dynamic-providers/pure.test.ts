/** The pure builders behind the providers: normalisation, "only what differs" bodies, schema checks. */
import { normalizeUsagePath } from "../../dynamic-providers/backend-usage";
import { chainFromApi, normalizeChain } from "../../dynamic-providers/policy-chain";
import { differingBody, looseEqual, refreshed, snakeCase, urlPorts } from "../../dynamic-providers/threescale/common";
import { BUILTIN_POLICY_SCHEMAS, schemaProblems } from "../../dynamic-providers/threescale/policy-schema";

test("usage paths are normalised like 3scale stores them", () => {
  expect(["", "/", "v1/", "//v1//", "/v1/chat"].map(normalizeUsagePath)).toEqual(["/", "/", "/v1", "/v1", "/v1/chat"]);
});

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
  expect(looseEqual(null, "")).toBe(true);
  expect(looseEqual(0, null)).toBe(false);
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

test("schema problems name the field, the expected type and the value", () => {
  expect(schemaProblems({ allow_methods: ["GET", "FETCH"], max_age: 1.5 }, BUILTIN_POLICY_SCHEMAS.cors)).toEqual([
    'configuration.allow_methods[1]: must be one of "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", got "FETCH"',
    "configuration.max_age: must be of type integer, got number 1.5",
  ]);
  expect(schemaProblems({ read_timeout: 30, keepalive: true }, BUILTIN_POLICY_SCHEMAS.upstream_connection)).toEqual([
    "configuration.keepalive: is not a field of this policy (known: connect_timeout, send_timeout, read_timeout)",
  ]);
  expect(
    schemaProblems(
      { a: "x" },
      { type: "object", required: ["b"], properties: { a: { type: "string", pattern: "^y" } } },
    ),
  ).toEqual(["configuration.b: is required", 'configuration.a: must match ^y, got "x"']);
});
