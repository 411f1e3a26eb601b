/** The configuration schemas of builtin policies and the problems they report. */
import { BUILTIN_POLICY_SCHEMAS, schemaProblems } from "../../../dynamic-providers/threescale/policy-schema";

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
