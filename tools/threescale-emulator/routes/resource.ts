/**
 * The request-handling scaffold resource routes share: lookup-or-404, list replies, list/create of a collection and
 * show/update/delete of a member.
 */
import type { Params } from "../params";
import {
  collection,
  created,
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

export interface CollectionRoutes<T> {
  /** Path template of the collection, e.g. `/admin/api/active_docs`. */
  path: string;
  /** A list is `{"<plural>":[{"<singular>":{...}}]}`; a created record is `{"<singular>":{...}}`. */
  names: { plural: string; singular: string };
  /** The records a GET lists (those the path and query parameters select; 404 when the path names nothing). */
  items: (ctx: RequestContext) => T[];
  render: (state: EmulatorState, item: T) => Record<string, unknown>;
  /** Paginate the list (3scale paginates some collections and not others). */
  pages?: PageLimits;
  /**
   * POST: body params under `wrapper` (default: `names.singular`) limited to `attrs`. `make` validates, stores and
   * returns the new record; it reads the params through `params()` after its own lookups (a 404 comes before a 400).
   */
  create?: {
    wrapper?: string;
    attrs: readonly string[];
    make: (ctx: RequestContext, params: () => Params) => T;
  };
}

/** GET (list), and where given POST (create), of a collection; each replies the way 3scale does. */
export function addCollectionRoutes<T>(router: Router, routes: CollectionRoutes<T>): Router {
  const { path, names, items, render, pages, create } = routes;
  router.add("GET", path, (ctx) => listReply(ctx, names, items(ctx), (item) => render(ctx.state, item), pages));
  if (create) {
    const wrapper = create.wrapper ?? names.singular;
    router.add(
      "POST",
      path,
      (ctx) => {
        const item = create.make(ctx, () => wrappedInput(ctx, wrapper, create.attrs));
        return created({ [names.singular]: render(ctx.state, item) });
      },
      wrapper,
    );
  }
  return router;
}

export interface MemberRoutes<T> {
  /** Path template of one record, e.g. `/admin/api/active_docs/{id}`. */
  path: string;
  /** Key of the record in replies (`{"<key>": {...}}`); none: the record itself is the reply (the CMS API). */
  key?: string;
  /** The record the path names (404 when there is none). */
  find: (ctx: RequestContext) => T;
  render: (state: EmulatorState, item: T) => Record<string, unknown>;
  /**
   * PUT: the params `input` reads (default: body params under `wrapper`, itself defaulting to `key`, limited to
   * `attrs`), validated and applied by `apply`.
   */
  update?: {
    wrapper?: string;
    attrs?: readonly string[];
    input?: (ctx: RequestContext, item: T) => Params;
    apply: (ctx: RequestContext, input: Params, item: T) => void;
  };
  /** DELETE: refuses (throws) or removes the record and what depends on it. */
  remove?: (ctx: RequestContext, item: T) => void;
}

/** GET (show), and where given PUT (update) and DELETE, of one record; each replies the way 3scale does. */
export function addMemberRoutes<T>(router: Router, member: MemberRoutes<T>): Router {
  const { path, key, find, render, update, remove } = member;
  const reply = (ctx: RequestContext, item: T) => {
    const body = render(ctx.state, item);
    return ok(key === undefined ? body : { [key]: body });
  };
  router.add("GET", path, (ctx) => reply(ctx, find(ctx)));
  if (update) {
    const wrapper = update.wrapper ?? key;
    const input = update.input ?? ((ctx: RequestContext) => wrappedInput(ctx, wrapper!, update.attrs ?? []));
    router.add(
      "PUT",
      path,
      (ctx) => {
        const item = find(ctx);
        update.apply(ctx, input(ctx, item), item);
        return reply(ctx, item);
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
