/**
 * How the providers handle 3scale's behaviour (gateway-facts Part 2): signup's applications, write-only fields,
 * asynchronous deletion, release differences, porta's validation (checked before calling, with porta's messages;
 * and the emulator, which transcribes porta, refuses the same values) and the proxy's optimistic lock.
 */
import { ActiveDocProvider } from "../../dynamic-providers/active-doc";
import { ApplicationPlanProvider } from "../../dynamic-providers/application-plan";
import { BackendProvider } from "../../dynamic-providers/backend";
import { CmsContentProvider } from "../../dynamic-providers/cms-content";
import { DeveloperAccountProvider, removeSignupApplications } from "../../dynamic-providers/developer-account";
import { DeveloperPortalAccessProvider } from "../../dynamic-providers/developer-portal-access";
import { MappingRuleProvider } from "../../dynamic-providers/mapping-rule";
import { PolicyChainProvider } from "../../dynamic-providers/policy-chain";
import { ProductProvider } from "../../dynamic-providers/product";
import { ProxySettingsProvider } from "../../dynamic-providers/proxy-settings";
import { unwrittenBody } from "../../dynamic-providers/threescale/fields";
import { RELEASES } from "../../tools/threescale-emulator";
import {
  adminClient,
  buildWorld,
  developerAccount,
  FAST_CLIENT,
  makeProduct,
  rejectionOf,
  withEmulator,
  type Emulator,
} from "./support";

/** The product's default application plan, made through the API. */
async function defaultPlan(emulator: Emulator, productId: number, systemName: string): Promise<number> {
  const client = adminClient({ adminUrl: emulator.url, accessToken: emulator.accessToken });
  const base = `/admin/api/services/${productId}/application_plans`;
  const plan = (await client.post(`${base}.json`, { name: systemName, system_name: systemName })).application_plan;
  await client.put(`${base}/${plan.id}/default.json`);
  return plan.id;
}

