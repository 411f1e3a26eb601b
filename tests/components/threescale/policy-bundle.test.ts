import { readPolicyBundle } from "../../../components/threescale/policy-bundle";

test("policy bundle: every file, content-hashed secret name", () => {
  const b = readPolicyBundle();
  expect(Object.keys(b.files)).toContain("apicast-policy.json");
  expect(b.secretName).toMatch(/^llm-metrics-[0-9a-f]{8}$/);
});
