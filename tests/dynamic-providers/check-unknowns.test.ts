/**
 * check during preview: ids of objects not created yet (and any other value computed by the program) arrive as the
 * unknown sentinel. They must count as given — never "is required", never judged by a custom rule — while a known
 * bad value next to them still fails. No check makes an API call.
 */
import { activeDocProvider } from "../../dynamic-providers/active-doc";
import { applicationProvider } from "../../dynamic-providers/application";
import { applicationPlanProvider } from "../../dynamic-providers/application-plan";
import { backendProvider } from "../../dynamic-providers/backend";
import { backendUsageProvider } from "../../dynamic-providers/backend-usage";
import { cmsContentProvider } from "../../dynamic-providers/cms-content";
import { developerAccountProvider } from "../../dynamic-providers/developer-account";
import { developerPortalAccessProvider } from "../../dynamic-providers/developer-portal-access";
import { productRuleProvider } from "../../dynamic-providers/mapping-rule";
import { productMethodProvider, productMetricProvider } from "../../dynamic-providers/metric";
import { planLimitProvider } from "../../dynamic-providers/plan-limit";
import { policyChainProvider } from "../../dynamic-providers/policy-chain";
import { productProvider } from "../../dynamic-providers/product";
import { proxyPromotionProvider } from "../../dynamic-providers/proxy-promotion";
import { proxySettingsProvider } from "../../dynamic-providers/proxy-settings";
import { ssoIntegrationProvider } from "../../dynamic-providers/sso-integration";
import { tenantDefaultsProvider } from "../../dynamic-providers/tenant-defaults";
import { UNKNOWN } from "../../dynamic-providers/threescale/unknown";
import type { LoadedProvider } from "./lifecycle";
import { useEmulator } from "./support";

interface CheckCase {
  type: string;
  provider: unknown;
  /** Valid inputs (without connection). */
  inputs: Record<string, any>;
  /** Inputs the program computes from other resources (ids of objects made in the same run). */
  computed: string[];
  /** A known bad value that must still fail while the computed inputs are unknown. */
  bad: { key: string; value: unknown; property?: string };
  /** A computed input that is required: left out (rather than unknown) it must fail. */
  required?: string;
}

