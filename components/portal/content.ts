/**
 * The developer portal's CMS content as code. Templates in `assets/portal/` hold two kinds of Liquid:
 * - build-time Liquid with `[% tag %]` and `[[ output ]]`, rendered here from the stack config (model catalog, code
 *   examples with this cluster's gateway URLs, the product → model lookup);
 * - 3scale Liquid with `{% tag %}` and `{{ output }}`, left untouched for the portal to render per request (signed-in
 *   user, applications, keys).
 * `buildPortalContent` is pure (files in, plain CmsContent inputs out) and runs at plan time.
 */
import * as fs from "fs";
import * as path from "path";
import { Liquid } from "liquidjs";
import type { CmsContentInputs } from "../../dynamic-providers/cms-content";
import type { ModelConfig } from "../config/schema";
import { USAGE_PATH } from "../products/endpoint-spec";
import type { PlanSpec } from "../products/plans";
import type { ProductSpec } from "../products/product-spec";

export const PORTAL_ASSETS_DIR = path.resolve(__dirname, "../../assets/portal");
/** The layout every page and overridden builtin page uses. */
export const MAIN_LAYOUT = "maas_main";
/** CMS section holding our CSS, JS and images; files are served under its partial path. */
export const ASSET_SECTION = {
  systemName: "maas",
  title: "Models as a Service assets",
  public: true,
  partialPath: "/maas",
};

/** Our own pages (besides the builtin ones we override). */
export const PAGES = [
  { file: "index", systemName: "maas_home", title: "Models", path: "/" },
  { file: "docs", systemName: "maas_docs", title: "API reference", path: "/docs" },
  { file: "examples", systemName: "maas_examples", title: "Code examples", path: "/examples" },
] as const;

/** The CmsContent dynamic resource's inputs (without `connection`). */
export type PortalContent = Omit<CmsContentInputs, "connection" | "builtinPartials" | "publish"> & {
  builtinPartials: NonNullable<CmsContentInputs["builtinPartials"]>;
  publish: boolean;
};

export interface PortalBranding {
  name: string;
  headline: string;
  tagline: string;
}
export const DEFAULT_BRANDING: PortalBranding = {
  name: "Models as a Service",
  headline: "Large language models, one API key away",
  tagline:
    "Self-service access to the models served on this OpenShift AI cluster: pick a model, get a key, and call it with any OpenAI-compatible client.",
};

/** A model as the portal presents it: its config, what its product is made of and where its gateway is. */
export interface PortalModel {
  model: ModelConfig;
  spec: ProductSpec;
  /** Production gateway URL, e.g. https://granite-maas-apicast-production.apps.example.com:443. */
  gatewayUrl: string;
}

export interface PortalContentArgs {
  models: PortalModel[];
  portalUrl: string;
  /** The one-endpoint product (`threescale.endpoint`), when enabled. */
  endpoint?: PortalEndpointArgs;
  branding?: Partial<PortalBranding>;
  assetsDir?: string;
}

/** The one-endpoint product as the portal receives it. */
export interface PortalEndpointArgs {
  /** Product name (`threescale.endpoint.name`). */
  name: string;
  /** Production gateway URL, e.g. https://maas-api-maas-apicast-production.apps.example.com:443. */
  gatewayUrl: string;
  /**
   * Its 3scale system name (`threescale.endpoint.systemName`): how application pages recognise the product. Without
   * it they compare the product's name, which fails for names with HTML-special characters.
   */
  systemName?: string;
  /** The gateway answers `GET /v1/usage` (`threescale.endpoint.usage`); default true. */
  usage?: boolean;
}

/** What the build-time templates see of the one-endpoint product (`null` when it is off). */
export interface CatalogEndpoint {
  name: string;
  /** "" when not given: templates then match the product by name. */
  systemName: string;
  gatewayUrl: string;
  /** The usage document's URL; "" when the gateway does not serve it. */
  usageUrl: string;
  /** Every model, in stack order: the endpoint routes to all of them (a plan may include fewer). */
  models: { name: string; displayName: string }[];
}

