/**
 * The llm-metrics policy in a real nginx with the lua module: bodies reach the client byte for byte, token usage
 * reaches a fake 3scale backend in batches with exact totals (also across workers, backend failures and worker
 * shutdown), large streamed requests spooled to a file are metered, odd and compressed responses pass through
 * unmetered; and, with routing and limits on, one endpoint serves two models with per-plan model lists, admission
 * before the predictor, OpenAI rate-limit headers and a usage document.
 */
import {
  BATCH_SHARED_DICT,
  ClientResponse,
  FakeBackend,
  FakeBackendOptions,
  FakeUpstream,
  Nginx,
  reportedTotals,
  requireTool,
  request,
  startFakeBackend,
  startFakeUpstream,
  startNginx,
  Usage,
  UpstreamMode,
} from "../../../tools/policy-gateway/nginx-fixture";

/** Short, so that batched reports arrive quickly; the default is 5 s. */
const INTERVAL_SECONDS = 1;
/** How long to wait for reports: a few intervals, generous for a loaded machine. */
const REPORT_DEADLINE_MS = 15000;

let upstream: FakeUpstream;
const started: { close(): Promise<void> }[] = [];
let nextId = 0;

beforeAll(async () => {
  requireTool("lua5.1", ["-e", "require('cjson')"], "lua-cjson");
  upstream = await startFakeUpstream();
});

afterAll(async () => {
  for (const s of started.reverse()) await s.close();
  await upstream?.close();
});

async function gateway(policyConfig: Record<string, unknown>, workers = 1) {
  const backend = await startFakeBackend();
  const nginx = await startNginx({
    upstreamPort: upstream.port,
    backendUrl: backend.url,
    serviceId: "7",
    policyConfig,
    workers,
  });
  started.push(backend, { close: () => nginx.stop() });
  return { backend, nginx };
}

/** A credential of its own per test, so that its totals are not mixed with other tests' requests. */
function newKey() {
  return `key-${nextId++}`;
}

async function chat(nginx: Nginx, key: string, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const id = `req-${nextId++}`;
  const response = await request(`${nginx.url}/chat/completions`, {
    headers: {
      "content-type": "application/json",
      authorization: `Bearer ${key}`,
      "accept-encoding": "gzip",
      "x-test-id": id,
      ...headers,
    },
    body: JSON.stringify(body),
  });
  const exchange = upstream.exchanges.get(id);
  if (!exchange) throw new Error(`upstream never saw ${id}: ${response.status} ${response.body.toString()}`);
  return { response, exchange };
}

function expectedTotals(usages: (Usage | undefined)[], totalMetric = "tokens") {
  const sums = { prompt_tokens: 0, completion_tokens: 0, [totalMetric]: 0 };
  for (const u of usages) {
    if (!u) throw new Error("the upstream sent no usage");
    sums.prompt_tokens += u.prompt_tokens;
    sums.completion_tokens += u.completion_tokens;
    sums[totalMetric] += u.total_tokens;
  }
  return sums;
}