const CASES: CheckCase[] = [
  {
    type: "Product",
    provider: productProvider,
    inputs: { systemName: "llama", name: "Llama", deploymentOption: "hosted", backendVersion: "1" },
    computed: [],
    bad: { key: "deploymentOption", value: "cloud" },
  },
  {
    type: "Backend",
    provider: backendProvider,
    inputs: { systemName: "llama_be", name: "Llama", privateEndpoint: "https://llama.models.svc:8443" },
    computed: ["privateEndpoint"],
    required: "privateEndpoint",
    bad: { key: "systemName", value: "has space" },
  },
  ...(
    [
      ["ProductMetric", productMetricProvider, true],
      ["ProductMethod", productMethodProvider, false],
    ] as const
  ).map(([type, provider, metric]) => ({
    type,
    provider,
    inputs: {
      productId: 7,
      systemName: "total_tokens",
      friendlyName: "Total tokens",
      ...(metric ? { unit: "t" } : {}),
    },
    computed: ["productId"],
    required: "productId",
    bad: { key: "friendlyName", value: "" },
  })),
  {
    type: "ProductMappingRule",
    provider: productRuleProvider,
    inputs: { productId: 7, httpMethod: "POST", pattern: "/v1/chat/completions$", metricId: 8, delta: 1 },
    computed: ["productId", "metricId"],
    required: "metricId",
    bad: { key: "pattern", value: "v1/chat" },
  },
  {
    type: "BackendUsage",
    provider: backendUsageProvider,
    inputs: { productId: 7, backendId: 8, path: "/" },
    computed: ["productId", "backendId"],
    required: "backendId",
    bad: { key: "path", value: "/v1?x=1" },
  },
  {
    type: "ProxySettings",
    provider: proxySettingsProvider,
    inputs: { productId: 7, credentialsLocation: "authorization", authUserKey: "Authorization" },
    computed: ["productId"],
    required: "productId",
    bad: { key: "authUserKey", value: "Auth Header" },
  },
  {
    type: "PolicyChain",
    provider: policyChainProvider,
    inputs: {
      productId: 7,
      policies: [{ name: "cors", version: "builtin", configuration: { allow_origin: "*" } }],
      schemas: { llm_metrics: { type: "object" } },
    },
    computed: ["productId", "schemas"],
    required: "productId",
    bad: {
      key: "policies",
      value: [{ name: "cors", version: "builtin", configuration: { max_age: "1h" } }],
      property: "policies[0].configuration",
    },
  },
  {
    type: "ProxyPromotion",
    provider: proxyPromotionProvider,
    inputs: { productId: 7, revision: "3f2a9c" },
    computed: ["productId", "revision"],
    required: "revision",
    bad: { key: "promoteToProduction", value: "yes" },
  },
  {
    type: "ApplicationPlan",
    provider: applicationPlanProvider,
    inputs: { productId: 7, systemName: "basic", name: "Basic", published: true, default: true },
    computed: ["productId"],
    required: "productId",
    bad: { key: "costPerMonth", value: -1 },
  },
  {
    type: "PlanLimit",
    provider: planLimitProvider,
    inputs: { planId: 7, metricId: 8, period: "day", value: 1000 },
    computed: ["planId", "metricId"],
    required: "planId",
    bad: { key: "period", value: "fortnight" },
  },
  {
    type: "ActiveDoc",
    provider: activeDocProvider,
    inputs: { systemName: "llama_doc", name: "Llama API", productId: 7, body: '{"openapi":"3.0.2"}' },
    computed: ["productId", "body"],
    bad: { key: "systemName", value: "a" },
  },
  {
    type: "DeveloperPortalAccess",
    provider: developerPortalAccessProvider,
    inputs: { siteAccessCode: "", settings: { signupsEnabled: false } },
    computed: ["siteAccessCode"],
    bad: { key: "settings", value: { signupsEnabled: "no" }, property: "settings.signupsEnabled" },
  },
  {
    type: "TenantDefaults",
    provider: tenantDefaultsProvider,
    inputs: { removeDefaultProduct: true, productSystemName: "api", backendSystemName: "api" },
    computed: [],
    bad: { key: "removeDefaultProduct", value: "true" },
  },
  {
    type: "SsoIntegration",
    provider: ssoIntegrationProvider,
    inputs: {
      kind: "keycloak",
      clientId: "3scale",
      clientSecret: "s3cret",
      site: "https://sso.apps.example.test/realms/maas",
      published: true,
      automaticallyApproveAccounts: true,
    },
    computed: ["clientSecret", "site"],
    required: "clientSecret",
    bad: { key: "kind", value: "saml" },
  },
  {
    type: "CmsContent",
    provider: cmsContentProvider,
    inputs: {
      sections: [{ systemName: "docs", title: "Docs" }],
      files: [],
      layouts: [{ systemName: "main", title: "Main", content: "<html>{% content %}</html>" }],
      partials: [],
      pages: [{ systemName: "models", title: "Models", path: "/models", section: "docs", content: "<h1>M</h1>" }],
      builtinPages: [],
    },
    computed: ["pages"],
    bad: { key: "sections", value: [{ systemName: "docs", title: "" }], property: "sections[0].title" },
  },
  {
    type: "DeveloperAccount",
    provider: developerAccountProvider,
    inputs: { orgName: "Acme", username: "acme", email: "dev@acme.test", password: "s3cret-Passw0rd" },
    computed: ["password", "email"],
    required: "password",
    bad: { key: "email", value: "not-an-address" },
  },
  {
    type: "Application",
    provider: applicationProvider,
    inputs: { accountId: 7, planId: 8, name: "e2e" },
    computed: ["accountId", "planId"],
    required: "accountId",
    bad: { key: "name", value: "" },
  },
];

const env = useEmulator();
const check = async (c: CheckCase, inputs: Record<string, any>) =>
  (await (c.provider as LoadedProvider).check({}, { connection: env.connection, ...inputs })).failures ?? [];
const withUnknown = (inputs: Record<string, any>, keys: string[]) =>
  ({ ...inputs, ...Object.fromEntries(keys.map((k) => [k, UNKNOWN])) }) as Record<string, any>;

describe.each(CASES)("$type", (c) => {
  test("valid inputs pass; with every computed input unknown they still pass", async () => {
    expect(await check(c, c.inputs)).toEqual([]);
    expect(await check(c, withUnknown(c.inputs, c.computed))).toEqual([]);
    expect(env.emulator.calls).toEqual([]);
  });

  test("any single input unknown (preview) is never missing nor judged", async () => {
    for (const key of Object.keys(c.inputs)) {
      expect({ key, failures: await check(c, withUnknown(c.inputs, [key])) }).toEqual({ key, failures: [] });
    }
    const connection = { adminUrl: UNKNOWN, accessToken: UNKNOWN };
    expect(await check(c, { ...c.inputs, connection })).toEqual([]);
    expect(await check(c, { ...c.inputs, connection: UNKNOWN })).toEqual([]);
    expect(env.emulator.calls).toEqual([]);
  });

  test("a known bad value still fails next to unknown ones", async () => {
    const inputs = { ...withUnknown(c.inputs, c.computed), [c.bad.key]: c.bad.value };
    const failures = await check(c, inputs);
    expect(failures.map((f) => f.property)).toEqual([c.bad.property ?? c.bad.key]);
    expect(failures[0].reason).toMatch(/e\.g\.|must|appears twice|is not/);
    expect(env.emulator.calls).toEqual([]);
  });

  if (c.required) {
    const required = c.required;
    test(`a missing ${required} is still reported, unlike an unknown one`, async () => {
      const { [required]: _left, ...missing } = withUnknown(c.inputs, c.computed);
      const failures = await check(c, missing);
      expect(failures).toEqual([{ property: required, reason: expect.stringMatching(/^is required, e\.g\. /) }]);
    });
  }
});
