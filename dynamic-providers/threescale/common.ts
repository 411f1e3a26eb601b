/**
 * Helpers shared by the 3scale providers: unknown-value handling and tolerant comparison, field mapping between
 * camelCase inputs and the admin API's snake_case, "only what differs" update bodies and refresh, create-or-adopt
 * that is safe under retries, `check` failure builders, and the gateway-config and async-deletion dances 3scale
 * requires.
 *
 * Serialized by value into each provider (like client.ts): no module-level state, packages required inside
 * functions, arrays rather than Sets, no Pulumi runtime objects.
 */
import { SYSTEM_NAME } from "../../components/config/schema";
import { AdminClient, isAlreadyTaken, isNotFound, isRetryable, ThreescaleApiError } from "./client";

// ---------------------------------------------------------------------------------------------------------------
// Unknown values (preview) and comparison

/** The sentinel Pulumi passes for values that are not known yet (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** True when the value is, or contains, a value not known yet. */
export function isUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(isUnknown);
  if (value && typeof value === "object") return Object.values(value).some(isUnknown);
  return false;
}

/** A value that is given and fully known: the only kind a custom check may judge. */
export function known(value: unknown): boolean {
  return value !== undefined && value !== null && !isUnknown(value);
}

/** Stable JSON: object keys sorted and undefined fields dropped, so comparisons ignore key order, not array order. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .filter((k) => (value as any)[k] !== undefined)
        .map((k) => [k, sortKeys((value as any)[k])]),
    );
  }
  return value;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

const isBlank = (v: unknown) => v === null || v === undefined || v === "";

/** Equality as 3scale means it: null ≈ "" (cleared text), 5 ≈ 5.0 ≈ "5", true ≈ "true"; objects compared as data. */
export function looseEqual(desired: unknown, actual: unknown): boolean {
  if (desired === actual || (isBlank(desired) && isBlank(actual))) return true;
  if (isBlank(desired) || isBlank(actual)) return false;
  if (typeof desired === "number" || typeof actual === "number") return Number(desired) === Number(actual);
  if (typeof desired === "boolean" || typeof actual === "boolean") return String(desired) === String(actual);
  return sameValue(desired, actual);
}

