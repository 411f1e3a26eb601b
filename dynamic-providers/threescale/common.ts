/**
 * Helpers shared by the 3scale providers: adopt-or-create, field mapping between camelCase inputs and the admin
 * API's snake_case, "only what differs" update bodies, refresh of managed fields, and the gateway-config and
 * async-deletion dances 3scale requires.
 *
 * Serialized by value into each provider (see client.ts): no module-level state, packages required inside functions.
 */
import { AdminClient, isAlreadyTaken, ThreescaleApiError } from "./client";
import { Failure, isUnknown, withDefaultPort } from "./provider-kit";

/** `fooBarBaz` → `foo_bar_baz`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** Equality the admin API needs: null/""/absent are one "empty" value, numbers equal their decimal strings. */
export function looselyEqual(a: unknown, b: unknown): boolean {
  const empty = (v: unknown) => v === undefined || v === null || v === "";
  if (empty(a) || empty(b)) return empty(a) && empty(b);
  if (typeof a === "object" || typeof b === "object") return JSON.stringify(a) === JSON.stringify(b);
  return String(a) === String(b);
}

/**
 * The API body holding only the managed fields (desired value defined) whose actual value differs.
 * `fields` maps input names to API names; `normalize` adjusts both sides (e.g. default URL ports).
 */
export function differingBody(
  desired: Record<string, unknown>,
  actual: Record<string, unknown> | undefined,
  fields: Record<string, string>,
  normalize: (input: string, value: unknown) => unknown = (_k, v) => v,
): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [input, api] of Object.entries(fields)) {
    const want = desired[input];
    if (want === undefined) continue;
    if (!actual || !looselyEqual(normalize(input, want), normalize(input, actual[api]))) body[api] = want;
  }
  return body;
}

/** `props` with every managed field (defined in props) replaced by its actual value, so refresh shows drift. */
export function refreshed(
  props: Record<string, any>,
  actual: Record<string, unknown>,
  fields: Record<string, string>,
): Record<string, any> {
  const out = { ...props };
  for (const [input, api] of Object.entries(fields)) {
    if (props[input] !== undefined) out[input] = actual[api] ?? null;
  }
  return out;
}

/** Normaliser for URL fields that 3scale stores with an explicit default port. */
export function urlPorts(urlFields: string[]): (input: string, value: unknown) => unknown {
  return (input, value) => (urlFields.includes(input) && typeof value === "string" ? withDefaultPort(value) : value);
}

/**
 * Finds the object, or creates it. A create refused because the key "has already been taken" (a retried POST that
 * had in fact succeeded, or a concurrent run) is answered by looking the object up again.
 */
