/** The OpenAPI 3.0 document of a product's OpenAI-compatible API, published as its ActiveDoc. */
import type { Endpoint } from "./product-spec";

const MESSAGE = {
  type: "object",
  required: ["role", "content"],
  properties: {
    role: { type: "string", enum: ["system", "user", "assistant", "tool"] },
    content: { type: "string" },
  },
};
const USAGE = {
  type: "object",
  properties: {
    prompt_tokens: { type: "integer" },
    completion_tokens: { type: "integer" },
    total_tokens: { type: "integer" },
  },
};
const SAMPLING = {
  max_tokens: { type: "integer", minimum: 1 },
  temperature: { type: "number", minimum: 0, maximum: 2 },
  top_p: { type: "number", minimum: 0, maximum: 1 },
  stream: { type: "boolean", description: "Stream the answer as server-sent events" },
  stop: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
};
const ERROR = {
  description: "Error",
  content: { "text/plain": { schema: { type: "string" } }, "application/json": { schema: { type: "object" } } },
};

function jsonBody(schema: object, example?: object) {
  return { required: true, content: { "application/json": { schema, ...(example ? { example } : {}) } } };
}

function jsonResponse(description: string, schema: object) {
  return { description, content: { "application/json": { schema } } };
}

/** Request and response of one endpoint, for the models `models` (the first one in the examples). */
function operation(endpoint: Endpoint, models: string[]): Record<string, unknown> {
  const model = models[0];
  const modelField = { type: "string", enum: models, description: "The served model name" };
  switch (endpoint.name) {
    case "chat_completions":
      return {
        requestBody: jsonBody(
          {
            type: "object",
            required: ["model", "messages"],
            properties: { model: modelField, messages: { type: "array", minItems: 1, items: MESSAGE }, ...SAMPLING },
          },
          { model, messages: [{ role: "user", content: "Say hello" }], max_tokens: 32 },
        ),
        responses: {
          "200": jsonResponse("The completion (or an event stream when stream is true)", {
            type: "object",
            properties: {
              id: { type: "string" },
              object: { type: "string" },
              model: { type: "string" },
              choices: {
                type: "array",
                items: {
                  type: "object",
                  properties: { index: { type: "integer" }, message: MESSAGE, finish_reason: { type: "string" } },
                },
              },
              usage: USAGE,
            },
          }),
        },
      };
    case "completions":
      return {
        requestBody: jsonBody(
          {
            type: "object",
            required: ["model", "prompt"],
            properties: {
              model: modelField,
              prompt: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
              ...SAMPLING,
            },
          },
          { model, prompt: "Once upon a time", max_tokens: 32 },
        ),
        responses: {
          "200": jsonResponse("The completion", {
            type: "object",
            properties: {
              id: { type: "string" },
              model: { type: "string" },
              choices: {
                type: "array",
                items: { type: "object", properties: { index: { type: "integer" }, text: { type: "string" } } },
              },
              usage: USAGE,
            },
          }),
        },
      };
    case "embeddings":
      return {
        requestBody: jsonBody(
          {
            type: "object",
            required: ["model", "input"],
            properties: {
              model: modelField,
              input: { oneOf: [{ type: "string" }, { type: "array", items: { type: "string" } }] },
            },
          },
          { model, input: "The quick brown fox" },
        ),
        responses: {
          "200": jsonResponse("One embedding per input", {
            type: "object",
            properties: {
              data: {
                type: "array",
                items: {
                  type: "object",
                  properties: { index: { type: "integer" }, embedding: { type: "array", items: { type: "number" } } },
                },
              },
              usage: USAGE,
            },
          }),
        },
      };
    case "list_models":
      return {
        responses: {
          "200": jsonResponse("The served models", {
            type: "object",
            properties: {
              object: { type: "string", example: "list" },
              data: {
                type: "array",
                items: { type: "object", properties: { id: { type: "string", example: model } } },
              },
            },
          }),
        },
      };
    case "tokenize":
      return {
        requestBody: jsonBody(
          {
            type: "object",
            required: ["model", "prompt"],
            properties: { model: modelField, prompt: { type: "string" } },
          },
          { model, prompt: "Hello world" },
        ),
        responses: {
          "200": jsonResponse("Token ids", {
            type: "object",
            properties: { count: { type: "integer" }, tokens: { type: "array", items: { type: "integer" } } },
          }),
        },
      };
    case "detokenize":
      return {
        requestBody: jsonBody(
          {
            type: "object",
            required: ["model", "tokens"],
            properties: { model: modelField, tokens: { type: "array", items: { type: "integer" } } },
          },
          { model, tokens: [9707, 1879] },
        ),
        responses: {
          "200": jsonResponse("The text", { type: "object", properties: { prompt: { type: "string" } } }),
        },
      };
    case "health":
      return { responses: { "200": { description: "The model server is healthy" } } };
    case "version":
      return {
        responses: {
          "200": jsonResponse("The model server version", {
            type: "object",
            properties: { version: { type: "string" } },
          }),
        },
      };
  }
}

export interface OpenApiArgs {
  /** Served model names (the `model` field clients send). */
  models: string[];
  title: string;
  description: string;
  endpoints: Endpoint[];
  /** The product's production gateway URL: the portal shows it as the endpoint. */
  gatewayUrl: string;
}

/** OpenAPI 3.0 document of the model's OpenAI-compatible API: only the endpoints it serves, bearer auth. */
export function openApiDocument(args: OpenApiArgs): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const endpoint of args.endpoints) {
    const { responses, ...request } = operation(endpoint, args.models);
    paths[endpoint.path] = {
      ...paths[endpoint.path],
      [endpoint.method.toLowerCase()]: {
        operationId: endpoint.name,
        summary: endpoint.friendly,
        tags: [endpoint.path.startsWith("/v1/") ? "OpenAI" : "vLLM"],
        ...request,
        responses: {
          ...(responses as object),
          "403": { ...ERROR, description: "Missing or invalid API key" },
          "429": { ...ERROR, description: "Plan limit exceeded" },
        },
      },
    };
  }
  return {
    openapi: "3.0.3",
    info: { title: args.title, description: args.description, version: "1.0.0" },
    servers: [{ url: args.gatewayUrl }],
    security: [{ bearerAuth: [] }],
    components: {
      securitySchemes: { bearerAuth: { type: "http", scheme: "bearer", description: "Your application's API key" } },
    },
    paths,
  };
}
