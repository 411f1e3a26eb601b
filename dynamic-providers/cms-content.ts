/**
 * Developer-portal content managed as one resource: sections, files, layouts, partials, pages, and overrides of
 * builtin pages/partials. Every item is compared with what the tenant serves and only differing items are written
 * (and published); items dropped from the inputs are deleted, but only those this resource created. Templates it
 * did not create (builtins, and pages/layouts/partials the tenant already had, e.g. the homepage at "/") are
 * adopted: their original content and attributes are recorded before the first write and restored instead.
 * Upload order: sections (parents first) → files → layouts → partials → pages → builtins; deletion in reverse.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { failure, Failure, fieldFailures, FieldRule } from "./threescale/checks";
import { findOrCreate } from "./threescale/create-or-adopt";
import { canonical } from "./threescale/equality";
import { differences, hasAny } from "./threescale/fields";
import { known, UNKNOWN } from "./threescale/unknown";
import { ConnectionInputs, ThreescaleProvider } from "./threescale/provider-kit";
import { unknownLiquidTags, usesLiquid } from "./threescale/vocabulary";
import { ThreescaleResource } from "./threescale/resource";

export interface CmsSection {
  systemName: string;
  title: string;
  /** systemName of the parent section (default: the root section). */
  parent?: string;
  public?: boolean;
  partialPath?: string;
}

export interface CmsFile {
  path: string;
  /** systemName of the section (default: root). */
  section?: string;
  contentType: string;
  contentBase64: string;
  downloadable?: boolean;
}

export interface CmsLayout {
  systemName: string;
  title: string;
  content: string;
  liquidEnabled?: boolean;
}

export interface CmsPartial {
  systemName: string;
  content: string;
}

export interface CmsPage {
  systemName: string;
  title: string;
  path: string;
  section?: string;
  /** systemName of a layout (managed here or already on the tenant). */
  layout?: string;
  contentType?: string;
  content: string;
  liquidEnabled?: boolean;
  handler?: "markdown" | "textile" | "";
}

export interface CmsBuiltinPage {
  systemName: string;
  layout?: string;
  content: string;
}

export interface CmsBuiltinPartial {
  systemName: string;
  content: string;
}

export interface CmsContentInputs extends ConnectionInputs {
  sections: CmsSection[];
  files: CmsFile[];
  layouts: CmsLayout[];
  partials: CmsPartial[];
  pages: CmsPage[];
  builtinPages: CmsBuiltinPage[];
  builtinPartials?: CmsBuiltinPartial[];
  /** Publish what is written (default true); false leaves changes as drafts. */
  publish?: boolean;
}

export type CmsKind = "section" | "file" | "layout" | "partial" | "page" | "builtin_page" | "builtin_partial";

export interface ManagedItem {
  kind: CmsKind;
  key: string;
  id: number;
  /** sha256 of the item's desired definition. */
  sha256: string;
  /** Templates this resource adopted rather than created: what the tenant had before, restored on delete. */
  original?: OriginalTemplate;
}

export interface OriginalTemplate {
  /** Published content (null: never published). */
  content: string | null;
  layoutId: number | null;
  /** Unpublished draft, when there was one. */
  draft?: string | null;
  /** Other attributes as the API names them (title, path, section_id, ...); builtins have none besides layout. */
  fields?: Record<string, unknown>;
}

export interface CmsContentOutputs extends CmsContentInputs {
  managed: ManagedItem[];
}

/** Per kind: the input list it comes from and the field that identifies an item. Ordered for upload. */
const KINDS: Array<{ kind: CmsKind; list: keyof CmsContentInputs; key: string }> = [
  { kind: "section", list: "sections", key: "systemName" },
  { kind: "file", list: "files", key: "path" },
  { kind: "layout", list: "layouts", key: "systemName" },
  { kind: "partial", list: "partials", key: "systemName" },
  { kind: "page", list: "pages", key: "systemName" },
  { kind: "builtin_page", list: "builtinPages", key: "systemName" },
  { kind: "builtin_partial", list: "builtinPartials", key: "systemName" },
];

const CMS = "/admin/api/cms";

