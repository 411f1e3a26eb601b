/**
 * Reliability: with 20% of admin API calls failing at random (5xx, 429, 409, connection resets; fixed seed), a full
 * create → update → delete cycle of EVERY 3scale resource type, wired as the program wires them, converges: each
 * object exists exactly once after create and after update, and the tenant holds none of them after delete but the
 * last product, which 3scale keeps (the sample product is removed for good). Run against 3scale 2.15 and 2.16.
 */
import type * as pulumi from "@pulumi/pulumi";
import { ActiveDocProvider } from "../../dynamic-providers/active-doc";
import { ApplicationProvider } from "../../dynamic-providers/application";
import { ApplicationPlanProvider } from "../../dynamic-providers/application-plan";
import { BackendProvider } from "../../dynamic-providers/backend";
import { BackendUsageProvider } from "../../dynamic-providers/backend-usage";
import { CmsContentProvider } from "../../dynamic-providers/cms-content";
import { DeveloperAccountProvider } from "../../dynamic-providers/developer-account";
import { DeveloperPortalAccessProvider } from "../../dynamic-providers/developer-portal-access";
import { MappingRuleProvider } from "../../dynamic-providers/mapping-rule";
import { MetricProvider } from "../../dynamic-providers/metric";
import { PlanLimitProvider } from "../../dynamic-providers/plan-limit";
import { PolicyChainProvider } from "../../dynamic-providers/policy-chain";
import { ProductProvider } from "../../dynamic-providers/product";
import { ProxyPromotionProvider } from "../../dynamic-providers/proxy-promotion";
import { ProxySettingsProvider } from "../../dynamic-providers/proxy-settings";
import { SsoIntegrationProvider } from "../../dynamic-providers/sso-integration";
import { TenantDefaultsProvider } from "../../dynamic-providers/tenant-defaults";
import type { Connection } from "../../dynamic-providers/threescale/client";
import { RELEASES, type EmulatorState } from "../../tools/threescale-emulator";
import { FAST_CLIENT, expectNoToken, withEmulator } from "./support";

type Provider = Required<pulumi.dynamic.ResourceProvider>;
type Outs = Record<string, Record<string, any>>;

interface Step {
  name: string;
  provider: Provider;
  inputs: (outs: Outs) => Record<string, any>;
  /** An in-place change (same identity). */
  change: (inputs: Record<string, any>) => Record<string, any>;
  /** How many objects in the tenant carry this step's identity (must stay 1 while it exists, 0 after delete). */
  count?: (state: EmulatorState, inputs: Record<string, any>, outs: Record<string, any>) => number;
}

const OPTIONS = { ...FAST_CLIENT, maxAttempts: 15 };
const p = <T>(P: new (o: typeof OPTIONS) => T) => new P(OPTIONS) as unknown as Provider;
const ofProduct = (o: Outs) => o.product.productId as number;

