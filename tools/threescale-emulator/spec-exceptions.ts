/**
 * The ONE list of things the real 3scale 2.15 server accepts although its OpenAPI documents omit them. Spec
 * strictness rejects everything else, so a misspelt parameter fails a test instead of being silently dropped.
 * "§" refers to /work/shared/reference/threescale-admin-api.md.
 */
export interface ParamException {
  /** HTTP method, or "*". */
  method: string;
  /** Spec path template without the format suffix, or "*". */
  path: string;
  params: string[];
  source: string;
}

export interface MethodException {
  method: string;
  path: string;
  /** The documented method whose parameters apply. */
  documentedAs: string;
  source: string;
}

export const PARAM_EXCEPTIONS: ParamException[] = [
  {
    method: "*",
    path: "*",
    params: ["access_token"],
    source: "§0.2: the token is accepted as query or body parameter on every endpoint",
  },
  {
    method: "GET",
    path: "*",
    params: ["page", "per_page"],
    source: "§0.4: pagination params are read by every list (ignored where a list is not paginated)",
  },
  {
    method: "POST",
    path: "/admin/api/services/{service_id}/application_plans",
    params: ["system_name", "description"],
    source: "§8.1: system_name is accepted on create although ActiveDocs omit it (the operator sends it)",
  },
  {
    method: "PUT",
    path: "/admin/api/services/{service_id}/application_plans/{id}",
    params: ["description"],
    source: "§8.1: description is a permitted plan attribute",
  },
  {
    method: "PATCH",
    path: "/admin/api/services/{service_id}/proxy",
    params: [
      "secret_token",
      "hostname_rewrite",
      "oauth_login_url",
      "api_test_path",
      "error_headers_no_match",
      "service_id",
    ],
    source:
      "§5 writable fields missing from ActiveDocs (the operator PATCHes secret_token/hostname_rewrite, §14); " +
      "service_id is the toolbox 'bump' field (§0.1)",
  },
  {
    method: "PUT",
    path: "/admin/api/services/{service_id}/proxy/policies",
    params: ["policies_config"],
    source: "§7: policies_config may be a JSON array in a JSON body, optionally nested under `proxy`",
  },
  {
    method: "PUT",
    path: "/admin/api/settings",
    params: ["service_plans_ui_visible", "enforce_sso"],
    source: "§9: settings fields the controller permits beyond the documented ones",
  },
  {
    method: "GET",
    path: "/admin/api/cms/templates",
    params: ["type", "section_id"],
    source: "§11.1: list filters added in 2.14",
  },
  {
    method: "POST",
    path: "/admin/api/cms/templates",
    params: ["content_type"],
    source: "§11.1: pages accept content_type",
  },
  {
    method: "PUT",
    path: "/admin/api/cms/templates/{id}",
    params: ["content_type"],
    source: "§11.1: pages accept content_type",
  },
  { method: "GET", path: "/admin/api/cms/sections", params: ["parent_id"], source: "§11.2: list filter" },
  { method: "GET", path: "/admin/api/cms/files", params: ["section_id"], source: "§11.3: list filter" },
];

export const METHOD_EXCEPTIONS: MethodException[] = [
  {
    method: "PUT",
    path: "/admin/api/services/{service_id}/proxy",
    documentedAs: "PATCH",
    source: "§5: PATCH (documented) or PUT",
  },
  {
    method: "PUT",
    path: "/admin/api/services/{service_id}/proxy/mapping_rules/{id}",
    documentedAs: "PATCH",
    source: "§4.2: PATCH (documented) or PUT",
  },
];