/** Attributes of an adopted template that are written back on restore, by template type. */
const RESTORED_FIELDS: Record<string, string[]> = {
  page: ["title", "path", "section_id", "layout_id", "content_type", "liquid_enabled", "handler"],
  layout: ["title", "liquid_enabled"],
  partial: [],
};

/** What an adopted template was like before this resource first wrote it. */
function originalOf(full: any): OriginalTemplate {
  const fields = RESTORED_FIELDS[full.type];
  return {
    content: full.published ?? null,
    layoutId: full.layout_id ?? null,
    draft: full.draft ?? null,
    ...(fields ? { fields: Object.fromEntries(fields.map((f) => [f, full[f] ?? null])) } : {}),
  };
}
const PER_PAGE = 100;

/** sha256 of the value's canonical JSON (key order does not matter). */
function sha256(value: unknown): string {
  return require("crypto").createHash("sha256").update(canonical(value)).digest("hex");
}

/** What the tenant has, loaded once per operation. */
interface Remote {
  sections: any[];
  files: any[];
  templates: any[];
}

const ITEM_RULES: Record<string, Record<string, FieldRule>> = {
  sections: {
    systemName: { kind: "systemName", required: true, example: '"docs"' },
    title: { kind: "string", required: true, example: '"Documentation"' },
    parent: { kind: "systemName", example: '"root"' },
    public: { kind: "boolean", example: "true" },
    partialPath: { kind: "text", example: '"/docs"' },
  },
  files: {
    path: { kind: "string", required: true, example: '"/images/logo.png"' },
    section: { kind: "systemName", example: '"images"' },
    contentType: { kind: "string", required: true, example: '"image/png"' },
    contentBase64: { kind: "text", required: true, example: "the file's bytes as base64" },
    downloadable: { kind: "boolean", example: "false" },
  },
  layouts: {
    systemName: { kind: "systemName", required: true, example: '"main_layout"' },
    title: { kind: "string", required: true, example: '"Main layout"' },
    content: { kind: "text", required: true, example: '"<html>{% content %}</html>"' },
    liquidEnabled: { kind: "boolean", example: "true" },
  },
  partials: {
    systemName: { kind: "systemName", required: true, example: '"model_card"' },
    content: { kind: "text", required: true, example: '"<div>{{ model.name }}</div>"' },
  },
  pages: {
    systemName: { kind: "systemName", required: true, example: '"models"' },
    title: { kind: "string", required: true, example: '"Models"' },
    path: { kind: "string", required: true, example: '"/models"' },
    section: { kind: "systemName", example: '"docs"' },
    layout: { kind: "systemName", example: '"main_layout"' },
    contentType: { kind: "string", example: '"text/html"' },
    content: { kind: "text", required: true, example: '"<h1>Models</h1>"' },
    liquidEnabled: { kind: "boolean", example: "true" },
    handler: { kind: "text", oneOf: ["markdown", "textile", ""], example: '"markdown"' },
  },
  builtinPages: {
    systemName: { kind: "systemName", required: true, example: '"dashboards/show"' },
    layout: { kind: "systemName", example: '"main_layout"' },
    content: { kind: "text", required: true, example: '"<h1>Dashboard</h1>"' },
  },
  builtinPartials: {
    systemName: { kind: "systemName", required: true, example: '"submenu"' },
    content: { kind: "text", required: true, example: '"<nav></nav>"' },
  },
};

export class CmsContentProvider extends ThreescaleProvider<CmsContentInputs> {
  protected readonly createOnly: string[] = [];

  protected validate(inputs: CmsContentInputs): Failure[] {
    const failures = fieldFailures(inputs, { publish: { kind: "boolean", example: "true" } });
    for (const { list, key } of KINDS) {
      const items = inputs[list] as unknown;
      // A list not known yet (preview) is checked once it is; known items of a partly known list are checked now.
      if (items === undefined || items === UNKNOWN) continue;
      if (!Array.isArray(items)) {
        failures.push(failure(list, "must be a list", "[] (may be empty)"));
        continue;
      }
      const seen: unknown[] = [];
      items.forEach((item, i) => {
        if (item === UNKNOWN) return;
        failures.push(...fieldFailures(item ?? {}, ITEM_RULES[list], `${list}[${i}].`));
        const id = item?.[key];
        if (!known(id)) return;
        if (seen.includes(id)) {
          failures.push({ property: `${list}[${i}].${key}`, reason: `"${id}" appears twice; ${key}s must be unique` });
        }
        seen.push(id);
      });
    }
    const pages: unknown = inputs.pages;
    (Array.isArray(pages) ? pages : []).forEach((page, i) => {
      if (known(page?.path) && typeof page.path === "string" && !page.path.startsWith("/")) {
        failures.push(failure(`pages[${i}].path`, 'must start with "/"', '"/models"', page.path));
      }
    });
    failures.push(...liquidFailures(inputs));
    return failures;
  }

