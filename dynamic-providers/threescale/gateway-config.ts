/**
 * A product's gateway configurations: the latest staging and production versions, deploy and promote, and deleting
 * an object the latest configurations still reference.
 *
 * Serialized by value into each provider (like client.ts): no module-level state.
 */
import { AdminClient, ThreescaleApiError } from "./client";
import { productPath } from "./catalog";

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
 * Deletes an object of the product that its latest gateway configs may still reference: on that refusal, redeploys
 * the product (configs without the object, since its mapping rules are deleted first) and retries, a bounded number
 * of times.
 */
export async function deleteReferencedByConfigs(
  client: AdminClient,
  path: string,
  productId: number,
  attempts = 3,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await client.deleteIfExists(path);
      return;
    } catch (err) {
      if (!isUsedByLatestConfig(err) || attempt >= attempts) throw err;
      await redeploy(client, productId);
    }
  }
}
