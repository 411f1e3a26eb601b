/**
 * 3scale's own vocabulary: the names, periods and verbs its admin API accepts. The stack config (components/config)
 * validates against these too, so a value the config accepts is one 3scale accepts.
 *
 * Pure data, serialized by value into the providers that check against it (like client.ts): no module-level state.
 */

/** 3scale system_name: word char first, then word chars, '-' or '/'; at least two characters. */
export const SYSTEM_NAME = /^\w[\w\-/]{1,254}$/;

/** The periods an application plan's usage limit may have. */
export const LIMIT_PERIODS = ["eternity", "year", "month", "week", "day", "hour", "minute"] as const;
export type LimitPeriod = (typeof LIMIT_PERIODS)[number];

/** The HTTP methods a mapping rule may match. */
export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"] as const;

/** porta app/models/service.rb L134-161 `DeploymentOption.all`: a product's deployment options. */
export const DEPLOYMENT_OPTIONS = [
  "hosted",
  "self_managed",
  "service_mesh_istio",
  "plugin_ruby",
  "plugin_java",
  "plugin_python",
  "plugin_nodejs",
  "plugin_php",
  "plugin_rest",
  "plugin_csharp",
] as const;

/** porta app/models/settings.rb L10: who may change plans in the portal (2.16 checks the service-plan one too). */
export const PLAN_CHANGE_PERMISSIONS = ["request", "none", "credit_card", "request_credit_card", "direct"] as const;

/**
 * porta app/models/proxy.rb L43 `HTTP_HEADER`, which 3scale applies to the gateway's error bodies as well as their
 * content types (L72-76): ASCII letters, digits, "_", space and { } [ ] , . ; @ # ~ % & ( ) ? " = / \ : + -.
 * (Ruby's `\Z` lets one final newline through.)
 */
export function isHttpHeaderText(value: string): boolean {
  const text = value.endsWith("\n") ? value.slice(0, -1) : value;
  return /^[{}[\]\d,.;@#~%&()?\w"= /\\:+-]+$/.test(text);
}

/**
 * porta app/models/proxy_rule.rb L29-83 `PatternParser`: `/segment(/segment)*`, an optional `$`, an optional
 * `?query`; segments of unreserved characters, `: @ & = + ,`, `%XX`, `{variable}` and `;`-parameters.
 */
export function isMappingPattern(pattern: string): boolean {
  const unreserved = "\\-_.!~*'()a-zA-Z\\d";
  const escaped = "%[a-fA-F\\d]{2}";
  const variable = "\\{[_\\w]+\\}";
  const param = `(?:[${unreserved}:@&=+,]|${escaped}|${variable})*`;
  const segment = `${param}(?:;${param})*`;
  const query = `(?:[${unreserved};/?:@&=+$,\\[\\]]|${escaped}|[_\\w]+=${variable})*`;
  const text = pattern.endsWith("\n") ? pattern.slice(0, -1) : pattern;
  return new RegExp(`^/${segment}(?:/${segment})*[$]?(?:\\?(?:${query}))?$`).test(text);
}

/** proxy_rule.rb L147-164: porta's messages about a pattern's variables, none when they are fine. */
export function mappingPatternProblems(pattern: string): string[] {
  const at = pattern.indexOf("?");
  const path = at < 0 ? pattern : pattern.slice(0, at);
  const keys =
    at < 0
      ? []
      : pattern
          .slice(at + 1)
          .split("&")
          .map((pair) => pair.split("=")[0]);
  const variables = [...path.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]);
  const names = [...new Set(variables), ...keys];
  const problems: string[] = [];
  if (new Set(variables).size !== variables.length || new Set(names).size !== names.length)
    problems.push("Can't have repeated variable names");
  if (keys.some((key) => /\{[_\w]+\}/.test(key))) problems.push("Can't use variables as keys in the querystring");
  return problems;
}

/**
 * The Liquid tags 3scale's portal parses (liquid 3.0.6 core tags and 3scale's, porta
 * lib/developer_portal/config/initializers/liquid.rb), with the sub-tags the blocks take. Any other tag in a
 * Liquid-enabled template is refused: "Liquid syntax error: Unknown tag '<name>'".
 */
export const LIQUID_TAGS = [
  ...["assign", "break", "capture", "case", "comment", "continue", "cycle", "decrement", "for", "if", "ifchanged"],
  ...["include", "increment", "raw", "tablerow", "unless", "elsif", "else", "when"],
  ...["form", "email", "content_for", "subject", "header", "bcc", "cc", "reply_to", "from", "do_not_send"],
  ...["authorize_net_form", "payment_express_form", "braintree_customer_form", "ogone_form", "stripe_form"],
  ...["content", "container", "credit_card_missing", "essential_assets", "flash", "footer", "oldfooter"],
  ...["internal_error", "latest_forum_posts", "latest_messages", "logo", "menu", "submenu", "theme_stylesheet"],
  ...["user_widget", "plan_widget", "page_section", "page_sub_section", "trial_notice", "debug", "csrf"],
  ...["3scale_essentials", "portlet", "active_docs", "sort_link", "cdn_asset", "disable_client_cache"],
] as const;

/** Tags a Liquid template uses that 3scale does not know (`end<block>` tags of known blocks are fine). */
export function unknownLiquidTags(source: string): string[] {
  const known = new Set<string>(LIQUID_TAGS);
  // Liquid reads no tag inside raw, and ignores unknown ones inside comment.
  const parsed = source.replace(/\{%\s*(raw|comment)\s*%\}[\s\S]*?\{%\s*end\1\s*%\}/g, "");
  const used = [...parsed.matchAll(/\{%\s*(\w+)/g)].map((m) => m[1]);
  return [...new Set(used.filter((tag) => !known.has(tag) && !(tag.startsWith("end") && known.has(tag.slice(3)))))];
}

/** True when the text holds Liquid markup (`{{` or `{%`). */
export function usesLiquid(source: string): boolean {
  return /\{\{|\{%/.test(source);
}
