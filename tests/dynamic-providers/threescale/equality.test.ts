/** Equality as data and as 3scale means it. */
import { canonical, looseEqual, withDefaultPort } from "../../../dynamic-providers/threescale/equality";

test("3scale's stored forms equal what was sent: null and empty text, numbers and their text, default ports", () => {
  expect(looseEqual(null, "")).toBe(true);
  expect(looseEqual(0, null)).toBe(false);
  expect(looseEqual(5, "5.0")).toBe(true);
  expect(looseEqual(true, "true")).toBe(true);
  expect(looseEqual({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(true);
  expect(looseEqual([1, 2], [2, 1])).toBe(false);
  expect(withDefaultPort("https://x.svc/v1")).toBe("https://x.svc:443/v1");
  expect(withDefaultPort("http://x.svc:8080")).toBe("http://x.svc:8080");
});

test("canonical JSON ignores key order and undefined fields, not array order", () => {
  expect(canonical({ b: 1, a: { d: 2, c: [3, { f: 1, e: 2 }] }, z: undefined })).toBe(
    '{"a":{"c":[3,{"e":2,"f":1}],"d":2},"b":1}',
  );
});
