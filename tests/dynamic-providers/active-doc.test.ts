import { ActiveDocProvider, activeDocProvider } from "../../dynamic-providers/active-doc";
import { lifecycleSuite } from "./lifecycle";
import { FAST_CLIENT, makeProduct, useEmulator } from "./support";

const spec = (title: string) => ({
  openapi: "3.0.2",
  info: { title, version: "1.0.0" },
  paths: { "/v1/chat/completions": { post: { responses: { "200": { description: "ok" } } } } },
});

describe("ActiveDoc lifecycle", () => {
  lifecycleSuite({
    type: "ActiveDoc",
    shared: activeDocProvider,
    make: (o) => new ActiveDocProvider(o),
    inputs: async (connection) => ({
      systemName: "granite_doc",
      name: "Granite API",
      productId: (await makeProduct(connection, "granite")).id,
      body: JSON.stringify(spec("Granite")),
      published: true,
    }),
    changed: (i) => ({ ...i, body: JSON.stringify(spec("Granite v2")), published: false }),
    drift: (s, id) => (s.activeDocs.find((d) => d.id === id)!.body = JSON.stringify(spec("edited by hand"))),
    count: (s, i) => s.activeDocs.filter((d) => d.system_name === i.systemName).length,
    expectApplied: (s, id, i) => {
      const doc = s.activeDocs.find((d) => d.id === id)!;
      expect(JSON.parse(doc.body)).toEqual(JSON.parse(i.body));
      expect(doc).toMatchObject({ name: i.name, service_id: i.productId, published: i.published });
    },
    badInputs: [
      { what: "body not JSON", mutate: (i) => ({ ...i, body: "openapi: 3.0.2" }), property: "body" },
      { what: "body a JSON array", mutate: (i) => ({ ...i, body: "[]" }), property: "body" },
      { what: "missing name", mutate: (i) => ({ ...i, name: undefined }), property: "name" },
    ],
  });
});

describe("ActiveDoc", () => {
  const ctx = useEmulator();

  it("compares the body as parsed JSON: reformatting or reordering keys is no change", async () => {
    const provider = new ActiveDocProvider(FAST_CLIENT);
    const olds = { connection: ctx.connection, systemName: "doc_x", name: "X", body: JSON.stringify(spec("A")) };
    const reordered = JSON.stringify({ paths: spec("A").paths, info: spec("A").info, openapi: "3.0.2" }, null, 2);
    expect((await provider.diff("1", olds, { ...olds, body: reordered })).changes).toBe(false);
    expect((await provider.diff("1", olds, { ...olds, body: JSON.stringify(spec("B")) })).changes).toBe(true);
  });
});
