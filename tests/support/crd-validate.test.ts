import { customResourceOf, loadCrds, toJsonSchema } from "./crd-validate";

describe("CRD schema conversion", () => {
  test("unknown fields are rejected unless preserve-unknown-fields", () => {
    const strict = toJsonSchema({ type: "object", properties: { a: { type: "string" } } });
    expect(strict.additionalProperties).toBe(false);
    const open = toJsonSchema({ type: "object", properties: { a: {} }, "x-kubernetes-preserve-unknown-fields": true });
    expect(open.additionalProperties).toBeUndefined();
  });

  test("int-or-string accepts both and nothing else", () => {
    const s = toJsonSchema({ "x-kubernetes-int-or-string": true });
    expect(s.anyOf).toEqual([{ type: "integer" }, { type: "string" }]);
  });

  test("partial schemas drop required (patches)", () => {
    const s = toJsonSchema(
      { type: "object", required: ["a"], properties: { a: { type: "object", required: ["b"] } } },
      true,
    );
    expect(s.required).toBeUndefined();
    expect(s.properties.a.required).toBeUndefined();
  });
});

describe("upstream CRDs", () => {
  const crds = loadCrds();

  test("loads the kinds the platform renders", () => {
    for (const k of [
      "serving.kserve.io/v1beta1/InferenceService",
      "apps.3scale.net/v1alpha1/APIManager",
      "keycloak.org/v1alpha1/KeycloakRealm",
      "route.openshift.io/v1/Route",
    ]) {
      expect(crds.keys()).toContain(k);
    }
  });

  test("rejects a wrong enum case, an unknown field and a missing required field", () => {
    const dsc = (certType: string, extra: Record<string, unknown> = {}) => ({
      apiVersion: "datasciencecluster.opendatahub.io/v1",
      kind: "DataScienceCluster",
      metadata: { name: "default-dsc" },
      spec: {
        components: {
          kserve: { managementState: "Managed", serving: { ingressGateway: { certificate: { type: certType } } } },
        },
        ...extra,
      },
    });
    expect(crds.validate(dsc("OpenshiftDefaultIngress"))).toEqual([]);
    expect(crds.validate(dsc("OpenShiftDefaultIngress")).join()).toMatch(/allowed values/);
    expect(crds.validate(dsc("OpenshiftDefaultIngress", { bogus: 1 })).join()).toMatch(/bogus/);
    const apim = { apiVersion: "apps.3scale.net/v1alpha1", kind: "APIManager", metadata: { name: "a" }, spec: {} };
    expect(crds.validate(apim).join()).toMatch(/wildcardDomain/);
    expect(crds.validate(apim, true)).toEqual([]);
  });

  test("a kind without a schema is reported", () => {
    expect(crds.validate({ apiVersion: "example.com/v1", kind: "Nope" })).toEqual([
      "no CRD schema for example.com/v1 Nope",
    ]);
  });

  test("typed built-ins are exempt, CRs and patches are mapped to their kind", () => {
    expect(customResourceOf("kubernetes:core/v1:Secret", {})).toBeUndefined();
    expect(customResourceOf("kubernetes:apps/v1:Deployment", {})).toBeUndefined();
    expect(
      customResourceOf("kubernetes:machine.openshift.io/v1beta1:MachineSetPatch", { spec: { replicas: 1 } }),
    ).toEqual({
      patch: true,
      object: { apiVersion: "machine.openshift.io/v1beta1", kind: "MachineSet", spec: { replicas: 1 } },
    });
  });
});