  async create(inputs: CmsContentInputs): Promise<pulumi.dynamic.CreateResult> {
    const managed = await this.apply(this.client(inputs), inputs, []);
    const id = `cms-${sha256(managed.map((m) => `${m.kind}:${m.key}`)).slice(0, 16)}`;
    return { id, outs: { ...inputs, managed } };
  }

  /** Reports drift: an item changed or deleted on the tenant is shown with the tenant's value (or as missing). */
  async read(id: string, props: CmsContentOutputs): Promise<pulumi.dynamic.ReadResult> {
    const client = this.client(props);
    const manages = (kind: CmsKind) => (props.managed ?? []).some((m) => m.kind === kind);
    const remote = await this.load(client, { sections: manages("section"), files: manages("file") });
    const refreshed: Record<string, any> = { ...props };
    for (const { kind, list, key } of KINDS) {
      const items = (props[list] as any[] | undefined) ?? [];
      if (items.length === 0) continue;
      const next: any[] = [];
      for (const item of items) {
        const m = props.managed?.find((x) => x.kind === kind && x.key === item[key]);
        const actual = m ? await this.actualItem(client, remote, m, item) : undefined;
        if (actual) next.push(actual);
      }
      refreshed[list] = next;
    }
    return { id, props: refreshed };
  }

  async update(_id: string, olds: CmsContentOutputs, news: CmsContentInputs) {
    const managed = await this.apply(this.client(news), news, olds.managed ?? []);
    return { outs: { ...news, managed } };
  }

  async delete(_id: string, props: CmsContentOutputs): Promise<void> {
    const client = this.client(props);
    await this.removeUnwanted(client, props.managed ?? [], []);
  }

  // -------------------------------------------------------------------------------------------------------------

  /** The tenant's collections (sections and files only when asked for: refresh skips what it does not manage). */
  private async load(client: AdminClient, only = { sections: true, files: true }): Promise<Remote> {
    return {
      sections: only.sections ? await listAll(client, "sections") : [],
      files: only.files ? await listAll(client, "files") : [],
      templates: await listAll(client, "templates"),
    };
  }

  /** The tenant's version of one managed item in input form, or undefined when it is gone. */
  private async actualItem(client: AdminClient, remote: Remote, m: ManagedItem, item: any): Promise<any> {
    if (m.kind === "section") {
      const s = remote.sections.find((x) => x.id === m.id);
      return s && { ...item, title: s.title, ...(item.public === undefined ? {} : { public: s.public }) };
    }
    if (m.kind === "file") return remote.files.some((x) => x.id === m.id) ? item : undefined;
    const summary = remote.templates.find((x) => x.id === m.id);
    if (!summary) return undefined;
    const t = await fullTemplate(client, summary);
    const served = t.draft ?? t.published;
    return { ...item, content: served, ...(item.title === undefined || t.title == null ? {} : { title: t.title }) };
  }

  /**
   * Brings the tenant's content to `inputs`, in upload order (parents before what refers to them), then removes
   * what `previous` managed and `inputs` no longer hold. Returns what this resource now manages.
   */
  private async apply(client: AdminClient, inputs: CmsContentInputs, previous: ManagedItem[]): Promise<ManagedItem[]> {
    const sync = startSync(client, await this.load(client), inputs, previous);
    await this.syncSections(sync, inputs.sections ?? []);
    await this.syncFiles(sync, inputs.files ?? []);
    await this.syncLayouts(sync, inputs.layouts ?? []);
    await this.syncPartials(sync, inputs.partials ?? []);
    await this.syncPages(sync, inputs.pages ?? []);
    await this.overrideBuiltins(sync, "builtin_page", inputs.builtinPages ?? []);
    await this.overrideBuiltins(sync, "builtin_partial", inputs.builtinPartials ?? []);
    await this.removeUnwanted(client, previous, sync.managed);
    return sync.managed;
  }

