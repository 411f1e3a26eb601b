/**
 * Create path of objects whose key 3scale keeps unique: on a fresh tenant one POST and nothing else; an object that
 * already exists (an earlier run, made by hand) is adopted through the 422 "has already been taken" answer; a POST
 * applied whose response was lost is adopted, never duplicated, both by the retry inside one create and by a re-run
 * after a crash. Methods need their parent's id first, so they look up and POST with one list.
 */
import * as http from "http";
import type { AddressInfo, Socket } from "net";
import { ActiveDocProvider } from "../../dynamic-providers/active-doc";
import { ApplicationPlanProvider } from "../../dynamic-providers/application-plan";
import { BackendProvider } from "../../dynamic-providers/backend";
import { BackendUsageProvider } from "../../dynamic-providers/backend-usage";
import { DeveloperAccountProvider } from "../../dynamic-providers/developer-account";
import { MetricProvider } from "../../dynamic-providers/metric";
import { PlanLimitProvider } from "../../dynamic-providers/plan-limit";
import { ProductProvider } from "../../dynamic-providers/product";
import { SsoIntegrationProvider } from "../../dynamic-providers/sso-integration";
import type { ClientOptions, Connection } from "../../dynamic-providers/threescale/client";
import type { EmulatorState } from "../../tools/threescale-emulator";
import { adminClient, FAST_CLIENT, makeProduct, rejectionOf, withEmulator, type Emulator } from "./support";

interface Creatable {
  create(inputs: any): Promise<{ id: string; outs?: any }>;
}

interface Case {
  name: string;
  make: (options: ClientOptions) => Creatable;
  /** Inputs without the connection; fixtures are made through `connection` before any call is counted. */
  inputs: (connection: Connection) => Promise<Record<string, any>>;
  /** Objects in the tenant with this case's key. */
  count: (state: EmulatorState, inputs: Record<string, any>) => number;
  /** Paths of the object's collection: its lookup (list) and its create POST. */
  collection: RegExp;
  /** Calls to the collection when creating on a tenant without the object (default: just the POST). */
  freshCalls?: string[];
}

const plan = async (connection: Connection, productId: number) =>
  Number(
    (await adminClient(connection).post(`/admin/api/services/${productId}/application_plans.json`, { name: "Basic" }))
      .application_plan.id,
  );

const CASES: Case[] = [
  {
    name: "product",
    make: (o) => new ProductProvider(o),
    inputs: async () => ({ systemName: "granite", name: "Granite" }),
    count: (s, i) => s.products.filter((p) => p.system_name === i.systemName).length,
    collection: /^\/admin\/api\/services\.json$/,
  },
  {
    name: "backend",
    make: (o) => new BackendProvider(o),
    inputs: async () => ({ systemName: "granite_be", name: "Granite", privateEndpoint: "https://granite.svc:443" }),
    count: (s, i) => s.backends.filter((b) => b.system_name === i.systemName).length,
    collection: /^\/admin\/api\/backend_apis\.json$/,
  },
  {
    name: "product metric",
    make: (o) => new MetricProvider("metric", o),
    inputs: async (c) => ({
      productId: (await makeProduct(c, "owner")).id,
      systemName: "total_tokens",
      friendlyName: "Total tokens",
      unit: "token",
    }),
    count: (s, i) => s.metrics.filter((m) => m.owner.id === i.productId && m.system_name === i.systemName).length,
    collection: /\/metrics\.json$/,
  },
  {
    name: "product method",
    make: (o) => new MetricProvider("method", o),
    inputs: async (c) => ({ productId: (await makeProduct(c, "owner")).id, systemName: "chat", friendlyName: "Chat" }),
    count: (s, i) => s.metrics.filter((m) => m.owner.id === i.productId && m.system_name === i.systemName).length,
    collection: /\/metrics(\/\d+\/methods)?\.json$/,
    freshCalls: ["GET 200", "POST 201"],
  },
  {
    name: "application plan",
    make: (o) => new ApplicationPlanProvider(o),
    inputs: async (c) => ({ productId: (await makeProduct(c, "owner")).id, systemName: "gold", name: "Gold" }),
    count: (s, i) =>
      s.applicationPlans.filter((p) => p.service_id === i.productId && p.system_name === i.systemName).length,
    collection: /\/application_plans\.json$/,
  },
  {
    name: "plan limit",
    make: (o) => new PlanLimitProvider(o),
    inputs: async (c) => {
      const product = await makeProduct(c, "owner");
      return { planId: await plan(c, product.id), metricId: product.hitsId, period: "day", value: 1000 };
    },
    count: (s, i) =>
      s.limits.filter((l) => l.plan_id === i.planId && l.metric_id === i.metricId && l.period === i.period).length,
    collection: /\/limits\.json$/,
  },
  {
    name: "backend usage",
    make: (o) => new BackendUsageProvider(o),
    inputs: async (c) => {
      const client = adminClient(c);
      const backend = await client.post("/admin/api/backend_apis.json", {
        name: "Used",
        private_endpoint: "https://used.svc:443",
      });
      return { productId: (await makeProduct(c, "owner")).id, backendId: backend.backend_api.id, path: "/" };
    },
    count: (s, i) => s.backendUsages.filter((u) => u.service_id === i.productId && u.backend_id === i.backendId).length,
    collection: /\/backend_usages\.json$/,
  },
  {
    name: "ActiveDoc",
    make: (o) => new ActiveDocProvider(o),
    inputs: async (c) => ({
      systemName: "granite_doc",
      name: "Granite API",
      productId: (await makeProduct(c, "owner")).id,
      body: JSON.stringify({ openapi: "3.0.2", info: { title: "Granite", version: "1" }, paths: {} }),
      published: true,
    }),
    count: (s, i) => s.activeDocs.filter((d) => d.system_name === i.systemName).length,
    collection: /^\/admin\/api\/active_docs\.json$/,
  },
  {
    name: "SSO integration",
    make: (o) => new SsoIntegrationProvider(o),
    inputs: async () => ({
      kind: "keycloak",
      clientId: "portal",
      clientSecret: "kc-client-secret-1c2d",
      site: "https://sso.apps.example.test/realms/maas",
      published: true,
    }),
    count: (s, i) => s.authProviders.filter((p) => p.kind === i.kind).length,
    collection: /\/authentication_providers\.json$/,
  },
  {
    name: "developer account",
    make: (o) => new DeveloperAccountProvider(o),
    inputs: async () => ({
      orgName: "Acme",
      username: "dev_acme",
      email: "dev@acme.example.test",
      password: "s3cret-Passw0rd",
    }),
    count: (s, i) => s.users.filter((u) => u.username === i.username).length,
    collection: /^\/admin\/api\/(signup|accounts\/find)\.json$/,
  },
];

