/**
 * The 3scale AdminClient against small loopback servers: retry policy, pagination, the shared per-URL concurrency
 * limit, error messages without the token, and TLS verification.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import type { AddressInfo } from "net";
import { AdminClient, ThreescaleApiError } from "../../../dynamic-providers/threescale/client";
import { expectNoToken, FAST_CLIENT, rejectionOf } from "../support";

const TOKEN = "client-test-token-7f3a9c2e";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

/** A loopback server answering with `handler`; records every request. */
async function serve(handler: Handler, tls?: { key: string; cert: string }) {
  const requests: Array<{ method: string; url: string; auth?: string }> = [];
  const listener = (req: http.IncomingMessage, res: http.ServerResponse) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      requests.push({ method: req.method!, url: req.url!, auth: req.headers.authorization });
      handler(req, res, body);
    });
  };
  const server = tls ? https.createServer(tls, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

function json(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "Content-Type": "application/json" });
  res.end(body === undefined ? "" : JSON.stringify(body));
}

const client = (url: string, options = {}) =>
  new AdminClient({ adminUrl: url, accessToken: TOKEN }, { ...FAST_CLIENT, ...options });

describe("retries", () => {
  test.each([409, 429, 500, 502, 503, 504])("HTTP %i is retried until it succeeds", async (status) => {
    let calls = 0;
    const server = await serve((_req, res) =>
      ++calls < 3 ? json(res, status, { error: "busy" }) : json(res, 200, { ok: 1 }),
    );
    try {
      await expect(client(server.url).get("/admin/api/services.json")).resolves.toEqual({ ok: 1 });
      expect(server.requests).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  test("connection resets are retried", async () => {
    let calls = 0;
    const server = await serve((req, res) => (++calls < 2 ? req.socket.destroy() : json(res, 200, { ok: 2 })));
    try {
      await expect(client(server.url).post("/admin/api/services.json", { name: "x" })).resolves.toEqual({ ok: 2 });
      expect(server.requests).toHaveLength(2);
    } finally {
      await server.close();
    }
  });

  test("retries are bounded by maxAttempts and end with the last error", async () => {
    const server = await serve((_req, res) => json(res, 503, { error: "down" }));
    try {
      const err = await rejectionOf(client(server.url, { maxAttempts: 4 }).get("/admin/api/services.json"));
      expect(err).toBeInstanceOf(ThreescaleApiError);
      expect((err as ThreescaleApiError).status).toBe(503);
      expect(server.requests).toHaveLength(4);
    } finally {
      await server.close();
    }
  });

  test.each([400, 403, 404, 422])("HTTP %i is never retried", async (status) => {
    const server = await serve((_req, res) => json(res, status, { errors: { name: ["is invalid"] } }));
    try {
      const err = await rejectionOf(client(server.url).put("/admin/api/services/1.json", { name: "" }));
      expect((err as ThreescaleApiError).status).toBe(status);
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe("requests and errors", () => {
  test("the token travels as the HTTP Basic password, never in the URL", async () => {
    const server = await serve((_req, res) => json(res, 200, {}));
    try {
      await client(server.url).get("/admin/api/provider.json", { page: 1 });
      const [{ url, auth }] = server.requests;
      expect(url).not.toContain(TOKEN);
      expect(Buffer.from(auth!.replace(/^Basic /, ""), "base64").toString()).toBe(":" + TOKEN);
    } finally {
      await server.close();
    }
  });

  test("an error names method, path, status and 3scale's body, with the token redacted", async () => {
    const server = await serve((_req, res) =>
      json(res, 422, { errors: { system_name: ["has already been taken"], echo: [`token ${TOKEN}`] } }),
    );
    try {
      const err = await rejectionOf(client(server.url).post("/admin/api/backend_apis.json", { name: "b" }));
      expect(err.message).toContain("POST /admin/api/backend_apis.json");
      expect(err.message).toContain("HTTP 422");
      expect(err.message).toContain("has already been taken");
      expectNoToken(err.message + JSON.stringify((err as ThreescaleApiError).body), TOKEN);
    } finally {
      await server.close();
    }
  });

  test("an empty 200 body (DELETE) is not parsed as JSON", async () => {
    const server = await serve((_req, res) => json(res, 200, undefined));
    try {
      await expect(client(server.url).delete("/admin/api/services/1.json")).resolves.toBeUndefined();
    } finally {
      await server.close();
    }
  });
});

describe("pagination", () => {
  const items = Array.from({ length: 1203 }, (_, i) => ({ id: i + 1 }));
  const page = (url: string) => {
    const q = new URL(url, "http://x").searchParams;
    const perPage = Number(q.get("per_page"));
    const start = (Number(q.get("page")) - 1) * perPage;
    return items.slice(start, start + perPage);
  };

  test("list reads pages until a short one and unwraps envelopes", async () => {
    const server = await serve((req, res) =>
      json(res, 200, { backend_apis: page(req.url!).map((b) => ({ backend_api: b })) }),
    );
    try {
      const all = await client(server.url).list("/admin/api/backend_apis.json", "backend_apis", "backend_api");
      expect(all.map((b) => b.id)).toEqual(items.map((b) => b.id));
      expect(server.requests).toHaveLength(3);
    } finally {
      await server.close();
    }
  });

  test("bare-array lists (backend usages) are read the same way", async () => {
    const server = await serve((req, res) =>
      json(
        res,
        200,
        page(req.url!)
          .slice(0, 7)
          .map((u) => ({ backend_usage: u })),
      ),
    );
    try {
      const all = await client(server.url).list(
        "/admin/api/services/1/backend_usages.json",
        undefined,
        "backend_usage",
      );
      expect(all).toEqual(items.slice(0, 7));
      expect(server.requests).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

test("the concurrency limit is shared by every client of the same admin URL", async () => {
  let inFlight = 0;
  let peak = 0;
  const server = await serve((_req, res) => {
    peak = Math.max(peak, ++inFlight);
    setTimeout(() => {
      inFlight--;
      json(res, 200, {});
    }, 15);
  });
  try {
    const clients = [client(server.url, { concurrency: 2 }), client(server.url, { concurrency: 2 })];
    await Promise.all(Array.from({ length: 12 }, (_, i) => clients[i % 2].get(`/admin/api/services/${i}.json`)));
    expect(server.requests).toHaveLength(12);
    expect(peak).toBe(2);
  } finally {
    await server.close();
  }
});

describe("TLS", () => {
  let dir: string;
  let tls: { key: string; cert: string };
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "maas-tls-"));
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
      "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", path.join(dir, "key.pem"), "-out", path.join(dir, "cert.pem"),
    ], { stdio: "ignore" }); // prettier-ignore
    tls = {
      key: fs.readFileSync(path.join(dir, "key.pem"), "utf8"),
      cert: fs.readFileSync(path.join(dir, "cert.pem"), "utf8"),
    };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("a self-signed admin certificate is rejected by default, without retries", async () => {
    const server = await serve((_req, res) => json(res, 200, { ok: true }), tls);
    try {
      const err = await rejectionOf(client(server.url).get("/admin/api/provider.json"));
      expect(err).toBeInstanceOf(ThreescaleApiError);
      expect((err as ThreescaleApiError).status).toBeUndefined();
      expect(server.requests).toHaveLength(0);
    } finally {
      await server.close();
    }
  });

  test("it is accepted when its CA is given as caBundle", async () => {
    const server = await serve((_req, res) => json(res, 200, { ok: true }), tls);
    try {
      const trusting = new AdminClient({ adminUrl: server.url, accessToken: TOKEN, caBundle: tls.cert }, FAST_CLIENT);
      await expect(trusting.get("/admin/api/provider.json")).resolves.toEqual({ ok: true });
    } finally {
      await server.close();
    }
  });
});