describe.each(RELEASES)("3scale %s", (release) => {
  const run = <T>(fn: (emulator: Emulator, connection: any) => Promise<T>, opts = {}) =>
    withEmulator((emulator, connection) => fn(emulator, { ...connection, release }), { release, ...opts });

  describe("signup's applications (porta signups_controller.rb L37-39, plans_with_defaults.rb)", () => {
    it("DeveloperAccount removes the 'API signup' applications so the plans can still be deleted", () =>
      run(async (emulator, connection) => {
        const product = await makeProduct(connection, "signup_plans");
        const planId = await defaultPlan(emulator, product.id, "basic");
        const accounts = new DeveloperAccountProvider(FAST_CLIENT);
        const created = await accounts.create({ connection, ...developerAccount("signup") });
        const accountId = Number(created.id);
        // signup made one, create removed it
        const signupCalls = emulator.writes().filter((c) => c.path === "/admin/api/signup.json");
        expect(signupCalls).toHaveLength(1);
        expect(emulator.state.applications.filter((a) => a.account_id === accountId)).toEqual([]);
        const plans = new ApplicationPlanProvider(FAST_CLIENT);
        await plans.delete(String(planId), { connection, productId: product.id });
        expect(emulator.state.applicationPlans.some((p) => p.id === planId)).toBe(false);
      }));

    it("is crash-safe and idempotent: an adopted account is cleaned up, others' applications stay", () =>
      run(async (emulator, connection) => {
        const product = await makeProduct(connection, "crash_plans");
        const planId = await defaultPlan(emulator, product.id, "basic");
        const client = adminClient(connection);
        // a run that crashed right after the signup: the account exists with its signup application
        const signup = await client.post("/admin/api/signup.json", {
          org_name: "Crash Co",
          username: "crashed",
          email: "crashed@example.test",
          password: "s3cret-Passw0rd",
        });
        const accountId = signup.account.id;
        await client.post(`/admin/api/accounts/${accountId}/applications.json`, { plan_id: planId, name: "mine" });
        expect(emulator.state.applications.filter((a) => a.account_id === accountId)).toHaveLength(2);
        const accounts = new DeveloperAccountProvider(FAST_CLIENT);
        const inputs = { connection, ...developerAccount("x"), username: "crashed" };
        expect((await accounts.create(inputs)).id).toBe(String(accountId));
        expect(emulator.state.applications.filter((a) => a.account_id === accountId).map((a) => a.name)).toEqual([
          "mine",
        ]);
        emulator.resetCalls();
        expect(await removeSignupApplications(client, accountId)).toEqual([]);
        expect(emulator.writes()).toEqual([]);
      }));

    it("converges under faults: the account ends with no signup application", () =>
      run(
        async (emulator, connection) => {
          const product = await makeProduct(connection, "faulty_plans");
          await defaultPlan(emulator, product.id, "basic");
          emulator.setFaults({ rate: 0.3 });
          const accounts = new DeveloperAccountProvider({ ...FAST_CLIENT, maxAttempts: 20 });
          const created = await accounts.create({ connection, ...developerAccount("faulty") });
          emulator.setFaults(null);
          expect(emulator.state.accounts.filter((a) => a.username === "dev_faulty")).toHaveLength(1);
          expect(emulator.state.applications.filter((a) => a.account_id === Number(created.id))).toEqual([]);
        },
        { seed: 11 },
      ));
  });

  describe("write-only fields (porta plan_representer.rb: no description)", () => {
    it("an application plan's description is compared with what was written, never with the read-back", () =>
      run(async (emulator, connection) => {
        const product = await makeProduct(connection, "described");
        const plans = new ApplicationPlanProvider(FAST_CLIENT);
        const inputs = { connection, productId: product.id, systemName: "basic", name: "Basic", published: true };
        const withText = { ...inputs, description: "1000 tokens a day", trialPeriodDays: 0 };
        const created = await plans.create(withText);
        const stored = () => emulator.state.applicationPlans.find((p) => p.id === Number(created.id))!;
        expect(stored().description).toBe("1000 tokens a day");
        // refresh: no drift although 3scale shows no description; trial days read back as 0
        const read = await plans.read(created.id, created.outs);
        expect(read.props).toMatchObject({ description: "1000 tokens a day", trialPeriodDays: 0 });
        expect((await plans.diff(created.id, read.props, withText)).changes).toBe(false);
        emulator.resetCalls();
        await plans.update(created.id, read.props, withText);
        expect(emulator.writes()).toEqual([]);
        // a new description is written, and only it
        const changed = { ...withText, description: "2000 tokens a day" };
        expect((await plans.diff(created.id, read.props, changed)).changes).toBe(true);
        await plans.update(created.id, read.props, changed);
        expect(emulator.writes().map((c) => c.body)).toEqual([{ description: "2000 tokens a day" }]);
        expect(stored().description).toBe("2000 tokens a day");
      }));

    it("unwrittenBody sends what differs from the last write, everything when nothing was written", () => {
      const fields = { description: "description" };
      expect(unwrittenBody({ description: "a" }, undefined, fields)).toEqual({ description: "a" });
      expect(unwrittenBody({ description: "a" }, { description: "a" }, fields)).toEqual({});
      expect(unwrittenBody({ description: "b" }, { description: "a" }, fields)).toEqual({ description: "b" });
      expect(unwrittenBody({}, { description: "a" }, fields)).toEqual({});
    });
  });

  describe("release-specific settings", () => {
    it("DeveloperPortalAccess keeps account approval on when it changes another setting (2.15 settings.rb L38-46)", () =>
      run(async (emulator, connection) => {
        const access = new DeveloperPortalAccessProvider(FAST_CLIENT);
        const inputs = { connection, settings: { accountApprovalRequired: true, signupsEnabled: true } };
        const created = await access.create(inputs);
        const changed = { connection, settings: { accountApprovalRequired: true, signupsEnabled: false } };
        await access.update(created.id, created.outs, changed);
        const settings = (await adminClient(connection).get("/admin/api/settings.json")).settings;
        expect(settings).toMatchObject({ account_approval_required: true, signups_enabled: false });
        expect(emulator.state.accountPlans[0].approval_required).toBe(true);
      }));

    it(`ActiveDoc refuses OAS 3.1 in check ${release === "2.15" ? "" : "only "}when the release cannot take it`, () =>
      run(async (emulator, connection) => {
        const docs = new ActiveDocProvider(FAST_CLIENT);
        const body = JSON.stringify({ openapi: "3.1.0", info: { title: "T", version: "1" }, paths: {} });
        const inputs = { connection, systemName: "oas31", name: "OAS 3.1", body };
        const { failures } = await docs.check({}, inputs);
        if (release === "2.15") {
          expect(failures).toEqual([{ property: "body", reason: expect.stringContaining("Invalid Swagger version") }]);
          // and the server agrees
          const refused = await rejectionOf(docs.create(inputs));
          expect(refused.message).toContain('{"errors":{"body":["Invalid Swagger version"]}}');
        } else {
          expect(failures ?? []).toEqual([]);
          expect((await docs.create(inputs)).id).toBeDefined();
        }
        expect(emulator.state.activeDocs.some((d) => d.system_name === "oas31")).toBe(release === "2.16");
      }));
  });
});

