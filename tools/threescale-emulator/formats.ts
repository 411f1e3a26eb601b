/**
 * Value formats porta validates with regular expressions, transcribed from its models (3scale 2.15 and 2.16 are
 * identical here). Ruby's `\w` is ASCII-only like JavaScript's, and Ruby's `\Z` also matches before a final newline.
 */

/** Ruby `\Z`: the end of the text, or just before a newline that ends it. */
function matchesWhole(pattern: string, value: string): boolean {
  return new RegExp(`^(?:${pattern})$`).test(value.endsWith("\n") ? value.slice(0, -1) : value);
}

/**
 * porta app/models/proxy.rb L43 `HTTP_HEADER = /\A[{}\[\]\d,.;@#~%&()?\w_"= \/\\:+-]+\Z/`, applied (L72-76) to the
 * error bodies as well as the error content types: `error_auth_failed`, `error_headers_auth_failed`, ...
 */
export function isHttpHeaderText(value: string): boolean {
  return matchesWhole('[{}\\[\\]\\d,.;@#~%&()?\\w_"= /\\\\:+-]+', value);
}

/** Ruby's URI::REGEXP::PATTERN pieces the mapping-rule grammar is made of. */
const UNRESERVED = "\\-_.!~*'()a-zA-Z\\d";
const RESERVED = ";/?:@&=+$,\\[\\]";
const ESCAPED = "%[a-fA-F\\d]{2}";
const LITERAL = "[_\\w]+";
const VARIABLE = `\\{${LITERAL}\\}`;
const PARAM = `(?:[${UNRESERVED}:@&=+,]|${ESCAPED}|${VARIABLE})*`;
const SEGMENT = `${PARAM}(?:;${PARAM})*`;
const PATH = `/${SEGMENT}(?:/${SEGMENT})*`;
const QUERY = `(?:[${UNRESERVED}${RESERVED}]|${ESCAPED}|${LITERAL}=${VARIABLE})*`;

/**
 * porta app/models/proxy_rule.rb L29-83 `PatternParser::ABSOLUTE_PATH`: `/segment(/segment)*`, an optional `$`,
 * an optional `?query` (validated with `format:`, message "is invalid").
 */
export function isMappingPattern(pattern: string): boolean {
  return matchesWhole(`${PATH}[$]?(?:\\?(?:${QUERY}))?`, pattern);
}

/**
 * The other pattern rules of proxy_rule.rb: no variable used twice (L147-158 `non_repeated_parameters`, path
 * variables and query keys together) and no variable as a query key (L160-164 `no_vars_in_keys`). Returns porta's
 * messages.
 */
export function mappingPatternProblems(pattern: string): string[] {
  const [path, query] = splitOnce(pattern, "?");
  const pathVariables = [...path.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]);
  const keys = query === undefined ? [] : query.split("&").map((pair) => pair.split("=")[0]);
  const problems: string[] = [];
  const names = [...new Set(pathVariables), ...keys];
  if (new Set(pathVariables).size !== pathVariables.length || new Set(names).size !== names.length)
    problems.push("Can't have repeated variable names");
  if (keys.some((key) => new RegExp(VARIABLE).test(key)))
    problems.push("Can't use variables as keys in the querystring");
  return problems;
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}

/** porta app/models/service.rb L134-161 `DeploymentOption.all` (inclusion, "is not included in the list"). */
export const DEPLOYMENT_OPTIONS = [
  "plugin_ruby",
  "plugin_java",
  "plugin_python",
  "plugin_nodejs",
  "plugin_php",
  "plugin_rest",
  "plugin_csharp",
  "hosted",
  "self_managed",
  "service_mesh_istio",
] as const;

/** porta app/models/settings.rb L10 (2.16: also `change_service_plan_permission`). */
export const PLAN_CHANGE_PERMISSIONS = ["request", "none", "credit_card", "request_credit_card", "direct"] as const;
