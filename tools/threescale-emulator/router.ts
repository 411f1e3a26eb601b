/** A tiny router plus the request helpers every handler shares (wrapped params, pagination, type coercion). */
import { ApiError, missingParameter, notFound } from "./errors";
import { isPlainObject, type Params, type UploadedFile } from "./params";
import type { EmulatorState } from "./state";

export interface RequestContext {
  method: string;
  /** Path without the `.json` suffix. */
  path: string;
  pathParams: Record<string, string>;
  query: Params;
  body: Params;
  files: Record<string, UploadedFile>;
  /** Body had a Content-Type that Rails parameter wrapping applies to. */
  wrappable: boolean;
  state: EmulatorState;
  /** Seeded randomness for generated keys and codes. */
  random: () => number;
  /** The product's proxy lock_version when the request arrived (before latency), as Rails loads the record. */
  loadedLockVersion: (productId: number) => number | undefined;
}

export interface Reply {
  status: number;
  /** Object/array → JSON, string → text/plain, null → empty body. */
  body: unknown;
}

export type Handler = (ctx: RequestContext) => Reply;

export interface Route {
  method: string;
  /** Path template with `{param}` placeholders and no format suffix. */
  template: string;
  /** Rails wrapper key of the body params (spec strictness un-nests it). */
  wrapper?: string;
  handle: Handler;
  regex: RegExp;
  paramNames: string[];
}

export function compileTemplate(template: string): { regex: RegExp; paramNames: string[] } {
  const paramNames: string[] = [];
  const source = template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{(\w+)\}/g, (_m, name: string) => {
    paramNames.push(name);
    return "([^/]+)";
  });
  return { regex: new RegExp(`^${source}$`), paramNames };
}

export class Router {
  private readonly routes: Route[] = [];

  add(method: string, template: string, handle: Handler, wrapper?: string): this {
    this.routes.push({ method, template, handle, wrapper, ...compileTemplate(template) });
    return this;
  }

  /**
   * Literal routes win over parameterised ones (`accounts/find` before `accounts/{id}`). Like Rails resource
   * routes, PATCH reaches the PUT handler where no PATCH route exists (spec strictness may still refuse it).
   */
  match(method: string, path: string): { route: Route; pathParams: Record<string, string> } | "method" | null {
    const candidates = [...this.routes]
      .sort((a, b) => a.paramNames.length - b.paramNames.length)
      .map((route) => ({ route, m: route.regex.exec(path) }))
      .filter((c): c is { route: Route; m: RegExpExecArray } => c.m !== null);
    if (candidates.length === 0) return null;
    const found =
      candidates.find((c) => c.route.method === method) ??
      (method === "PATCH" ? candidates.find((c) => c.route.method === "PUT") : undefined);
    if (!found) return "method";
    const pathParams = Object.fromEntries(
      found.route.paramNames.map((n, i) => [n, decodeURIComponent(found.m[i + 1])]),
    );
    return { route: found.route, pathParams };
  }
}

export const ok = (body: unknown): Reply => ({ status: 200, body });
export const created = (body: unknown): Reply => ({ status: 201, body });
export const deleted = (): Reply => ({ status: 200, body: null });

/**
 * Body params of a resource the way `params.require(wrapper).permit(attrs)` sees them after Rails wrapping:
 * pre-nested under the wrapper key, or flat body fields (query-string fields are never wrapped).
 */
export function wrappedInput(ctx: RequestContext, wrapper: string, attrs: readonly string[]): Params {
  const nested = ctx.body[wrapper] ?? (ctx.wrappable ? undefined : ctx.query[wrapper]);
  if (nested !== undefined && !isPlainObject(nested)) throw new ApiError(422, `Wrong type for parameter: ${wrapper}`);
  const source = nested ?? (ctx.wrappable ? ctx.body : {});
  const picked = Object.fromEntries(Object.entries(source).filter(([k]) => attrs.includes(k)));
  const wrappedAnything = nested ? Object.keys(nested).length > 0 : Object.keys(picked).length > 0;
  if (!wrappedAnything) throw missingParameter(wrapper);
  return picked;
}

/** A top-level (unwrapped) parameter from the body or the query string. */
export function param(ctx: RequestContext, name: string): unknown {
  return ctx.body[name] ?? ctx.query[name];
}

export function has(input: Params, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(input, key);
}

export function toBool(value: unknown): boolean {
  return value === true || value === "true" || value === "1" || value === 1;
}

export function toStr(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === "string" ? value : String(value);
}

/** Integer parse that returns null for anything but a plain integer. */
export function toInt(value: unknown): number | null {
  if (typeof value === "number" && Number.isInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return Number(value.trim());
  return null;
}

export function pathId(ctx: RequestContext, name = "id"): number {
  const id = toInt(ctx.pathParams[name]);
  if (id === null) throw notFound();
  return id;
}

export function findOr404<T extends { id: number }>(
  items: T[],
  id: number,
  also: (item: T) => boolean = () => true,
): T {
  const item = items.find((i) => i.id === id && also(i));
  if (!item) throw notFound();
  return item;
}

export interface PageLimits {
  defaultPerPage: number;
  maxPerPage: number;
  /** A larger per_page is lowered to the maximum (else it falls back to the default). */
  clamp?: boolean;
}

export const ADMIN_PAGES: PageLimits = { defaultPerPage: 500, maxPerPage: 500 };
/** porta admin/api/cms/base_controller.rb L12-22: `[params[:per_page].to_i, 100].min`, default 20. */
export const CMS_PAGES: PageLimits = { defaultPerPage: 20, maxPerPage: 100, clamp: true };

/** `page`/`per_page` with silent fallback to defaults for out-of-range values; metadata only when > 1 page. */
export function paginate<T>(
  ctx: RequestContext,
  items: T[],
  limits: PageLimits,
): { items: T[]; metadata?: Record<string, number> } {
  const rawPage = toInt(param(ctx, "page"));
  const rawPerPage = toInt(param(ctx, "per_page"));
  const page = rawPage !== null && rawPage >= 1 ? rawPage : 1;
  const perPage =
    rawPerPage === null || rawPerPage < 1
      ? limits.defaultPerPage
      : rawPerPage <= limits.maxPerPage
        ? rawPerPage
        : limits.clamp
          ? limits.maxPerPage
          : limits.defaultPerPage;
  const slice = items.slice((page - 1) * perPage, page * perPage);
  if (items.length <= perPage) return { items: slice };
  return {
    items: slice,
    metadata: {
      per_page: perPage,
      total_entries: items.length,
      total_pages: Math.ceil(items.length / perPage),
      current_page: page,
    },
  };
}

/** `{"<plural>":[{"<singular>":{...}}], "metadata"?: {...}}`. */
export function collection<T>(
  plural: string,
  singular: string,
  page: { items: T[]; metadata?: Record<string, number> },
  render: (item: T) => Record<string, unknown>,
): Record<string, unknown> {
  const body: Record<string, unknown> = { [plural]: page.items.map((i) => ({ [singular]: render(i) })) };
  if (page.metadata) body.metadata = page.metadata;
  return body;
}

export function randomHex(random: () => number, length: number): string {
  let out = "";
  while (out.length < length) out += Math.floor(random() * 16).toString(16);
  return out;
}