const STEPS: Step[] = [
  {
    name: "backend",
    provider: p(BackendProvider),
    inputs: () => ({ systemName: "rel_be", name: "Reliable backend", privateEndpoint: "https://granite.models.svc" }),
    change: (i) => ({ ...i, name: "Reliable backend v2" }),
    count: (s) => s.backends.filter((b) => b.system_name === "rel_be").length,
  },
  {
    name: "defaultsProduct",
    provider: p(ProductProvider),
    inputs: () => ({ systemName: "rel_keep", name: "Kept product" }),
    change: (i) => ({ ...i, description: "keeps the tenant from losing its last product" }),
    count: (s) => s.products.filter((x) => x.system_name === "rel_keep").length,
  },
  {
    name: "product",
    provider: p(ProductProvider),
    inputs: () => ({ systemName: "rel_granite", name: "Granite" }),
    change: (i) => ({ ...i, description: "Granite chat model" }),
    count: (s) => s.products.filter((x) => x.system_name === "rel_granite").length,
  },
  {
    name: "usage",
    provider: p(BackendUsageProvider),
    inputs: (o) => ({ productId: ofProduct(o), backendId: o.backend.backendId, path: "/" }),
    change: (i) => ({ ...i, path: "/granite" }),
    count: (s, i) => s.backendUsages.filter((u) => u.service_id === i.productId).length,
  },
  {
    name: "productMetric",
    provider: new MetricProvider("metric", OPTIONS) as unknown as Provider,
    inputs: (o) => ({
      productId: ofProduct(o),
      systemName: "total_tokens",
      friendlyName: "Total tokens",
      unit: "token",
    }),
    change: (i) => ({ ...i, description: "prompt + completion" }),
    count: (s, i) => s.metrics.filter((m) => m.owner.id === i.productId && m.system_name === "total_tokens").length,
  },
  {
    name: "productMethod",
    provider: new MetricProvider("method", OPTIONS) as unknown as Provider,
    inputs: (o) => ({ productId: ofProduct(o), systemName: "chat", friendlyName: "Chat completions" }),
    change: (i) => ({ ...i, friendlyName: "Chat" }),
    count: (s, i) => s.metrics.filter((m) => m.owner.id === i.productId && m.system_name === "chat").length,
  },
  {
    name: "productRule",
    provider: p(MappingRuleProvider),
    inputs: (o) => ({
      productId: ofProduct(o),
      httpMethod: "POST",
      pattern: "/v1/chat/completions$",
      metricId: o.productMethod.metricId,
      delta: 1,
    }),
    change: (i) => ({ ...i, last: true }),
    count: (s, i) =>
      s.mappingRules.filter((r) => r.owner.type === "service" && r.owner.id === i.productId && r.pattern === i.pattern)
        .length,
  },
  {
    name: "proxySettings",
    provider: p(ProxySettingsProvider),
    inputs: (o) => ({ productId: ofProduct(o), credentialsLocation: "authorization" }),
    change: (i) => ({ ...i, errorStatusAuthFailed: 401 }),
  },
  {
    name: "policyChain",
    provider: p(PolicyChainProvider),
    inputs: (o) => ({
      productId: ofProduct(o),
      policies: [{ name: "cors", version: "builtin", configuration: { allow_origin: "*" } }],
    }),
    change: (i) => ({ ...i, policies: [{ ...i.policies[0], configuration: { allow_origin: "https://portal.test" } }] }),
  },
  {
    name: "promotion",
    provider: p(ProxyPromotionProvider),
    inputs: (o) => ({ productId: ofProduct(o), revision: "r1" }),
    change: (i) => ({ ...i, revision: "r2" }),
  },
  {
    name: "plan",
    provider: p(ApplicationPlanProvider),
    inputs: (o) => ({ productId: ofProduct(o), systemName: "basic", name: "Basic", published: true, default: true }),
    change: (i) => ({ ...i, name: "Basic tier", costPerMonth: 0 }),
    count: (s, i) => s.applicationPlans.filter((x) => x.service_id === i.productId).length,
  },
  {
    name: "limit",
    provider: p(PlanLimitProvider),
    inputs: (o) => ({ planId: o.plan.planId, metricId: o.productMetric.metricId, period: "day", value: 1000 }),
    change: (i) => ({ ...i, value: 2000 }),
    count: (s, i) => s.limits.filter((l) => l.plan_id === i.planId).length,
  },
  {
    name: "activeDoc",
    provider: p(ActiveDocProvider),
    inputs: (o) => ({
      systemName: "rel_doc",
      name: "Granite API",
      productId: ofProduct(o),
      body: JSON.stringify({ openapi: "3.0.2", info: { title: "Granite", version: "1" }, paths: {} }),
    }),
    change: (i) => ({ ...i, published: true }),
    count: (s) => s.activeDocs.filter((d) => d.system_name === "rel_doc").length,
  },
  {
    name: "account",
    provider: p(DeveloperAccountProvider),
    inputs: () => ({ orgName: "Acme", username: "rel_dev", email: "dev@acme.test", password: "s3cret-Passw0rd" }),
    change: (i) => ({ ...i, orgName: "Acme Inc" }),
    count: (s) => s.accounts.filter((a) => a.username === "rel_dev").length,
  },
  {
    name: "application",
    provider: p(ApplicationProvider),
    inputs: (o) => ({ accountId: o.account.accountId, planId: o.plan.planId, name: "granite-e2e" }),
    change: (i) => ({ ...i, description: "end-to-end" }),
    count: (s, i) => s.applications.filter((a) => a.account_id === i.accountId).length,
  },
  {
    name: "portalAccess",
    provider: p(DeveloperPortalAccessProvider),
    inputs: () => ({ siteAccessCode: "", settings: { signupsEnabled: false } }),
    change: (i) => ({ ...i, settings: { signupsEnabled: false, accountApprovalRequired: true } }),
  },
  {
    name: "tenantDefaults",
    provider: p(TenantDefaultsProvider),
    inputs: () => ({ removeDefaultProduct: true, productSystemName: "api" }),
    change: (i) => i,
  },
  {
    name: "sso",
    provider: p(SsoIntegrationProvider),
    inputs: () => ({
      kind: "keycloak",
      clientId: "3scale",
      clientSecret: "kc-secret",
      site: "https://sso.apps.example.test/realms/maas",
      published: true,
      automaticallyApproveAccounts: true,
    }),
    change: (i) => ({ ...i, automaticallyApproveAccounts: false }),
    count: (s) => s.authProviders.filter((a) => a.kind === "keycloak").length,
  },
  {
    name: "cms",
    provider: p(CmsContentProvider),
    inputs: () => ({
      sections: [{ systemName: "rel_docs", title: "Docs" }],
      files: [],
      layouts: [],
      partials: [{ systemName: "rel_card", content: "<div>card</div>" }],
      pages: [
        { systemName: "rel_models", title: "Models", path: "/rel-models", section: "rel_docs", content: "<h1>M</h1>" },
      ],
      builtinPages: [],
    }),
    change: (i) => ({ ...i, pages: [{ ...i.pages[0], content: "<h1>Models</h1>" }] }),
    count: (s) => s.cmsTemplates.filter((t) => t.system_name === "rel_models").length,
  },
];

