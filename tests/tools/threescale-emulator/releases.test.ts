/** What differs between 3scale 2.15 and 2.16 (gateway-facts §2.9), each release pinned with `release`. */
import { parseArgs } from "../../../tools/threescale-emulator/cli";
import { DEFAULT_RELEASE, RELEASES, startEmulator, type Release } from "../../../tools/threescale-emulator";
import { specIndex } from "../../../tools/threescale-emulator/spec";
import { apiFor, productWithBackend, type Api } from "./test-support";

async function withRelease(
  release: Release,
  fn: (api: Api, emulator: Awaited<ReturnType<typeof startEmulator>>) => Promise<void>,
) {
  const emulator = await startEmulator({ release });
  try {
    await fn(apiFor(emulator), emulator);
  } finally {
    await emulator.close();
  }
}

const OAS = (version: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ openapi: version, info: { title: "Model", version: "1" }, paths: {}, ...extra });

describe.each(RELEASES)("3scale %s", (release) => {
  const is216 = release === "2.16";

  it(`backend usage delete ${is216 ? "removes" : "keeps"} the plans' limits on the backend's metrics`, () =>
    // porta 2.16 backend_api_config.rb L19-26, L53-55 (commit 20b4e75c2, not on 3scale-2.15-stable)
    withRelease(release, async (api, emulator) => {
      const { serviceId, backendId } = await productWithBackend(api);
      const hits = emulator.state.metrics.find((m) => m.owner.type === "backend" && m.owner.id === backendId)!;
      const plan = (
        await api("POST", `/admin/api/services/${serviceId}/application_plans.json`, { json: { name: "Plan" } })
      ).body.application_plan.id;
      await api("POST", `/admin/api/application_plans/${plan}/metrics/${hits.id}/limits.json`, {
        json: { period: "day", value: 7 },
      });
      const usage = (await api("GET", `/admin/api/services/${serviceId}/backend_usages.json`)).body[0].backend_usage;
      expect((await api("DELETE", `/admin/api/services/${serviceId}/backend_usages/${usage.id}.json`)).status).toBe(
        200,
      );
      const limits = (await api("GET", `/admin/api/application_plans/${plan}/limits.json`)).body.limits;
      expect(limits.map((l: any) => l.limit.value)).toEqual(is216 ? [] : [7]);
    }));

  it("a new product's Default service plan is never default; hidden when service plans are shown in the portal", () =>
    // porta service.rb L43, L552-560 (identical in 2.15 and 2.16)
    withRelease(release, async (api, emulator) => {
      const first = (await api("POST", "/admin/api/services.json", { json: { name: "Shown" } })).body.service;
      await api("PUT", "/admin/api/settings.json", { json: { service_plans_ui_visible: true } });
      const second = (await api("POST", "/admin/api/services.json", { json: { name: "Hidden" } })).body.service;
      const plan = async (id: number) =>
        (await api("GET", `/admin/api/services/${id}/service_plans.json`)).body.plans[0].service_plan;
      expect(await plan(first.id)).toMatchObject({ name: "Default", state: "published", default: false });
      expect(await plan(second.id)).toMatchObject({ name: "Default", state: "hidden", default: false });
      expect(emulator.state.products.find((p) => p.id === second.id)!.default_service_plan_id).toBeNull();
    }));

  it(`enforce_sso is ${is216 ? "validated (422)" : "silently dropped"}`, () =>
    // porta 2.15 settings_controller.rb L12-16 (not permitted, not represented); 2.16 L12, representer L18, en.yml L456
    withRelease(release, async (api) => {
      const on = await api("PUT", "/admin/api/settings.json", { json: { enforce_sso: true } });
      const refused = {
        errors: {
          enforce_sso: ["Password-based authentication could not be disabled. No published authentication providers."],
        },
      };
      if (is216) expect([on.status, on.body]).toEqual([422, refused]);
      else {
        expect(on.status).toBe(200);
        expect(on.body.settings).not.toHaveProperty("enforce_sso");
      }
      // a form-encoded "false" is a truthy string for the 2.16 guard
      const formFalse = await api("PUT", "/admin/api/settings.json", { form: { enforce_sso: "false" } });
      expect(formFalse.status).toBe(is216 ? 422 : 200);
      const jsonFalse = await api("PUT", "/admin/api/settings.json", { json: { enforce_sso: false } });
      expect(jsonFalse.status).toBe(200);
      expect(Object.prototype.hasOwnProperty.call(jsonFalse.body.settings, "enforce_sso")).toBe(is216);
    }));

  it(`a settings update without account_approval_required ${is216 ? "keeps" : "resets"} it`, () =>
    // porta 2.15 settings.rb L38-46 (`attributes.delete(:account_approval_required) || false`); 2.16 only when sent
    withRelease(release, async (api) => {
      await api("PUT", "/admin/api/settings.json", { json: { account_approval_required: true } });
      expect((await api("GET", "/admin/api/settings.json")).body.settings.account_approval_required).toBe(true);
      await api("PUT", "/admin/api/settings.json", { json: { signups_enabled: false } });
      expect((await api("GET", "/admin/api/settings.json")).body.settings.account_approval_required).toBe(is216);
    }));

  it(`change_service_plan_permission is ${is216 ? "" : "not "}checked against the plan-change list`, () =>
    // porta settings.rb L10 (2.16 adds change_service_plan_permission to the inclusion)
    withRelease(release, async (api) => {
      const res = await api("PUT", "/admin/api/settings.json", {
        json: { change_service_plan_permission: "whenever" },
      });
      if (is216)
        expect(res.body).toEqual({ errors: { change_service_plan_permission: ["is not included in the list"] } });
      else expect(res.body.settings.change_service_plan_permission).toBe("whenever");
      const account = await api("PUT", "/admin/api/settings.json", { json: { change_account_plan_permission: "yes" } });
      expect(account.body).toEqual({ errors: { change_account_plan_permission: ["is not included in the list"] } });
      for (const value of ["request", "none", "credit_card", "request_credit_card", "direct"]) {
        const ok = await api("PUT", "/admin/api/settings.json", { json: { change_account_plan_permission: value } });
        expect(ok.body.settings.change_account_plan_permission).toBe(value);
      }
    }));

  it(`ActiveDocs: OAS 3.0 validated against its schema, OAS 3.1 ${is216 ? "accepted" : "refused"}`, () =>
    // porta swagger/specification.rb (2.15 V30 only; 2.16 V3x with V30 and V31), validator.rb, en.yml L1025-1027
    withRelease(release, async (api) => {
      const post = (body: string, extra: Record<string, unknown> = {}) =>
        api("POST", "/admin/api/active_docs.json", { json: { name: `Doc ${Math.random()}`, body, ...extra } });
      const v30 = await post(OAS("3.0.3"));
      expect(v30.status).toBe(201);
      expect(Object.keys(v30.body)).toEqual(["api_doc"]);
      const v31 = await post(OAS("3.1.0"));
      if (is216) expect(v31.status).toBe(201);
      else expect([v31.status, v31.body]).toEqual([422, { errors: { body: ["Invalid Swagger version"] } }]);
      const noInfo = await post(JSON.stringify({ openapi: "3.0.3", paths: {} }));
      expect(noInfo.status).toBe(422);
      expect(noInfo.body.errors.body).toEqual([
        is216
          ? "object at root is missing required properties: info"
          : "The property '#/' did not contain a required property of 'info'",
      ]);
      expect((await post("{nope")).body).toEqual({ errors: { body: ["Invalid JSON"] } });
      expect((await post(JSON.stringify({ openapi: "4.0.0" }))).body).toEqual({
        errors: { body: ["Invalid Swagger version"] },
      });
    }));
});

