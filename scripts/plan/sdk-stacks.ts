/**
 * The SDK formats a stack trace for every promise it creates (`debuggablePromise`, four per resource property, kept
 * for promise-leak reports) and a full-depth one per resource (`Resource.callsites`, source positions sent to the
 * engine). Under ts-node or jest each frame goes through source-map lookups: at 50 models that was most of a no-op
 * `up` (7-9 s of CPU of which about 4.5 s formatting stacks). The mock monitor ignores source positions, so while
 * the harness runs a program those two stacks are formatted natively and cut short; every other error keeps the
 * installed (source-mapped) formatter.
 */

/**
 * Where the SDK builds bookkeeping stacks, and how many frames to keep: the promise's creator is enough for a leak
 * report; the default depth keeps a resource's source position among its frames.
 */
const BOOKKEEPING_FRAMES: ReadonlyArray<{ file: string; fn: string; depth: number }> = [
  { file: "/@pulumi/pulumi/runtime/debuggable.js", fn: "debuggablePromise", depth: 3 },
  { file: "/@pulumi/pulumi/resource.js", fn: "callsites", depth: 10 },
];

type PrepareStackTrace = (error: Error, frames: NodeJS.CallSite[]) => unknown;

/** How many frames to format when `frames` is an SDK bookkeeping stack, else undefined. */
function bookkeepingDepth(frames: NodeJS.CallSite[]): number | undefined {
  const top = frames[0];
  const fn = top?.getFunctionName();
  const file = top?.getFileName()?.replace(/\\/g, "/");
  if (!fn || !file) return undefined;
  return BOOKKEEPING_FRAMES.find((b) => b.fn === fn && file.endsWith(b.file))?.depth;
}

/** V8's own format: the error's text, then one `    at <frame>` line per frame. */
export function formatNatively(error: Error, frames: NodeJS.CallSite[]): string {
  return `${Error.prototype.toString.call(error)}${frames.map((f) => `\n    at ${f.toString()}`).join("")}`;
}

/** A formatter that answers the SDK's bookkeeping stacks cheaply and hands everything else to `fallback`. */
export function sdkAwareStackFormatter(fallback: PrepareStackTrace | undefined): PrepareStackTrace {
  return (error, frames) => {
    const depth = bookkeepingDepth(frames);
    return depth === undefined
      ? (fallback ?? formatNatively)(error, frames)
      : formatNatively(error, frames.slice(0, depth));
  };
}

/** Runs `body` with the SDK-aware formatter installed on this realm's `Error`, then restores the previous one. */
export async function withCheapSdkStacks<T>(body: () => Promise<T>): Promise<T> {
  const installed = Error.prepareStackTrace;
  Error.prepareStackTrace = sdkAwareStackFormatter(installed);
  try {
    return await body();
  } finally {
    Error.prepareStackTrace = installed;
  }
}