/** `https://host` → `https://host:443`, as 3scale stores endpoints; other URLs unchanged. */
export function withDefaultPort(url: string): string {
  const match = /^(https?):\/\/([^/:?#]+)(:\d+)?(.*)$/.exec(url);
  if (!match) return url;
  const [, scheme, host, port, rest] = match;
  return `${scheme}://${host}${port ?? (scheme === "https" ? ":443" : ":80")}${rest}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Field mapping, update bodies, refresh

/** camelCase input name → 3scale API field name. */
export type FieldMap = Record<string, string>;

/** Adjusts a value of the API field `field` before comparison (e.g. adds the default URL port). */
export type FieldNormalizer = (field: string, value: unknown) => unknown;

const asIs: FieldNormalizer = (_field, value) => value;

/** `fooBarBaz` → `foo_bar_baz`. */
export function snakeCase(name: string): string {
  return name.replace(/[A-Z]/g, (c) => "_" + c.toLowerCase());
}

/** API body of the given inputs; inputs left undefined are not managed and therefore not sent. */
export function toApi(inputs: object, fields: FieldMap): Record<string, unknown> {
  const values = inputs as Record<string, unknown>;
  const body: Record<string, unknown> = {};
  for (const [input, api] of Object.entries(fields)) if (values[input] !== undefined) body[api] = values[input];
  return body;
}

/** The part of a desired API body that differs from 3scale's current representation (what an update must send). */
export function differences(
  desired: Record<string, unknown>,
  actual: Record<string, any> | undefined,
  normalize: FieldNormalizer = asIs,
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(desired).filter(([k, v]) => !looseEqual(normalize(k, v), normalize(k, actual?.[k]))),
  );
}

/** The update body for `inputs`: managed fields whose value differs from `actual` (all of them without `actual`). */
export function differingBody(
  inputs: object,
  actual: Record<string, any> | undefined,
  fields: FieldMap,
  normalize: FieldNormalizer = asIs,
): Record<string, unknown> {
  return differences(toApi(inputs, fields), actual, normalize);
}

export function hasAny(body: Record<string, unknown>): boolean {
  return Object.keys(body).length > 0;
}

/**
 * `props` with every managed field (defined in props) set to 3scale's value, so refresh shows drift. A value that
 * means the same as the stored one (null vs "", 5 vs "5", a default port) keeps the stored form: no false drift.
 */
export function refreshed(
  props: Record<string, any>,
  actual: Record<string, any>,
  fields: FieldMap,
  normalize: FieldNormalizer = asIs,
): Record<string, any> {
  const out = { ...props };
  for (const [input, api] of Object.entries(fields)) {
    if (props[input] === undefined) continue;
    const same = looseEqual(normalize(api, props[input]), normalize(api, actual[api]));
    out[input] = same ? props[input] : (actual[api] ?? null);
  }
  return out;
}

/** Normaliser for URL fields that 3scale stores with an explicit default port. */
export function urlPorts(apiFields: string[]): FieldNormalizer {
  return (field, value) => (apiFields.includes(field) && typeof value === "string" ? withDefaultPort(value) : value);
}

/**
 * A new `appliedRevision`: a hash of what was written and when. Resources expose it so that whatever depends on
 * their writes (the gateway promotion) updates in the same `pulumi up`, and only when something was written.
 */
export function writeRevision(written: Record<string, unknown>): string {
  const { connection: _credentials, appliedRevision: _previous, ...data } = written;
  const stamp = `${Date.now()}:${require("crypto").randomBytes(4).toString("hex")}`;
  return require("crypto")
    .createHash("sha256")
    .update(`${canonical(data)}@${stamp}`)
    .digest("hex")
    .slice(0, 16);
}

/** `outs` plus `appliedRevision`: a new one when `client` wrote (or none was stored yet), else the stored one. */
export function withAppliedRevision(
  outs: Record<string, any>,
  client: AdminClient,
  olds?: Record<string, any>,
): Record<string, any> {
  const stored: unknown = olds?.appliedRevision;
  const appliedRevision = client.writes > 0 || typeof stored !== "string" ? writeRevision(outs) : stored;
  return { ...outs, appliedRevision };
}

// ---------------------------------------------------------------------------------------------------------------
// Create or adopt; gone objects

/** How `findOrCreate` may start. */
export interface CreateOptions {
  /**
   * 3scale enforces the object's key (a duplicate gets 422 "has already been taken"), so a first attempt POSTs
   * without looking: one call on a fresh tenant. Leave unset for objects 3scale accepts twice (mapping rules,
   * applications by name): those must be looked up before every POST.
   */
  keyIsUnique?: boolean;
}

/**
 * Finds the object or creates it, safely under retries and after crashed runs. The create POST is sent at most
 * once per round (never re-sent blindly by the client). A round looks the object up first when the object has no
 * unique key, or when the previous POST may have been applied (timeout, reset, 5xx/409 after sending): a POST that
 * succeeded but whose response was lost is then adopted instead of duplicated. With a unique key the first round
 * POSTs straight away, and a 422 "has already been taken" (an earlier crashed run, a concurrent one) leads to the
 * lookup and adoption; a key taken but not listed (a namesake still being deleted in the background) is retried.
 */
export async function findOrCreate<T>(
  client: AdminClient,
  find: (client: AdminClient) => Promise<T | undefined>,
  create: (client: AdminClient) => Promise<T>,
  options: CreateOptions = {},
): Promise<{ item: T; adopted: boolean }> {
  const sendOnce = client.withOptions({ maxAttempts: 1 });
  const unique = options.keyIsUnique === true;
  let lookFirst = !unique;
  for (let round = 1; ; round++) {
    if (lookFirst) {
      const existing = await find(client);
      if (existing !== undefined) return { item: existing, adopted: true };
    }
    try {
      return { item: await create(sendOnce), adopted: false };
    } catch (err) {
      if (unique && isAlreadyTaken(err)) {
        const existing = await find(client);
        if (existing !== undefined) return { item: existing, adopted: true };
        lookFirst = false; // just looked: nothing to adopt yet
      } else if (isRetryable(err) || isAlreadyTaken(err)) {
        lookFirst = true;
      } else {
        throw err;
      }
      if (round >= client.maxAttempts) throw err;
      await client.pause(round);
    }
  }
}

/** Runs a load; a 404 means the object is gone, which `read` reports by returning no id. */
export async function unlessGone<T>(load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// check failures: each names the input, says what is wrong and shows a right value

export type Failure = { property: string; reason: string };

/** One failure in the common format; `value` is quoted unless it is a credential. */
export function failure(property: string, problem: string, example: string, value?: unknown): Failure {
  const got = value === undefined ? "" : `; got ${JSON.stringify(value)}`;
  return { property, reason: `${problem}, e.g. ${example}${got}` };
}

export type FieldKind = "string" | "text" | "boolean" | "integer" | "number" | "id" | "systemName" | "url" | "path";

export interface FieldRule {
  kind: FieldKind;
  required?: boolean;
  /** Allowed values. */
  oneOf?: readonly string[];
  /** Bounds for integer/number/id. */
  min?: number;
  max?: number;
  /** URL schemes for kind "url" (default http, https). */
  schemes?: readonly string[];
  /** A right value, quoted in the failure message. */
  example: string;
  /** Never echo the value (credentials). */
  secret?: boolean;
}

function boundsProblem(rule: FieldRule, value: number, what: string): string | undefined {
  const min = rule.min ?? (rule.kind === "id" ? 1 : undefined);
  if (min !== undefined && rule.max !== undefined && (value < min || value > rule.max))
    return `must be ${what} from ${min} to ${rule.max}`;
  if (min !== undefined && value < min) return `must be ${what} ≥ ${min}`;
  if (rule.max !== undefined && value > rule.max) return `must be ${what} ≤ ${rule.max}`;
  return undefined;
}

function kindProblem(rule: FieldRule, value: unknown): string | undefined {
  switch (rule.kind) {
    case "string":
      return typeof value === "string" && value.trim() !== "" ? undefined : "must be a non-empty string";
    case "text":
      return typeof value === "string" ? undefined : "must be a string";
    case "boolean":
      return typeof value === "boolean" ? undefined : "must be true or false";
    case "integer":
    case "id": {
      const what = rule.kind === "id" ? "a 3scale object id (an integer)" : "an integer";
      return Number.isInteger(value) ? boundsProblem(rule, value as number, what) : `must be ${what}`;
    }
    case "number":
      return typeof value === "number" && Number.isFinite(value)
        ? boundsProblem(rule, value, "a number")
        : "must be a number";
    case "systemName":
      return typeof value === "string" && SYSTEM_NAME.test(value)
        ? undefined
        : 'must be a 3scale system_name: a letter, digit or "_" then 1-254 of those or "-" "/"';
    case "url": {
      const schemes = rule.schemes ?? ["http", "https"];
      const ok =
        typeof value === "string" && new RegExp(`^(${schemes.join("|")})://[^/\\s:]+(:\\d+)?([/?#]\\S*)?$`).test(value);
      return ok ? undefined : `must be a ${schemes.join("/")} URL`;
    }
    case "path":
      return typeof value === "string" && value.startsWith("/") && value.length <= 255 && !/\s/.test(value)
        ? undefined
        : 'must be a path starting with "/" (no spaces, at most 255 chars)';
  }
}