export function catalogEndpoint(endpoint: PortalEndpointArgs, models: CatalogModel[]): CatalogEndpoint {
  const gatewayUrl = displayUrl(
    checkUrl(
      "endpoint.gatewayUrl",
      endpoint.gatewayUrl,
      "https://maas-api-maas-apicast-production.apps.example.com:443",
    ),
  );
  return {
    name: endpoint.name,
    systemName: endpoint.systemName ?? "",
    gatewayUrl,
    usageUrl: endpoint.usage === false ? "" : `${gatewayUrl}${USAGE_PATH}`,
    models: models.map((m) => ({ name: m.servedModelName, displayName: m.displayName })),
  };
}

/** What the build-time templates see for each model. */
export interface CatalogModel {
  name: string;
  displayName: string;
  description: string;
  servedModelName: string;
  productSystemName: string;
  gatewayUrl: string;
  contextLength: string;
  accelerator: string;
  endpoints: { method: string; path: string; friendly: string }[];
  plans: { name: string; description: string; limits: { text: string }[] }[];
}

const CONTENT_TYPES: Record<string, string> = {
  ".css": "text/css",
  ".js": "text/javascript",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".json": "application/json",
};

const METRIC_LABELS: Record<string, string> = {
  hits: "requests",
  total_tokens: "tokens",
  prompt_tokens: "prompt tokens",
  completion_tokens: "completion tokens",
};

/** "60 requests / minute", "200,000 tokens / day", "1,000 chat completions calls in total". */
export function describeLimit(limit: PlanSpec["limits"][number]): string {
  const what = METRIC_LABELS[limit.metric] ?? `${limit.metric.replace(/_/g, " ")} calls`;
  if (limit.value === 0) return `no ${what}`;
  const per = limit.period === "eternity" ? " in total" : ` / ${limit.period}`;
  return `${limit.value.toLocaleString("en-US")} ${what}${per}`;
}

/** The URL developers paste into clients: the default HTTPS port 3scale appends is noise there. */
export function displayUrl(url: string): string {
  return url.replace(/^(https:\/\/[^/]+):443(?=\/|$)/, "$1").replace(/\/+$/, "");
}

const SAFE_URL = /^https?:\/\/[A-Za-z0-9.-]+(:\d+)?(\/[A-Za-z0-9._~/-]*)?$/;

function checkUrl(key: string, value: string | undefined, example: string): string {
  if (value === undefined || !SAFE_URL.test(value)) {
    throw new Error(
      `${key}: must be an http(s) URL without query or quotes, got ${JSON.stringify(value)}; e.g. "${example}"`,
    );
  }
  return value;
}

export function catalogModel({ model, spec, gatewayUrl: url }: PortalModel): CatalogModel {
  const gatewayUrl = checkUrl(
    `models[name=${model.name}].gatewayUrl`,
    url,
    `https://${model.name}-maas-apicast-production.apps.example.com:443`,
  );
  return {
    name: model.name,
    displayName: model.displayName ?? model.name,
    description: model.description,
    servedModelName: model.name,
    productSystemName: spec.product.systemName,
    gatewayUrl: displayUrl(gatewayUrl),
    contextLength: model.maxModelLen.toLocaleString("en-US"),
    accelerator: model.gpus > 0 ? `${model.gpus} × ${model.accelerator}` : "CPU",
    endpoints: spec.endpoints.map((e) => ({ method: e.method, path: e.path, friendly: e.friendly })),
    plans: spec.plans.map((p) => ({
      name: p.name,
      description: p.description ?? "",
      limits: p.limits.map((l) => ({ text: describeLimit(l) })),
    })),
  };
}

/**
 * Escapes build-time values for HTML and for 3scale Liquid: a model description containing `{{` must stay text, not
 * become a template expression in the deployed page.
 */
export function escapeForPortal(value: unknown): string {
  return String(value)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;")
    .replace(/\{/g, "&#123;")
    .replace(/\}/g, "&#125;");
}

