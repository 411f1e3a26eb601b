/**
 * Helpers shared by the 3scale providers: camelCase input ↔ snake_case API field mapping, tolerant comparison of
 * desired inputs against 3scale's representation, create-or-adopt that is safe under retries, and field validation
 * rules that produce `check` failures.
 *
 * Serialized by value into each provider (like client.ts): no module-level state, no Pulumi runtime objects.
 */
import { AdminClient, ClientOptions, Connection, isAlreadyTaken, isNotFound, isRetryable } from "./client";
import type { Failure } from "./provider-kit";

/** camelCase input name → 3scale API field name. */
export type FieldMap = Record<string, string>;

/** API body of the given inputs; inputs left undefined are not managed and therefore not sent. */
export function toApi(inputs: Record<string, any>, fields: FieldMap): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  for (const [input, api] of Object.entries(fields)) if (inputs[input] !== undefined) body[api] = inputs[input];
  return body;
}

/** 3scale's current values of the managed inputs (those set in `managed`), under their input names. */
export function fromApi(actual: Record<string, any>, fields: FieldMap, managed: Record<string, any>) {
  const values: Record<string, unknown> = {};
  for (const [input, api] of Object.entries(fields)) if (managed[input] !== undefined) values[input] = actual[api];
  return values;
}

const isBlank = (v: unknown) => v === null || v === undefined || v === "";

/** Equality as 3scale means it: null ≈ "" (cleared text), 5 ≈ 5.0 ≈ "5", true ≈ "true"; objects compared as data. */
export function looseEqual(desired: unknown, actual: unknown): boolean {
  if (desired === actual || (isBlank(desired) && isBlank(actual))) return true;
  if (isBlank(desired) || isBlank(actual)) return false;
  if (typeof desired === "number" || typeof actual === "number") return Number(desired) === Number(actual);
  if (typeof desired === "boolean" || typeof actual === "boolean") return String(desired) === String(actual);
  return JSON.stringify(sortKeys(desired)) === JSON.stringify(sortKeys(actual));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as any)[k])]),
    );
  }
  return value;
}

/** The part of a desired API body that differs from 3scale's current representation (what an update must send). */
export function differences(desired: Record<string, unknown>, actual: Record<string, any>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(desired).filter(([k, v]) => !looseEqual(v, actual?.[k])));
}

export function hasAny(body: Record<string, unknown>): boolean {
  return Object.keys(body).length > 0;
}

/**
 * Finds the object or creates it, safely under retries and after crashed runs. Every round looks the object up
 * first; the create POST is sent at most once per round (the client never re-sends it on its own), so a POST that
 * succeeded but whose response was lost is found and adopted by the next round instead of being duplicated, and a
 * 422 "has already been taken" leads to the lookup as well.
 */
export async function findOrCreate<T>(
  connection: Connection,
  options: ClientOptions,
  find: (client: AdminClient) => Promise<T | undefined>,
  create: (client: AdminClient) => Promise<T>,
): Promise<T> {
  const client = new AdminClient(connection, options);
  const sendOnce = new AdminClient(connection, { ...options, maxAttempts: 1 });
  const rounds = options.maxAttempts ?? 7;
  for (let round = 1; ; round++) {
    const existing = await find(client);
    if (existing !== undefined) return existing;
    try {
      return await create(sendOnce);
    } catch (err) {
      if (round >= rounds || !(isRetryable(err) || isAlreadyTaken(err))) throw err;
      await new Promise((resolve) => setTimeout(resolve, (options.baseDelayMs ?? 200) * round));
    }
  }
}

/** Runs a read; a 404 means the object is gone, which `read` reports by returning no id. */
export async function unlessGone<T>(load: () => Promise<T>): Promise<T | undefined> {
  try {
    return await load();
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export type FieldKind = "string" | "text" | "boolean" | "integer" | "number" | "id" | "systemName" | "url";

export interface FieldRule {
  kind: FieldKind;
  required?: boolean;
  /** Allowed values (strings). */
  oneOf?: readonly string[];
  /** Smallest allowed value for integer/number. */
  min?: number;
  /** A right value, quoted in the failure message. */
  example: string;
  /** Never echo the value (credentials). */
  secret?: boolean;
}

const SYSTEM_NAME = /^\w[\w\-/]{1,254}$/;

function kindProblem(rule: FieldRule, value: unknown): string | undefined {
  switch (rule.kind) {
    case "string":
      return typeof value === "string" && value.trim() !== "" ? undefined : "must be a non-empty string";
    case "text":
      return typeof value === "string" ? undefined : "must be a string";
    case "boolean":
      return typeof value === "boolean" ? undefined : "must be true or false";
    case "integer":
    case "id":
      if (!Number.isInteger(value))
        return rule.kind === "id" ? "must be a 3scale object id (an integer)" : "must be an integer";
      return (value as number) < (rule.min ?? (rule.kind === "id" ? 1 : -Infinity))
        ? `must be ≥ ${rule.min ?? 1}`
        : undefined;
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) return "must be a number";
      return rule.min !== undefined && value < rule.min ? `must be ≥ ${rule.min}` : undefined;
    case "systemName":
      return typeof value === "string" && SYSTEM_NAME.test(value)
        ? undefined
        : "must be a 3scale system_name: a letter, digit or '_' then at least one of those or '-' '/'";
    case "url":
      return typeof value === "string" && /^https?:\/\/[^\s/]+\S*$/.test(value) ? undefined : "must be an http(s) URL";
  }
}

/** `check` failures for known input values; unknown values were already filtered out by the provider kit. */
export function fieldFailures(inputs: Record<string, any>, rules: Record<string, FieldRule>, prefix = ""): Failure[] {
  const failures: Failure[] = [];
  for (const [key, rule] of Object.entries(rules)) {
    const value = inputs[key];
    let problem: string | undefined;
    if (value === undefined || value === null) problem = rule.required ? "is required" : undefined;
    else if (rule.oneOf && !rule.oneOf.includes(value)) problem = `must be one of ${rule.oneOf.join(", ")}`;
    else problem = kindProblem(rule, value);
    if (problem) {
      const got = rule.secret || value === undefined ? "" : `; got ${JSON.stringify(value)}`;
      failures.push({ property: prefix + key, reason: `${problem}, e.g. ${rule.example}${got}` });
    }
  }
  return failures;
}