export async function findOrCreate<T>(
  find: () => Promise<T | undefined>,
  create: () => Promise<T>,
): Promise<{ item: T; adopted: boolean }> {
  const existing = await find();
  if (existing !== undefined) return { item: existing, adopted: true };
  try {
    return { item: await create(), adopted: false };
  } catch (err) {
    if (!isAlreadyTaken(err)) throw err;
    const raced = await find();
    if (raced === undefined) throw err;
    return { item: raced, adopted: true };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Validation helpers (each returns failures naming the input and showing a right value)

const SYSTEM_NAME = /^\w[\w\-/]+$/;

export function systemNameFailures(value: unknown, property = "systemName"): Failure[] {
  if (typeof value === "string" && SYSTEM_NAME.test(value) && value.length <= 255) return [];
  return [
    {
      property,
      reason: `must start with a letter, digit or "_" followed by letters, digits, "_", "-" or "/" (2-255 chars), e.g. "llama_3_8b"; got ${JSON.stringify(value)}`,
    },
  ];
}

export function requiredTextFailures(inputs: object, fields: string[], example: string): Failure[] {
  const values = inputs as Record<string, unknown>;
  return fields
    .filter((f) => typeof values[f] !== "string" || (values[f] as string).trim() === "")
    .map((f) => ({
      property: f,
      reason: `must be a non-empty string, e.g. "${example}"; got ${JSON.stringify(values[f])}`,
    }));
}

/** Ids of other 3scale objects: positive integers (checked only once known). */
export function idFailures(inputs: object, fields: string[]): Failure[] {
  const values = inputs as Record<string, unknown>;
  return fields
    .filter((f) => values[f] !== undefined && !isUnknown(values[f]))
    .filter((f) => !Number.isInteger(values[f]) || (values[f] as number) <= 0)
    .map((f) => ({
      property: f,
      reason: `must be a 3scale object id (positive integer), e.g. 42; got ${JSON.stringify(values[f])}`,
    }));
}

export function urlFailures(value: unknown, property: string, schemes = ["http", "https"]): Failure[] {
  const ok =
    typeof value === "string" && new RegExp(`^(${schemes.join("|")})://[^/\\s:]+(:\\d+)?(/\\S*)?$`).test(value);
  return ok
    ? []
    : [
        {
          property,
          reason: `must be a ${schemes.join("/")} URL, e.g. "https://llm.models.svc:8443"; got ${JSON.stringify(value)}`,
        },
      ];
}

// ---------------------------------------------------------------------------------------------------------------
// Gateway configurations and asynchronous deletion

/** Latest version of a product's config in `environment`, undefined when there is none (404). */
export async function latestConfigVersion(
  client: AdminClient,
  productId: number,
  environment: "sandbox" | "production",
): Promise<number | undefined> {
  const found = await client.find(`/admin/api/services/${productId}/proxy/configs/${environment}/latest.json`);
  return found?.proxy_config?.version;
}

/**
 * Promotes the latest staging config to production unless production already runs it.
 * A 422 on promote means the version was promoted meanwhile (e.g. a retried request); re-read to confirm.
 */
export async function promoteLatest(client: AdminClient, productId: number): Promise<number | undefined> {
  const staging = await latestConfigVersion(client, productId, "sandbox");
  const production = await latestConfigVersion(client, productId, "production");
  if (staging === undefined || staging === production) return production;
  try {
    await client.post(`/admin/api/services/${productId}/proxy/configs/sandbox/${staging}/promote.json`, {
      to: "production",
    });
  } catch (err) {
    if (!(err instanceof ThreescaleApiError && err.status === 422)) throw err;
    if ((await latestConfigVersion(client, productId, "production")) !== staging) throw err;
  }
  return staging;
}

/** Saves the product's current state as the latest staging config, and in production too if it had one. */
export async function redeploy(client: AdminClient, productId: number): Promise<void> {
  const hadProduction = (await latestConfigVersion(client, productId, "production")) !== undefined;
  await client.post(`/admin/api/services/${productId}/proxy/deploy.json`);
  if (hadProduction) await promoteLatest(client, productId);
}

/** A DELETE refused because the latest staging/production config still references the object (metrics). */
export function isUsedByLatestConfig(err: unknown): boolean {
  return (
    err instanceof ThreescaleApiError &&
    err.status === 403 &&
    /latest gateway configuration/.test(JSON.stringify(err.body))
  );
}

/**
 * Deletes an object the latest gateway configs may still reference: on that refusal, redeploys the products
 * (configs without the object, since its mapping rules are deleted first) and retries, a bounded number of times.
 */
export async function deleteReferencedByConfigs(
  client: AdminClient,
  path: string,
  productIds: () => Promise<number[]>,
  attempts = 3,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.deleteIfExists(path);
      return;
    } catch (err) {
      if (!isUsedByLatestConfig(err) || attempt >= attempts) throw err;
      for (const productId of await productIds()) await redeploy(client, productId);
    }
  }
}

/**
 * Waits (bounded) until an asynchronously deleted object is really gone, so its system_name is free again for a
 * replacement. objects/status answers 200 while the row exists and 404 once gone; other answers end the wait.
 */
export async function waitUntilGone(
  client: AdminClient,
  objectType: "service" | "backend_api",
  id: number,
  polls = 40,
  intervalMs = 250,
): Promise<void> {
  for (let i = 0; i < polls; i++) {
    try {
      await client.get("/admin/api/objects/status.json", { object_type: objectType, object_id: id });
    } catch (err) {
      // 404: gone. Other API answers (e.g. 403 for non-admin tokens) mean we cannot tell: stop waiting.
      if (err instanceof ThreescaleApiError) return;
      throw err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`3scale ${objectType} ${id} was still being deleted after ${(polls * intervalMs) / 1000}s`);
}
