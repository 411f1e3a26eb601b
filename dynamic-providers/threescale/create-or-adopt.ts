/**
 * Create or adopt: the create path of every 3scale object, safe under retries and after crashed runs (an object
 * that already exists is adopted, never duplicated).
 *
 * Serialized by value into each provider (like client.ts): no module-level state.
 */
import { AdminClient, isAlreadyTaken, isRetryable } from "./client";

/** How `findOrCreate` may start. */
export interface CreateOptions {
  /**
   * 3scale enforces the object's key (a duplicate gets 422 "has already been taken"), so a first attempt POSTs
   * without looking: one call on a fresh tenant. Leave unset for objects 3scale accepts twice (mapping rules,
   * applications by name): those must be looked up before every POST.
   */
  keyIsUnique?: boolean;
  /**
   * 3scale deletes the object in the background (products, backends): a deleted namesake keeps the key taken, and
   * is no longer listed, for as long as its DeleteObjectHierarchyWorker takes. A create then waits for it, up to the
   * client's `pendingDeletionTimeoutMs`, instead of giving up after `maxAttempts`.
   */
  deletedAsynchronously?: boolean;
  /** What the object is called in errors, e.g. `product "granite"`. */
  label?: string;
}

/**
 * Finds the object or creates it, safely under retries and after crashed runs. The create POST is sent at most
 * once per round (never re-sent blindly by the client). A round looks the object up first when the object has no
 * unique key, or when the previous POST may have been applied (timeout, reset, 5xx/409 after sending): a POST that
 * succeeded but whose response was lost is then adopted instead of duplicated. With a unique key the first round
 * POSTs straight away, and a 422 "has already been taken" (an earlier crashed run, a concurrent one) leads to the
 * lookup and adoption; a key taken but not listed (a namesake still being deleted in the background) is retried,
 * for up to `pendingDeletionTimeoutMs` when the object is deleted asynchronously.
 */
export async function findOrCreate<T>(
  client: AdminClient,
  find: (client: AdminClient) => Promise<T | undefined>,
  create: (client: AdminClient) => Promise<T>,
  options: CreateOptions = {},
): Promise<T> {
  const sendOnce = client.withOptions({ maxAttempts: 1 });
  const unique = options.keyIsUnique === true;
  let lookFirst = !unique;
  let failures = 0;
  let waitingSince: number | undefined;
  for (let round = 1; ; round++) {
    if (lookFirst) {
      const existing = await find(client);
      if (existing !== undefined) return existing;
    }
    try {
      return await create(sendOnce);
    } catch (err) {
      let pendingDeletion = false;
      if (unique && isAlreadyTaken(err)) {
        const existing = await find(client);
        if (existing !== undefined) return existing;
        lookFirst = false; // just looked: nothing to adopt yet
        pendingDeletion = options.deletedAsynchronously === true;
      } else if (isRetryable(err) || isAlreadyTaken(err)) {
        lookFirst = true;
      } else {
        throw err;
      }
      if (pendingDeletion) {
        // Taken, not listed: a deleted namesake waits for 3scale's background worker. Wait for it (time-bounded).
        waitingSince ??= Date.now();
        if (Date.now() - waitingSince >= client.pendingDeletionTimeoutMs) {
          throw new Error(
            `3scale ${options.label ?? "object"}: the system_name is still taken by a deleted namesake after ` +
              `${Math.round(client.pendingDeletionTimeoutMs / 1000)} s; 3scale removes deleted products and backends ` +
              `in the background (DeleteObjectHierarchyWorker): run again once it is done (${err})`,
          );
        }
      } else if (++failures >= client.maxAttempts) throw err;
      await client.pause(Math.min(round, 16));
    }
  }
}