describe("asynchronous deletion (porta DeleteObjectHierarchyWorker, objects_controller.rb)", () => {
  it("delete is done at once; a namesake waits out a worker slower than 10 s and is created after it", () =>
    withEmulator(
      async (emulator, connection) => {
        const products = new ProductProvider(FAST_CLIENT);
        await products.create({ connection, systemName: "keeper", name: "Keeper" }); // not the last product
        const inputs = { connection, systemName: "slow_gone", name: "Slow" };
        const first = await products.create(inputs);
        const started = Date.now();
        await products.delete(first.id, first.outs);
        expect(Date.now() - started).toBeLessThan(2_000);
        expect(emulator.state.products.some((p) => p.system_name === "slow_gone")).toBe(false);
        // the replacement waits for the worker (12 s) instead of giving up after the old 10 s
        const again = await products.create(inputs);
        expect(Date.now() - started).toBeGreaterThanOrEqual(12_000);
        expect(again.id).not.toBe(first.id);
        expect(emulator.state.products.filter((p) => p.system_name === "slow_gone")).toHaveLength(1);
        const taken = emulator.calls.filter((c) => c.method === "POST" && c.path === "/admin/api/services.json");
        expect(taken.filter((c) => c.status === 422).length).toBeGreaterThan(1);
      },
      { deletionLagMs: 12_000 },
    ));

  it("gives up with a clear message once pendingDeletionTimeoutMs is spent; backends alike", () =>
    withEmulator(
      async (_emulator, connection) => {
        const backends = new BackendProvider({ ...FAST_CLIENT, pendingDeletionTimeoutMs: 300 });
        const inputs = { connection, systemName: "slow_be", name: "Slow", privateEndpoint: "https://slow.svc" };
        const first = await backends.create(inputs);
        await backends.delete(first.id, first.outs);
        const error = await rejectionOf(backends.create(inputs));
        expect(error.message).toMatch(/still taken by a deleted namesake after 0 s.*DeleteObjectHierarchyWorker/);
      },
      { deletionLagMs: 60_000 },
    ));
});

