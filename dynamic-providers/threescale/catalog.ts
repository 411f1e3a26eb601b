/**
 * Products and backends in the admin API: where they and what they own live, and how they are listed.
 *
 * Serialized by value into each provider (like client.ts): no module-level state.
 */
import { AdminClient } from "./client";

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
