/** Developer Portal (CMS) API: sections, files, templates, publish (reference §11). */
import { ApiError, BLANK, NOT_INCLUDED, TAKEN, Validation, notFound } from "../errors";
import { liquidSyntaxError } from "../liquid";
import { parameterize, sha256 } from "../model";
import { isPlainObject, type Params } from "../params";
import {
  CMS_PAGES,
  created,
  has,
  ok,
  paginate,
  param,
  toBool,
  toInt,
  toStr,
  type RequestContext,
  type Router,
} from "../router";
import type { CmsFile, CmsSection, CmsTemplate, EmulatorState, TemplateType } from "../state";
import { stamp } from "../state";
import { addMemberRoutes, applyChanges, byPathId } from "./resource";

const ALWAYS_ALLOWED = ["access_token", "id", "page", "per_page", "format"];
const CREATABLE_TYPES = ["page", "layout", "partial"];

/** Fields per template type (create and update). */
const TEMPLATE_FIELDS: Record<TemplateType, string[]> = {
  page: [
    "title",
    "path",
    "system_name",
    "draft",
    "content_type",
    "liquid_enabled",
    "handler",
    "section_id",
    "section_name",
    "layout_id",
    "layout_name",
  ],
  layout: ["system_name", "title", "draft", "liquid_enabled"],
  partial: ["system_name", "draft"],
  builtin_page: ["layout_id", "layout_name", "draft"],
  builtin_partial: ["draft"],
};
const TEMPLATE_EXTRAS = ["type", "layout_name", "section_name", "content", "section_id"];

/** CMS params (flat or under the wrapper); unknown names are rejected with 422 unlike the rest of the API. */
function cmsInput(ctx: RequestContext, wrapper: string, allowed: string[]): Params {
  const nested = ctx.body[wrapper];
  const source: Params = isPlainObject(nested) ? { ...ctx.body, ...nested } : { ...ctx.query, ...ctx.body };
  delete source[wrapper];
  const unknown = Object.keys(source).filter((k) => !allowed.includes(k) && !ALWAYS_ALLOWED.includes(k));
  if (unknown.length > 0) {
    throw new ApiError(422, { error: `Unpermitted parameters: [${unknown.map((k) => JSON.stringify(k)).join(", ")}]` });
  }
  return Object.fromEntries(Object.entries(source).filter(([k]) => allowed.includes(k)));
}

// ---------- sections ----------

function renderSection(s: CmsSection) {
  return {
    id: s.id,
    created_at: s.created_at,
    updated_at: s.updated_at,
    title: s.title,
    system_name: s.system_name,
    public: s.public,
    parent_id: s.parent_id,
    partial_path: s.partial_path,
  };
}

export function rootSection(state: EmulatorState): CmsSection {
  return state.cmsSections.find((s) => s.system_name === "root")!;
}

/** `{id}` of a section may be its numeric id or its system_name. */
function sectionByRef(state: EmulatorState, ref: string): CmsSection {
  const id = toInt(ref);
  const s = state.cmsSections.find((x) => (id !== null && x.id === id) || x.system_name === ref);
  if (!s) throw notFound();
  return s;
}

const SECTION_FIELDS = ["title", "system_name", "public", "parent_id", "partial_path"];

function sectionFields(state: EmulatorState, input: Params, existing: CmsSection | null): Partial<CmsSection> {
  const v = new Validation();
  const next: Partial<CmsSection> = {};
  if (has(input, "parent_id") || !existing) {
    const parentId = has(input, "parent_id") ? toInt(input.parent_id) : rootSection(state).id;
    if (!state.cmsSections.some((s) => s.id === parentId && s !== existing)) v.add("parent_id", NOT_INCLUDED);
    else next.parent_id = parentId;
  }
  const parentId = next.parent_id ?? existing?.parent_id ?? null;
  if (has(input, "title") || !existing) {
    next.title = toStr(input.title) ?? "";
    if (next.title.trim() === "") v.add("title", BLANK);
    else {
      const clash = state.cmsSections.some((s) => s.parent_id === parentId && s.title === next.title && s !== existing);
      v.check(!clash, "title", TAKEN);
    }
  }
  if (!existing || has(input, "system_name")) {
    // porta cms/section.rb L162-164: `title.parameterize` when blank ("My Docs" → "my-docs").
    next.system_name = toStr(input.system_name) || parameterize(next.title ?? existing?.title ?? "");
    v.check(!state.cmsSections.some((s) => s.system_name === next.system_name && s !== existing), "system_name", TAKEN);
  }
  if (has(input, "public")) next.public = toBool(input.public);
  if (has(input, "partial_path")) next.partial_path = toStr(input.partial_path) ?? "";
  v.throwIfAny();
  return next;
}

