import {
  SsoIntegrationProvider,
  ssoIntegrationProvider,
  type SsoIntegrationInputs,
} from "../../dynamic-providers/sso-integration";
import { lifecycleSuite } from "./lifecycle";
import { FAST_CLIENT, rejectionOf, useEmulator } from "./support";

const CLIENT_SECRET = "kc-client-secret-9f2e61";

const inputsFor = (unique: string): Omit<SsoIntegrationInputs, "connection"> => ({
  kind: "keycloak",
  clientId: `portal-${unique}`,
  clientSecret: CLIENT_SECRET,
  site: "https://sso.apps.example.test/realms/maas",
  published: true,
  automaticallyApproveAccounts: true,
});

describe("SsoIntegration lifecycle", () => {
  lifecycleSuite({
    type: "SsoIntegration",
    shared: ssoIntegrationProvider,
    make: (o) => new SsoIntegrationProvider(o),
    inputs: async () => inputsFor("portal"),
    changed: (i) => ({ ...i, site: "https://sso2.apps.example.test/realms/maas", published: false }),
    drift: (s, id) =>
      Object.assign(
        s.authProviders.find((p) => p.id === id)!,
        { client_id: "by-hand", published: false },
      ),
    count: (s) => s.authProviders.filter((p) => p.kind === "keycloak").length,
    expectApplied: (s, id, i) =>
      expect(s.authProviders.find((p) => p.id === id)).toMatchObject({
        client_id: i.clientId,
        client_secret: i.clientSecret,
        site: i.site,
        published: i.published,
        automatically_approve_accounts: i.automaticallyApproveAccounts,
      }),
    // No DELETE exists for portal SSO providers: destroy unpublishes.
    deleteRemoves: false,
    afterDelete: (s) =>
      expect(s.authProviders.filter((p) => p.kind === "keycloak").map((p) => p.published)).toEqual([false]),
    badInputs: [
      { what: "unknown kind", mutate: (i) => ({ ...i, kind: "saml" }), property: "kind" },
      { what: "site not a URL", mutate: (i) => ({ ...i, site: "sso.example.test/realms/x" }), property: "site" },
      { what: "empty client secret", mutate: (i) => ({ ...i, clientSecret: "" }), property: "clientSecret" },
    ],
  });
});

describe("SsoIntegration", () => {
  const ctx = useEmulator();

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
