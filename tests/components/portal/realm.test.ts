/**
 * The Keycloak side of developer-portal sign-in, asserted on the whole program under mocks: the admin provider, the
 * portal client (redirect URI = the 3scale SSO integration's callback URL only), its mappers, the GitHub identity
 * provider, and the client secret shared with 3scale as a secret.
 */
import { FIXTURE_APPS_DOMAIN } from "../../../scripts/plan/cluster-fixture";
import { ProgramError, runProgram, type ResourceHandler, type RunOptions } from "../../../scripts/plan/mock-runner";

const PORTAL = `https://maas.${FIXTURE_APPS_DOMAIN}`;
const CALLBACK = `${PORTAL}/auth/keycloak/callback`;
const T = {
  provider: "pulumi:providers:keycloak",
  client: "keycloak:openid/client:Client",
  property: "keycloak:openid/userPropertyProtocolMapper:UserPropertyProtocolMapper",
  attribute: "keycloak:openid/userAttributeProtocolMapper:UserAttributeProtocolMapper",
  github: "keycloak:oidc/githubIdentityProvider:GithubIdentityProvider",
  sso: "pulumi-nodejs:dynamic/threescale:SsoIntegration",
  cms: "pulumi-nodejs:dynamic/threescale:CmsContent",
  password: "random:index/randomPassword:RandomPassword",
};

/** 3scale answers the SSO integration with the portal's callback URL. */
const ssoIntegration =
  (callbackUrl: string): ResourceHandler =>
  async (a) => ({ id: "7", state: { ...a.inputs, providerId: 7, callbackUrl } });

const run = (over: Partial<RunOptions> = {}) =>
  runProgram({ stack: "dev", handlers: { [T.sso]: ssoIntegration(CALLBACK) }, ...over });

const SSO = { flavor: "rhsso", namespace: "rh-sso", instanceName: "rh-sso", realm: "maas" };

