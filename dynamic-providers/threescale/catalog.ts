/**
 * Products and backends in the admin API: where they and what they own live, how they are listed, and waiting out
 * their asynchronous deletion.
 *
 * Serialized by value into each provider (like client.ts): no module-level state.
 */
import { AdminClient, ThreescaleApiError } from "./client";

/** The admin API collections of products (3scale calls them services) and of backends. */
export const PRODUCTS_PATH = "/admin/api/services";
export const BACKENDS_PATH = "/admin/api/backend_apis";

/** A product's path without `.json`; everything the product owns lives below it. */
export function productPath(productId: number | string): string {
  return `${PRODUCTS_PATH}/${productId}`;
}

/** A product's mapping rules, without `.json`. */
export function productRulesPath(productId: number | string): string {
  return `${productPath(productId)}/proxy/mapping_rules`;
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

/** The product's metrics and methods (one list holds both; methods carry `parent_id`), unwrapped. */
export async function listProductMetrics(client: AdminClient, productId: number): Promise<any[]> {
  const items = await client.list(`${productPath(productId)}/metrics.json`, "metrics", undefined);
  return items.map((i) => i.metric ?? i.method ?? i);
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
