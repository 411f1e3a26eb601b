import { parseConfig } from "../../components/config/schema";
import { buildDsc, buildKnativeCertSecret, routerCertificateSecretName } from "../../components/openshift-ai";
import { runProgram } from "../../scripts/plan/mock-runner";

const config = (extra: Record<string, unknown> = {}) => parseConfig({ models: [{ name: "m1" }], ...extra });

test("Provided certificate: DSC references the copied secret; the copy needs tls.crt and tls.key", () => {
  const dsc = buildDsc(
    { openshiftAi: "2.16", threescale: "2.15", sso: "rhsso" },
    config({ openshiftAi: { ingressCertificate: "Provided" } }).openshiftAi,
    "RawDeployment",
  ) as any;
  expect(dsc.spec.components.kserve.serving.ingressGateway.certificate).toEqual({
    type: "Provided",
    secretName: "knative-serving-cert",
  });
  expect(routerCertificateSecretName({ defaultCertificate: { name: "custom" } })).toBe("custom");
  expect(routerCertificateSecretName({})).toBe("router-certs-default");
  expect(() => buildKnativeCertSecret({ "tls.crt": "x" })).toThrow(/tls.key/);
});

test("Provided certificate through the program: copied secret is secret data in istio-system", async () => {
  const run = await runProgram({ stack: "dev", config: { openshiftAi: { ingressCertificate: "Provided" } } });
  const copy = run.resources.find((r) => !r.read && r.inputs.metadata?.name === "knative-serving-cert")!;
  expect(copy.inputs.metadata.namespace).toBe("istio-system");
  expect(copy.secretInputKeys).toContain("data");
  expect(run.resources.some((r) => r.read && r.id === "openshift-ingress/router-certs-default")).toBe(true);
});