/** Waits until the backend's totals for `key` reach `expected` (or the deadline), then returns them. */
async function totalsOnceReached(backend: FakeBackend, key: string, expected: Record<string, number>) {
  const reached = () => {
    const got = reportedTotals(backend.reports).get(key) ?? {};
    return Object.entries(expected).every(([metric, value]) => (got[metric] ?? 0) >= value);
  };
  const deadline = Date.now() + REPORT_DEADLINE_MS;
  while (!reached() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  return reportedTotals(backend.reports).get(key);
}

/** Lets a couple of report intervals pass, so that anything still pending has been sent. */
const settle = () => new Promise((r) => setTimeout(r, 2500 * INTERVAL_SECONDS));

describe("one worker, batched in worker memory", () => {
  let backend: FakeBackend;
  let nginx: Nginx;

  beforeAll(async () => {
    ({ backend, nginx } = await gateway({ total_tokens_metric: "tokens", report_interval_seconds: INTERVAL_SECONDS }));
  });

  test("meters a streamed response without changing a byte and asks the model for usage", async () => {
    const key = newKey();
    const { response, exchange } = await chat(
      nginx,
      key,
      { model: "granite-fixture", stream: true, messages: [{ role: "user", content: "hi" }] },
      { "x-upstream-size": String(256 * 1024) },
    );
    expect(response.status).toBe(200);
    expect(response.headers["content-type"]).toBe("text/event-stream");
    expect(response.sha256).toBe(exchange.sentSha256);
    expect(JSON.parse(exchange.requestBody).stream_options).toEqual({ include_usage: true });
    expect(exchange.requestHeaders["accept-encoding"]).toBeUndefined();

    const expected = expectedTotals([exchange.usage]);
    expect(await totalsOnceReached(backend, key, expected)).toEqual(expected);
    const report = backend.reports.find((r) => [...r.form.values()].includes(key))!;
    expect(report.query.get("service_id")).toBe("7");
    expect(report.query.get("service_token")).toBe("fixture-service-token");
  });

  test("meters a large JSON response byte for byte, once", async () => {
    const key = newKey();
    const { response, exchange } = await chat(
      nginx,
      key,
      { model: "granite-fixture", messages: [{ role: "user", content: "hi" }] },
      { "x-upstream-size": String(512 * 1024) },
    );
    expect(response.status).toBe(200);
    expect(response.sha256).toBe(exchange.sentSha256);
    expect(response.body.length).toBeGreaterThan(512 * 1024);
    expect(exchange.requestBody).toBe(
      JSON.stringify({ model: "granite-fixture", messages: [{ role: "user", content: "hi" }] }),
    );

    const expected = expectedTotals([exchange.usage]);
    expect(await totalsOnceReached(backend, key, expected)).toEqual(expected);
    await settle();
    expect(reportedTotals(backend.reports).get(key)).toEqual(expected);
    const metrics = await nginx.metrics();
    expect(metrics["llm_completion_tokens_total{7,granite-fixture}"]).toBeGreaterThanOrEqual(
      exchange.usage!.completion_tokens,
    );
  });

  test.each<[string, Record<string, string>]>([
    ["JSON", { "x-upstream-mode": "gzip-always" }],
    ["SSE", { "x-upstream-encoding": "gzip", "x-upstream-size": String(64 * 1024) }],
  ])("passes a gzip %s response through untouched and unmetered (no lua-zlib in APIcast)", async (kind, headers) => {
    const key = newKey();
    const stream = kind === "SSE";
    const { response, exchange } = await chat(nginx, key, { model: "granite-fixture", stream, messages: [] }, headers);
    expect(response.status).toBe(200);
    expect(response.headers["content-encoding"]).toBe("gzip");
    expect(response.sha256).toBe(exchange.sentSha256);
    // The client asked for gzip; the policy removed Accept-Encoding, this upstream compresses anyway.
    expect(exchange.requestHeaders["accept-encoding"]).toBeUndefined();
    const barrierKey = newKey();
    const barrier = await chat(nginx, barrierKey, { model: "granite-fixture", messages: [] });
    const expected = expectedTotals([barrier.exchange.usage]);
    expect(await totalsOnceReached(backend, barrierKey, expected)).toEqual(expected);
    expect(reportedTotals(backend.reports).get(key)).toBeUndefined();
    expect(nginx.errorLog()).toMatch(/\[llm_metrics\] response is gzip-encoded; not metered/);
  });

  test.each([20 * 1024, 1024 * 1024])(
    "meters a streamed request of %d bytes that nginx spooled to a file",
    async (size) => {
      const messages = [{ role: "user", content: "x".repeat(size) }];
      const probe = await request(`${nginx.url.replace(/\/v1$/, "")}/__body_probe`, {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "granite-fixture", stream: true, messages }),
      });
      expect(JSON.parse(probe.body.toString())).toEqual({ in_memory: false, in_file: true });

      const key = newKey();
      const { response, exchange } = await chat(nginx, key, { model: "granite-fixture", stream: true, messages });
      expect(response.status).toBe(200);
      const sent = JSON.parse(exchange.requestBody);
      expect(sent.stream_options).toEqual({ include_usage: true });
      expect(sent.messages).toEqual(messages);
      expect(Number(exchange.requestHeaders["content-length"])).toBe(Buffer.byteLength(exchange.requestBody));
      const expected = expectedTotals([exchange.usage]);
      expect(await totalsOnceReached(backend, key, expected)).toEqual(expected);
    },
    30000,
  );

  test.each<[UpstreamMode, number]>([
    ["error500", 500],
    ["notjson", 200],
    ["empty", 200],
  ])("an upstream %s response reaches the client intact and is not reported", async (mode, status) => {
    const key = newKey();
    const { response, exchange } = await chat(
      nginx,
      key,
      { model: "granite-fixture", messages: [] },
      {
        "x-upstream-mode": mode,
      },
    );
    expect(response.status).toBe(status);
    expect(response.sha256).toBe(exchange.sentSha256);

    // A metered request afterwards: once its report arrived, the flush that would carry the earlier one ran too.
    const barrierKey = newKey();
    const barrier = await chat(nginx, barrierKey, { model: "granite-fixture", messages: [] });
    const expected = expectedTotals([barrier.exchange.usage]);
    expect(await totalsOnceReached(backend, barrierKey, expected)).toEqual(expected);
    expect(reportedTotals(backend.reports).get(key)).toBeUndefined();
    if (mode !== "error500") expect(nginx.errorLog()).toMatch(/\[llm_metrics\] .*not metered/);
  });

  test("a streamed response without usage passes through unmetered with a warning", async () => {
    const key = newKey();
    const { response, exchange } = await chat(
      nginx,
      key,
      { model: "granite-fixture", stream: true, messages: [] },
      {
        "x-upstream-mode": "sse-no-usage",
        "x-upstream-size": "4096",
      },
    );
    expect(response.sha256).toBe(exchange.sentSha256);
    expect(exchange.usage).toBeUndefined();
    const barrierKey = newKey();
    const barrier = await chat(nginx, barrierKey, { model: "granite-fixture", messages: [] });
    const expected = expectedTotals([barrier.exchange.usage]);
    expect(await totalsOnceReached(backend, barrierKey, expected)).toEqual(expected);
    expect(reportedTotals(backend.reports).get(key)).toBeUndefined();
    expect(nginx.errorLog()).toMatch(/\[llm_metrics\] no token usage in the sse response/);
  });

  test("many requests become few backend calls with exact totals, also across a backend outage", async () => {
    const keys = [newKey(), newKey()];
    const usages: Record<string, (Usage | undefined)[]> = { [keys[0]]: [], [keys[1]]: [] };
    const burst = async (count: number) => {
      for (let i = 0; i < count; i += 10) {
        const batch = Array.from({ length: 10 }, (_, j) => keys[(i + j) % 2]);
        const done = await Promise.all(
          batch.map((key, j) =>
            chat(nginx, key, { model: "granite-fixture", stream: (i + j) % 3 === 0, messages: [] }).then((r) => ({
              key,
              usage: r.exchange.usage,
            })),
          ),
        );
        for (const { key, usage } of done) usages[key].push(usage);
      }
    };
    const callsBefore = backend.reports.length;
    await burst(100);

    backend.failStatus = 503;
    await burst(60);
    const deadline = Date.now() + REPORT_DEADLINE_MS;
    while (backend.rejected.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
    expect(backend.rejected.length).toBeGreaterThan(0);
    await burst(40);
    backend.failStatus = undefined;

    for (const key of keys) {
      const expected = expectedTotals(usages[key]);
      expect(await totalsOnceReached(backend, key, expected)).toEqual(expected);
    }
    await settle();
    for (const key of keys) expect(reportedTotals(backend.reports).get(key)).toEqual(expectedTotals(usages[key]));
    expect(backend.reports.length - callsBefore).toBeLessThan(50); // 200 requests, about one call per second
    expect(nginx.errorLog()).toMatch(/status 503 .*token counts kept for the next report/);
  }, 60000);

  test("the policy never logged a Lua error", () => {
    expect(nginx.errorLog()).not.toMatch(/\[(error|crit|alert|emerg)\]|lua entry thread aborted|runtime error/);
  });
});