/** The calls the create-or-adopt step made: those to the object's collection. */
const collectionCalls = (emulator: Emulator, c: Case) =>
  emulator.calls.filter((call) => c.collection.test(call.path)).map((call) => `${call.method} ${call.status}`);

/** Runs `fn` with a fresh emulator whose recorded calls start after the case's fixtures were made. */
function withCase(
  c: Case,
  fn: (emulator: Emulator, connection: Connection, inputs: Record<string, any>) => Promise<void>,
): Promise<void> {
  return withEmulator(async (emulator, connection) => {
    const inputs = await c.inputs(connection);
    emulator.resetCalls();
    await fn(emulator, connection, inputs);
  });
}

/**
 * A loopback proxy in front of the emulator that forwards requests and, for the first POST to a path matching
 * `drop`, lets the emulator apply it and then drops the connection instead of answering: a crash between the
 * write and its response.
 */
async function responseDroppingProxy(target: string, drop: RegExp): Promise<{ url: string; close(): Promise<void> }> {
  let dropped = false;
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const upstream = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (answer) => {
        const body: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => body.push(chunk));
        answer.on("end", () => {
          const path = new URL(req.url ?? "/", target).pathname;
          if (!dropped && req.method === "POST" && drop.test(path)) {
            dropped = true;
            req.socket.destroy();
            return;
          }
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.end(Buffer.concat(body));
        });
      });
      upstream.on("error", () => req.socket.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe.each(CASES)("$name create", (c) => {
  it("makes exactly the create call on a tenant without the object", () =>
    withCase(c, async (emulator, connection, inputs) => {
      const created = await c.make(FAST_CLIENT).create({ connection, ...inputs });
      expect(collectionCalls(emulator, c)).toEqual(c.freshCalls ?? ["POST 201"]);
      expect(Number(created.id)).toBeGreaterThan(0);
      expect(c.count(emulator.state, inputs)).toBe(1);
    }));

  it("adopts an object that already exists through the 422 answer, without a second object", () =>
    withCase(c, async (emulator, connection, inputs) => {
      const first = await c.make(FAST_CLIENT).create({ connection, ...inputs });
      emulator.resetCalls();
      const again = await c.make(FAST_CLIENT).create({ connection, ...inputs });
      expect(again.id).toBe(first.id);
      expect(c.count(emulator.state, inputs)).toBe(1);
      const expected = c.freshCalls ? ["GET 200"] : ["POST 422", "GET 200"];
      expect(collectionCalls(emulator, c)).toEqual(expected);
      expect(emulator.writes()).toEqual([]);
    }));

  it("adopts a POST whose response was lost on its own retry (a lookup, no second POST)", () =>
    withCase(c, async (emulator, connection, inputs) => {
      const proxy = await responseDroppingProxy(emulator.url, c.collection);
      try {
        const viaProxy = { ...connection, adminUrl: proxy.url };
        const created = await c.make(FAST_CLIENT).create({ connection: viaProxy, ...inputs });
        expect(c.count(emulator.state, inputs)).toBe(1);
        expect(emulator.calls.filter((call) => call.method === "POST")).toHaveLength(1);
        expect(Number(created.id)).toBeGreaterThan(0);
      } finally {
        await proxy.close();
      }
    }));

  it("a re-run after a crash between the POST and its response adopts the object", () =>
    withCase(c, async (emulator, connection, inputs) => {
      const proxy = await responseDroppingProxy(emulator.url, c.collection);
      try {
        const crashed = c.make({ ...FAST_CLIENT, maxAttempts: 1 }).create({
          connection: { ...connection, adminUrl: proxy.url },
          ...inputs,
        });
        expect((await rejectionOf(crashed)).message).toMatch(/ECONNRESET|socket hang up/);
      } finally {
        await proxy.close();
      }
      expect(c.count(emulator.state, inputs)).toBe(1);
      const rerun = await c.make(FAST_CLIENT).create({ connection, ...inputs });
      expect(c.count(emulator.state, inputs)).toBe(1);
      expect(Number(rerun.id)).toBeGreaterThan(0);
    }));
});