// ---------- files ----------

function renderFile(state: EmulatorState, f: CmsFile) {
  return {
    id: f.id,
    created_at: f.created_at,
    updated_at: f.updated_at,
    section_id: f.section_id,
    path: f.path,
    downloadable: f.downloadable,
    url: `https://${state.tenant.portalDomain}${f.path}`,
    title: f.title,
    content_type: f.content_type,
  };
}

const FILE_FIELDS = ["path", "section_id", "attachment", "downloadable"];

function fileFields(ctx: RequestContext, input: Params, existing: CmsFile | null): Partial<CmsFile> {
  const v = new Validation();
  const next: Partial<CmsFile> = {};
  if (!existing || has(input, "path")) {
    next.path = toStr(input.path) ?? "";
    if (next.path === "") v.add("path", BLANK);
    else v.check(!ctx.state.cmsFiles.some((f) => f.path === next.path && f !== existing), "path", TAKEN);
  }
  if (has(input, "section_id") || !existing) {
    const sectionId = has(input, "section_id") ? toInt(input.section_id) : rootSection(ctx.state).id;
    const section = ctx.state.cmsSections.find((s) => s.id === sectionId);
    if (!section) v.add("section_id", NOT_INCLUDED);
    else next.section_id = section.id;
  }
  if (has(input, "downloadable")) next.downloadable = toBool(input.downloadable);
  const upload = ctx.files.attachment;
  if (upload) {
    Object.assign(next, {
      data: upload.data,
      sha256: sha256(upload.data),
      title: upload.filename,
      content_type: upload.contentType,
    });
  } else if (!existing) v.add("attachment", BLANK);
  v.throwIfAny();
  return next;
}

// ---------- templates ----------

function renderTemplate(t: CmsTemplate, withContent: boolean) {
  const common = { id: t.id, type: t.type, created_at: t.created_at, updated_at: t.updated_at };
  const content = withContent ? { draft: t.draft, published: t.published } : {};
  switch (t.type) {
    case "builtin_page":
      // CMS::Builtin is no CMS::Page: the page-only block of cms/page_representer.rb (L12-19) is skipped.
      return { ...common, title: t.title, system_name: t.system_name, layout_id: t.layout_id, ...content };
    case "page":
      return {
        ...common,
        title: t.title,
        system_name: t.system_name,
        layout_id: t.layout_id,
        section_id: t.section_id,
        path: t.path,
        content_type: t.content_type,
        // page_representer.rb L18: `liquid_enabled?` (false when unset).
        liquid_enabled: t.liquid_enabled === true,
        handler: t.handler,
        hidden: t.hidden,
        ...content,
      };
    case "layout":
      // layout_representer.rb L12: the raw attribute (null when unset).
      return { ...common, title: t.title, system_name: t.system_name, liquid_enabled: t.liquid_enabled, ...content };
    default:
      return { ...common, system_name: t.system_name, ...content };
  }
}

function resolveSection(state: EmulatorState, input: Params): number | undefined {
  if (has(input, "section_name")) {
    const name = toStr(input.section_name) ?? "";
    const s = state.cmsSections.find((x) => x.system_name === name);
    if (!s) throw new ApiError(422, { error: `Unknown section: '${name}'` });
    return s.id;
  }
  if (has(input, "section_id")) {
    const id = toInt(input.section_id);
    if (!state.cmsSections.some((s) => s.id === id))
      throw new ApiError(422, { error: `Unknown section: '${input.section_id}'` });
    return id!;
  }
  return undefined;
}

