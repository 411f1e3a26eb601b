/**
 * Fixture data for the portal tests: stack configs with 1 and 5 models, with and without the one-endpoint product, and
 * 3scale drop contexts for anonymous and signed-in developers with 0, 1 and many applications (and applications of
 * the one-endpoint product), shaped like the drops the portal passes to templates.
 */
import { parseConfig, type PlatformConfig } from "../../../components/config/schema";
import {
  buildPortalContent,
  type PortalContent,
  type PortalEndpointArgs,
  type PortalModel,
} from "../../../components/portal/content";
import { productSpec } from "../../../components/products/product-spec";

export const WILDCARD = "apps.test-cluster.example.com";
export const PORTAL_URL = `https://maas.${WILDCARD}`;
export const gatewayUrl = (product: string) => `https://${product}-maas-apicast-production.${WILDCARD}:443`;

const MODEL_NAMES = [
  "granite-33-2b-instruct",
  "llama-31-8b-instruct",
  "mistral-7b-instruct",
  "qwen25-7b",
  "phi-4-mini",
];

export function stackConfig(modelCount: number): PlatformConfig {
  return parseConfig({
    models: MODEL_NAMES.slice(0, modelCount).map((name, i) => ({
      name,
      displayName: name.replace(/-/g, " ").replace(/\b\w/g, (c) => c.toUpperCase()),
      description: `Instruction-tuned model number ${i + 1}, served by vLLM.`,
      maxModelLen: 8192 * (i + 1),
      ...(i === 1
        ? {
            plans: [
              { systemName: "starter", name: "Starter", limits: [{ metric: "hits", period: "minute", value: 10 }] },
              {
                systemName: "team",
                name: "Team",
                description: "For shared team workloads",
                default: true,
                limits: [{ metric: "total_tokens", period: "month", value: 5000000 }],
              },
            ],
          }
        : {}),
      ...(i === 2 ? { embeddings: true, gpus: 2, accelerator: "NVIDIA L40S" } : {}),
    })),
  });
}

/** The models of `config` as the portal receives them: with their product spec and gateway URL. */
export function portalModels(config: PlatformConfig, urlOf: (model: string) => string = gatewayUrl): PortalModel[] {
  return config.models.map((model) => ({
    model,
    spec: productSpec(model, config.threescale),
    gatewayUrl: urlOf(model.name),
  }));
}

/** The one-endpoint product (`threescale.endpoint` defaults): its 3scale system name and product name. */
export const ENDPOINT = { systemName: "maas-api", name: "All models" };
export const endpointGatewayUrl = gatewayUrl(ENDPOINT.systemName);

/**
 * The portal of a stack with `modelCount` models; with `endpoint`, the one-endpoint product too (`true`: the defaults
 * at its usual gateway URL; an object overrides its fields).
 */
export function portalContent(
  modelCount: number,
  endpoint?: true | Partial<PortalEndpointArgs>,
): { config: PlatformConfig; content: PortalContent } {
  const config = stackConfig(modelCount);
  const content = buildPortalContent({
    models: portalModels(config),
    portalUrl: PORTAL_URL,
    ...(endpoint
      ? { endpoint: { ...ENDPOINT, gatewayUrl: endpointGatewayUrl, ...(endpoint === true ? {} : endpoint) } }
      : {}),
  });
  return { config, content };
}

export const API_KEY = "5f3c9a1e7b2d4c6a8e0f1a2b3c4d5e6f";
/** The key of application `id` (application 1 has API_KEY). */
export const keyOf = (id: number) => (id === 1 ? API_KEY : `${API_KEY.slice(0, 24)}${String(id).padStart(8, "0")}`);

function service(name: string) {
  if (name === ENDPOINT.systemName) {
    return {
      name: ENDPOINT.name,
      system_name: name,
      description: "One OpenAI-compatible endpoint for every model",
    };
  }
  return { name: `${name} (model)`, system_name: name, description: `The ${name} model` };
}

/** An application of `product`: a model's name, or ENDPOINT.systemName for the one-endpoint product. */
export function application(id: number, product: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    name: `app-${id}`,
    description: `Application ${id}`,
    state: "live",
    user_key: keyOf(id),
    url: `/admin/applications/${id}`,
    service: service(product),
    plan: { id: 100 + id, name: "Basic" },
    ...overrides,
  };
}

