/**
 * Liquid syntax check of CMS drafts. 3scale parses drafts with its own tags and filters registered, so a template
 * may use any of them; only real syntax errors are refused: unclosed `{{`/`{%`, unclosed or stray block tags,
 * malformed core tags (`if`, `for`, ...). Tags these lists do not know are accepted (as blocks when the template
 * also uses their `end` tag), and filters are never checked at parse time (as in Liquid itself).
 */
import { Liquid, Tokenizer, type TagToken, type TopLevelToken } from "liquidjs";

/**
 * 3scale's block tags (each needs `{% end<name> %}`), from porta `lib/developer_portal/lib/liquid/tags/*.rb`:
 * the classes deriving from `Liquid::Block` are `Form`, `Email` and `ContentFor`. Every other 3scale tag
 * (`content`, `csrf`, `flash`, `cdn_asset`, `portlet`, `disable_client_cache`, `include`, ...) is a simple tag.
 */
export const THREESCALE_BLOCK_TAGS = ["form", "email", "content_for"] as const;

/**
 * 3scale's simple tags (same source, registered in `lib/developer_portal/config/initializers/liquid.rb`; the tag
 * name is the class name underscored). Listed so the common ones are known even though unknown names pass too.
 * `include` is 3scale's own (IncludeWithComments), which takes Ruby Liquid's include syntax.
 */
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

const NO_OUTPUT = {
  *render(): Generator<unknown, void, unknown> {
    // Only parsing matters here; nothing is ever rendered.
  },
};

function blockTag(name: string) {
  return {
    ...NO_OUTPUT,
    parse(this: { liquid: Liquid }, token: TagToken, remainTokens: TopLevelToken[]) {
      let closed = false;
      const stream = this.liquid.parser.parseStream(remainTokens);
      stream
        .on(`tag:end${name}`, () => {
          closed = true;
          stream.stop();
        })
        .on("end", () => {
          if (!closed) throw new Error(`tag ${token.getText()} not closed`);
        });
      stream.start();
    },
  };
}

function checker(extra: { simple: string[]; blocks: string[] }): Liquid {
  const liquid = new Liquid();
  for (const name of [...THREESCALE_BLOCK_TAGS, ...extra.blocks]) liquid.registerTag(name, blockTag(name));
  for (const name of [...THREESCALE_SIMPLE_TAGS, ...extra.simple]) liquid.registerTag(name, NO_OUTPUT);
  return liquid;
}

const known = checker({ simple: [], blocks: [] });

/** Null when the draft parses, else the first line of the parser's message. */
export function liquidSyntaxError(source: string): string | null {
  try {
    // Tokenizing first catches unclosed delimiters and tells which tag names the template uses.
    const tags = new Tokenizer(source)
      .readTopLevelTokens()
      .filter((t): t is TagToken => "name" in t && typeof (t as TagToken).name === "string")
      .map((t) => t.name);
    // An unknown name is a block when the template also uses `end<name>`, else a simple tag. End tags are never
    // registered, so a stray one is still an error.
    const unknown = [...new Set(tags)].filter((name) => !name.startsWith("end") && !(name in known.tags));
    const blocks = unknown.filter((name) => tags.includes(`end${name}`));
    const simple = unknown.filter((name) => !blocks.includes(name));
    (unknown.length > 0 ? checker({ simple, blocks }) : known).parse(source);
    return null;
  } catch (e) {
    return (e as Error).message.split("\n")[0];
  }
}