/** Layout reference: undefined = untouched, null = removed (empty value on update). */
function resolveLayout(state: EmulatorState, input: Params): number | null | undefined {
  const key = has(input, "layout_name") ? "layout_name" : has(input, "layout_id") ? "layout_id" : null;
  if (!key) return undefined;
  const raw = toStr(input[key]) ?? "";
  if (raw === "") return null;
  const id = toInt(raw);
  const layout = state.cmsTemplates.find(
    (t) => t.type === "layout" && (key === "layout_name" ? t.system_name === raw : t.id === id),
  );
  if (!layout) throw new ApiError(422, { error: `Unknown layout: '${raw}'` });
  return layout.id;
}

const BUILTIN_PARTIAL_NAMES = (state: EmulatorState) =>
  new Set(state.cmsTemplates.filter((t) => t.type === "builtin_partial").map((t) => t.system_name));

function templateFields(state: EmulatorState, type: TemplateType, input: Params, existing: CmsTemplate | null) {
  const v = new Validation();
  const next: Partial<CmsTemplate> = {};
  const sameType = (t: CmsTemplate) => t.type === type && t !== existing;
  if (has(input, "draft")) next.draft = toStr(input.draft);
  if (has(input, "liquid_enabled")) next.liquid_enabled = toBool(input.liquid_enabled);
  if (type === "page" || type === "layout") {
    if (has(input, "title") || (!existing && type === "page")) {
      next.title = toStr(input.title) ?? "";
      if (type === "page") v.check(next.title.trim() !== "", "title", BLANK);
    }
  }
  if (type === "page") {
    if (has(input, "path") || !existing) {
      const raw = toStr(input.path) ?? "";
      next.path = raw.length > 1 ? raw.replace(/\/+$/, "") : raw;
      if (next.path === "") v.add("path", BLANK);
      else v.check(!state.cmsTemplates.some((t) => t.path === next.path && t !== existing), "path", TAKEN);
    }
    if (has(input, "content_type")) next.content_type = toStr(input.content_type);
    if (has(input, "handler")) {
      const handler = toStr(input.handler) ?? "";
      if (["", "markdown", "textile"].includes(handler)) next.handler = handler || null;
      else v.add("handler", NOT_INCLUDED);
    }
    const section = resolveSection(state, input);
    if (section !== undefined) next.section_id = section;
    else if (!existing) next.section_id = rootSection(state).id;
  }
  if (type === "page" || type === "builtin_page") {
    const layout = resolveLayout(state, input);
    if (layout !== undefined) next.layout_id = layout;
  }
  if ((type === "page" || type === "layout" || type === "partial") && (!existing || has(input, "system_name"))) {
    const given = toStr(input.system_name) ?? "";
    // porta cms/page.rb L98-100: `title.parameterize` when blank ("My Page" → "my-page").
    const systemName = type === "page" && given === "" ? parameterize(next.title ?? "") : given;
    if (systemName === "") v.add("system_name", BLANK);
    else if (state.cmsTemplates.some((t) => sameType(t) && t.system_name === systemName)) v.add("system_name", TAKEN);
    else if (type === "partial" && BUILTIN_PARTIAL_NAMES(state).has(systemName)) v.add("system_name", TAKEN);
    next.system_name = systemName;
  }
  // porta cms/template.rb L175-186: only templates with `liquid_enabled?` are parsed; the column has no default, so
  // what the API creates without it (and every partial) is not; builtins always are (builtin.rb L152-154).
  const liquidOn = type.startsWith("builtin_") || (next.liquid_enabled ?? existing?.liquid_enabled ?? false) === true;
  const syntaxError = liquidOn && next.draft ? liquidSyntaxError(next.draft) : null;
  if (syntaxError) v.add("draft", syntaxError);
  // porta cms/layout.rb L6, L37-53: the main layout's draft and published content need `{% content %}`.
  const systemName = next.system_name ?? existing?.system_name;
  if (type === "layout" && systemName === "main_layout") {
    const missing = "must contain '{&#37; content &#37;}' tag";
    const draft = has(next, "draft") ? next.draft : existing?.draft;
    if (draft && !/\{%\s*content\s*%\}/.test(draft)) v.add("draft", missing);
    if (existing?.published && !/\{%\s*content\s*%\}/.test(existing.published)) v.add("published", missing);
  }
  v.throwIfAny();
  return next;
}

