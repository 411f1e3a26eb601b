/**
 * The dev stack's whole 3scale layer, end to end: the real providers against the emulator through up, re-up, single
 * changes, a model added and removed, refresh after drift, and destroy; once per 3scale release, the stack and the
 * emulator on the same one.
 */
import * as fs from "fs";
import * as path from "path";
import * as YAML from "yaml";
import { RELEASES, type TenantSnapshot } from "../../tools/threescale-emulator";
import { AdminClient } from "../../dynamic-providers/threescale/client";
import { PROJECT_ROOT } from "../../scripts/plan/mock-runner";
import { DYNAMIC, describeCalls, Deployment, startDeployment } from "./support";

const devConfig = YAML.parse(fs.readFileSync(path.join(PROJECT_ROOT, "Pulumi.dev.yaml"), "utf8")).config;
const devModel = devConfig["maas:models"][0];
const devThreescale = devConfig["maas:threescale"];
const MODEL = devModel.name as string;
const PORTAL_ORIGIN = "https://maas.apps.fixture.example.com";

describe.each(RELEASES)("3scale %s", (release) => {
  let d: Deployment;
  /** The stack config as changed so far: each step changes one thing on top of the previous ones. */
  let threescale = { ...devThreescale, release };
  let models: any[] = [devModel];
  const up = () => d.up({ threescale, models });
  let fresh: TenantSnapshot;
  let afterFirstUp: TenantSnapshot;

  beforeAll(async () => {
    d = await startDeployment({ release, config: { threescale } });
    fresh = d.emulator.snapshot();
  });
  afterAll(async () => {
    await d?.close();
  });

  const writes = () => describeCalls(d.emulator.writes());
  const versions = (snapshot: TenantSnapshot, product = MODEL) => snapshot.products[product].latestVersions;

  describe("dev stack against an emulated tenant", () => {
    it("up from an empty tenant creates exactly the model's product, and the tenant defaults are gone", async () => {
      const result = await d.up();
      const s = d.emulator.snapshot();
      afterFirstUp = s;

      expect(Object.keys(s.products)).toEqual([MODEL]);
      expect(Object.keys(s.backends)).toEqual([`${MODEL}-backend`]);
      const product = s.products[MODEL];
      expect(product.name).toBe(MODEL);
      expect(product.attributes.description).toBe(devModel.description);
      expect(product.backendUsages).toEqual({ [`${MODEL}-backend`]: { path: "/" } });
      expect(Object.keys(product.metrics).sort()).toEqual([
        "completion_tokens",
        "hits",
        "prompt_tokens",
        "total_tokens",
      ]);
      expect(product.metrics.total_tokens.unit).toBe("token");
      expect(Object.keys(product.methods).sort()).toEqual(
        ["chat_completions", "completions", "detokenize", "health", "list_models", "tokenize", "version"].sort(),
      );
      expect(product.mappingRules.map((r) => `${r.http_method} ${r.pattern} -> ${r.metric}`).sort()).toEqual(
        [
          "POST /v1/chat/completions -> chat_completions",
          "POST /v1/completions -> completions",
          "GET /v1/models -> list_models",
          "POST /tokenize -> tokenize",
          "POST /detokenize -> detokenize",
          "GET /health -> health",
          "GET /version -> version",
        ].sort(),
      );
      expect(product.proxy).toMatchObject({ credentials_location: "authorization", auth_user_key: "Authorization" });
      expect(product.policies.map((p) => p.name)).toEqual(["cors", "llm_metrics", "upstream_connection", "apicast"]);
      expect(product.policies.every((p) => p.enabled === true)).toBe(true);
      expect(product.policies[0].configuration).toMatchObject({ allow_origin: PORTAL_ORIGIN, allow_credentials: true });
      expect(product.policies[1]).toMatchObject({
        version: "1.0.0",
        configuration: { total_tokens_metric: "total_tokens", prompt_tokens_metric: "prompt_tokens" },
      });

      const plan = devThreescale.defaultPlans[0];
      expect(Object.keys(product.applicationPlans)).toEqual([plan.systemName]);
      // Not the default plan: 3scale would subscribe every new developer to it (the deployment guide sets none).
      expect(product.applicationPlans[plan.systemName]).toMatchObject({ state: "published", default: false });
      expect(
        product.applicationPlans[plan.systemName].limits.map((l) => `${l.metric}/${l.period}=${l.value}`).sort(),
      ).toEqual(plan.limits.map((l: any) => `${l.metric}/${l.period}=${l.value}`).sort());

      // One promoted gateway configuration.
      expect(versions(s).sandbox).not.toBeNull();
      expect(versions(s).production).toBe(versions(s).sandbox);

      const doc = s.activeDocs[MODEL];
      expect(doc).toMatchObject({ product: MODEL, published: true });
      const body = (typeof doc.body === "string" ? JSON.parse(doc.body) : doc.body) as any;
      expect(body.servers[0].url).toBe(`https://${MODEL}-maas-apicast-production.apps.fixture.example.com:443`);
      expect(Object.keys(body.paths)).toHaveLength(7);

      expect(s.provider.site_access_code ?? "").toBe("");
      // Verification: a developer account with an application on the default plan.
      expect(s.accounts["maas-verification"].applications[`verification-${MODEL}`]).toMatchObject({
        product: MODEL,
        plan: plan.systemName,
      });
      const job = result.resources.find(
        (r) => r.type === "kubernetes:batch/v1:Job" && r.name.endsWith(`${MODEL}-job`),
      )!;
      expect(job.inputs.metadata.annotations["pulumi.com/waitFor"]).toBe("condition=Complete");
      expect(JSON.stringify(job.inputs)).not.toContain(d.emulator.accessToken);
    });

    it("keeps secrets secret in the recorded state", () => {
      const product = Object.values(d.state.resources).find((r) => r.type === DYNAMIC("Product"))!;
      expect(product.secretOutputKeys).toContain("connection");
      const app = Object.values(d.state.resources).find((r) => r.type === DYNAMIC("Application"))!;
      expect(app.secretOutputKeys).toEqual(expect.arrayContaining(["userKey"]));
    });

    it("up again with the same config makes zero write calls", async () => {
      await d.up();
      expect(writes()).toEqual([]);
      expect(d.engine.operations.filter((o) => o.kind !== "read")).toEqual([]);
      expect(d.emulator.snapshot()).toEqual(afterFirstUp);
    });

    it("a CORS origin change rewrites the policy chain and promotes one new version", async () => {
      const before = versions(d.emulator.snapshot());
      threescale = { ...threescale, corsAllowOrigins: [PORTAL_ORIGIN, "https://chat.example.org"] };
      await up();
      const s = d.emulator.snapshot();
      expect(s.products[MODEL].policies[0].configuration?.allow_origin).toBe(
        "^(https://maas\\.apps\\.fixture\\.example\\.com|https://chat\\.example\\.org)$",
      );
      const paths = writes();
      expect(paths.filter((w) => /policies/.test(w))).toHaveLength(1);
      expect(paths.filter((w) => /promote/.test(w))).toHaveLength(1);
      expect(paths.every((w) => /policies|deploy|promote/.test(w))).toBe(true);
      expect(versions(s).sandbox).toBe(before.sandbox! + 1);
      expect(versions(s).production).toBe(versions(s).sandbox);
    });

    it("a plan limit change writes only that limit and promotes nothing", async () => {
      const before = versions(d.emulator.snapshot());
      const plan = devThreescale.defaultPlans[0];
      const limits = plan.limits.map((l: any) => (l.metric === "hits" ? { ...l, value: l.value + 15 } : l));
      threescale = { ...threescale, defaultPlans: [{ ...plan, limits }] };
      await up();
      const s = d.emulator.snapshot();
      expect(writes()).toEqual([
        expect.stringMatching(/^PUT \/admin\/api\/application_plans\/\d+\/metrics\/\d+\/limits\/\d+\.json$/),
      ]);
      expect(s.products[MODEL].applicationPlans[plan.systemName].limits).toContainEqual(
        expect.objectContaining({
          metric: "hits",
          value: plan.limits.find((l: any) => l.metric === "hits").value + 15,
        }),
      );
      expect(versions(s)).toEqual(before);
    });

    it("a new endpoint adds its method, rule and docs, and promotes one new version", async () => {
      const before = versions(d.emulator.snapshot());
      models = [{ ...devModel, embeddings: true }];
      await up();
      const s = d.emulator.snapshot();
      expect(s.products[MODEL].methods.embeddings).toBeDefined();
      expect(s.products[MODEL].mappingRules).toContainEqual(
        expect.objectContaining({ http_method: "POST", pattern: "/v1/embeddings", metric: "embeddings" }),
      );
      const paths = writes();
      expect(paths.filter((w) => /^POST .*\/methods\.json$/.test(w))).toHaveLength(1);
      expect(paths.filter((w) => /^POST .*\/mapping_rules\.json$/.test(w))).toHaveLength(1);
      expect(paths.filter((w) => /active_docs/.test(w))).toHaveLength(1);
      expect(paths.filter((w) => /promote/.test(w))).toHaveLength(1);
      expect(versions(s).production).toBe(versions(s).sandbox);
      expect(versions(s).sandbox).toBeGreaterThan(before.sandbox!);
    });

    it("a second model gets its own product; removing it deletes its objects in an order the API accepts", async () => {
      const second = { ...devModel, name: "second-model", displayName: "Second" };
      await d.up({ threescale, models: [...models, second] });
      expect(Object.keys(d.emulator.snapshot().products).sort()).toEqual([MODEL, "second-model"].sort());

      await up();
      const s = d.emulator.snapshot();
      expect(Object.keys(s.products)).toEqual([MODEL]);
      expect(Object.keys(s.backends)).toEqual([`${MODEL}-backend`]);
      expect(s.accounts["maas-verification"].applications["verification-second-model"]).toBeUndefined();
      const deletes = describeCalls(d.emulator.calls.filter((c) => c.method === "DELETE" && c.status === 200));
      const last = (re: RegExp) => deletes.map((x, i) => (re.test(x) ? i : -1)).reduce((a, b) => Math.max(a, b), -1);
      const earliest = (re: RegExp) => deletes.findIndex((x) => re.test(x));
      const productMetric = /^DELETE \/admin\/api\/services\/\d+\/metrics\//;
      expect(last(/mapping_rules/)).toBeLessThan(earliest(productMetric));
      expect(last(/backend_usages/)).toBeLessThan(earliest(/backend_apis\/\d+\.json/));
      expect(earliest(/services\/\d+\.json$/)).toBeLessThan(earliest(/backend_apis\/\d+\.json/));
      expect(earliest(/services\/\d+\.json$/)).toBeGreaterThan(last(productMetric));
      expect(last(productMetric)).toBeLessThan(earliest(/backend_usages/));
      // The remaining product was not touched.
      expect(deletes.some((x) => x.includes(`/services/${productId(MODEL)}/`))).toBe(false);
    });

    it("refresh detects drift made in the tenant and the next up repairs and promotes it", async () => {
      const clean = d.emulator.snapshot();
      const state = d.emulator.state;
      const product = state.products.find((p) => p.system_name === MODEL)!;
      product.proxy.policies_config = product.proxy.policies_config.filter((p) => p.name !== "llm_metrics");
      const rule = state.mappingRules.find(
        (r) => r.owner.type === "service" && r.owner.id === product.id && r.pattern === "/health",
      )!;
      rule.delta = 5;
      // Someone edited the product in the admin portal and deployed it to staging.
      await new AdminClient({ adminUrl: d.emulator.url, accessToken: d.emulator.accessToken }).post(
        `/admin/api/services/${product.id}/proxy/deploy.json`,
      );

      const refreshed = await d.refresh();
      const drifted = refreshed.drifted.map((urn) => urn.split("::").pop());
      expect(drifted.sort()).toEqual(
        [
          `maas-3scale-config-${MODEL}-policies`,
          `maas-3scale-config-${MODEL}-promotion`,
          `maas-3scale-config-${MODEL}-rule-health`,
        ].sort(),
      );
      expect(refreshed.gone).toEqual([]);
      expect(describeCalls(d.emulator.writes())).toEqual([]);

      await up();
      const repaired = d.emulator.snapshot();
      expect(repaired.products[MODEL].policies).toEqual(clean.products[MODEL].policies);
      expect(repaired.products[MODEL].mappingRules).toEqual(clean.products[MODEL].mappingRules);
      expect(versions(repaired).production).toBe(versions(repaired).sandbox);
      const production = state.proxyConfigs.filter(
        (c) => c.service_id === product.id && c.environment === "production",
      );
      const chain = (production[production.length - 1].content.proxy as any).policy_chain.map((p: any) => p.name);
      expect(chain).toContain("llm_metrics");
    });

    it("destroy removes what the stack made; the sample product stays removed, the last product stays emptied", async () => {
      await d.destroy();
      const s = d.emulator.snapshot();
      // The clean-up of the tenant's sample product is one-way (README), and 3scale never deletes a tenant's last
      // product: it stays, without anything this stack put in it, until the APIManager goes.
      expect(Object.keys(fresh.products)).toEqual(["api"]);
      expect(Object.keys(s.products)).toEqual([MODEL]);
      const left = s.products[MODEL];
      expect(Object.keys(left.methods)).toEqual([]);
      expect(Object.keys(left.metrics)).toEqual(["hits"]);
      expect(left.mappingRules).toEqual([]);
      expect(left.backendUsages).toEqual({});
      expect(left.applicationPlans).toEqual({});
      expect(s.backends).toEqual({});
      expect(s.accounts).toEqual(fresh.accounts);
      expect(s.activeDocs).toEqual(fresh.activeDocs);
    });
  });

  function productId(systemName: string): number {
    return d.emulator.state.products.find((p) => p.system_name === systemName)!.id;
  }
});
