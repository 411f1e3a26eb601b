/** The request-handling scaffold resource routes share: lookup-or-404, list replies, show/update/delete members. */
import type { Params } from "../params";
import {
  collection,
  deleted,
  findOr404,
  ok,
  paginate,
  pathId,
  wrappedInput,
  type PageLimits,
  type Reply,
  type RequestContext,
  type Router,
} from "../router";
import type { EmulatorState } from "../state";
import { now } from "../state";

/** The record whose id is path parameter `name`, optionally narrowed to its parent; else a 404. */
export function byPathId<T extends { id: number }>(
  ctx: RequestContext,
  items: T[],
  name = "id",
  also?: (item: T) => boolean,
): T {
  return findOr404(items, pathId(ctx, name), also);
}

/** `{"<plural>":[{"<singular>":{...}}]}`, paginated (with metadata past one page) when `pages` is given. */
export function listReply<T>(
  ctx: RequestContext,
  names: { plural: string; singular: string },
  items: T[],
  render: (item: T) => Record<string, unknown>,
  pages?: PageLimits,
): Reply {
  const page = pages ? paginate(ctx, items, pages) : { items };
  return ok(collection(names.plural, names.singular, page, render));
}

/** Assigns changed fields and touches updated_at only when something really changed. */
export function applyChanges<T extends { updated_at: string }>(target: T, next: Partial<T>): boolean {
  const changed = Object.entries(next).filter(
    ([k, value]) => JSON.stringify((target as Record<string, unknown>)[k]) !== JSON.stringify(value),
  );
  if (changed.length === 0) return false;
  for (const [k, value] of changed) (target as Record<string, unknown>)[k] = value;
  target.updated_at = now();
  return true;
}

export interface MemberRoutes<T> {
  /** Path template of one record, e.g. `/admin/api/active_docs/{id}`. */
  path: string;
  /** Key of the record in replies (`{"<key>": {...}}`). */
  key: string;
  /** The record the path names (404 when there is none). */
  find: (ctx: RequestContext) => T;
  render: (state: EmulatorState, item: T) => Record<string, unknown>;
  /** PUT: body params under `wrapper` (default: `key`) limited to `attrs`, validated and applied by `apply`. */
  update?: {
    wrapper?: string;
    attrs: readonly string[];
    apply: (ctx: RequestContext, input: Params, item: T) => void;
  };
  /** DELETE: refuses (throws) or removes the record and what depends on it. */
  remove?: (ctx: RequestContext, item: T) => void;
}

/** GET (show), and where given PUT (update) and DELETE, of one record; each replies the way 3scale does. */
export function addMemberRoutes<T>(router: Router, member: MemberRoutes<T>): Router {
  const { path, key, find, render, update, remove } = member;
  router.add("GET", path, (ctx) => ok({ [key]: render(ctx.state, find(ctx)) }));
  if (update) {
    const wrapper = update.wrapper ?? key;
    router.add(
      "PUT",
      path,
      (ctx) => {
        const item = find(ctx);
        update.apply(ctx, wrappedInput(ctx, wrapper, update.attrs), item);
        return ok({ [key]: render(ctx.state, item) });
      },
      wrapper,
    );
  }
  if (remove) {
    router.add("DELETE", path, (ctx) => {
      remove(ctx, find(ctx));
      return deleted();
    });
  }
  return router;
}