  /** Creates or adopts each section (parents first) and writes its differing attributes. */
  private async syncSections(sync: Sync, sections: CmsSection[]): Promise<void> {
    const { client, remote } = sync;
    for (const section of sortParentsFirst(sections)) {
      const fields = {
        title: section.title,
        system_name: section.systemName,
        parent_id: sectionId(sync, section.parent) ?? sync.rootSectionId,
        ...(section.public === undefined ? {} : { public: section.public }),
        ...(section.partialPath === undefined ? {} : { partial_path: section.partialPath }),
      };
      const s = await this.ensure(
        client,
        "sections",
        remote,
        (x) => x.system_name === section.systemName,
        (c) => c.post(`${CMS}/sections.json`, fields),
      );
      const { system_name: _ignored, ...updatable } = fields;
      const changed = differences(updatable, s);
      if (hasAny(changed)) await client.put(`${CMS}/sections/${s.id}.json`, changed);
      sync.sectionIds.set(section.systemName, s.id);
      record(sync, "section", section.systemName, s.id, section);
    }
  }

  /** Uploads each file that is new or whose content changed since the last run, and writes differing attributes. */
  private async syncFiles(sync: Sync, files: CmsFile[]): Promise<void> {
    const { client, remote } = sync;
    for (const file of files) {
      const digest = sha256(file);
      const fields: Record<string, string> = {
        path: file.path,
        ...(file.section === undefined ? {} : { section_id: String(sectionId(sync, file.section)) }),
        ...(file.downloadable === undefined ? {} : { downloadable: String(file.downloadable) }),
      };
      const attachment = {
        field: "attachment",
        filename: file.path.split("/").pop() || "file",
        contentType: file.contentType,
        content: Buffer.from(file.contentBase64, "base64"),
      };
      let created = false;
      const f = await this.ensure(
        client,
        "files",
        remote,
        (x) => x.path === file.path,
        async (c) => {
          created = true;
          return c.postMultipart(`${CMS}/files.json`, fields, [attachment]);
        },
      );
      const contentChanged = !created && before(sync, "file", file.path)?.sha256 !== digest;
      const changed = differences(
        {
          ...(file.section === undefined ? {} : { section_id: sectionId(sync, file.section) }),
          ...(file.downloadable === undefined ? {} : { downloadable: file.downloadable }),
        },
        f,
      );
      if (contentChanged || hasAny(changed)) {
        await client.putMultipart(`${CMS}/files/${f.id}.json`, fields, contentChanged ? [attachment] : []);
      }
      record(sync, "file", file.path, f.id, file);
    }
  }

  private async syncLayouts(sync: Sync, layouts: CmsLayout[]): Promise<void> {
    for (const layout of layouts) {
      const liquidEnabled = liquidSetting(layout.liquidEnabled, layout.content);
      const { id, original } = await this.syncTemplate(sync, before(sync, "layout", layout.systemName), {
        type: "layout",
        match: (t) => t.type === "layout" && t.system_name === layout.systemName,
        createOnly: { system_name: layout.systemName },
        fields: {
          title: layout.title,
          ...(liquidEnabled === undefined ? {} : { liquid_enabled: liquidEnabled }),
        },
        content: layout.content,
      });
      sync.layoutIds.set(layout.systemName, id);
      record(sync, "layout", layout.systemName, id, layout, original);
    }
  }

  private async syncPartials(sync: Sync, partials: CmsPartial[]): Promise<void> {
    for (const partial of partials) {
      const { id, original } = await this.syncTemplate(sync, before(sync, "partial", partial.systemName), {
        type: "partial",
        match: (t) => t.type === "partial" && t.system_name === partial.systemName,
        createOnly: { system_name: partial.systemName },
        fields: {},
        content: partial.content,
      });
      record(sync, "partial", partial.systemName, id, partial, original);
    }
  }