async function withRetries<T>(what: string, fn: () => Promise<T>): Promise<T> {
  // The engine does not retry a failed step either; a provider call must converge within its own retry budget.
  try {
    return await fn();
  } catch (err) {
    throw new Error(`${what} did not converge under faults: ${(err as Error).message}`);
  }
}

test.each(RELEASES)(
  "3scale %s: every resource type converges through create, update and delete with 20% of calls failing",
  (release) =>
    withEmulator(
      async (emulator, tenant: Connection) => {
        const connection = { ...tenant, release };
        const outs: Outs = {};
        const ids: Record<string, string> = {};
        const expectSingle = (step: Step) => {
          if (!step.count) return;
          expect({ step: step.name, count: step.count(emulator.state, outs[step.name], outs[step.name]) }).toEqual({
            step: step.name,
            count: 1,
          });
        };

        for (const step of STEPS) {
          const inputs = { connection, ...step.inputs(outs) };
          expect((await step.provider.check({}, inputs)).failures ?? []).toEqual([]);
          const created = await withRetries(`create ${step.name}`, () => step.provider.create(inputs));
          ids[step.name] = created.id;
          outs[step.name] = created.outs;
          expectSingle(step);
        }

        for (const step of STEPS) {
          const news = step.change({ ...outs[step.name], connection });
          const updated = await withRetries(`update ${step.name}`, () =>
            step.provider.update(ids[step.name], outs[step.name], news),
          );
          outs[step.name] = updated.outs;
          expectSingle(step);
        }

        for (const step of [...STEPS].reverse()) {
          await withRetries(`delete ${step.name}`, () => step.provider.delete(ids[step.name], outs[step.name]));
        }
        // Portal SSO providers have no DELETE in 3scale: destroy unpublishes them (asserted below). The tenant's last
        // product cannot be deleted either: it stays (asserted below).
        for (const step of STEPS.filter((s) => s.count && s.name !== "sso" && s.name !== "defaultsProduct")) {
          expect({ step: step.name, left: step.count!(emulator.state, outs[step.name], outs[step.name]) }).toEqual({
            step: step.name,
            left: 0,
          });
        }
        expect(emulator.state.authProviders.every((a) => !a.published)).toBe(true);
        expect(emulator.state.products.map((x) => x.system_name)).toEqual(["rel_keep"]);

        const faults = emulator.calls.filter((c) => c.fault !== undefined);
        expect(faults.length).toBeGreaterThan(20);
        expectNoToken(JSON.stringify(emulator.calls), emulator.accessToken);
      },
      { faults: { rate: 0.2 }, seed: 20240501, release },
    ),
);
