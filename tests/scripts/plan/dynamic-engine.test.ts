import * as http from "http";
import type { AddressInfo } from "net";
import { createDynamicEngine, DynamicEngine } from "../../../scripts/plan/dynamic-engine";
import type { HarnessState, RecordedResource, ResourceHandlerArgs } from "../../../scripts/plan/mock-runner";

/** A provider module as the host loads it: create = POST + GET, read = GET + GET, against `inputs.url`. */
const PROVIDER_TEXT = `
const http = require("http");
const call = (url, method) => new Promise((resolve, reject) => {
  const req = http.request(url, { method }, (res) => { res.resume(); res.on("end", resolve); });
  req.on("error", reject);
  req.end();
});
exports.handler = () => ({
  async create(inputs) { await call(inputs.url, "POST"); await call(inputs.url, "GET"); return { id: inputs.name, outs: inputs }; },
  async read(id, props) { await call(props.url, "GET"); await call(props.url, "GET"); return { id, props }; },
});
`;
const TYPE = "pulumi-nodejs:dynamic/test:Thing";

let server: http.Server;
let url: string;
const served: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    served.push(req.method!);
    setTimeout(() => res.end("{}"), 5);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/thing`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  served.length = 0;
});

function args(name: string, dependencies: string[] = []): ResourceHandlerArgs {
  return {
    type: TYPE,
    name,
    urn: `urn:pulumi:test::maas::${TYPE}::${name}`,
    custom: true,
    inputs: { __provider: PROVIDER_TEXT, url, name },
    secretInputKeys: [],
    dependencies,
  };
}

function recorded(a: ResourceHandlerArgs, id: string, order: number): RecordedResource {
  return { ...a, id, outputs: { ...a.inputs }, order };
}

describe.each(["in-process", "worker"] as const)("dynamic engine measurements, providers %s", (host) => {
  const engines: DynamicEngine[] = [];
  afterAll(() => Promise.all(engines.map((e) => e.close())));
  const newEngine = () => {
    const engine = createDynamicEngine({ host });
    engines.push(engine);
    return engine;
  };

  test("each operation counts its calls and writes and when its first request and last response happened", async () => {
    const engine = newEngine();
    const before = performance.timeOrigin + performance.now();
    await engine.handler(args("a"));
    const after = performance.timeOrigin + performance.now();
    expect(served).toEqual(["POST", "GET"]);
    const [op] = engine.operations;
    expect(op).toMatchObject({ kind: "create", calls: 2, writes: 1 });
    expect(op.firstRequestAt!).toBeGreaterThanOrEqual(before);
    expect(op.lastResponseAt!).toBeGreaterThan(op.firstRequestAt!);
    expect(op.lastResponseAt!).toBeLessThanOrEqual(after);
    expect(engine.apiMilliseconds()).toBeCloseTo(op.lastResponseAt! - op.firstRequestAt!, 6);
  });

  test("the API window spans all operations; without calls it is zero", async () => {
    const engine = newEngine();
    await engine.ready();
    expect(engine.apiMilliseconds()).toBe(0);
    await engine.handler(args("a"));
    await engine.handler(args("b"));
    const [a, b] = engine.operations;
    expect(engine.apiMilliseconds()).toBeCloseTo(b.lastResponseAt! - a.firstRequestAt!, 6);
  });

  test("updates chain along dependencies in the critical path; refresh reads do not", async () => {
    const engine = newEngine();
    const a = args("a");
    const b = args("b", [a.urn]);
    await engine.handler(a);
    await engine.handler(b);
    expect(engine.criticalPath()).toBe(4);

    engine.resetOperations();
    const state: HarnessState = {
      resources: { [a.urn]: recorded(a, "a", 0), [b.urn]: recorded(b, "b", 1) },
    };
    const refreshed = await engine.refresh(state);
    expect(refreshed.drifted).toEqual([]);
    expect(engine.operations.map((o) => [o.kind, o.calls])).toEqual([
      ["read", 2],
      ["read", 2],
    ]);
    expect(engine.criticalPath()).toBe(2);
  });
});

describe("provider host in a worker", () => {
  const engine = createDynamicEngine({ host: "worker" });
  afterAll(() => engine.close());

  test("a provider's error comes back with its message, named for the resource's operation", async () => {
    const failing = `exports.handler = () => ({ async create() { throw new Error("quota exceeded"); } });`;
    const a = { ...args("x"), inputs: { __provider: failing } };
    await expect(engine.handler(a)).rejects.toThrow("quota exceeded");
    expect(engine.operations).toMatchObject([{ kind: "create", calls: 0 }]);
  });

  test("a provider without check, diff or update: inputs taken as given, any change is an update that fails", async () => {
    const minimal = `exports.handler = () => ({ async create(inputs) { return { id: "m", outs: inputs }; } });`;
    const a = { ...args("m"), inputs: { __provider: minimal, size: 1 } };
    const created = await engine.handler(a);
    expect(created).toEqual({ id: "m", state: { __provider: minimal, size: 1 } });
    const again = {
      ...a,
      inputs: { ...a.inputs, size: 2 },
      previous: { ...created, inputs: a.inputs, outputs: created.state },
    };
    await expect(engine.handler(again)).rejects.toThrow("provider has no update but diff reported a change");
  });
});