/**
 * Applications of the `endpoint` persona, by id: what the fake gateway answers for each key is in
 * endpoint-browser.test.ts.
 */
export const ENDPOINT_APPS = {
  usage: 1,
  model: 2,
  refused: 3,
  noLimits: 4,
  pending: 5,
  slow: 6,
  blocked: 7,
} as const;

/**
 * anonymous; signed in with no, one or many model applications; or `endpoint`: applications of the one-endpoint
 * product (see ENDPOINT_APPS) beside one of a model.
 */
export type Persona = "anonymous" | "none" | "one" | "many" | "endpoint";

function personaApplications(persona: Persona, models: string[]) {
  switch (persona) {
    case "one":
      return [application(1, models[0])];
    case "many":
      return models.flatMap((m, i) => [application(2 * i + 1, m), application(2 * i + 2, m, { state: "pending" })]);
    case "endpoint":
      return [
        application(ENDPOINT_APPS.usage, ENDPOINT.systemName, { name: "assistant" }),
        application(ENDPOINT_APPS.model, models[0], { name: "batch" }),
        application(ENDPOINT_APPS.refused, ENDPOINT.systemName, { name: "revoked-key" }),
        application(ENDPOINT_APPS.noLimits, ENDPOINT.systemName, {
          name: "unlimited",
          plan: { id: 104, name: "Open" },
        }),
        application(ENDPOINT_APPS.pending, ENDPOINT.systemName, { name: "waiting", state: "pending" }),
        application(ENDPOINT_APPS.slow, ENDPOINT.systemName, { name: "slow-gateway" }),
        application(ENDPOINT_APPS.blocked, ENDPOINT.systemName, { name: "wrong-origin" }),
      ];
    default:
      return [];
  }
}

/** The global drops every page sees, for a persona. */
export function baseContext(persona: Persona, models: string[], path = "/"): Record<string, unknown> {
  const apps = personaApplications(persona, models);
  const signedIn = persona !== "anonymous";
  return {
    provider: {
      name: "Example Corp",
      api_specs: models.map((m, i) => ({
        system_name: m,
        url: `/swagger/spec/${m}.json`,
        "published?": i !== 1,
        service: i === 3 ? null : service(m),
        api_product_production_public_base_url: gatewayUrl(m),
      })),
    },
    site: {
      authentication_providers: [
        { name: "Red Hat Single Sign-On", system_name: "keycloak", kind: "keycloak", authorize_url: "/auth/keycloak" },
      ],
    },
    urls: {
      login: "/login",
      logout: "/logout",
      signup: "/signup",
      forgot_password: "/admin/account/password/new",
      applications: "/admin/applications",
      new_application: "/admin/applications/new",
    },
    request: { path },
    today: { year: 2026 },
    flash: { messages: [] },
    current_user: signedIn ? { username: "ada", can: { "create_application?": true } } : null,
    current_account: signedIn ? { applications: apps } : null,
    applications: apps,
    user: null,
  };
}

/** The page-specific drops, per page system name; `applicationId` picks the application of applications/show. */
export function pageContext(
  page: string,
  persona: Persona,
  models: string[],
  applicationId?: number,
): Record<string, unknown> {
  const base = baseContext(persona, models);
  const apps = base.applications as ReturnType<typeof application>[];
  const first = apps[0] ?? application(1, models[0]);
  switch (page) {
    case "applications/show": {
      const shown = applicationId === undefined ? first : apps.find((a) => a.id === applicationId);
      if (!shown) throw new Error(`persona ${persona} has no application ${applicationId}`);
      return { ...base, application: shown };
    }
    case "applications/new":
      return { ...base, application: { ...first, name: "", description: "", id: null } };
    case "applications/choose_service":
      // 3scale lists products in creation order: the one-endpoint product (endpoint persona) after the models.
      return {
        ...base,
        services: [...models, ...(persona === "endpoint" ? [ENDPOINT.systemName] : [])].map(service),
      };
    default:
      return base;
  }
}