test("two workers sharing a lua_shared_dict report exact totals in few calls", async () => {
  const { backend, nginx } = await gateway(
    { report_interval_seconds: INTERVAL_SECONDS, batch_shared_dict: BATCH_SHARED_DICT },
    2,
  );
  expect(nginx.workerPids()).toHaveLength(2);
  const key = newKey();
  const usages: (Usage | undefined)[] = [];
  const workers = new Set<string>();
  for (let i = 0; i < 120; i += 12) {
    // A fresh connection per request, so that both workers serve some.
    const batch = await Promise.all(
      Array.from({ length: 12 }, () =>
        chat(nginx, key, { model: "granite-fixture", messages: [] }, { connection: "close" }),
      ),
    );
    usages.push(...batch.map((b) => b.exchange.usage));
    for (const b of batch) workers.add(String(b.response.headers["x-nginx-worker"]));
  }
  expect(workers.size).toBe(2);
  const expected = expectedTotals(usages, "total_tokens");
  expect(await totalsOnceReached(backend, key, expected)).toEqual(expected);
  await settle();
  expect(reportedTotals(backend.reports).get(key)).toEqual(expected);
  expect(backend.reports.length).toBeLessThan(30); // 120 requests
  expect(nginx.errorLog()).not.toMatch(/\[(error|crit|alert|emerg)\]|\[llm_metrics\]/);
}, 60000);

