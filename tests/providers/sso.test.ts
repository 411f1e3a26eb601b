import { SsoIntegrationProvider, type SsoIntegrationInputs } from "../../dynamic-providers/sso-integration";
import {
  FAST_CLIENT,
  expectNoToken,
  isSecretEnvelope,
  rejectionOf,
  secret,
  serialize,
  startHost,
  urnOf,
  useEmulator,
} from "./support";
import { lifecycleSuite } from "./support-b";

const ctx = useEmulator();
const CLIENT_SECRET = "kc-client-secret-9f2e61";

const inputsFor = (unique: string): Omit<SsoIntegrationInputs, "connection"> => ({
  kind: "keycloak",
  clientId: `portal-${unique}`,
  clientSecret: CLIENT_SECRET,
  site: "https://sso.apps.example.test/realms/maas",
  published: true,
  automaticallyApproveAccounts: true,
});

describe("SsoIntegration", () => {
  lifecycleSuite<SsoIntegrationInputs>(ctx, {
    Provider: SsoIntegrationProvider,
    inputs: async (connection, unique) => ({ connection, ...inputsFor(unique) }),
    matching: (emulator) => emulator.state.authProviders.filter((p) => p.kind === "keycloak"),
    expectApplied: (p, inputs) =>
      expect(p).toMatchObject({
        client_id: inputs.clientId,
        client_secret: inputs.clientSecret,
        site: inputs.site,
        published: inputs.published,
        automatically_approve_accounts: inputs.automaticallyApproveAccounts,
      }),
    change: (inputs) => ({ ...inputs, site: "https://sso2.apps.example.test/realms/maas", published: false }),
    drift: (p) => {
      p.client_id = "changed-by-hand";
      p.published = false;
    },
    // No DELETE exists for portal SSO providers: destroy unpublishes.
    expectDeleted: (emulator) =>
      expect(emulator.state.authProviders.filter((p) => p.kind === "keycloak").map((p) => p.published)).toEqual([
        false,
      ]),
    deleteRemoves: false,
    badInputs: [
      { what: "unknown kind", mutate: (i) => ({ ...i, kind: "saml" }), property: "kind" },
      { what: "site not a URL", mutate: (i) => ({ ...i, site: "sso.example.test/realms/x" }), property: "site" },
      { what: "empty client secret", mutate: (i) => ({ ...i, clientSecret: "" }), property: "clientSecret" },
    ],
  });

  it("reports the callback URL to register in Keycloak", async () => {
    const provider = new SsoIntegrationProvider(FAST_CLIENT);
    const { outs } = await provider.create({ connection: ctx.connection, ...inputsFor("cb") });
    expect(outs.callbackUrl).toMatch(/^https:\/\/[^/]+\/auth\/keycloak\/callback$/);
    expect(outs.providerId).toBeGreaterThan(0);
  });

  it("never echoes the client secret in a check failure", async () => {
    const provider = new SsoIntegrationProvider(FAST_CLIENT);
    const { failures } = await provider.check({}, { connection: ctx.connection, ...inputsFor("x"), clientSecret: 42 });
    expect(JSON.stringify(failures)).not.toContain("42");
    expect(failures?.map((f) => f.property)).toEqual(["clientSecret"]);
  });

  it("a failing call names the endpoint and status but not the secrets", async () => {
    const provider = new SsoIntegrationProvider({ ...FAST_CLIENT, maxAttempts: 1 });
    ctx.emulator.failAfter(0);
    const err = await rejectionOf(provider.create({ connection: ctx.connection, ...inputsFor("fail") }));
    ctx.emulator.failAfter(null);
    expect(err.message).toContain("/admin/api/authentication_providers");
    expect(err.message).not.toContain(CLIENT_SECRET);
    expect(err.message).not.toContain(ctx.emulator.accessToken);
  });
});

describe("SsoIntegration through the real dynamic-provider host (gRPC)", () => {
  it("checks, creates, reads, diffs, updates and deletes with secrets kept secret", async () => {
    const { text } = await serialize(new SsoIntegrationProvider(FAST_CLIENT));
    const host = await startHost();
    try {
      const urn = urnOf("pulumi-nodejs:dynamic/threescale:SsoIntegration", "portal-sso");
      const props = {
        __provider: text,
        connection: secret(ctx.connection),
        ...inputsFor("grpc"),
        clientSecret: secret(CLIENT_SECRET),
      };
      const bad = await host.check(urn, { ...props, site: "not a url" });
      expect(bad.failures.map((f) => f.property)).toEqual(["site"]);

      const created = await host.create(urn, props);
      expect(created.properties.callbackUrl).toMatch(/\/auth\/keycloak\/callback$/);
      expect(isSecretEnvelope(created.properties.clientSecret)).toBe(true);
      const read = await host.read(urn, created.id, created.properties);
      expect(read.id).toBe(created.id);
      expect((await host.diff(urn, created.id, created.properties, props)).changes).toBe("none");
      const changed = { ...props, published: false };
      expect((await host.diff(urn, created.id, created.properties, changed)).changes).toBe("some");
      const updated = await host.update(urn, created.id, created.properties, changed);
      expect(updated.published).toBe(false);
      await host.delete(urn, created.id, updated);
      expectNoToken(host.logs(), ctx.emulator.accessToken);
      expect(host.logs()).not.toContain(CLIENT_SECRET);
    } finally {
      await host.close();
    }
  });
});
