/**
 * Evaluates `pulumi.com/waitFor` expressions against an object the way pulumi-kubernetes does, so a test can tell
 * whether a status a controller writes ends the wait. Rules (pulumi/pulumi-kubernetes provider/pkg):
 * - metadata/overrides.go: the annotation is a JSON array of expressions or one expression; all must hold;
 * - await/condition/custom.go, kubectl.go: `condition=T` means status True, `condition=T=S` status S; type and status
 *   compare case-insensitively; a condition (else the status) with an observedGeneration below metadata.generation
 *   does not count;
 * - await/condition/jsonpath.go, jsonpath/jsonpath.go: `jsonpath={path}` needs the path to exist, `{path}=v` the first
 *   selected value, printed as Go's fmt.Sprint would, to equal v exactly; the same status.observedGeneration gate.
 * Supports the JSONPath the program uses: `.field`, `['key']`, `[n]`, `[*]`, `[?@.field=="v"]`.
 */

type Obj = { metadata?: { generation?: number; annotations?: Record<string, string> }; status?: Record<string, any> };

export function parseWaitFor(annotation: string): string[] {
  try {
    const parsed = JSON.parse(annotation);
    if (Array.isArray(parsed)) return parsed.map(String);
  } catch {
    // A single expression.
  }
  return [annotation];
}

function generationOk(observed: unknown, generation: number): boolean {
  return typeof observed !== "number" || observed >= generation;
}

function conditionHolds(expr: string, object: Obj): boolean {
  const [type, wanted = "True"] = expr.split("=");
  const generation = object.metadata?.generation ?? 0;
  const conditions: Array<Record<string, unknown>> = object.status?.conditions ?? [];
  const c = conditions.find((x) => String(x.type).toLowerCase() === type.toLowerCase());
  if (!c || String(c.status).toLowerCase() !== wanted.toLowerCase()) return false;
  const observed = c.observedGeneration ?? object.status?.observedGeneration;
  return generationOk(observed, generation);
}

function select(values: unknown[], step: string): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    if (v === null || typeof v !== "object") continue;
    const filter = /^\[\?@\.(\w+)\s*==\s*["']([^"']*)["']\]$/.exec(step);
    if (filter) {
      if (Array.isArray(v)) out.push(...v.filter((x) => x && String(x[filter[1]]) === filter[2]));
    } else if (step === "[*]") {
      out.push(...(Array.isArray(v) ? v : Object.values(v)));
    } else if (/^\[(["'])[^"']*\1\]$/.test(step)) {
      const key = step.slice(2, -2);
      if (!Array.isArray(v) && key in v) out.push((v as Record<string, unknown>)[key]);
    } else if (/^\[\d+\]$/.test(step)) {
      if (Array.isArray(v) && Number(step.slice(1, -1)) < v.length) out.push(v[Number(step.slice(1, -1))]);
    } else if (!Array.isArray(v) && step in v) {
      out.push((v as Record<string, unknown>)[step]);
    }
  }
  return out;
}

/** The values `path` (e.g. `{.status.conditions[?@.type=="Ready"].reason}`) selects in `object`. */
export function jsonPath(object: unknown, path: string): unknown[] {
  if (!path.startsWith("{") || !path.endsWith("}")) throw new Error(`jsonpath must be wrapped in {}: ${path}`);
  const steps = path.slice(1, -1).match(/\[[^\]]*\]|\.[^.[]+/g) ?? [];
  return steps.reduce<unknown[]>(
    (values, step) => select(values, step.startsWith(".") ? step.slice(1) : step),
    [object],
  );
}

/** Go's fmt.Sprint of a JSON scalar. */
function sprint(v: unknown): string {
  if (v !== null && typeof v === "object") throw new Error("jsonpath selected a map or a list, not a value");
  return String(v);
}

function jsonPathHolds(expr: string, object: Obj): boolean {
  const cut = expr.indexOf("}=");
  const path = cut < 0 ? expr : expr.slice(0, cut + 1);
  const wanted = cut < 0 ? undefined : expr.slice(cut + 2);
  if (!generationOk(object.status?.observedGeneration, object.metadata?.generation ?? 0)) return false;
  const found = jsonPath(object, path);
  if (found.length === 0) return false;
  return wanted === undefined || sprint(found[0]) === wanted;
}

/** Whether every expression holds for `object`. */
export function waitSatisfied(expressions: string[], object: Obj): boolean {
  return expressions.every((expr) => {
    if (expr.startsWith("condition=")) return conditionHolds(expr.slice("condition=".length), object);
    if (expr.startsWith("jsonpath=")) return jsonPathHolds(expr.slice("jsonpath=".length), object);
    throw new Error(`expected a "jsonpath=" or "condition=" prefix, got "${expr}"`);
  });
}