test("counts still pending when the workers shut down are reported on the way out", async () => {
  // An interval far longer than the test: only the flush at worker exit can send these.
  const { backend, nginx } = await gateway({ report_interval_seconds: 600 }, 2);
  const key = newKey();
  const usages = await Promise.all(
    Array.from({ length: 20 }, () =>
      chat(nginx, key, { model: "granite-fixture", messages: [] }, { connection: "close" }).then(
        (r) => r.exchange.usage,
      ),
    ),
  );
  expect(backend.reports).toHaveLength(0);
  await nginx.stop();
  const expected = expectedTotals(usages, "total_tokens");
  expect(await totalsOnceReached(backend, key, expected)).toEqual(expected);
});

describe("one endpoint for two models, with limits", () => {
  const A = "granite-a";
  const B = "granite-b";
  let modelA: FakeUpstream;
  let modelB: FakeUpstream;
  let backend: FakeBackend;
  let nginx: Nginx;
  const hierarchy = { hits: ["model_granite_a", "model_granite_b"] };
  const apps: FakeBackendOptions["apps"] = {
    // granite-b is not in this plan (a limit of 0 on its method): 3scale's way to disable a method
    basic: {
      limits: [
        { metric: "model_granite_b", period: "eternity", max: 0 },
        { metric: "total_tokens", period: "minute", max: 3000 },
        { metric: "hits", period: "minute", max: 100 },
      ],
    },
    gold: {
      limits: [
        { metric: "total_tokens", period: "minute", max: 100000 },
        { metric: "granite_a_total_tokens", period: "day", max: 50000 },
        { metric: "hits", period: "minute", max: 1000 },
        { metric: "model_granite_a", period: "minute", max: 500 },
      ],
    },
    quota: { limits: [{ metric: "total_tokens", period: "month", max: 100 }] },
    flight: { limits: [{ metric: "total_tokens", period: "minute", max: 1000 }] },
  };

  beforeAll(async () => {
    modelA = await startFakeUpstream();
    modelB = await startFakeUpstream();
    backend = await startFakeBackend({ apps, hierarchy });
    nginx = await startNginx({
      upstreamPort: upstream.port,
      backendUrl: backend.url,
      serviceId: "7",
      authrep: true,
      policyConfig: {
        routing_models: [
          { name: A, upstream: modelA.url, created: 1760000000 },
          { name: B, upstream: modelB.url },
        ],
        admission: true,
        rate_limit_headers: true,
        usage_path: "/v1/usage",
        report_interval_seconds: INTERVAL_SECONDS,
      },
    });
    started.push(backend, modelA, modelB, { close: () => nginx.stop() });
  });

  const call = (key: string, path: string, body?: Record<string, unknown>, headers: Record<string, string> = {}) =>
    request(`${nginx.url}${path}`, {
      method: body ? "POST" : "GET",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}`, ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
  const json = (response: ClientResponse) => JSON.parse(response.body.toString("utf8"));
  const predictorCalls = () => modelA.received + modelB.received + upstream.received;
  /** What OpenAI sends and clients read (Go duration style): 1s, 6m0s, 20ms. */
  const DURATION = /^(\d+h)?(\d+m)?\d+(ms|s)$/;

  test("GET /v1/models lists the models of the caller's plan without calling a predictor", async () => {
    const before = predictorCalls();
    const basic = await call("basic", "/models");
    expect(basic.status).toBe(200);
    expect(basic.headers["content-type"]).toBe("application/json");
    expect(json(basic)).toEqual({
      object: "list",
      data: [{ id: A, object: "model", created: 1760000000, owned_by: "vllm" }],
    });
    expect(json(await call("gold", "/models")).data.map((m: { id: string }) => m.id)).toEqual([A, B]);
    expect((await call("basic", `/models/${B}`)).status).toBe(404);
    expect(json(await call("gold", `/models/${B}`)).id).toBe(B);
    expect((await call("nobody", "/models")).status).toBe(401);
    expect(predictorCalls()).toBe(before);
  });

  test("an unknown model is a 404 and a model outside the plan a 403, before any predictor", async () => {
    const before = predictorCalls();
    const unknown = await call("basic", "/chat/completions", { model: "gpt-4", messages: [] });
    expect(unknown.status).toBe(404);
    expect(unknown.body.toString()).toBe(
      '{"error":{"message":"The model `gpt-4` does not exist","type":"invalid_request_error",' +
        '"param":"model","code":"model_not_found"}}',
    );
    const refused = await call("basic", "/chat/completions", { model: B, stream: true, messages: [] });
    expect(refused.status).toBe(403);
    expect(json(refused).error).toEqual({
      message: "The model `granite-b` is not included in your plan",
      type: "invalid_request_error",
      param: "model",
      code: "model_not_permitted",
    });
    expect(predictorCalls()).toBe(before);
  });

  test("routes each model to its predictor, meters it per model, and counts one hit per request", async () => {
    const responses = [];
    for (const model of [A, B, A]) {
      const id = `route-${nextId++}`;
      const response = await call(
        "gold",
        "/chat/completions",
        { model, stream: true, max_tokens: 50, messages: [{ role: "user", content: "hi" }] },
        { "x-test-id": id },
      );
      expect(response.status).toBe(200);
      const exchange = (model === A ? modelA : modelB).exchanges.get(id);
      expect(exchange).toBeDefined();
      expect(JSON.parse(exchange!.requestBody).stream_options).toEqual({ include_usage: true });
      expect(response.sha256).toBe(exchange!.sentSha256);
      responses.push(exchange!.usage!);
    }
    const [a1, b1, a2] = responses;
    const expected = {
      prompt_tokens: a1.prompt_tokens + b1.prompt_tokens + a2.prompt_tokens,
      completion_tokens: a1.completion_tokens + b1.completion_tokens + a2.completion_tokens,
      total_tokens: a1.total_tokens + b1.total_tokens + a2.total_tokens,
      granite_a_prompt_tokens: a1.prompt_tokens + a2.prompt_tokens,
      granite_a_completion_tokens: a1.completion_tokens + a2.completion_tokens,
      granite_a_total_tokens: a1.total_tokens + a2.total_tokens,
      granite_b_prompt_tokens: b1.prompt_tokens,
      granite_b_completion_tokens: b1.completion_tokens,
      granite_b_total_tokens: b1.total_tokens,
    };
    expect(await totalsOnceReached(backend, "gold", expected)).toEqual(expected);
    // APIcast's authrep carried the model's method instead of hits: hits counts each request once
    expect(backend.current("gold", "model_granite_a", "minute")).toBe(2);
    expect(backend.current("gold", "model_granite_b", "minute")).toBe(1);
    expect(backend.current("gold", "hits", "minute")).toBe(3);
  });

  test("a streamed request over the token limit is refused before the predictor", async () => {
    const before = predictorCalls();
    const response = await call("basic", "/chat/completions", {
      model: A,
      stream: true,
      max_tokens: 5000,
      messages: [{ role: "user", content: "hi" }],
    });
    expect(response.status).toBe(429);
    expect(json(response).error.code).toBe("rate_limit_exceeded");
    const retryAfter = Number(response.headers["retry-after"]);
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(Number(response.headers["retry-after-ms"])).toBe(retryAfter * 1000);
    expect(predictorCalls()).toBe(before);

    const quota = await call("quota", "/chat/completions", { model: A, max_tokens: 200, messages: [] });
    expect(quota.status).toBe(429);
    expect(json(quota).error.code).toBe("insufficient_quota");
    expect(quota.headers["x-should-retry"]).toBe("false");
    expect(predictorCalls()).toBe(before);
  });

  test("x-ratelimit-* headers count down across requests", async () => {
    const seen: { tokens: number; requests: number }[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await call("gold", "/chat/completions", {
        model: A,
        stream: i % 2 === 0,
        max_tokens: 100,
        messages: [{ role: "user", content: "count down" }],
      });
      expect(response.status).toBe(200);
      for (const kind of ["tokens", "requests"]) {
        expect(response.headers[`x-ratelimit-limit-${kind}`]).toMatch(/^\d+$/);
        expect(response.headers[`x-ratelimit-remaining-${kind}`]).toMatch(/^\d+$/);
        expect(response.headers[`x-ratelimit-reset-${kind}`]).toMatch(DURATION);
      }
      // the tightest limits: granite_a_total_tokens per day (50000) and model_granite_a per minute (500)
      expect(response.headers["x-ratelimit-limit-tokens"]).toBe("50000");
      expect(response.headers["x-ratelimit-limit-requests"]).toBe("500");
      seen.push({
        tokens: Number(response.headers["x-ratelimit-remaining-tokens"]),
        requests: Number(response.headers["x-ratelimit-remaining-requests"]),
      });
    }
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i].tokens).toBeLessThan(seen[i - 1].tokens);
      expect(seen[i].requests).toBe(seen[i - 1].requests - 1);
    }
  });

  test("concurrent requests cannot overrun the limit by what is in flight", async () => {
    // Each request is estimated at 300 tokens ('user' + 'hi' = 2 prompt tokens + max_tokens 298); the limit is 1000
    // per minute, and the predictor holds every answer for a second, so all five are in flight together.
    const before = modelA.received;
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        call(
          "flight",
          "/chat/completions",
          { model: A, max_tokens: 298, messages: [{ role: "user", content: "hi" }] },
          { "x-upstream-delay-ms": "1000", connection: "close" },
        ),
      ),
    );
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(modelA.received - before).toBe(3);
  });

  test("GET /v1/usage returns used, limit, remaining and reset per model and period", async () => {
    const response = await call("gold", "/usage");
    expect(response.status).toBe(200);
    const doc = json(response);
    expect(doc.object).toBe("usage");
    expect(doc.models).toEqual([A, B]);
    const row = doc.data.find((r: { metric: string }) => r.metric === "granite_a_total_tokens");
    expect(row).toMatchObject({ model: A, kind: "total_tokens", unit: "tokens", period: "day", limit: 50000 });
    expect(row.used).toBeGreaterThan(0);
    expect(row.remaining).toBe(50000 - row.used);
    expect(row.reset_seconds).toBeGreaterThan(0);
    expect(row.period_end - row.period_start).toBe(86400);
    const hits = doc.data.find((r: { metric: string; model: string | null }) => r.metric === "hits");
    expect(hits).toMatchObject({ model: null, kind: "requests", unit: "requests", period: "minute", limit: 1000 });
    expect(hits.used).toBeGreaterThanOrEqual(7);
  });

  test("the policy never logged a Lua error", () => {
    expect(nginx.errorLog()).not.toMatch(/\[(error|crit|alert|emerg)\]|lua entry thread aborted|runtime error/);
  });
});

describe("when the 3scale backend is slow or down", () => {
  test.each<["open" | "closed", number]>([
    ["open", 200],
    ["closed", 503],
  ])(
    "fail %s: requests get %d quickly and the failure is counted",
    async (mode, status) => {
      const backend = await startFakeBackend({ apps: { k: { limits: [] } } });
      backend.delayMs = 2000;
      const model = await startFakeUpstream();
      const nginx = await startNginx({
        upstreamPort: upstream.port,
        backendUrl: backend.url,
        policyConfig: {
          routing_models: [{ name: "m", upstream: model.url }],
          admission: true,
          admission_failure_mode: mode,
          limits_backend_timeout_ms: 200,
          limits_cache_seconds: 5,
          report_interval_seconds: 0,
        },
      });
      started.push(backend, model, { close: () => nginx.stop() });
      const began = Date.now();
      const responses = [];
      for (let i = 0; i < 5; i++) {
        responses.push(
          await request(`${nginx.url}/chat/completions`, {
            headers: { "content-type": "application/json", authorization: "Bearer k" },
            body: JSON.stringify({ model: "m", max_tokens: 10, messages: [] }),
          }),
        );
      }
      const elapsed = Date.now() - began;
      expect(responses.map((r) => r.status)).toEqual(Array(5).fill(status));
      if (mode === "closed") expect(JSON.parse(responses[0].body.toString()).error.code).toBe("limits_unavailable");
      // one timeout (200 ms), then the failure is remembered for limits_cache_seconds
      expect(backend.authsReceived).toBe(1);
      expect(elapsed).toBeLessThan(1500);
      const metrics = await nginx.metrics();
      expect(metrics[`llm_limits_backend_failures_total{7,${mode}}`]).toBe(5);
      expect(model.received).toBe(mode === "open" ? 5 : 0);
    },
    30000,
  );
});
