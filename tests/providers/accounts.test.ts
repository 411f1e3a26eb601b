import * as http from "http";
import type { AddressInfo } from "net";
import { ApplicationPlanProvider } from "../../dynamic-providers/application-plan";
import { ApplicationProvider, type ApplicationInputs } from "../../dynamic-providers/application";
import { DeveloperAccountProvider, type DeveloperAccountInputs } from "../../dynamic-providers/developer-account";
import type { Connection } from "../../dynamic-providers/threescale/client";
import { FAST_CLIENT, useEmulator } from "./support";
import { lifecycleSuite, makeProduct } from "./support-b";

const emulatorCtx = useEmulator();

/**
 * EMULATOR GAP (workaround for this file only): the emulator does not implement the documented
 * `PUT /admin/api/accounts/{id}.json` (it answers 404), which DeveloperAccount uses to keep `org_name` in sync.
 * This loopback proxy answers that one call from the emulator's state and forwards everything else unchanged.
 */
let proxyUrl = "";
let proxy: http.Server;
beforeAll(async () => {
  proxy = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const match = /^\/admin\/api\/accounts\/(\d+)\.json$/.exec(req.url ?? "");
      const account = match && emulatorCtx.emulator.state.accounts.find((a) => a.id === Number(match[1]));
      if (req.method === "PUT" && account) {
        account.org_name = JSON.parse(body.toString()).org_name ?? account.org_name;
        emulatorCtx.emulator.calls.push({
          seq: -1,
          method: "PUT",
          path: req.url!,
          query: {},
          body: null,
          status: 200,
          write: true,
        });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ account }));
        return;
      }
      const target = new URL(req.url ?? "/", emulatorCtx.emulator.url);
      const upstream = http.request(target, { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      upstream.on("error", () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => proxy.close(resolve)));

const ctx = {
  get emulator() {
    return emulatorCtx.emulator;
  },
  get connection(): Connection {
    return { ...emulatorCtx.connection, adminUrl: proxyUrl };
  },
};
const PASSWORD = "s3cret-Passw0rd";

const accountInputs = (connection: Connection, unique: string): DeveloperAccountInputs => ({
  connection,
  orgName: `Acme ${unique}`,
  username: `dev_${unique}`,
  email: `dev_${unique}@acme.example.test`,
  password: PASSWORD,
});

async function plan(connection: Connection, unique: string, systemName = "basic"): Promise<number> {
  const product = await makeProduct(connection, `a_${unique}_${systemName}`);
  const created = await new ApplicationPlanProvider(FAST_CLIENT).create({
    connection,
    productId: product.id,
    systemName,
    name: systemName,
    published: true,
    default: true,
  });
  return Number(created.id);
}

describe("DeveloperAccount", () => {
  lifecycleSuite<DeveloperAccountInputs>(ctx, {
    Provider: DeveloperAccountProvider,
    inputs: async (connection, unique) => accountInputs(connection, unique),
    matching: (emulator, inputs) => emulator.state.accounts.filter((a) => a.username === inputs.username),
    expectApplied: (account, inputs) =>
      expect(account).toMatchObject({ org_name: inputs.orgName, email: inputs.email }),
    change: (inputs) => ({ ...inputs, orgName: `${inputs.orgName} Inc` }),
    drift: (account) => {
      account.org_name = "renamed by hand";
    },
    expectDeleted: (emulator, inputs) =>
      expect(emulator.state.accounts.filter((a) => a.username === inputs.username)).toEqual([]),
    badInputs: [
      { what: "e-mail without @", mutate: (i) => ({ ...i, email: "dev.example.test" }), property: "email" },
      { what: "missing password", mutate: (i) => ({ ...i, password: undefined }), property: "password" },
    ],
  });
});

describe("Application", () => {
  lifecycleSuite<ApplicationInputs>(ctx, {
    Provider: ApplicationProvider,
    inputs: async (connection, unique) => {
      const account = await new DeveloperAccountProvider(FAST_CLIENT).create(accountInputs(connection, `app${unique}`));
      const planId = await plan(connection, unique);
      return { connection, accountId: Number(account.id), planId, name: "e2e", description: "end-to-end test app" };
    },
    matching: (emulator, inputs) =>
      emulator.state.applications.filter((a) => a.account_id === inputs.accountId && a.name === inputs.name),
    expectApplied: (app, inputs) =>
      expect(app).toMatchObject({ plan_id: inputs.planId, name: inputs.name, description: inputs.description }),
    change: (inputs) => ({ ...inputs, description: "now described" }),
    drift: (app) => {
      app.description = "edited by hand";
    },
    expectDeleted: (emulator, inputs) =>
      expect(emulator.state.applications.filter((a) => a.account_id === inputs.accountId)).toEqual([]),
    badInputs: [
      { what: "plan id missing", mutate: (i) => ({ ...i, planId: undefined }), property: "planId" },
      { what: "account id zero", mutate: (i) => ({ ...i, accountId: 0 }), property: "accountId" },
    ],
  });

  it("outputs the user key the gateway accepts", async () => {
    const provider = new ApplicationProvider(FAST_CLIENT);
    const account = await new DeveloperAccountProvider(FAST_CLIENT).create(accountInputs(ctx.connection, "key"));
    const inputs = {
      connection: ctx.connection,
      accountId: Number(account.id),
      planId: await plan(ctx.connection, "key"),
      name: "k",
    };
    const { id, outs } = await provider.create(inputs);
    const app = ctx.emulator.state.applications.find((a) => a.id === Number(id))!;
    expect(outs.userKey).toBe(app.user_key);
    expect(outs.userKey).toMatch(/^[\w.-]{8,}$/);
  });
});
