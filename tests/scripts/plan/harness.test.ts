import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import {
  deleteOrder,
  fakeSecretValue,
  ProgramError,
  RecordedResource,
  runProgram,
  RunOptions,
} from "../../../scripts/plan/mock-runner";
import { fixtureProgram } from "./fixtures/program";

const stackFile = path.join(__dirname, "fixtures", "Pulumi.fixture.yaml");
const run = (over: Partial<RunOptions> = {}) =>
  runProgram({ stack: "fixture", stackFile, program: fixtureProgram(), ...over });

const NS = "kubernetes:core/v1:Namespace";
const SECRET = "kubernetes:core/v1:Secret";
const CONFIGMAP = "kubernetes:core/v1:ConfigMap";
const GREETING = "pulumi-nodejs:dynamic/fixture:Greeting";

describe("runProgram", () => {
  test("records every resource with inputs, parent, dependencies and provider", async () => {
    const result = await run();
    const demo = result.get("maas:fixture:Demo", "demo");
    const ns = result.get(NS, "demo-ns");
    const cm = result.get(CONFIGMAP, "demo-settings");
    const provider = result.get("pulumi:providers:kubernetes", "demo-k8s");
    expect(demo.custom).toBe(false);
    expect(demo.parent).toMatch(/^urn:pulumi:fixture::maas::pulumi:pulumi:Stack::maas-fixture$/);
    expect(ns.parent).toBe(demo.urn);
    expect(ns.urn).toBe("urn:pulumi:fixture::maas::maas:fixture:Demo$kubernetes:core/v1:Namespace::demo-ns");
    expect(ns.inputs.metadata).toEqual({ name: "tiny" });
    expect(ns.provider).toBe(`${provider.urn}::${provider.id}`);
    expect(cm.inputs).toMatchObject({
      metadata: { name: "settings", namespace: "tiny" },
      data: { model: "tiny-model" },
    });
    expect(cm.dependencies).toContain(ns.urn);
    expect(result.get(GREETING, "demo-greeting").dependencies).toContain(ns.urn);
    expect(result.resources.map((r) => r.order)).toEqual(result.resources.map((_, i) => i));
    expect(result.byType(NS)).toEqual([ns]);
    expect(() => result.get(NS, "nope")).toThrow('no kubernetes:core/v1:Namespace named "nope"; registered: demo-ns');
  });

  test("secure: stack values become fake secrets; secret inputs and outputs are flagged", async () => {
    const result = await run();
    const secret = result.get(SECRET, "demo-credentials");
    expect(secret.secretInputKeys).toEqual(["stringData"]);
    expect(secret.inputs.stringData.githubClientSecret).toBe(fakeSecretValue("fixture", "maas:githubClientSecret"));
    expect(secret.secretOutputKeys).toContain("stringData");
    const password = result.get("random:index/randomPassword:RandomPassword", "demo-password");
    expect(password.outputs.result).toHaveLength(24);
    expect(secret.inputs.stringData.password).toBe(password.outputs.result);
    expect(result.get(CONFIGMAP, "demo-settings").secretInputKeys).toEqual([]);
    expect(result.outputs).toMatchObject({ namespace: "tiny", model: "tiny-model", password: password.outputs.result });
    expect(result.secretOutputNames).toEqual(["password"]);
  });

  test("deterministic: two runs give the same resources", async () => {
    const a = await run();
    const b = await run();
    expect(JSON.stringify(b.state)).toBe(JSON.stringify(a.state));
  });

  test("options replace stack keys and secret values", async () => {
    const result = await run({
      config: { models: [{ name: "other-model", localPath: "./weights" }] },
      secrets: { githubClientSecret: "known-value" },
    });
    expect(result.get(NS, "demo-ns").inputs.metadata.name).toBe("other-model");
    expect(result.get(SECRET, "demo-credentials").inputs.stringData.githubClientSecret).toBe("known-value");
  });

  test("handlers by exact type and by prefix; their state flows back into the program", async () => {
    const seen: string[] = [];
    const result = await run({
      handlers: {
        [NS]: async (a) => ({ id: "ns-1", state: { ...a.inputs, metadata: { name: "renamed" } } }),
        "kubernetes:core/v1:*": async (a) => {
          seen.push(a.type);
          return { id: `${a.name}-custom`, state: a.inputs };
        },
      },
    });
    expect(result.outputs.namespace).toBe("renamed");
    expect(result.get(CONFIGMAP, "demo-settings").inputs.metadata.namespace).toBe("renamed");
    expect(result.get(NS, "demo-ns").id).toBe("ns-1");
    expect(seen.sort()).toEqual([CONFIGMAP, SECRET]);
  });

  test("a handler's error fails the run with the resource named", async () => {
    await expect(
      run({ handlers: { [CONFIGMAP]: async () => Promise.reject(new Error("quota exceeded")) } }),
    ).rejects.toThrow(/demo-settings.*quota exceeded/);
  });

  test("previous state reaches handlers and removed resources come in delete order", async () => {
    const first = await run();
    const previousIds: Array<string | undefined> = [];
    const second = await run({
      state: first.state,
      handlers: { [NS]: async (a) => (previousIds.push(a.previous?.id), { id: "ns-2", state: a.inputs }) },
    });
    expect(previousIds).toEqual(["demo-ns-id"]);
    expect(second.removed).toEqual([]);

    const emptied = await run({ state: first.state, program: () => ({}) });
    const names = emptied.removed.map((r) => r.name);
    expect(names).toHaveLength(first.resources.length - 1); // the stack itself remains
    const before = (a: string, b: string) => expect(names.indexOf(a)).toBeLessThan(names.indexOf(b));
    before("demo-settings", "demo-ns");
    before("demo-greeting", "demo-ns");
    before("demo-ns", "demo-k8s");
    before("demo-credentials", "demo-password");
    before("demo-ns", "demo");
  });

  test("a dynamic provider that captures an unserializable object fails the run", async () => {
    const error = await runProgram({ stack: "fixture", stackFile, program: fixtureProgram({ leaky: true }) }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ProgramError);
    expect(error.message).toMatch(/Error serializing/);
    expect(error.message).toMatch(/LeakyProvider|create/);
  });

  test("a good dynamic provider is serialized into __provider", async () => {
    const greeting = (await run()).get(GREETING, "demo-greeting");
    expect(typeof greeting.inputs.__provider).toBe("string");
    expect(greeting.inputs.__provider).toContain("exports.handler");
    expect(greeting.inputs.greeting).toBe("hello tiny-model");
  });

  test("an invalid stack config fails before any resource is registered", async () => {
    const error = await run({ config: { models: [{ name: "Bad_Name" }], storage: { odf: { enabled: true } } } }).catch(
      (e) => e,
    );
    expect(error.message).toContain("maas:models[0].name: must be lowercase");
    expect(error.message).toContain("maas:storage.odf.nodes: ODF needs at least 3 storage nodes, got 0");
  });
});