/**
 * One CMS collection: list (filtered by query parameters, paginated), create, show, update, delete. Records travel
 * bare (no envelope), lists as `{"collection": [...]}`, and params are checked by `cmsInput`.
 */
interface CmsRoutes<T> {
  /** Path template of the collection; one record is at `${path}/{id}`. */
  path: string;
  /** Rails wrapper key of the params. */
  wrapper: string;
  items: (ctx: RequestContext) => T[];
  find: (ctx: RequestContext) => T;
  render: (state: EmulatorState, item: T) => Record<string, unknown>;
  /** How a listed record is rendered (default: `render`). */
  listed?: (ctx: RequestContext) => (item: T) => Record<string, unknown>;
  /** The param names a create (`item` null) or an update of `item` accepts. */
  fields: (ctx: RequestContext, item: T | null) => string[];
  /** Validates, stores and returns a new record. */
  create: (ctx: RequestContext, input: Params) => T;
  update: (ctx: RequestContext, input: Params, item: T) => void;
  remove: (ctx: RequestContext, item: T) => void;
}

function addCmsRoutes<T>(router: Router, cms: CmsRoutes<T>): void {
  const { path, wrapper, items, find, render, fields } = cms;
  router
    .add("GET", path, (ctx) => {
      const listed = cms.listed?.(ctx) ?? ((item: T) => render(ctx.state, item));
      return ok({ collection: paginate(ctx, items(ctx), CMS_PAGES).items.map(listed) });
    })
    .add(
      "POST",
      path,
      (ctx) => {
        const input = cmsInput(ctx, wrapper, fields(ctx, null));
        return created(render(ctx.state, cms.create(ctx, input)));
      },
      wrapper,
    );
  addMemberRoutes(router, {
    path: `${path}/{id}`,
    find,
    render,
    update: { wrapper, input: (ctx, item) => cmsInput(ctx, wrapper, fields(ctx, item)), apply: cms.update },
    remove: cms.remove,
  });
}

/** The type of a template to create (from the query or the body), refused unless pages, layouts and partials. */
function creatableType(ctx: RequestContext): TemplateType {
  const type = toStr(param(ctx, "type")) ?? toStr((ctx.body.template as Params | undefined)?.type) ?? "";
  if (!CREATABLE_TYPES.includes(type)) throw new ApiError(422, { error: `Unknown template type '${type}'` });
  return type as TemplateType;
}

