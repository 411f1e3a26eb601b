import * as fs from "fs";
import * as path from "path";
import {
  CONTRACTS_DIR,
  RELEASE_PRODUCTS,
  availableReleases,
  customResourceOf,
  loadCrds,
  toJsonSchema,
} from "./crd-validate";

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

describe("CRD schemas (contracts/crds)", () => {
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

describe("release selection (contracts/versions/<product>-<release>)", () => {
  const base = loadCrds();
  const rhoai225 = loadCrds({ rhoai: "2.25" });
  const threescale216 = loadCrds({ threescale: "2.16" });
  const both = loadCrds({ rhoai: "2.25", threescale: "2.16" });

  const dsc = (components: Record<string, unknown>) => ({
    apiVersion: "datasciencecluster.opendatahub.io/v1",
    kind: "DataScienceCluster",
    metadata: { name: "default-dsc" },
    spec: { components },
  });

  test("the default is the base set; a release picks its files for its kinds only", () => {
    const file = (crds: ReturnType<typeof loadCrds>, apiVersion: string, kind: string) => crds.fileOf(apiVersion, kind);
    expect(file(base, "datasciencecluster.opendatahub.io/v1", "DataScienceCluster")).toBe(
      "crds/datasciencecluster.opendatahub.io_datascienceclusters.json",
    );
    expect(file(rhoai225, "datasciencecluster.opendatahub.io/v1", "DataScienceCluster")).toBe(
      "versions/rhoai-2.25/datasciencecluster.opendatahub.io_datascienceclusters.json",
    );
    expect(file(rhoai225, "serving.kserve.io/v1beta1", "InferenceService")).toBe(
      "versions/rhoai-2.25/serving.kserve.io_inferenceservices.json",
    );
    expect(file(rhoai225, "apps.3scale.net/v1alpha1", "APIManager")).toBe("crds/apps.3scale.net_apimanagers.json");
    expect(file(threescale216, "apps.3scale.net/v1alpha1", "APIManager")).toBe(
      "versions/3scale-2.16/apps.3scale.net_apimanagers.json",
    );
    expect(file(threescale216, "capabilities.3scale.net/v1beta1", "CustomPolicyDefinition")).toBe(
      "versions/3scale-2.16/capabilities.3scale.net_custompolicydefinitions.json",
    );
    expect(file(both, "route.openshift.io/v1", "Route")).toBe("crds/routes-Default.crd.json");
    // Naming the base release explicitly is the default.
    expect(loadCrds({ rhoai: "2.16", threescale: "2.15" }).fileOf("apps.3scale.net/v1alpha1", "APIManager")).toBe(
      "crds/apps.3scale.net_apimanagers.json",
    );
    expect(both.keys().sort()).toEqual(base.keys().sort());
  });

  test("RHOAI 2.25 DataScienceCluster: kserve.nim and kueue Unmanaged validate against 2.25 only", () => {
    const nim = dsc({ kserve: { managementState: "Managed", nim: { managementState: "Managed" } } });
    expect(rhoai225.validate(nim)).toEqual([]);
    expect(base.validate(nim).join()).toMatch(/additional properties \(nim\)/);
    const kueue = dsc({ kueue: { managementState: "Unmanaged" } });
    expect(rhoai225.validate(kueue)).toEqual([]);
    expect(base.validate(kueue).join()).toMatch(/allowed values \(Managed\|Removed\)/);
  });

  test("RHOAI 2.25 DSCInitialization no longer requires applicationsNamespace", () => {
    const dsci = {
      apiVersion: "dscinitialization.opendatahub.io/v1",
      kind: "DSCInitialization",
      metadata: { name: "default-dsci" },
      spec: {},
    };
    expect(rhoai225.validate(dsci)).toEqual([]);
    expect(base.validate(dsci).join()).toMatch(/applicationsNamespace/);
  });

  test("KServe 0.15 (RHOAI 2.25) InferenceService: predictor.autoScaling validates against 0.15 only", () => {
    const isvc = {
      apiVersion: "serving.kserve.io/v1beta1",
      kind: "InferenceService",
      metadata: { name: "m" },
      spec: {
        predictor: {
          model: { modelFormat: { name: "vLLM" }, runtime: "m" },
          autoScaling: {
            metrics: [
              { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } } },
            ],
          },
        },
      },
    };
    expect(rhoai225.validate(isvc)).toEqual([]);
    expect(base.validate(isvc).join()).toMatch(/additional properties \(autoScaling\)/);
  });

  test("3scale 2.16 APIManager: zync.enabled validates against 2.16 only", () => {
    const apim = {
      apiVersion: "apps.3scale.net/v1alpha1",
      kind: "APIManager",
      metadata: { name: "apimanager" },
      spec: { wildcardDomain: "apps.example.com", zync: { enabled: false } },
    };
    expect(threescale216.validate(apim)).toEqual([]);
    expect(both.validate(apim)).toEqual([]);
    expect(base.validate(apim).join()).toMatch(/additional properties \(enabled\)/);
  });

  test("RHBK: Keycloak 26.0.0 is the base (bootstrapAdmin); 24.0.5 is selectable (realm cache flags)", () => {
    const rhbk24 = loadCrds({ rhbk: "24.0.5" });
    expect(base.fileOf("k8s.keycloak.org/v2alpha1", "Keycloak")).toBe("crds/keycloaks.k8s.keycloak.org-v1.json");
    expect(rhbk24.fileOf("k8s.keycloak.org/v2alpha1", "Keycloak")).toBe(
      "crds/keycloaks.k8s.keycloak.org-v1-24.0.5.json",
    );
    expect(rhbk24.fileOf("k8s.keycloak.org/v2alpha1", "KeycloakRealmImport")).toBe(
      "crds/keycloakrealmimports.k8s.keycloak.org-v1-24.0.5.json",
    );
    const keycloak = {
      apiVersion: "k8s.keycloak.org/v2alpha1",
      kind: "Keycloak",
      metadata: { name: "keycloak" },
      spec: { instances: 1, bootstrapAdmin: { user: { secret: "keycloak-admin" } } },
    };
    expect(base.validate(keycloak)).toEqual([]);
    expect(rhbk24.validate(keycloak).join()).toMatch(/additional properties \(bootstrapAdmin\)/);
    const realmImport = {
      apiVersion: "k8s.keycloak.org/v2alpha1",
      kind: "KeycloakRealmImport",
      metadata: { name: "realm" },
      spec: { keycloakCRName: "keycloak", realm: { realm: "maas", userCacheEnabled: true } },
    };
    expect(rhbk24.validate(realmImport)).toEqual([]);
    expect(base.validate(realmImport).join()).toMatch(/additional properties \(userCacheEnabled\)/);
  });

  test("an unknown release or product throws, naming what exists", () => {
    expect(availableReleases()).toEqual({
      rhoai: ["2.16", "2.25"],
      threescale: ["2.15", "2.16"],
      rhbk: ["26.0.0", "24.0.5"],
    });
    expect(() => loadCrds({ rhoai: "2.20" })).toThrow(/no rhoai 2.20 schemas .*available: 2.16, 2.25/);
    expect(() => loadCrds({ keycloak: "26" } as any)).toThrow(/unknown product 'keycloak'/);
  });

  test("the base releases match the refs the base files were derived from (contracts/SOURCES.md)", () => {
    const sources = fs.readFileSync(path.join(CONTRACTS_DIR, "SOURCES.md"), "utf8");
    const ref = (file: string) =>
      sources
        .split("\n")
        .find((line) => line.startsWith(`| \`${file}\` |`))
        ?.split("|")[3]
        .trim()
        .replace(/`/g, "");
    expect(ref("crds/datasciencecluster.opendatahub.io_datascienceclusters.json")).toBe(
      `rhoai-${RELEASE_PRODUCTS.rhoai.base}`,
    );
    expect(ref("crds/apps.3scale.net_apimanagers.json")).toBe(`3scale-${RELEASE_PRODUCTS.threescale.base}-stable`);
    expect(ref("crds/keycloaks.k8s.keycloak.org-v1.json")).toBe(RELEASE_PRODUCTS.rhbk.base);
    expect(ref("crds/keycloaks.k8s.keycloak.org-v1-24.0.5.json")).toBe("24.0.5");
    expect(ref("versions/rhoai-2.25/datasciencecluster.opendatahub.io_datascienceclusters.json")).toBe("rhoai-2.25");
    expect(ref("versions/3scale-2.16/apps.3scale.net_apimanagers.json")).toBe("3scale-2.16-stable");
  });
});
