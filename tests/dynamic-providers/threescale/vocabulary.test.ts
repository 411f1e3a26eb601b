/**
 * The providers' 3scale vocabulary against the emulator's: two encodings of the same reference
 * (../shared/reference/threescale-admin-api.md). A name, period or verb the providers (and so the stack config)
 * accept is one 3scale accepts, and the other way round.
 */
import { Validation } from "../../../tools/threescale-emulator/errors";
import { checkSystemName } from "../../../tools/threescale-emulator/model";
import { HTTP_METHODS as EMULATOR_HTTP_METHODS } from "../../../tools/threescale-emulator/routes/catalog";
import { LIMIT_PERIODS as EMULATOR_LIMIT_PERIODS } from "../../../tools/threescale-emulator/routes/plans";
import { HTTP_METHODS, LIMIT_PERIODS, SYSTEM_NAME } from "../../../dynamic-providers/threescale/vocabulary";

test("limit periods and mapping-rule methods are the ones 3scale accepts", () => {
  expect([...LIMIT_PERIODS].sort()).toEqual([...EMULATOR_LIMIT_PERIODS].sort());
  expect([...HTTP_METHODS].sort()).toEqual([...EMULATOR_HTTP_METHODS].sort());
});

test("a system name is accepted exactly when 3scale accepts it", () => {
  const names = ["hits", "total_tokens", "granite-33-8b", "a/b", "_x", "ab", "x".repeat(255)].concat([
    "a",
    "",
    "-ab",
    "/ab",
    "has space",
    "dots.no",
    "é_accent",
    "x".repeat(256),
  ]);
  const byThreescale = (name: string) => {
    const v = new Validation();
    checkSystemName(v, name, false);
    return v.ok;
  };
  const label = (name: string) => (name.length > 16 ? `${name.length} × ${name[0]}` : name);
  const ours = names.map((name) => [label(name), SYSTEM_NAME.test(name)]);
  expect(ours).toEqual(names.map((name) => [label(name), byThreescale(name)]));
  expect(ours.filter(([, accepted]) => accepted)).toHaveLength(7);
});
