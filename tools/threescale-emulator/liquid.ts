/**
 * The Liquid syntax check porta runs on CMS drafts: `Liquid::Template.parse(draft)` with the gem porta pins,
 * liquid 3.0.6 (Gemfile.lock), in its default lax error mode, with 3scale's tags registered
 * (lib/developer_portal/config/initializers/liquid.rb). A syntax error is reported as porta stores it on `draft`
 * (app/models/cms/template.rb L175-186): `Liquid syntax error: <message>`, the messages of liquid 3.0.6
 * `lib/liquid/locales/en.yml`. This transcribes the parser's structure (lib/liquid/block.rb, document.rb, the core
 * tags' `Syntax` regexps); nothing is rendered.
 */

// lib/liquid.rb L23-40
const QUOTED_STRING = `"[^"]*"|'[^']*'`;
const QUOTED_FRAGMENT = `${QUOTED_STRING}|(?:[^\\s,|'"]|${QUOTED_STRING})+`;
const VARIABLE_SIGNATURE = `\\(?[\\w\\-.[\\]]\\)?`;
const VARIABLE_SEGMENT = `[\\w\\-]`;
/** TemplateParser: `{%...%}`, `{{...}}` (or `{{...}`), or a lone `{{`/`{%`. */
const TEMPLATE_PARSER = /(\{%[\s\S]*?%\}|\{\{[\s\S]*?\}\}?|\{\{|\{%)/;
/** Block::FullToken (lib/liquid/block.rb L3). */
const FULL_TOKEN = /^\{%\s*(\w+)\s*([\s\S]*)?%\}$/;
/** Block::ContentOfVariable. */
const CONTENT_OF_VARIABLE = /^\{\{([\s\S]*)\}\}$/;

/** 3scale's block tags (lib/developer_portal/lib/liquid/tags: the `Liquid::Block` subclasses). */
export const THREESCALE_BLOCK_TAGS = ["form", "email", "content_for"] as const;

/** 3scale's other tags, registered with their `tag` names (initializers/liquid.rb). */
export const THREESCALE_SIMPLE_TAGS = [
  "include",
  "authorize_net_form",
  "payment_express_form",
  "braintree_customer_form",
  "ogone_form",
  "stripe_form",
  "content",
  "container",
  "credit_card_missing",
  "essential_assets",
  "flash",
  "footer",
  "oldfooter",
  "internal_error",
  "latest_forum_posts",
  "latest_messages",
  "logo",
  "menu",
  "submenu",
  "theme_stylesheet",
  "user_widget",
  "plan_widget",
  "page_section",
  "page_sub_section",
  "trial_notice",
  "debug",
  "csrf",
  "3scale_essentials",
  "portlet",
  "active_docs",
  "sort_link",
  "cdn_asset",
  "disable_client_cache",
] as const;

/** liquid 3.0.6 lib/liquid/tags: block tags and simple tags. */
const CORE_BLOCKS = ["capture", "case", "comment", "for", "if", "ifchanged", "raw", "tablerow", "unless"];
const CORE_SIMPLE = ["assign", "break", "continue", "cycle", "decrement", "increment", "include"];

const BLOCKS = new Set<string>([...CORE_BLOCKS, ...THREESCALE_BLOCK_TAGS]);
const TAGS = new Set<string>([...BLOCKS, ...CORE_SIMPLE, ...THREESCALE_SIMPLE_TAGS]);

/** Every tag name a draft may use. */
export const KNOWN_TAGS: ReadonlySet<string> = TAGS;

class LiquidSyntaxError extends Error {}

/** locales/en.yml `errors.syntax.*`. */
const MESSAGES = {
  assign: "Syntax Error in 'assign' - Valid syntax: assign [var] = [source]",
  capture: "Syntax Error in 'capture' - Valid syntax: capture [var]",
  case: "Syntax Error in 'case' - Valid syntax: case [condition]",
  case_invalid_when: "Syntax Error in tag 'case' - Valid when condition: {% when [condition] [or condition2...] %}",
  case_invalid_else: "Syntax Error in tag 'case' - Valid else condition: {% else %} (no parameters) ",
  cycle: "Syntax Error in 'cycle' - Valid syntax: cycle [name :] var [, var2, var3 ...]",
  for: "Syntax Error in 'for loop' - Valid syntax: for [item] in [collection]",
  if: "Syntax Error in tag 'if' - Valid syntax: if [expression]",
  include: "Error in tag 'include' - Valid syntax: include '[template]' (with|for) [object|collection]",
  table_row: "Syntax Error in 'table_row loop' - Valid syntax: table_row [item] in [collection] cols=3",
};

const fail = (message: string): never => {
  throw new LiquidSyntaxError(message);
};

/** Ruby `markup =~ /re/` (unanchored), as the lax parsers test their markup. */
const matches = (source: string, markup: string) => new RegExp(source).test(markup);

/** tags/if.rb L59-75 `lax_parse` (also `unless` and `elsif`). */
function checkCondition(markup: string): void {
  const syntax = `(${QUOTED_FRAGMENT})\\s*([=!<>a-z_]+)?\\s*(${QUOTED_FRAGMENT})?`;
  const andOr = `\\b(?:\\s?and\\s?|\\s?or\\s?)\\b`;
  const scan = new RegExp(`(?:${andOr}|(?:\\s*(?!${andOr})(?:${QUOTED_FRAGMENT}|\\S+)\\s*)+)`, "g");
  const expressions = markup.match(scan) ?? [];
  if (!matches(syntax, expressions.pop() ?? "")) fail(MESSAGES.if);
  while (expressions.length > 0) {
    const operator = (expressions.pop() ?? "").trim();
    if (!matches(syntax, expressions.pop() ?? "")) fail(MESSAGES.if);
    if (operator !== "and" && operator !== "or") fail(MESSAGES.if);
  }
}

/** The markup checks the core tags make when they are parsed (lax mode). */
function checkMarkup(tag: string, markup: string): void {
  switch (tag) {
    case "assign":
      if (!matches(`((?:${VARIABLE_SIGNATURE})+)\\s*=\\s*([\\s\\S]*)\\s*`, markup)) fail(MESSAGES.assign);
      break;
    case "capture":
      if (!matches(`((?:${VARIABLE_SIGNATURE})+)`, markup)) fail(MESSAGES.capture);
      break;
    case "case":
      if (!matches(`(${QUOTED_FRAGMENT})`, markup)) fail(MESSAGES.case);
      break;
    case "cycle":
      if (!matches(`^(${QUOTED_FRAGMENT})\\s*:\\s*([\\s\\S]*)`, markup) && !matches(`^(?:${QUOTED_FRAGMENT})+`, markup))
        fail(MESSAGES.cycle);
      break;
    case "for":
      if (!matches(`^(${VARIABLE_SEGMENT}+)\\s+in\\s+((?:${QUOTED_FRAGMENT})+)\\s*(reversed)?`, markup))
        fail(MESSAGES.for);
      break;
    case "if":
    case "unless":
    case "elsif":
      checkCondition(markup);
      break;
    case "include":
      if (!matches(`((?:${QUOTED_FRAGMENT})+)(\\s+(?:with|for)\\s+((?:${QUOTED_FRAGMENT})+))?`, markup))
        fail(MESSAGES.include);
      break;
    case "tablerow":
      if (!matches(`(\\w+)\\s+in\\s+((?:${QUOTED_FRAGMENT})+)`, markup)) fail(MESSAGES.table_row);
      break;
    case "content_for":
      // porta lib/developer_portal/lib/liquid/tags/content_for.rb L6-12
      if (!matches(`(\\w+)`, markup)) fail("Syntax Error in 'content_for' - Valid syntax: content_for [var]");
      break;
  }
}

/** The intermediate tags a block accepts (If/Unless: elsif, else; For: else; Case: when, else). */
function intermediate(block: string, tag: string, markup: string): boolean {
  if ((block === "if" || block === "unless") && (tag === "elsif" || tag === "else")) {
    if (tag === "elsif") checkCondition(markup);
    return true;
  }
  if (block === "for" && tag === "else") return true;
  if (block === "case" && tag === "when") {
    if (!matches(`(${QUOTED_FRAGMENT})(?:(?:\\s+or\\s+|\\s*,\\s*)(${QUOTED_FRAGMENT}[\\s\\S]*))?`, markup))
      fail(MESSAGES.case_invalid_when);
    return true;
  }
  if (block === "case" && tag === "else") {
    if (markup.trim() !== "") fail(MESSAGES.case_invalid_else);
    return true;
  }
  // porta liquid/tags/email.rb L65-95: its sub-tags (an `= value` form for all but do_not_send).
  if (block === "email") {
    if (tag === "do_not_send") return true;
    const assign = `((?:${QUOTED_FRAGMENT})+)?\\s*=?\\s*((?:${QUOTED_FRAGMENT})+)`;
    return ["subject", "header", "bcc", "cc", "reply_to", "from"].includes(tag) && matches(assign, markup);
  }
  return false;
}

/** Parses tokens into the block `name` (null: the document) until its end tag; throws on a syntax error. */
function parseBlock(tokens: string[], name: string | null): void {
  while (tokens.length > 0) {
    const token = tokens.shift()!;
    if (token === "") continue;
    if (token.startsWith("{%")) {
      const full = FULL_TOKEN.exec(token);
      if (!full) fail(`Tag '${token}' was not properly terminated with regexp: /\\%\\}/`);
      const [, tag, rawMarkup] = full!;
      const markup = rawMarkup ?? "";
      if (name !== null && tag === `end${name}`) return;
      if (TAGS.has(tag)) {
        checkMarkup(tag, markup);
        if (tag === "raw") {
          // tags/raw.rb: everything up to `{% endraw %}` is text.
          while (tokens.length > 0 && !/^\{%\s*endraw\s*%\}$/.test(tokens.shift()!));
          continue;
        }
        if (BLOCKS.has(tag)) parseBlock(tokens, tag);
        continue;
      }
      // Not registered: the current block handles it (block.rb L80-94; comment.rb ignores anything).
      if (name === "comment") continue;
      if (name !== null && intermediate(name, tag, markup)) continue;
      if (tag === "else") fail(`${name ?? ""} tag does not expect else tag`);
      if (tag === "end") fail(`'end' is not a valid delimiter for ${name ?? ""} tags. use end${name ?? ""}`);
      fail(`Unknown tag '${tag}'`);
    } else if (token.startsWith("{{")) {
      if (!CONTENT_OF_VARIABLE.test(token))
        fail(`Variable '${token}' was not properly terminated with regexp: /\\}\\}/`);
    }
  }
  if (name !== null) fail(`'${name}' tag was never closed`);
}

/** Null when the draft parses, else porta's error message (`Liquid syntax error: ...`). */
export function liquidSyntaxError(source: string): string | null {
  if (source === "") return null;
  // Ruby's String#split with a capture group keeps the delimiters; a leading empty element is dropped.
  const tokens = source.split(TEMPLATE_PARSER);
  try {
    parseBlock(tokens, null);
    return null;
  } catch (e) {
    if (e instanceof LiquidSyntaxError) return `Liquid syntax error: ${e.message}`;
    throw e;
  }
}