describe("deleteOrder", () => {
  const res = (name: string, order: number, deps: string[] = [], parent?: string): RecordedResource => ({
    urn: name,
    type: "t",
    name,
    custom: true,
    id: name,
    inputs: {},
    secretInputKeys: [],
    outputs: {},
    dependencies: deps,
    parent,
    order,
  });

  test("dependents first, latest registered first among independent ones", () => {
    const order = deleteOrder([res("a", 0), res("b", 1, ["a"]), res("c", 2, [], "a"), res("d", 3)]);
    expect(order.map((r) => r.name)).toEqual(["d", "c", "b", "a"]);
  });

  test("a cycle is an error naming the resources", () => {
    expect(() => deleteOrder([res("a", 0, ["b"]), res("b", 1, ["a"])])).toThrow("dependency cycle among: a, b");
  });
});

describe("deleteOrder on a large stack", () => {
  /** A random DAG: each resource may depend on earlier ones (deterministic pseudo-random choices). */
  function randomStack(size: number): RecordedResource[] {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    return Array.from({ length: size }, (_, i) => ({
      urn: `r${i}`,
      type: "t",
      name: `r${i}`,
      custom: true,
      id: `r${i}`,
      inputs: {},
      secretInputKeys: [],
      outputs: {},
      dependencies: i === 0 ? [] : Array.from({ length: Math.floor(next() * 3) }, () => `r${Math.floor(next() * i)}`),
      parent: i > 0 && next() < 0.3 ? `r${Math.floor(next() * i)}` : undefined,
      order: i,
    }));
  }

  /** The plain definition: repeatedly take the latest registered resource nothing remaining depends on. */
  function referenceOrder(resources: RecordedResource[]): string[] {
    const remaining = new Set(resources.map((r) => r.urn));
    const uses = (r: RecordedResource) => [...r.dependencies, ...(r.parent ? [r.parent] : [])];
    const out: string[] = [];
    while (remaining.size > 0) {
      const free = resources.filter(
        (r) => remaining.has(r.urn) && !resources.some((o) => remaining.has(o.urn) && uses(o).includes(r.urn)),
      );
      const latest = free.reduce((a, b) => (b.order > a.order ? b : a));
      out.push(latest.urn);
      remaining.delete(latest.urn);
    }
    return out;
  }

  test("matches the plain definition and puts every dependent before what it uses", () => {
    const stack = randomStack(120);
    const order = deleteOrder(stack).map((r) => r.urn);
    expect(order).toEqual(referenceOrder(stack));
    const position = new Map(order.map((urn, i) => [urn, i]));
    for (const r of stack) {
      for (const used of [...r.dependencies, ...(r.parent ? [r.parent] : [])]) {
        expect(position.get(r.urn)!).toBeLessThan(position.get(used)!);
      }
    }
  });

  test("ten thousand resources in a long chain with fan-out", () => {
    const stack = randomStack(10_000).map((r, i) => ({
      ...r,
      dependencies: i === 0 ? [] : [...r.dependencies, `r${i - 1}`],
    }));
    const order = deleteOrder(stack).map((r) => r.urn);
    expect(order).toHaveLength(10_000);
    expect(order[0]).toBe("r9999");
    expect(order[order.length - 1]).toBe("r0");
  });
});

describe("byType and get", () => {
  /** The same type and name under parents of different types: different URNs, one `get` answer. */
  const program = () => {
    class Thing extends pulumi.CustomResource {
      constructor(name: string, group: string, parent: pulumi.Resource) {
        super("test:index:Thing", name, { group }, { parent });
      }
    }
    for (const group of ["first", "second"]) {
      new Thing("shared-name", group, new pulumi.ComponentResource(`maas:test:${group}`, group));
    }
    return {};
  };

  test("the first registration of a type and name wins; byType lists all in order and is a copy", async () => {
    const result = await runProgram({ stack: "fixture", stackFile, program });
    const things = result.byType("test:index:Thing");
    expect(things.map((t) => t.inputs.group)).toEqual(["first", "second"]);
    expect(result.get("test:index:Thing", "shared-name").inputs.group).toBe("first");
    things.pop();
    expect(result.byType("test:index:Thing")).toHaveLength(2);
    expect(result.byType("test:index:Nothing")).toEqual([]);
    expect(() => result.get("test:index:Thing", "other")).toThrow(
      'no test:index:Thing named "other"; registered: shared-name, shared-name',
    );
  });
});
