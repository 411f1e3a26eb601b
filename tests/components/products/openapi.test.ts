import Ajv from "ajv";
import { openApiDocument } from "../../../components/products/openapi";
import { servedEndpoints } from "../../../components/products/product-spec";

describe("openApiDocument", () => {
  const endpoints = servedEndpoints({ embeddings: false });
  const doc = openApiDocument({
    models: ["granite"],
    title: "Granite",
    description: "d",
    endpoints,
    gatewayUrl: "https://granite-maas-apicast-production.apps.example.com:443",
  }) as any;

  it("documents only the served endpoints with bearer auth and the production gateway as server", () => {
    expect(doc.openapi).toBe("3.0.3");
    expect(doc.servers).toEqual([{ url: "https://granite-maas-apicast-production.apps.example.com:443" }]);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: "http", scheme: "bearer" });
    expect(Object.keys(doc.paths).sort()).toEqual(endpoints.map((e) => e.path).sort());
    expect(doc.paths["/v1/embeddings"]).toBeUndefined();
    for (const e of endpoints) expect(doc.paths[e.path][e.method.toLowerCase()].operationId).toBe(e.name);
  });

  it("has request examples that satisfy their own schemas", () => {
    const ajv = new Ajv({ strict: false });
    const bodies = endpoints
      .map((e) => doc.paths[e.path][e.method.toLowerCase()].requestBody?.content["application/json"])
      .filter(Boolean);
    expect(bodies.length).toBe(endpoints.filter((e) => e.method === "POST").length);
    for (const body of bodies) expect(ajv.validate(body.schema, body.example)).toBe(true);
    const chat = doc.paths["/v1/chat/completions"].post.requestBody.content["application/json"];
    expect(ajv.validate(chat.schema, { model: "other", messages: [] })).toBe(false);
  });
});
