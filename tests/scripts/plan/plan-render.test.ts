import {
  adminObjects,
  kubernetesManifests,
  keyProperties,
  mermaidGraph,
  resourceTree,
  safeInputs,
  summary,
} from "../../../scripts/plan/render";
import type { RecordedResource } from "../../../scripts/plan/mock-runner";

const STACK = "urn:pulumi:s::maas::pulumi:pulumi:Stack::maas-s";
let order = 0;
function res(type: string, name: string, over: Partial<RecordedResource> = {}): RecordedResource {
  return {
    urn: `urn:pulumi:s::maas::${type}::${name}`,
    type,
    name,
    custom: true,
    id: `${name}-id`,
    inputs: {},
    secretInputKeys: [],
    outputs: {},
    dependencies: [],
    order: order++,
    ...over,
  };
}

const stack = res("pulumi:pulumi:Stack", "maas-s", { urn: STACK, custom: false });
const component = res("maas:index:Platform", "maas", { custom: false, parent: STACK });
const ns = res("kubernetes:core/v1:Namespace", "ns", {
  parent: component.urn,
  inputs: { apiVersion: "v1", kind: "Namespace", metadata: { name: "ai-models" } },
});
const secret = res("kubernetes:core/v1:Secret", "creds", {
  parent: component.urn,
  dependencies: [ns.urn],
  inputs: {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: "creds", namespace: "ai-models" },
    stringData: { password: "hunter2-secret" },
    data: { token: "dG9rZW4=" },
  },
  secretInputKeys: ["stringData"],
});
const sub = res("kubernetes:operators.coreos.com/v1alpha1:Subscription", "sub", {
  parent: component.urn,
  inputs: {
    apiVersion: "operators.coreos.com/v1alpha1",
    kind: "Subscription",
    metadata: { name: "3scale-operator", namespace: "3scale" },
    spec: { name: "3scale-operator", channel: "threescale-2.15", source: "redhat-operators" },
  },
});
const ingressRead = res("kubernetes:config.openshift.io/v1:Ingress", "cluster-ingress", {
  parent: component.urn,
  read: true,
  id: "cluster",
  inputs: { apiVersion: "config.openshift.io/v1", kind: "Ingress" },
});
const product = res("pulumi-nodejs:dynamic/threescale:Product", "product", {
  parent: component.urn,
  dependencies: [sub.urn],
  inputs: {
    __provider: "exports.handler = ...",
    connection: { adminUrl: "https://a", accessToken: "tok-123456789" },
    systemName: "granite",
    description: "04da6b54-80e4-46f7-96ec-b56ff0331ba9",
  },
  secretInputKeys: ["connection"],
});
const all = [stack, component, ns, secret, sub, ingressRead, product];

describe("plan renderers", () => {
  test("safeInputs hides secret inputs (keeping map keys), every Secret payload and provider code", () => {
    expect(safeInputs(secret).stringData).toEqual({ password: "[secret]" });
    expect(safeInputs(secret).data).toEqual({ token: "[redacted]" });
    const p = safeInputs(product);
    expect(p.connection).toEqual({ adminUrl: "[secret]", accessToken: "[secret]" });
    expect(p).not.toHaveProperty("__provider");
    expect(p.description).toBe("[computed]");
    expect(JSON.stringify(all.map(safeInputs))).not.toMatch(/hunter2|dG9rZW4=|tok-123/);
  });

  test("manifests: managed Kubernetes objects only, numbered, named by kind, namespace and name", () => {
    const files = kubernetesManifests(all).map((m) => m.file);
    expect(files).toEqual([
      "01-namespace-cluster-ai-models.yaml",
      "02-secret-ai-models-creds.yaml",
      "03-subscription-3scale-3scale-operator.yaml",
    ]);
    expect(Object.keys(kubernetesManifests(all)[1].manifest).slice(0, 3)).toEqual(["apiVersion", "kind", "metadata"]);
  });

  test("plan.json objects are the 3scale and Keycloak resources", () => {
    expect(adminObjects(all).map((o) => o.name)).toEqual(["product"]);
  });

  test("key properties name what a resource is", () => {
    expect(keyProperties(sub)).toEqual([
      "ns=3scale",
      "name=3scale-operator",
      "package=3scale-operator",
      "channel=threescale-2.15",
      "source=redhat-operators",
    ]);
    expect(keyProperties(ingressRead)).toContain("read=cluster");
    expect(keyProperties(product)).toEqual(["system_name=granite"]);
  });

  test("tree nests children under their parent", () => {
    const lines = resourceTree(all).split("\n");
    expect(lines[0]).toBe("pulumi:pulumi:Stack maas-s");
    expect(lines[1]).toBe("└─ maas:index:Platform maas");
    expect(lines[2]).toBe("   ├─ kubernetes:core/v1:Namespace ns  (name=ai-models)");
    expect(lines[lines.length - 1]).toMatch(/^ {3}└─ pulumi-nodejs:dynamic\/threescale:Product product/);
  });

  test("summary counts per type and in total", () => {
    const text = summary([...all, res("kubernetes:core/v1:Namespace", "ns2")]);
    expect(text).toMatch(/^kubernetes:core\/v1:Namespace\s+2$/m);
    expect(text).toMatch(/^total\s+8$/m);
  });

  test("Mermaid graph: components as subgraphs, edges from dependencies but not from parents", () => {
    const graph = mermaidGraph(all);
    expect(graph).toContain('subgraph r1["Platform: maas"]');
    expect(graph).toContain("r2 --> r3"); // namespace → secret
    expect(graph).toContain("r4 --> r6"); // subscription → product
    expect(graph).not.toContain("r1 --> ");
    expect(graph.match(/^\s*subgraph /gm)).toHaveLength(2);
    expect(graph.match(/^\s*end$/gm)).toHaveLength(2);
  });
});
