/**
 * A stand-in for the one-endpoint gateway on loopback, for the portal's usage chart:
 * - APIcast's CORS policy as our chain configures it (components/products/policy-chain.ts): the portal origin only,
 *   credentials allowed, `Authorization, Content-Type, Accept`, preflights answered 204 before anything else, the
 *   headers on every answer to an allowed origin (errors included);
 * - `GET /v1/usage` answered per key like the llm_metrics policy (assets/apicast-policies/llm-metrics/README.md,
 *   "GET /v1/usage" and "Errors the policy answers"): the usage document, or an OpenAI-style error body.
 * It records every request it receives.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import { modelKey } from "../../../components/products/endpoint-spec";
import type { ReceivedRequest } from "./portal-server";

export interface UsageRow {
  model: string | null;
  metric: string;
  kind: string;
  unit: "requests" | "tokens" | "units";
  period: string;
  used: number;
  limit: number;
  remaining: number;
  period_start: number | null;
  period_end: number | null;
  reset_seconds: number | null;
}

export interface UsageDocument {
  object: "usage";
  generated_at: number;
  models: string[];
  data: UsageRow[];
}

/** 2026-12-04T14:41:30Z: a Friday afternoon, the fourth day of the month. */
export const NOW = 1796395290;

function bounds(period: string, now: number): [number, number] | [null, null] {
  const d = new Date(now * 1000);
  switch (period) {
    case "minute":
      return [Math.floor(now / 60) * 60, Math.floor(now / 60) * 60 + 60];
    case "hour":
      return [Math.floor(now / 3600) * 3600, Math.floor(now / 3600) * 3600 + 3600];
    case "day":
      return [Math.floor(now / 86400) * 86400, Math.floor(now / 86400) * 86400 + 86400];
    case "month":
      return [
        Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) / 1000,
        Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1) / 1000,
      ];
    default:
      return [null, null];
  }
}

/** One row as the policy writes it: `remaining = max(0, limit - used)`, the period's bounds and the time to reset. */
export function usageRow(
  model: string | null,
  kind: "requests" | "total_tokens",
  period: string,
  used: number,
  limit: number,
  now = NOW,
): UsageRow {
  const [start, end] = bounds(period, now);
  const metric =
    kind === "requests" ? (model ? `model_${modelKey(model)}` : "hits") : model ? `${modelKey(model)}_${kind}` : kind;
  return {
    model,
    metric,
    kind,
    unit: kind === "requests" ? "requests" : "tokens",
    period,
    used,
    limit,
    remaining: Math.max(0, limit - used),
    period_start: start,
    period_end: end,
    reset_seconds: end === null ? null : end - now,
  };
}

/**
 * A realistic document for a plan with product-wide limits (60 requests / minute, 200,000 tokens / day, 2,000,000 /
 * month) and per-model token limits, that includes four of the stack's models (the fourth with no limit of its own),
 * in the policy's order: product-wide first, then by model, kind (requests first), metric, period.
 */
export function usageDocument(models: string[], now = NOW): UsageDocument {
  const [granite, llama, mistral, qwen] = models;
  return {
    object: "usage",
    generated_at: now,
    models: [granite, llama, mistral, qwen],
    data: [
      usageRow(null, "requests", "minute", 3, 60, now),
      usageRow(null, "total_tokens", "day", 48250, 200000, now),
      usageRow(null, "total_tokens", "month", 1730400, 2000000, now),
      usageRow(granite, "requests", "minute", 2, 30, now),
      usageRow(granite, "total_tokens", "day", 41000, 50000, now),
      usageRow(granite, "total_tokens", "month", 610000, 1000000, now),
      usageRow(llama, "total_tokens", "day", 7250, 50000, now),
      usageRow(mistral, "total_tokens", "day", 50000, 50000, now),
    ],
  };
}

export const invalidKey = (key: string): GatewayAnswer => ({
  status: 401,
  // The 3scale backend's message names the key (apisonator: `user key "<key>" is invalid`); the policy passes it on.
  body: {
    error: {
      message: `Authentication failed: user key "${key}" is invalid`,
      type: "invalid_request_error",
      param: null,
      code: "invalid_api_key",
    },
  },
});

export const limitsUnavailable: GatewayAnswer = {
  status: 503,
  headers: { "Retry-After": "1" },
  body: {
    error: {
      message: "The usage limits could not be checked; please try again later.",
      type: "server_error",
      param: null,
      code: "limits_unavailable",
    },
  },
};

export interface GatewayAnswer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** The answer is sent once this settles (to observe the portal while it waits). */
  after?: Promise<void>;
  /** false: answer without the CORS headers (a gateway whose CORS policy does not list the portal's origin). */
  cors?: false;
}

export interface FakeGateway {
  url: string;
  /** Every request received, preflights included, in order. */
  requests: ReceivedRequest[];
  /** What `GET /v1/usage` answers for `key`: each request takes the next answer, the last one repeats. */
  answer(key: string, ...answers: GatewayAnswer[]): void;
  close(): Promise<void>;
}

const ALLOW_HEADERS = "Authorization, Content-Type, Accept";
const ALLOW_METHODS = "GET, OPTIONS, POST";

export async function startFakeGateway(allowOrigin: () => string): Promise<FakeGateway> {
  const requests: ReceivedRequest[] = [];
  const answers = new Map<string, GatewayAnswer[]>();
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const origin = req.headers.origin;
    const cors: Record<string, string> =
      origin !== undefined && origin === allowOrigin()
        ? {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Max-Age": "600",
            Vary: "Origin",
          }
        : {};
    const send = (status: number, body: unknown, headers: Record<string, string> = {}, withCors = true) => {
      res.writeHead(status, { "Content-Type": "application/json", ...(withCors ? cors : {}), ...headers });
      res.end(JSON.stringify(body));
    };
    // The CORS policy runs first: a preflight never reaches authentication or mapping rules.
    if (req.method === "OPTIONS" && req.headers["access-control-request-method"]) {
      res.writeHead(204, cors);
      res.end();
      return;
    }
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (req.method !== "GET" || url.pathname !== "/v1/usage") {
      // APIcast without a matching mapping rule.
      res.writeHead(404, { "Content-Type": "text/plain", ...cors });
      res.end("No Mapping Rule matched");
      return;
    }
    const key = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
    if (!key) {
      send(401, {
        error: {
          message: "You did not provide an API key.",
          type: "invalid_request_error",
          param: null,
          code: "invalid_api_key",
        },
      });
      return;
    }
    const queue = answers.get(key);
    const next = queue && queue.length > 1 ? queue.shift()! : queue?.[0];
    const answer = next ?? invalidKey(key);
    void (answer.after ?? Promise.resolve()).then(() =>
      send(answer.status, answer.body, answer.headers, answer.cors !== false),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answer: (key, ...list) => void answers.set(key, list),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
