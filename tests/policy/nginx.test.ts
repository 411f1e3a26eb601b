/**
 * The llm-metrics policy in a real nginx with the lua module: bodies reach the client byte for byte, token usage is
 * reported to a fake 3scale backend once per 2xx response, and odd responses pass through unmetered.
 */
import {
  FakeBackend,
  FakeUpstream,
  Nginx,
  requireTool,
  request,
  startFakeBackend,
  startFakeUpstream,
  startNginx,
  UpstreamMode,
} from "./nginx-fixture";

let upstream: FakeUpstream;
let backend: FakeBackend;
let nginx: Nginx;
let nextId = 0;

beforeAll(async () => {
  requireTool("lua5.1", ["-e", "require('cjson')"], "lua-cjson");
  upstream = await startFakeUpstream();
  backend = await startFakeBackend();
  nginx = await startNginx({
    upstreamPort: upstream.port,
    backendUrl: backend.url,
    serviceId: "7",
    policyConfig: { total_tokens_metric: "tokens" },
  });
});

afterAll(async () => {
  await nginx?.stop();
  await backend?.close();
  await upstream?.close();
});

async function chat(body: Record<string, unknown>, headers: Record<string, string> = {}) {
  const id = `req-${nextId++}`;
  const response = await request(`${nginx.url}/chat/completions`, {
    headers: {
      "content-type": "application/json",
      authorization: "Bearer key-123",
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

async function waitForReports(count: number) {
  const deadline = Date.now() + 10000;
  while (backend.reports.length < count && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return backend.reports;
}

function usageOf(report: { form: URLSearchParams }) {
  const usage: Record<string, string> = {};
  for (const [key, value] of report.form) {
    const metric = /^transactions\[0\]\[usage\]\[(.+)\]$/.exec(key);
    if (metric) usage[metric[1]] = value;
  }
  return usage;
}

test("meters a streamed response without changing a byte and asks the model for usage", async () => {
  backend.reports.length = 0;
  const { response, exchange } = await chat(
    { model: "granite-fixture", stream: true, messages: [{ role: "user", content: "hi" }] },
    { "x-upstream-size": String(256 * 1024) },
  );
  expect(response.status).toBe(200);
  expect(response.headers["content-type"]).toBe("text/event-stream");
  expect(response.sha256).toBe(exchange.sentSha256);
  expect(JSON.parse(exchange.requestBody).stream_options).toEqual({ include_usage: true });
  expect(exchange.requestHeaders["accept-encoding"]).toBeUndefined();
  expect(exchange.usage).toBeDefined();

  const [report] = await waitForReports(1);
  expect(report.query.get("service_id")).toBe("7");
  expect(report.query.get("service_token")).toBe("fixture-service-token");
  expect(report.form.get("transactions[0][user_key]")).toBe("key-123");
  expect(usageOf(report)).toEqual({
    prompt_tokens: String(exchange.usage!.prompt_tokens),
    completion_tokens: String(exchange.usage!.completion_tokens),
    tokens: String(exchange.usage!.total_tokens),
  });
});

test("meters a large JSON response byte for byte, once", async () => {
  backend.reports.length = 0;
  const { response, exchange } = await chat(
    { model: "granite-fixture", messages: [{ role: "user", content: "hi" }] },
    { "x-upstream-size": String(512 * 1024) },
  );
  expect(response.status).toBe(200);
  expect(response.sha256).toBe(exchange.sentSha256);
  expect(response.body.length).toBeGreaterThan(512 * 1024);
  expect(exchange.requestBody).toBe(
    JSON.stringify({ model: "granite-fixture", messages: [{ role: "user", content: "hi" }] }),
  );

  const reports = await waitForReports(1);
  expect(reports).toHaveLength(1);
  expect(usageOf(reports[0])).toEqual({
    prompt_tokens: String(exchange.usage!.prompt_tokens),
    completion_tokens: String(exchange.usage!.completion_tokens),
    tokens: String(exchange.usage!.total_tokens),
  });
  const metrics = await nginx.metrics();
  expect(metrics["llm_completion_tokens_total{7,granite-fixture}"]).toBeGreaterThanOrEqual(
    exchange.usage!.completion_tokens,
  );
});

test.each<[UpstreamMode, number]>([
  ["error500", 500],
  ["notjson", 200],
  ["empty", 200],
  ["gzip-always", 200],
])("an upstream %s response reaches the client intact and is not reported", async (mode, status) => {
  backend.reports.length = 0;
  const { response, exchange } = await chat({ model: "granite-fixture", messages: [] }, { "x-upstream-mode": mode });
  expect(response.status).toBe(status);
  expect(response.sha256).toBe(exchange.sentSha256);
  if (mode === "gzip-always") expect(response.headers["content-encoding"]).toBe("gzip");

  // A metered request afterwards: once its report arrives, the timer of the earlier request has run too.
  const barrier = await chat({ model: "granite-fixture", messages: [] });
  const reports = await waitForReports(1);
  expect(reports).toHaveLength(1);
  expect(usageOf(reports[0]).tokens).toBe(String(barrier.exchange.usage!.total_tokens));
  if (mode !== "error500") expect(nginx.errorLog()).toMatch(/\[llm_metrics\] .*not metered/);
});

test("a streamed response without usage passes through unmetered with a warning", async () => {
  backend.reports.length = 0;
  const { response, exchange } = await chat(
    { model: "granite-fixture", stream: true, messages: [] },
    { "x-upstream-mode": "sse-no-usage", "x-upstream-size": "4096" },
  );
  expect(response.sha256).toBe(exchange.sentSha256);
  expect(exchange.usage).toBeUndefined();
  const barrier = await chat({ model: "granite-fixture", messages: [] });
  const reports = await waitForReports(1);
  expect(reports).toHaveLength(1);
  expect(usageOf(reports[0]).tokens).toBe(String(barrier.exchange.usage!.total_tokens));
  expect(nginx.errorLog()).toMatch(/\[llm_metrics\] no token usage in the sse response/);
});

test("the policy never logged a Lua error", () => {
  expect(nginx.errorLog()).not.toMatch(/\[(error|crit|alert|emerg)\]|lua entry thread aborted|runtime error/);
});
