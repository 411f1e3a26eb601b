import { defaultHandler } from "../../../scripts/plan/default-handlers";
import type { ResourceHandlerArgs } from "../../../scripts/plan/mock-runner";

const args = (
  type: string,
  name: string,
  inputs: Record<string, any> = {},
  over: Partial<ResourceHandlerArgs> = {},
) => ({
  type,
  name,
  urn: `urn:pulumi:s::maas::${type}::${name}`,
  custom: true,
  inputs,
  secretInputKeys: [],
  dependencies: [],
  ...over,
});

describe("default handler", () => {
  test("echoes inputs with id <name>-id, or the id of a read", async () => {
    expect(await defaultHandler(args("x:y:Z", "thing", { a: 1 }))).toEqual({ id: "thing-id", state: { a: 1 } });
    expect((await defaultHandler(args("x:y:Z", "thing", {}, { id: "ns/name" }))).id).toBe("ns/name");
  });

  test("random passwords: requested length, deterministic per URN, different across URNs", async () => {
    const a = await defaultHandler(args("random:index/randomPassword:RandomPassword", "p1", { length: 32 }));
    const again = await defaultHandler(args("random:index/randomPassword:RandomPassword", "p1", { length: 32 }));
    const b = await defaultHandler(args("random:index/randomPassword:RandomPassword", "p2", { length: 32 }));
    expect(a.state.result).toHaveLength(32);
    expect(again.state.result).toBe(a.state.result);
    expect(b.state.result).not.toBe(a.state.result);
  });

  test("Kubernetes objects without a name are auto-named; named ones keep theirs", async () => {
    const auto = await defaultHandler(args("kubernetes:core/v1:ConfigMap", "cm", { metadata: { namespace: "n" } }));
    expect(auto.state.metadata).toEqual({ namespace: "n", name: expect.stringMatching(/^cm-[0-9a-f]{8}$/) });
    const named = await defaultHandler(args("kubernetes:core/v1:ConfigMap", "cm", { metadata: { name: "x" } }));
    expect(named.state.metadata).toEqual({ name: "x" });
  });

  test("3scale SSO integration gets the portal callback URL 3scale would return", async () => {
    const r = await defaultHandler(
      args("pulumi-nodejs:dynamic/threescale:SsoIntegration", "sso", {
        connection: { adminUrl: "https://maas-admin.apps.example.com", accessToken: "t" },
        kind: "keycloak",
      }),
    );
    expect(r.state.callbackUrl).toBe("https://maas.apps.example.com/auth/keycloak/callback");
  });

  test("Keycloak clients get a generated secret unless one is given", async () => {
    const gen = await defaultHandler(args("keycloak:openid/client:Client", "c", {}));
    expect(gen.state.clientSecret).toMatch(/^fake-client-secret-/);
    const given = await defaultHandler(args("keycloak:openid/client:Client", "c", { clientSecret: "s" }));
    expect(given.state.clientSecret).toBe("s");
  });
});