  /** Pages are matched by system name or by path (the tenant's own homepage at "/" is adopted, not duplicated). */
  private async syncPages(sync: Sync, pages: CmsPage[]): Promise<void> {
    for (const page of pages) {
      const liquidEnabled = liquidSetting(page.liquidEnabled, page.content);
      const { id, original } = await this.syncTemplate(sync, before(sync, "page", page.systemName), {
        type: "page",
        match: (t) => t.type === "page" && (t.system_name === page.systemName || t.path === page.path),
        createOnly: { system_name: page.systemName },
        fields: {
          title: page.title,
          path: page.path,
          ...(page.section === undefined ? {} : { section_id: sectionId(sync, page.section) }),
          ...(page.layout === undefined ? {} : { layout_id: layoutId(sync, page.layout) }),
          ...(page.contentType === undefined ? {} : { content_type: page.contentType }),
          ...(liquidEnabled === undefined ? {} : { liquid_enabled: liquidEnabled }),
          ...(page.handler === undefined ? {} : { handler: page.handler }),
        },
        content: page.content,
      });
      record(sync, "page", page.systemName, id, page, original);
    }
  }

  /** Writes over builtin pages or partials (they always exist), recording their original content first. */
  private async overrideBuiltins(
    sync: Sync,
    kind: "builtin_page" | "builtin_partial",
    items: Array<CmsBuiltinPage | CmsBuiltinPartial>,
  ): Promise<void> {
    for (const item of items) {
      const summary = sync.remote.templates.find((t) => t.type === kind && t.system_name === item.systemName);
      if (!summary) throw new Error(`CMS has no ${kind.replace("_", " ")} "${item.systemName}" to override`);
      const full = await fullTemplate(sync.client, summary);
      const original = before(sync, kind, item.systemName)?.original ?? originalOf(full);
      const layout = "layout" in item ? item.layout : undefined;
      await this.writeTemplate(sync.client, full, {
        fields: layout === undefined ? {} : { layout_id: layoutId(sync, layout) },
        content: item.content,
        publish: sync.publish,
      });
      record(sync, kind, item.systemName, summary.id, item, original);
    }
  }

  /** Finds an object in the already loaded collection (on retries: in a fresh listing) or creates it. */
  private async ensure(
    client: AdminClient,
    collection: keyof Remote,
    loaded: Remote,
    match: (o: any) => boolean,
    create: (client: AdminClient) => Promise<any>,
  ): Promise<any> {
    let cached: any[] | undefined = loaded[collection];
    return findOrCreate(
      client,
      async () => {
        const list = cached ?? (await listAll(client, collection));
        cached = undefined;
        return list.find(match);
      },
      create,
    );
  }

  /**
   * Creates or adopts a template and writes what differs. Returns its id and, for a template this resource did
   * not create, what it was before the first write (kept from `managed` once recorded).
   */
  private async syncTemplate(
    { client, remote, publish }: Sync,
    managed: ManagedItem | undefined,
    desired: {
      type: "layout" | "partial" | "page";
      match: (t: any) => boolean;
      createOnly: Record<string, unknown>;
      fields: Record<string, unknown>;
      content: string;
    },
  ): Promise<{ id: number; original?: OriginalTemplate }> {
    let created = false;
    const summary = await this.ensure(client, "templates", remote, desired.match, async (c) => {
      created = true;
      return c.post(`${CMS}/templates.json`, {
        type: desired.type,
        ...desired.createOnly,
        ...desired.fields,
        draft: desired.content,
      });
    });
    const full = created ? summary : await fullTemplate(client, summary);
    // Managed before: keep what was recorded then (nothing when this resource created it). New here: adopted.
    const original = managed ? managed.original : created ? undefined : originalOf(full);
    await this.writeTemplate(client, full, { fields: desired.fields, content: desired.content, publish });
    return { id: full.id, original };
  }

  /** Updates differing fields and the draft, then publishes when what the portal serves is not the content. */
  private async writeTemplate(
    client: AdminClient,
    full: any,
    desired: { fields: Record<string, unknown>; content: string; publish: boolean },
  ): Promise<void> {
    const changed = differences(desired.fields, full);
    const draft = full.draft ?? null;
    const inSync = desired.publish
      ? full.published === desired.content && (draft === null || draft === desired.content)
      : (draft ?? full.published) === desired.content;
    if (!inSync && draft !== desired.content) changed.draft = desired.content;
    if (hasAny(changed)) await client.put(`${CMS}/templates/${full.id}.json`, changed);
    if (desired.publish && !inSync) await client.put(`${CMS}/templates/${full.id}/publish.json`);
  }

