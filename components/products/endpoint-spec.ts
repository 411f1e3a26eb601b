/**
 * The one-endpoint product: one OpenAI-compatible endpoint and one key for every model a plan includes. Our metering
 * policy routes each request by its `model` field (its contract: assets/apicast-policies/llm-metrics/README.md):
 * - per model a method `model_<key>` under `hits` and token metrics `<key>_<metric>` beside the product-wide ones;
 * - a plan excludes a model with a limit of 0 on `model_<key>` (what the admin portal's "disable" writes);
 * - mapping rules on `hits` for the routed endpoints, `GET /v1/models` and `GET /v1/usage`.
 * Plain data in and out; ModelsEndpoint wires it.
 */
import type { PlatformConfig } from "../config/schema";
import { planHeader, type PlanSpec } from "./plans";
import {
  HITS,
  type Endpoint,
  type MappingRuleSpec,
  type MetricSpec,
  type MethodSpec,
  tokenMetrics,
} from "./product-spec";

export type EndpointConfig = PlatformConfig["threescale"]["endpoint"];

/** A model as the endpoint serves it. */
export interface EndpointModel {
  name: string;
  displayName: string;
  endpoints: Endpoint[];
}

/** The policy's key of a model: lower case, every character other than a-z, 0-9 and _ turned into _. */
export function modelKey(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_]/g, "_");
}

export const modelMethod = (model: string) => `model_${modelKey(model)}`;
export const modelMetric = (model: string, metric: string) => `${modelKey(model)}_${metric}`;

/** Endpoints the gateway routes by the body's `model`: POST requests under /v1/ (and tokenize, which names a model). */
const ROUTED = new Set(["chat_completions", "completions", "embeddings", "tokenize", "detokenize"]);

export const USAGE_PATH = "/v1/usage";
export const MODELS_PATH = "/v1/models";

export interface EndpointSpec {
  product: { systemName: string; name: string; description: string };
  /** Each model's backend, mounted at `/<model>` (3scale wants a path per backend; the policy routes by body). */
  usages: Array<{ model: string; path: string }>;
  metrics: MetricSpec[];
  methods: MethodSpec[];
  mappingRules: MappingRuleSpec[];
  plans: PlanSpec[];
  /** Endpoints a caller can use, with the models serving each. */
  endpoints: Endpoint[];
}

function endpointPlans(config: EndpointConfig, models: EndpointModel[]): PlanSpec[] {
  const names = models.map((m) => m.name);
  return config.plans.map((plan) => {
    const included = plan.models ?? names;
    const excluded = names.filter((n) => !included.includes(n));
    return {
      ...planHeader(plan),
      limits: [
        ...plan.limits.map((l) => ({
          metric:
            l.model === undefined
              ? l.metric
              : l.metric === HITS
                ? modelMethod(l.model)
                : modelMetric(l.model, l.metric),
          period: l.period,
          value: l.value,
        })),
        ...excluded.map((model) => ({ metric: modelMethod(model), period: "eternity" as const, value: 0 })),
      ],
    };
  });
}

export function endpointSpec(config: EndpointConfig, models: EndpointModel[]): EndpointSpec {
  const served = new Map<string, Endpoint>();
  for (const m of models)
    for (const e of m.endpoints) if (ROUTED.has(e.name) || e.name === "list_models") served.set(e.name, e);
  const endpoints = [...served.values()];
  const rules: MappingRuleSpec[] = endpoints.map((e) => ({
    method: HITS,
    key: e.name,
    httpMethod: e.method,
    pattern: e.path,
    delta: 1,
  }));
  if (config.usage) rules.push({ method: HITS, key: "usage", httpMethod: "GET", pattern: USAGE_PATH, delta: 1 });
  const perModel = tokenMetrics().flatMap((t) =>
    models.map((m) => ({
      ...t,
      systemName: modelMetric(m.name, t.systemName),
      friendlyName: `${t.friendlyName} of ${m.displayName}`,
    })),
  );
  return {
    product: {
      systemName: config.systemName,
      name: config.name,
      description: `One OpenAI-compatible endpoint for every model: ${models.map((m) => m.name).join(", ")}`,
    },
    usages: models.map((m) => ({ model: m.name, path: `/${m.name}` })),
    metrics: [...tokenMetrics(), ...perModel],
    methods: models.map((m) => ({
      systemName: modelMethod(m.name),
      friendlyName: m.displayName,
      description: `Requests routed to ${m.name}`,
    })),
    mappingRules: rules,
    plans: endpointPlans(config, models),
    endpoints,
  };
}

/** The metering policy's configuration on the one-endpoint product: metering plus routing, limits and usage. */
export function endpointPolicyConfiguration(
  metering: Record<string, unknown>,
  config: EndpointConfig,
  models: Array<{ name: string; upstream: string }>,
): Record<string, unknown> {
  return {
    ...metering,
    routing_models: models.map((m) => ({ name: m.name, upstream: m.upstream, system_name: modelKey(m.name) })),
    models_path: MODELS_PATH,
    admission: config.admission,
    admission_failure_mode: config.admissionFailureMode,
    admission_default_max_tokens: config.admissionDefaultMaxTokens,
    rate_limit_headers: config.rateLimitHeaders,
    usage_path: config.usage ? USAGE_PATH : "",
  };
}