describe("Keycloak realm configuration", () => {
  let result: Awaited<ReturnType<typeof runProgram>>;
  beforeAll(async () => {
    result = await run({
      config: { sso: { ...SSO, github: { enabled: true, clientId: "Iv1.fixture" } } },
      secrets: { githubClientSecret: "github-secret-value" },
    });
  });

  test("the admin provider logs in lazily to the master realm of the SSO platform's server", () => {
    const [provider] = result.byType(T.provider);
    expect(provider.inputs).toMatchObject({
      url: `https://keycloak-rh-sso.${FIXTURE_APPS_DOMAIN}`,
      basePath: "/auth",
      clientId: "admin-cli",
      realm: "master",
    });
    expect(String(provider.inputs.initialLogin)).toBe("false");
    expect(String(provider.inputs.redHatSso)).toBe("true");
    expect(provider.inputs.tlsInsecureSkipVerify).toBeUndefined();
    expect(provider.secretInputKeys).toContain("password");
  });

  test("the portal client is confidential, code flow only, and redirects only to the SSO callback", () => {
    const [client] = result.byType(T.client);
    const [provider] = result.byType(T.provider);
    expect(client.inputs).toMatchObject({
      realmId: "maas",
      clientId: "3scale",
      accessType: "CONFIDENTIAL",
      standardFlowEnabled: true,
      implicitFlowEnabled: false,
      directAccessGrantsEnabled: false,
      serviceAccountsEnabled: false,
      validRedirectUris: [CALLBACK],
      webOrigins: [PORTAL],
    });
    expect(JSON.stringify(client.inputs)).not.toContain("*");
    expect(client.provider?.startsWith(provider.urn)).toBe(true);
    // It waits for the realm (the SSO platform) and for 3scale's integration (the callback URL).
    expect(client.dependencies).toContain(result.get(T.sso, "maas-portal-sso").urn);
    expect(client.dependencies.some((d) => /KeycloakRealm|maas-sso/.test(d))).toBe(true);
  });

  test("one generated secret, kept secret, is given to both Keycloak and 3scale", () => {
    const [client] = result.byType(T.client);
    const sso = result.get(T.sso, "maas-portal-sso");
    const password = result.get(T.password, "maas-portal-sso-client-secret");
    expect(client.inputs.clientSecret).toBe(password.outputs.result);
    expect(sso.inputs.clientSecret).toBe(password.outputs.result);
    expect(client.secretInputKeys).toContain("clientSecret");
    expect(sso.secretInputKeys).toContain("clientSecret");
    expect(sso.secretInputKeys).toContain("connection");
  });

  test("the 3scale SSO integration points at the realm and approves accounts", () => {
    expect(result.get(T.sso, "maas-portal-sso").inputs).toMatchObject({
      kind: "keycloak",
      name: "Red Hat Single Sign-On",
      clientId: "3scale",
      site: `https://keycloak-rh-sso.${FIXTURE_APPS_DOMAIN}/auth/realms/maas`,
      published: true,
      automaticallyApproveAccounts: true,
      skipSslCertificateVerification: false,
    });
  });

  test("email_verified and org_name mappers on the portal client", () => {
    const [client] = result.byType(T.client);
    const [verified] = result.byType(T.property);
    const [org] = result.byType(T.attribute);
    const tokens = { addToIdToken: true, addToAccessToken: true, addToUserinfo: true };
    expect(verified.inputs).toEqual({
      realmId: "maas",
      clientId: client.id,
      name: "email verified",
      userProperty: "emailVerified",
      claimName: "email_verified",
      claimValueType: "boolean",
      ...tokens,
    });
    expect(org.inputs).toMatchObject({
      realmId: "maas",
      clientId: client.id,
      name: "org_name",
      userAttribute: "email",
      claimName: "org_name",
      claimValueType: "String",
      ...tokens,
    });
  });

  test("GitHub identity provider: trusted e-mail, imported users, secret from the stack", () => {
    const [github] = result.byType(T.github);
    expect(github.inputs).toMatchObject({
      realm: "maas",
      alias: "github",
      clientId: "Iv1.fixture",
      clientSecret: "github-secret-value",
      trustEmail: true,
      syncMode: "IMPORT",
    });
    expect(github.secretInputKeys).toContain("clientSecret");
  });

  test("the portal content shows this cluster's gateway URL and model", () => {
    const cms = result.get(T.cms, "maas-portal-content");
    const examples = cms.inputs.pages.find((p: { path: string }) => p.path === "/examples");
    expect(examples.content).toContain(`https://qwen25-05b-instruct-maas-apicast-production.${FIXTURE_APPS_DOMAIN}/v1`);
    expect(cms.secretInputKeys).toEqual(["connection"]);
  });
});

test("without GitHub, and on RHBK: no identity provider, no /auth base path, no RH-SSO version parsing", async () => {
  const result = await run({ config: { sso: { ...SSO, flavor: "rhbk", tlsInsecureSkipVerify: true } } });
  expect(result.byType(T.github)).toEqual([]);
  const [provider] = result.byType(T.provider);
  expect(provider.inputs.basePath).toBe("");
  expect(provider.inputs.redHatSso).toBeUndefined();
  expect(String(provider.inputs.tlsInsecureSkipVerify)).toBe("true");
  expect(result.get(T.sso, "maas-portal-sso").inputs).toMatchObject({
    name: "Red Hat build of Keycloak",
    site: `https://keycloak-rh-sso.${FIXTURE_APPS_DOMAIN}/realms/maas`,
    skipSslCertificateVerification: true,
  });
});

test("a wildcard callback URL is refused", async () => {
  const failed = run({ handlers: { [T.sso]: ssoIntegration(`${PORTAL}/*`) } });
  await expect(failed).rejects.toThrow(ProgramError);
  await expect(failed).rejects.toThrow(/redirect URI must be an exact https URL without wildcards/);
});
