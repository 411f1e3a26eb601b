/**
 * The llm-metrics policy in a real nginx with the lua module: bodies reach the client byte for byte (gzip too),
 * token usage reaches a fake 3scale backend in batches with exact totals (also across workers, backend failures
 * and worker shutdown), and odd responses pass through unmetered.
 */
import {
  BATCH_SHARED_DICT,
  FakeBackend,
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
  requireTool("lua5.1", ["-e", "require('zlib')"], "lua-zlib (Debian package lua-zlib)");
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
  ])("meters a gzip %s response and passes the compressed bytes through untouched", async (kind, headers) => {
    const key = newKey();
    const stream = kind === "SSE";
    const { response, exchange } = await chat(nginx, key, { model: "granite-fixture", stream, messages: [] }, headers);
    expect(response.status).toBe(200);
    expect(response.headers["content-encoding"]).toBe("gzip");
    expect(response.sha256).toBe(exchange.sentSha256);
    const expected = expectedTotals([exchange.usage]);
    expect(await totalsOnceReached(backend, key, expected)).toEqual(expected);
  });

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
