/** BackendUsage specifics beyond the common lifecycle (lifecycle.test.ts). */
import { normalizeUsagePath } from "../../dynamic-providers/backend-usage";

test("usage paths are normalised like 3scale stores them", () => {
  expect(["", "/", "v1/", "//v1//", "/v1/chat"].map(normalizeUsagePath)).toEqual(["/", "/", "/v1", "/v1", "/v1/chat"]);
});