/**
 * `check` failures of `inputs` against `rules`. A value not known yet (preview) counts as given: it satisfies
 * `required` and is judged once known.
 */
export function fieldFailures(inputs: object, rules: Record<string, FieldRule>, prefix = ""): Failure[] {
  const values = inputs as Record<string, unknown>;
  const failures: Failure[] = [];
  for (const [key, rule] of Object.entries(rules)) {
    const value = values[key];
    if (isUnknown(value)) continue;
    let problem: string | undefined;
    if (value === undefined || value === null) problem = rule.required ? "is required" : undefined;
    else if (rule.oneOf && !rule.oneOf.includes(value as string)) problem = `must be one of ${rule.oneOf.join(", ")}`;
    else problem = kindProblem(rule, value);
    if (problem) failures.push(failure(prefix + key, problem, rule.example, rule.secret ? undefined : value));
  }
  return failures;
}

// ---------------------------------------------------------------------------------------------------------------
// Owners of metrics, methods and mapping rules

/** A product or backend, as the owner of metrics, methods and mapping rules. */
export interface CatalogOwner {
  kind: "product" | "backend";
  id: number;
}

/** The resource input that holds an owner's id. */
export type OwnerIdInput = "productId" | "backendId";

export function ownerIdInput(kind: CatalogOwner["kind"]): OwnerIdInput {
  return kind === "product" ? "productId" : "backendId";
}

