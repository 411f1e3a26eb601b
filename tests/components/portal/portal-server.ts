/**
 * A loopback HTTP server that serves the rendered portal like 3scale would: pages rendered per request from the CMS
 * content (the persona comes from a `persona` cookie, the application of an application page from its path), CMS
 * files at their paths, and OpenAPI documents at the ActiveDocs spec URLs. It records every request it receives.
 */
import * as http from "http";
import type { AddressInfo } from "net";
import type { PortalContent } from "../../../components/portal/content";
import { pageContext, type Persona } from "./fixtures";
import { PortalRenderer } from "./liquid-3scale";

export interface ReceivedRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface PortalServer {
  url: string;
  /** Every request received, in order. */
  requests: ReceivedRequest[];
  close(): Promise<void>;
}

/** A small OpenAI-style OpenAPI document, as the ActiveDoc of a model would hold. */
export function openApiFixture(model: string): Record<string, unknown> {
  return {
    openapi: "3.0.3",
    info: { title: `${model} API`, version: "1.0.0", description: `OpenAI-compatible API of ${model}.` },
    paths: {
      "/v1/chat/completions": {
        post: {
          summary: "Create a chat completion",
          requestBody: {
            required: true,
            content: { "application/json": { schema: { $ref: "#/components/schemas/ChatRequest" } } },
          },
          responses: { "200": { description: "The completion" } },
        },
      },
      "/v1/models": { get: { summary: "List models", responses: { "200": { description: "The served models" } } } },
    },
    components: {
      schemas: {
        ChatRequest: {
          type: "object",
          required: ["model", "messages"],
          properties: {
            model: { type: "string", description: "Served model name" },
            messages: { type: "array", items: { type: "object" }, description: "The conversation" },
            stream: { type: "boolean", description: "Stream tokens as server-sent events" },
          },
        },
      },
    },
  };
}

const ROUTES: [RegExp, string][] = [
  [/^\/$/, "maas_home"],
  [/^\/docs$/, "maas_docs"],
  [/^\/examples$/, "maas_examples"],
  [/^\/login$/, "login/new"],
  [/^\/admin\/applications$/, "applications/index"],
  [/^\/admin\/applications\/new$/, "applications/new"],
  [/^\/admin\/applications\/choose_service$/, "applications/choose_service"],
  [/^\/admin\/applications\/\d+$/, "applications/show"],
];

export async function startPortalServer(content: PortalContent, models: string[]): Promise<PortalServer> {
  const renderer = new PortalRenderer(content);
  const files = new Map(content.files.map((f) => [f.path, f]));
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers });
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const persona = (/persona=(\w+)/.exec(req.headers.cookie ?? "")?.[1] ?? "anonymous") as Persona;
    const file = files.get(url.pathname);
    if (file) {
      res.writeHead(200, { "content-type": file.contentType });
      res.end(Buffer.from(file.contentBase64, "base64"));
      return;
    }
    const spec = /^\/swagger\/spec\/([\w-]+)\.json$/.exec(url.pathname);
    if (spec && models.includes(spec[1])) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify(openApiFixture(spec[1])));
      return;
    }
    const page = ROUTES.find(([re]) => re.test(url.pathname))?.[1];
    if (!page) {
      res.writeHead(404, { "content-type": "text/plain" });
      res.end("not found");
      return;
    }
    try {
      const applicationId = /^\/admin\/applications\/(\d+)$/.exec(url.pathname)?.[1];
      const ctx = {
        ...pageContext(page, persona, models, applicationId === undefined ? undefined : Number(applicationId)),
        request: { path: url.pathname },
      };
      const html = renderer.render(page, ctx);
      res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
      res.end(html);
    } catch (e) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(e));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