describe("checks with porta's messages, which the emulator's porta rules confirm", () => {
  const cases: Array<{
    what: string;
    check: (connection: any) => Promise<{ property: string; reason: string }[]>;
    says: RegExp;
    apply: (connection: any, world: any) => Promise<unknown>;
    porta: RegExp;
  }> = [
    {
      what: "an apostrophe in an error body (proxy.rb HTTP_HEADER)",
      check: async (connection) =>
        (
          await new ProxySettingsProvider().check(
            {},
            { connection, productId: 1, credentialsLocation: "headers", errorLimitsExceeded: "You've hit the limit" },
          )
        ).failures ?? [],
      says: /^is invalid \(3scale allows only ASCII/,
      apply: (connection, w) =>
        new ProxySettingsProvider(FAST_CLIENT).create({
          connection,
          productId: w.productId,
          credentialsLocation: "headers",
          errorLimitsExceeded: "You've hit the limit",
        }),
      porta: /"error_limits_exceeded":\["is invalid"\]/,
    },
    {
      what: "a mapping-rule pattern outside the grammar (proxy_rule.rb PatternParser)",
      check: async (connection) =>
        (
          await new MappingRuleProvider().check(
            {},
            { connection, productId: 1, httpMethod: "GET", pattern: "/v1/{model", metricId: 2, delta: 1 },
          )
        ).failures ?? [],
      says: /^is invalid \(3scale's pattern grammar/,
      apply: (connection, w) =>
        new MappingRuleProvider(FAST_CLIENT).create({
          connection,
          productId: w.productId,
          httpMethod: "GET",
          pattern: "/v1/{model",
          metricId: w.hitsMetricId,
          delta: 1,
        }),
      porta: /"pattern":\["is invalid"\]/,
    },
    {
      what: "a repeated pattern variable (proxy_rule.rb L147-158)",
      check: async (connection) =>
        (
          await new MappingRuleProvider().check(
            {},
            { connection, productId: 1, httpMethod: "GET", pattern: "/{id}/{id}", metricId: 2, delta: 1 },
          )
        ).failures ?? [],
      says: /^Can't have repeated variable names/,
      apply: (connection, w) =>
        new MappingRuleProvider(FAST_CLIENT).create({
          connection,
          productId: w.productId,
          httpMethod: "GET",
          pattern: "/{id}/{id}",
          metricId: w.hitsMetricId,
          delta: 1,
        }),
      porta: /Can't have repeated variable names/,
    },
    {
      what: "a lowercase HTTP method (proxy_rule.rb L27, L89)",
      check: async (connection) =>
        (
          await new MappingRuleProvider().check(
            {},
            { connection, productId: 1, httpMethod: "get", pattern: "/x", metricId: 2, delta: 1 },
          )
        ).failures ?? [],
      says: /^is not included in the list: must be one of GET/,
      apply: (connection, w) =>
        new MappingRuleProvider(FAST_CLIENT).create({
          connection,
          productId: w.productId,
          httpMethod: "get",
          pattern: "/lower",
          metricId: w.hitsMetricId,
          delta: 1,
        }),
      porta: /"http_method":\["is not included in the list"\]/,
    },
    {
      what: "an unknown deployment option (service.rb L134-161)",
      check: async (connection) =>
        (
          await new ProductProvider().check(
            {},
            { connection, systemName: "p_go", name: "Go", deploymentOption: "plugin_go" },
          )
        ).failures ?? [],
      says: /^is not included in the list \(3scale's deployment options: hosted, self_managed/,
      apply: (connection) =>
        new ProductProvider(FAST_CLIENT).create({
          connection,
          systemName: "p_go",
          name: "Go",
          deploymentOption: "plugin_go",
        }),
      porta: /"deployment_option":\["is not included in the list"\]/,
    },
    {
      what: "a relative ActiveDoc server, even with skipSwaggerValidations (swagger/validator.rb L6-15, L29-33)",
      check: async (connection) =>
        (
          await new ActiveDocProvider().check(
            {},
            {
              connection,
              systemName: "rel_doc",
              name: "Relative",
              skipSwaggerValidations: true,
              body: JSON.stringify({ openapi: "3.0.3", info: {}, paths: {}, servers: [{ url: "/v1" }] }),
            },
          )
        ).failures ?? [],
      says: /base_path is invalid/,
      apply: (connection) =>
        new ActiveDocProvider(FAST_CLIENT).create({
          connection,
          systemName: "rel_doc",
          name: "Relative",
          skipSwaggerValidations: true,
          body: JSON.stringify({ openapi: "3.0.3", info: {}, paths: {}, servers: [{ url: "/v1" }] }),
        }),
      porta: /"base_path":\["is invalid"\]/,
    },
    {
      what: "a plan-change permission that is not in the list (settings.rb L10)",
      check: async (connection) =>
        (
          await new DeveloperPortalAccessProvider().check(
            {},
            { connection, settings: { changeAccountPlanPermission: "whenever" } },
          )
        ).failures ?? [],
      says: /^is not included in the list: must be one of request, none, credit_card, request_credit_card, direct/,
      apply: (connection) =>
        new DeveloperPortalAccessProvider(FAST_CLIENT).create({
          connection,
          settings: { changeAccountPlanPermission: "whenever" as any },
        }),
      porta: /"change_account_plan_permission":\["is not included in the list"\]/,
    },
    {
      what: "an unknown Liquid tag (liquid 3.0.6, cms/template.rb L175-186)",
      check: async (connection) =>
        (await new CmsContentProvider().check({}, { connection, ...cmsWith("{% model_card %}") })).failures ?? [],
      says: /^Liquid syntax error: Unknown tag 'model_card'/,
      apply: (connection) => new CmsContentProvider(FAST_CLIENT).create({ connection, ...cmsWith("{% model_card %}") }),
      porta: /"draft":\["Liquid syntax error: Unknown tag 'model_card'"\]/,
    },
    {
      what: "a main layout without {% content %} (cms/layout.rb L37-53)",
      check: async (connection) =>
        (await new CmsContentProvider().check({}, { connection, ...mainLayout("<html></html>") })).failures ?? [],
      says: /^must contain '\{&#37; content &#37;\}' tag/,
      apply: (connection) => new CmsContentProvider(FAST_CLIENT).create({ connection, ...mainLayout("<html></html>") }),
      porta: /"draft":\["must contain '\{&#37; content &#37;\}' tag"\]/,
    },
  ];

  test.each(cases)("$what", ({ check, says, apply, porta }) =>
    withEmulator(async (emulator, connection) => {
      const world = await buildWorld(connection);
      emulator.resetCalls();
      const failures = await check(connection);
      expect(emulator.calls).toEqual([]);
      expect(failures.map((f) => f.reason)).toEqual([expect.stringMatching(says)]);
      expect(failures[0].reason).toMatch(/e\.g\./);
      // past check (as if check were skipped), 3scale refuses it with the message the check quoted
      const refused = await rejectionOf(apply(connection, world));
      expect(refused.message).toMatch(porta);
    }),
  );
});

function cmsWith(content: string) {
  return {
    sections: [],
    files: [],
    layouts: [],
    partials: [],
    pages: [{ systemName: "tagged", title: "Tagged", path: "/tagged", content, liquidEnabled: true }],
    builtinPages: [],
  };
}

function mainLayout(content: string) {
  return {
    sections: [],
    files: [],
    layouts: [{ systemName: "main_layout", title: "Main", content }],
    partials: [],
    pages: [],
    builtinPages: [],
  };
}

describe("CMS liquid_enabled (cms_templates.liquid_enabled has no default; renderer.rb prints Liquid verbatim)", () => {
  it("turns Liquid on for pages and layouts whose content uses it, unless told otherwise", () =>
    withEmulator(async (emulator, connection) => {
      await new CmsContentProvider(FAST_CLIENT).create({
        connection,
        sections: [],
        files: [],
        layouts: [{ systemName: "liquid_layout", title: "L", content: "<html>{% content %}</html>" }],
        partials: [],
        pages: [
          { systemName: "liquid_page", title: "P", path: "/liquid-page", content: "<h1>{{ page.title }}</h1>" },
          { systemName: "static_page", title: "S", path: "/static-page", content: "<h1>Static</h1>" },
          {
            systemName: "verbatim_page",
            title: "V",
            path: "/verbatim-page",
            content: "{{ shown as is }}",
            liquidEnabled: false,
          },
        ],
        builtinPages: [],
      });
      const flag = (systemName: string) =>
        emulator.state.cmsTemplates.find((t) => t.system_name === systemName)!.liquid_enabled;
      expect([flag("liquid_layout"), flag("liquid_page"), flag("static_page"), flag("verbatim_page")]).toEqual([
        true,
        true,
        null,
        false,
      ]);
    }));
});

describe("the proxy's optimistic lock (StaleObjectError → 500)", () => {
  it("concurrent settings and policy-chain writes both land: the 500 is retried", () =>
    withEmulator(
      async (emulator, connection) => {
        const world = await buildWorld(connection);
        const settings = new ProxySettingsProvider(FAST_CLIENT).create({
          connection,
          productId: world.productId,
          credentialsLocation: "headers",
          errorAuthFailed: "Denied",
        });
        const chain = new PolicyChainProvider(FAST_CLIENT).create({
          connection,
          productId: world.productId,
          policies: [{ name: "cors", version: "builtin", configuration: {} }],
        });
        await Promise.all([settings, chain]);
        const product = emulator.state.products.find((p) => p.id === world.productId)!;
        expect(product.proxy.settings.error_auth_failed).toBe("Denied");
        expect(product.proxy.policies_config.map((p) => p.name)).toEqual(["cors", "apicast"]);
        expect(emulator.calls.some((c) => c.status === 500)).toBe(true);
      },
      { latencyMs: 30 },
    ));
});