/** The build-time engine: `[% %]` / `[[ ]]` so 3scale's `{% %}` / `{{ }}` pass through verbatim. */
export function buildTimeEngine(): Liquid {
  return new Liquid({
    tagDelimiterLeft: "[%",
    tagDelimiterRight: "%]",
    outputDelimiterLeft: "[[",
    outputDelimiterRight: "]]",
    strictVariables: true,
    strictFilters: true,
    outputEscape: escapeForPortal,
    relativeReference: false,
    // No file system access from templates: everything they see is passed in.
    fs: {
      readFileSync: () => "",
      readFile: async () => "",
      existsSync: () => false,
      exists: async () => false,
      resolve: (_d: string, f: string) => f,
      contains: async () => false,
    },
  });
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  // Copied into an array literal: arrays derived from `fs` results can belong to another JS realm (jest's module
  // sandbox), where Pulumi's `instanceof Array` check fails and the list would serialize as an object.
  return [
    ...fs
      .readdirSync(dir, { withFileTypes: true })
      .flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)])),
  ].sort();
}

const TEMPLATE_EXT = ".html.liquid";
const templateName = (root: string, file: string) =>
  path.relative(root, file).split(path.sep).join("/").slice(0, -TEMPLATE_EXT.length);

/** Renders the portal content for this stack: the CmsContent resource's inputs. */
export function buildPortalContent(args: PortalContentArgs): PortalContent {
  const dir = args.assetsDir ?? PORTAL_ASSETS_DIR;
  if (args.models.length === 0)
    throw new Error('models: the portal needs at least one model; e.g. [{ name: "granite" }]');
  checkUrl("portalUrl", args.portalUrl, "https://maas.apps.example.com");
  const engine = buildTimeEngine();
  const models = args.models.map(catalogModel);
  const context = {
    portal: { ...DEFAULT_BRANDING, ...args.branding, url: args.portalUrl },
    models,
    // null, not undefined, when off: strict templates may test `[% if endpoint %]`.
    endpoint: args.endpoint ? catalogEndpoint(args.endpoint, models) : null,
  };
  const templates = (sub: string) =>
    listFiles(path.join(dir, sub))
      .filter((f) => f.endsWith(TEMPLATE_EXT))
      .map((f) => {
        const name = templateName(path.join(dir, sub), f);
        try {
          return { name, content: engine.parseAndRenderSync(fs.readFileSync(f, "utf8"), context) };
        } catch (e) {
          throw new Error(`assets/portal/${sub}/${name}${TEMPLATE_EXT}: ${(e as Error).message}`);
        }
      });
  const pages = new Map(templates("pages").map((t) => [t.name, t.content]));

  return {
    sections: [ASSET_SECTION],
    files: listFiles(path.join(dir, "files")).map((f) => {
      const rel = path.relative(path.join(dir, "files"), f).split(path.sep).join("/");
      const contentType = CONTENT_TYPES[path.extname(f)];
      if (!contentType) throw new Error(`assets/portal/files/${rel}: no content type known for "${path.extname(f)}"`);
      return {
        path: `${ASSET_SECTION.partialPath}/${rel}`,
        section: ASSET_SECTION.systemName,
        contentType,
        contentBase64: fs.readFileSync(f).toString("base64"),
      };
    }),
    layouts: templates("layouts").map((t) => ({
      systemName: t.name,
      title: t.name === MAIN_LAYOUT ? "Models as a Service" : t.name,
      content: t.content,
      liquidEnabled: true,
    })),
    partials: templates("partials").map((t) => ({ systemName: t.name, content: t.content })),
    pages: PAGES.map((p) => {
      const content = pages.get(p.file);
      if (content === undefined) throw new Error(`assets/portal/pages/${p.file}${TEMPLATE_EXT} is missing`);
      return {
        systemName: p.systemName,
        title: p.title,
        path: p.path,
        layout: MAIN_LAYOUT,
        contentType: "text/html",
        content,
        liquidEnabled: true,
      };
    }),
    builtinPages: templates("builtin_pages").map((t) => ({
      systemName: t.name,
      layout: MAIN_LAYOUT,
      content: t.content,
    })),
    builtinPartials: [],
    publish: true,
  };
}