/** The owner a metric/method/mapping-rule resource names through its `productId` or `backendId` input. */
export function inputOwner(kind: CatalogOwner["kind"], inputs: Partial<Record<OwnerIdInput, number>>): CatalogOwner {
  return { kind, id: Number(inputs[ownerIdInput(kind)]) };
}

/** The admin API collections of products (3scale calls them services) and of backends. */
export const PRODUCTS_PATH = "/admin/api/services";
export const BACKENDS_PATH = "/admin/api/backend_apis";

/** A product's path without `.json`; everything the product owns lives below it. */
export function productPath(productId: number | string): string {
  return `${PRODUCTS_PATH}/${productId}`;
}

export function ownerPath(owner: CatalogOwner): string {
  return owner.kind === "product" ? productPath(owner.id) : `${BACKENDS_PATH}/${owner.id}`;
}

/** Mapping rules path without `.json` (a product's live under `proxy/`). */
export function rulesPath(owner: CatalogOwner): string {
  return owner.kind === "product" ? `${ownerPath(owner)}/proxy/mapping_rules` : `${ownerPath(owner)}/mapping_rules`;
}

/** A metric's system name as given on create: a backend's come back as `<name>.<backend id>`. */
export function plainMetricName(owner: CatalogOwner, systemName: string): string {
  const suffix = `.${owner.id}`;
  return owner.kind === "backend" && systemName.endsWith(suffix) ? systemName.slice(0, -suffix.length) : systemName;
}

export function listProducts(client: AdminClient): Promise<any[]> {
  return client.list(`${PRODUCTS_PATH}.json`, "services", "service");
}

export function listBackends(client: AdminClient): Promise<any[]> {
  return client.list(`${BACKENDS_PATH}.json`, "backend_apis", "backend_api");
}

/** The product's backend usages (the API answers a bare array of `{backend_usage: {...}}`). */
export function listBackendUsages(client: AdminClient, productId: number): Promise<any[]> {
  return client.list(`${productPath(productId)}/backend_usages.json`, undefined, "backend_usage");
}

/** The owner's metrics and methods (one list holds both; methods carry `parent_id`), unwrapped. */
export async function listOwnerMetrics(client: AdminClient, owner: CatalogOwner): Promise<any[]> {
  const items = await client.list(`${ownerPath(owner)}/metrics.json`, "metrics", undefined);
  return items.map((i) => i.metric ?? i.method ?? i);
}

// ---------------------------------------------------------------------------------------------------------------
// Gateway configurations and asynchronous deletion

/** Latest version of a product's config in `environment`, undefined when there is none (404). */
export async function latestConfigVersion(
  client: AdminClient,
  productId: number,
  environment: "sandbox" | "production",
): Promise<number | undefined> {
  const found = await client.find(`${productPath(productId)}/proxy/configs/${environment}/latest.json`);
  return found?.proxy_config?.version;
}

/**
 * Promotes the latest staging config to production unless production already runs it.
 * A 422 on promote means the version was promoted meanwhile (e.g. a retried request); re-read to confirm.
 */
export async function promoteLatest(client: AdminClient, productId: number): Promise<number | undefined> {
  const [staging, production] = await Promise.all([
    latestConfigVersion(client, productId, "sandbox"),
    latestConfigVersion(client, productId, "production"),
  ]);
  if (staging === undefined || staging === production) return production;
  try {
    await client.post(`${productPath(productId)}/proxy/configs/sandbox/${staging}/promote.json`, {
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
  await client.post(`${productPath(productId)}/proxy/deploy.json`);
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