describe("release selection", () => {
  it("defaults to the program's default release and refuses unknown ones", async () => {
    expect(DEFAULT_RELEASE).toBe("2.16");
    const emulator = await startEmulator();
    expect(emulator.state.release).toBe("2.16");
    await emulator.close();
    await expect(startEmulator({ release: "2.14" as Release })).rejects.toThrow(/unknown 3scale release "2.14"/);
  });

  it("enforces each release's OpenAPI files (2.16 documents service subscriptions, 2.15 does not)", async () => {
    const path = "/admin/api/accounts/1/service_subscriptions.json";
    expect(specIndex("2.15").violation("GET", path, {}, {})).toMatch(/path is not in the OpenAPI spec/);
    expect(specIndex("2.16").violation("GET", path, {}, {})).toBeNull();
    for (const release of RELEASES) {
      await withRelease(release, async (api) => {
        const res = await api("GET", path);
        expect([res.status, res.body.error]).toEqual([
          400,
          `emulator: GET ${path}: ${release === "2.16" ? "is documented but not emulated" : "path is not in the OpenAPI spec"}`,
        ]);
      });
    }
  });

  it("the CLI takes --release and --deletion-lag-ms", () => {
    expect(parseArgs(["--release", "2.15", "--deletion-lag-ms", "20000"]).options).toEqual({
      release: "2.15",
      deletionLagMs: 20000,
    });
    expect(() => parseArgs(["--release", "3.0"])).toThrow(/--release must be one of 2.15, 2.16/);
  });
});