  /**
   * Deletes managed items that are no longer wanted (dependents first); adopted templates (builtins, pre-existing
   * pages, layouts, partials) get their original content and attributes back instead.
   */
  private async removeUnwanted(client: AdminClient, previous: ManagedItem[], wanted: ManagedItem[]): Promise<void> {
    const stale = previous.filter((p) => !wanted.some((w) => w.kind === p.kind && w.key === p.key));
    for (const { kind } of [...KINDS].reverse()) {
      for (const item of stale.filter((s) => s.kind === kind)) {
        if (item.original) {
          await this.restoreTemplate(client, item.id, item.original);
        } else {
          const collection = kind === "section" ? "sections" : kind === "file" ? "files" : "templates";
          await client.deleteIfExists(`${CMS}/${collection}/${item.id}.json`);
        }
      }
    }
  }

  /** Puts an adopted template back: attributes, published content (when it had any), then its draft. */
  private async restoreTemplate(client: AdminClient, id: number, original: OriginalTemplate): Promise<void> {
    const full = await client.find(`${CMS}/templates/${id}.json`);
    if (!full) return;
    const published = original.content !== null;
    await this.writeTemplate(client, full, {
      fields: original.fields ?? { layout_id: original.layoutId },
      content: published ? original.content! : (original.draft ?? ""),
      publish: published,
    });
    if (published && original.draft != null && original.draft !== original.content) {
      await client.put(`${CMS}/templates/${id}.json`, { draft: original.draft });
    }
  }
}

/** One create or update in progress: what the tenant had, what is recorded so far, and the ids resolved so far. */
interface Sync {
  client: AdminClient;
  remote: Remote;
  publish: boolean;
  /** What the resource managed before this run (nothing on create). */
  previous: ManagedItem[];
  /** What the resource manages after this run, in upload order. */
  managed: ManagedItem[];
  /** Section and layout ids by system name: the tenant's, then those this run created. */
  sectionIds: Map<string, number>;
  layoutIds: Map<string, number>;
  rootSectionId?: number;
}

function startSync(client: AdminClient, remote: Remote, inputs: CmsContentInputs, previous: ManagedItem[]): Sync {
  return {
    client,
    remote,
    publish: inputs.publish !== false,
    previous,
    managed: [],
    sectionIds: new Map<string, number>(remote.sections.map((s) => [s.system_name, s.id])),
    layoutIds: new Map<string, number>(
      remote.templates.filter((t) => t.type === "layout").map((t) => [t.system_name, t.id]),
    ),
    rootSectionId: remote.sections.find((s) => s.system_name === "root" || s.parent_id == null)?.id,
  };
}

/** Adds an item to what this run manages, with the digest of its definition. */
function record(sync: Sync, kind: CmsKind, key: string, id: number, item: unknown, original?: OriginalTemplate): void {
  sync.managed.push({ kind, key, id, sha256: sha256(item), ...(original ? { original } : {}) });
}

/** The item as the previous run recorded it. */
function before(sync: Sync, kind: CmsKind, key: string): ManagedItem | undefined {
  return sync.previous.find((m) => m.kind === kind && m.key === key);
}

function sectionId(sync: Sync, systemName?: string): number | undefined {
  if (systemName === undefined) return undefined;
  const id = sync.sectionIds.get(systemName);
  if (id === undefined) throw new Error(`CMS section "${systemName}" does not exist; add it to sections first`);
  return id;
}

function layoutId(sync: Sync, systemName?: string): number | undefined {
  if (systemName === undefined) return undefined;
  const id = sync.layoutIds.get(systemName);
  if (id === undefined) throw new Error(`CMS layout "${systemName}" does not exist; add it to layouts first`);
  return id;
}

