import * as path from "path";
import { formatNatively, sdkAwareStackFormatter, withCheapSdkStacks } from "../../../scripts/plan/sdk-stacks";

/** A stand-in for V8's CallSite with just what the formatter reads. */
function frame(fn: string, file: string, line = 1): NodeJS.CallSite {
  return {
    getFunctionName: () => fn,
    getFileName: () => file,
    toString: () => `${fn} (${file}:${line}:1)`,
  } as unknown as NodeJS.CallSite;
}

const SDK = "/project/node_modules/@pulumi/pulumi";
const userFrames = (n: number) => Array.from({ length: n }, (_, i) => frame(`user${i}`, "/project/app.ts", i + 1));

describe("sdkAwareStackFormatter", () => {
  test("a debuggablePromise stack is formatted natively with its creator's frames only", () => {
    const fallback = jest.fn(() => "fallback");
    const frames = [frame("debuggablePromise", `${SDK}/runtime/debuggable.js`), ...userFrames(20)];
    const text = sdkAwareStackFormatter(fallback)(new Error("x"), frames) as string;
    expect(fallback).not.toHaveBeenCalled();
    expect(text.split("\n")).toEqual([
      "Error: x",
      `    at debuggablePromise (${SDK}/runtime/debuggable.js:1:1)`,
      "    at user0 (/project/app.ts:1:1)",
      "    at user1 (/project/app.ts:2:1)",
    ]);
  });

  test("Resource.callsites keeps ten frames (the resource's source position is among them)", () => {
    const frames = [frame("callsites", `${SDK}/resource.js`), ...userFrames(40)];
    const text = sdkAwareStackFormatter(undefined)(new Error(""), frames) as string;
    expect(text.split("\n")).toHaveLength(11);
    expect(text).toContain("user8 (/project/app.ts:9:1)");
    expect(text).not.toContain("user9 ");
  });

  test("every other stack goes to the installed formatter untouched, or V8's format without one", () => {
    const fallback = jest.fn(() => "source-mapped");
    const error = new Error("boom");
    const others = [
      userFrames(12),
      [frame("callsites", "/project/my-resource.js"), ...userFrames(2)],
      [frame("somethingElse", `${SDK}/runtime/debuggable.js`), ...userFrames(2)],
    ];
    for (const frames of others) expect(sdkAwareStackFormatter(fallback)(error, frames)).toBe("source-mapped");
    expect(fallback).toHaveBeenCalledTimes(3);
    expect(fallback).toHaveBeenCalledWith(error, others[0]);
    expect(sdkAwareStackFormatter(undefined)(error, userFrames(12))).toBe(formatNatively(error, userFrames(12)));
  });

  test("Windows paths are recognised", () => {
    const fallback = jest.fn(() => "fallback");
    const windows = "C:\\project\\node_modules\\@pulumi\\pulumi\\runtime\\debuggable.js";
    sdkAwareStackFormatter(fallback)(new Error(), [frame("debuggablePromise", windows), ...userFrames(5)]);
    expect(fallback).not.toHaveBeenCalled();
  });
});

describe("withCheapSdkStacks", () => {
  const installed = Error.prepareStackTrace;
  afterEach(() => {
    Error.prepareStackTrace = installed;
  });

  test("the SDK's promise stacks are short inside, user errors keep the installed formatter, and it is restored", async () => {
    const marker = (error: Error) => `marked: ${error.message}`;
    Error.prepareStackTrace = marker;
    const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
      debuggablePromise<T>(p: Promise<T>, ctx: string): Promise<T>;
    };
    const created: Array<Promise<number>> = [];
    const inside = await withCheapSdkStacks(async () => {
      const p = Promise.resolve(1);
      await debuggable.debuggablePromise(p, "test");
      created.push(p);
      return new Error("mine").stack;
    });
    expect(inside).toBe("marked: mine");
    const sdkStack = (created[0] as unknown as { _debugStackTrace: string })._debugStackTrace;
    expect(sdkStack.split("\n")).toHaveLength(4);
    expect(sdkStack).toContain(`${path.sep}debuggable.js`);
    expect(Error.prepareStackTrace).toBe(marker);
  });

  test("restores the formatter when the body throws", async () => {
    const marker = () => "marked";
    Error.prepareStackTrace = marker;
    await expect(
      withCheapSdkStacks(async () => {
        throw new Error("failed");
      }),
    ).rejects.toThrow("failed");
    expect(Error.prepareStackTrace).toBe(marker);
  });
});