export function registerCms(router: Router): void {
  addCmsRoutes(router, {
    path: "/admin/api/cms/sections",
    wrapper: "section",
    items: (ctx) => {
      const parentId = toInt(param(ctx, "parent_id"));
      return ctx.state.cmsSections.filter((s) => parentId === null || s.parent_id === parentId);
    },
    find: (ctx) => sectionByRef(ctx.state, ctx.pathParams.id),
    render: (_state, s) => renderSection(s),
    fields: () => SECTION_FIELDS,
    create: (ctx, input) => {
      const f = sectionFields(ctx.state, input, null);
      const s: CmsSection = {
        ...stamp(ctx.state),
        title: f.title!,
        system_name: f.system_name!,
        public: f.public ?? true,
        parent_id: f.parent_id!,
        // porta cms/section.rb L166-170: `title.parameterize` when blank.
        partial_path: f.partial_path || parameterize(f.title!),
        builtin: false,
      };
      ctx.state.cmsSections.push(s);
      return s;
    },
    update: (ctx, input, s) => applyChanges(s, sectionFields(ctx.state, input, s)),
    remove: (ctx, s) => {
      // Builtin sections, the root included (logic/cms.rb L63), cannot be deleted (sections_controller.rb L42-49);
      // any other moves its builtins, pages, files and child sections to its parent first (cms/section.rb L140-150).
      if (s.builtin || s.parent_id === null) throw new ApiError(422, { error: "Built-in resources can't be deleted" });
      const parent = s.parent_id;
      for (const child of ctx.state.cmsSections) if (child.parent_id === s.id) child.parent_id = parent;
      for (const f of ctx.state.cmsFiles) if (f.section_id === s.id) f.section_id = parent;
      for (const t of ctx.state.cmsTemplates) if (t.section_id === s.id) t.section_id = parent;
      ctx.state.cmsSections = ctx.state.cmsSections.filter((x) => x !== s);
    },
  });

  addCmsRoutes(router, {
    path: "/admin/api/cms/files",
    wrapper: "file",
    items: (ctx) => {
      const sectionId = toInt(param(ctx, "section_id"));
      return ctx.state.cmsFiles.filter((f) => sectionId === null || f.section_id === sectionId);
    },
    find: (ctx) => byPathId(ctx, ctx.state.cmsFiles),
    render: renderFile,
    fields: () => FILE_FIELDS,
    create: (ctx, input) => {
      const f = fileFields(ctx, input, null);
      const stored: CmsFile = {
        ...stamp(ctx.state),
        section_id: f.section_id!,
        path: f.path!,
        downloadable: f.downloadable ?? false,
        title: f.title!,
        content_type: f.content_type!,
        data: f.data!,
        sha256: f.sha256!,
      };
      ctx.state.cmsFiles.push(stored);
      return stored;
    },
    update: (ctx, input, f) => applyChanges(f, fileFields(ctx, input, f)),
    remove: (ctx, f) => {
      ctx.state.cmsFiles = ctx.state.cmsFiles.filter((x) => x !== f);
    },
  });

  const template = (ctx: RequestContext) => byPathId(ctx, ctx.state.cmsTemplates);
  addCmsRoutes(router, {
    path: "/admin/api/cms/templates",
    wrapper: "template",
    items: (ctx) => {
      const type = toStr(param(ctx, "type"));
      const sectionId = toInt(param(ctx, "section_id"));
      return ctx.state.cmsTemplates.filter(
        (t) => (!type || t.type === type) && (sectionId === null || t.section_id === sectionId),
      );
    },
    find: template,
    render: (_state, t) => renderTemplate(t, true),
    listed: (ctx) => {
      const withContent = toBool(param(ctx, "content"));
      return (t) => renderTemplate(t, withContent);
    },
    fields: (ctx, t) => [...TEMPLATE_FIELDS[t?.type ?? creatableType(ctx)], ...TEMPLATE_EXTRAS],
    create: (ctx, input) => {
      const templateType = creatableType(ctx);
      const f = templateFields(ctx.state, templateType, input, null);
      const t: CmsTemplate = {
        ...stamp(ctx.state),
        type: templateType,
        system_name: f.system_name ?? null,
        title: f.title ?? null,
        path: f.path ?? null,
        section_id: f.section_id ?? null,
        layout_id: f.layout_id ?? null,
        content_type: templateType === "page" ? (f.content_type ?? "text/html") : null,
        liquid_enabled: f.liquid_enabled ?? null,
        handler: f.handler ?? null,
        hidden: false,
        draft: f.draft ?? null,
        published: null,
      };
      ctx.state.cmsTemplates.push(t);
      return t;
    },
    update: (ctx, input, t) => applyChanges(t, templateFields(ctx.state, t.type, input, t)),
    remove: (ctx, t) => {
      if (t.type.startsWith("builtin_")) throw new ApiError(422, { error: "Built-in resources can't be deleted" });
      ctx.state.cmsTemplates = ctx.state.cmsTemplates.filter((x) => x !== t);
    },
  });
  router.add("PUT", "/admin/api/cms/templates/{id}/publish", (ctx) => {
    const t = template(ctx);
    if (t.draft !== null) applyChanges(t, { published: t.draft, draft: null });
    return ok(renderTemplate(t, true));
  });
}