/** A whole collection; templates with their content (`content=true`), which servers before 2.16 may ignore. */
function listAll(client: AdminClient, collection: keyof Remote): Promise<any[]> {
  const query = collection === "templates" ? { content: true } : {};
  return client.list(`${CMS}/${collection}.json`, "collection", undefined, query, PER_PAGE);
}

/** The template with its draft and published content: the listed one when the list carried them, else one GET. */
async function fullTemplate(client: AdminClient, listed: any): Promise<any> {
  return "published" in listed ? listed : client.get(`${CMS}/templates/${listed.id}.json`);
}

/** Sections whose parent is also in the list come after that parent. */
function sortParentsFirst(sections: CmsSection[]): CmsSection[] {
  const sorted: CmsSection[] = [];
  const visit = (s: CmsSection, path: string[]) => {
    if (sorted.includes(s)) return;
    if (path.includes(s.systemName))
      throw new Error(`CMS sections form a cycle: ${[...path, s.systemName].join(" → ")}`);
    const parent = sections.find((p) => p.systemName === s.parent);
    if (parent) visit(parent, [...path, s.systemName]);
    sorted.push(s);
  };
  sections.forEach((s) => visit(s, []));
  return sorted;
}

/**
 * `liquid_enabled` to send for a page or layout: the given value, else true when the content uses Liquid. 3scale
 * gives templates made through the API no default (the column is NULL), and the portal then prints their Liquid
 * verbatim (porta lib/developer_portal/lib/cms/renderer.rb L40-50, L82-111).
 */
function liquidSetting(given: boolean | undefined, content: unknown): boolean | undefined {
  if (given !== undefined) return given;
  return typeof content === "string" && usesLiquid(content) ? true : undefined;
}

/**
 * Liquid problems 3scale would refuse (or fail on when rendering): tags it does not know in Liquid templates
 * ("Liquid syntax error: Unknown tag 'x'", liquid 3.0.6 as porta parses drafts: cms/template.rb L175-186), and a
 * main layout without `{% content %}` (cms/layout.rb L37-53; porta's message, HTML entities included).
 */
function liquidFailures(inputs: CmsContentInputs): Failure[] {
  const failures: Failure[] = [];
  const lists: Array<[keyof CmsContentInputs, boolean]> = [
    ["layouts", false],
    ["pages", false],
    ["partials", true],
    ["builtinPages", true],
    ["builtinPartials", true],
  ];
  for (const [list, alwaysLiquid] of lists) {
    const items: unknown = inputs[list];
    if (!Array.isArray(items)) continue;
    items.forEach((item: any, i) => {
      const content = item?.content;
      if (!known(content) || typeof content !== "string") return;
      const liquid = alwaysLiquid || (item.liquidEnabled ?? usesLiquid(content)) === true;
      for (const tag of liquid ? unknownLiquidTags(content) : []) {
        failures.push(
          failure(
            `${list}[${i}].content`,
            `Liquid syntax error: Unknown tag '${tag}' (3scale knows Liquid 3's and its own portal tags only)`,
            "{% include 'model_card' %}",
          ),
        );
      }
      if (list === "layouts" && item.systemName === "main_layout" && !/\{%\s*content\s*%\}/.test(content)) {
        failures.push(
          failure(`layouts[${i}].content`, "must contain '{&#37; content &#37;}' tag", '"<body>{% content %}</body>"'),
        );
      }
    });
  }
  return failures;
}

export const cmsContentProvider = new CmsContentProvider();

export interface CmsContentArgs {
  connection: pulumi.Input<Connection>;
  sections: pulumi.Input<CmsSection[]>;
  files: pulumi.Input<CmsFile[]>;
  layouts: pulumi.Input<CmsLayout[]>;
  partials: pulumi.Input<CmsPartial[]>;
  pages: pulumi.Input<CmsPage[]>;
  builtinPages: pulumi.Input<CmsBuiltinPage[]>;
  builtinPartials?: pulumi.Input<CmsBuiltinPartial[]>;
  publish?: pulumi.Input<boolean>;
}

export class CmsContent extends ThreescaleResource {
  declare public readonly managed: pulumi.Output<ManagedItem[]>;

  constructor(name: string, args: CmsContentArgs, opts?: pulumi.CustomResourceOptions) {
    super(cmsContentProvider, "CmsContent", name, args, ["managed"], opts);
  }
}
