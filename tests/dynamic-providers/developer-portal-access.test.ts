import {
  DeveloperPortalAccessProvider,
  type DeveloperPortalAccessInputs,
} from "../../dynamic-providers/developer-portal-access";
import { FAST_CLIENT, FORMS, inForm, useEmulator } from "./support";

const ctx = useEmulator();

describe.each(FORMS)("DeveloperPortalAccess (%s)", (form) => {
  const provider = () => inForm(form, new DeveloperPortalAccessProvider(FAST_CLIENT));

  it("sets the access code and settings, records what was there, and restores it on delete", async () => {
    const p = await provider();
    const initialCode = ctx.emulator.state.provider.site_access_code;
    const initialSignups = ctx.emulator.state.settings.signups_enabled;
    const inputs: DeveloperPortalAccessInputs = {
      connection: ctx.connection,
      siteAccessCode: "",
      settings: { signupsEnabled: !initialSignups, accountApprovalRequired: false },
    };
    const { id, outs } = await p.create(inputs);
    expect(ctx.emulator.state.provider.site_access_code ?? "").toBe("");
    expect(ctx.emulator.state.settings.signups_enabled).toBe(!initialSignups);
    expect(outs.previous).toMatchObject({ siteAccessCode: initialCode, settings: { signupsEnabled: initialSignups } });

    ctx.emulator.resetCalls();
    await p.update(id, outs, inputs);
    expect(ctx.emulator.writes()).toEqual([]);

    // drift: someone sets a code again in the admin portal
    ctx.emulator.state.provider.site_access_code = "reinstated";
    const read = await p.read(id, outs);
    expect(read).toMatchObject({ id, props: { siteAccessCode: "reinstated" } });
    expect((await p.diff(id, read.props, inputs)).changes).toBe(true);
    const updated = await p.update(id, read.props, inputs);
    expect(ctx.emulator.state.provider.site_access_code ?? "").toBe("");
    expect(updated.outs.previous.siteAccessCode).toBe(initialCode);

    await p.delete(id, updated.outs);
    expect(ctx.emulator.state.provider.site_access_code).toBe(initialCode);
    expect(ctx.emulator.state.settings.signups_enabled).toBe(initialSignups);
  });

  it("rejects unknown settings and wrong types in check without API calls", async () => {
    const p = await provider();
    const result = await p.check(
      {},
      {
        connection: ctx.connection,
        siteAccessCode: 7,
        settings: { signupsEnabled: "yes", signupEnabled: true },
      },
    );
    expect(result.failures?.map((f) => f.property).sort()).toEqual([
      "settings.signupEnabled",
      "settings.signupsEnabled",
      "siteAccessCode",
    ]);
    expect(ctx.emulator.calls).toEqual([]);
  });
});
