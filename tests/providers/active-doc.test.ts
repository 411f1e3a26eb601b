import { ActiveDocProvider, type ActiveDocInputs } from "../../dynamic-providers/active-doc";
import { FAST_CLIENT, useEmulator } from "./support";
import { lifecycleSuite, makeProduct } from "./support-b";

const ctx = useEmulator();

const spec = (title: string) => ({
  openapi: "3.0.2",
  info: { title, version: "1.0.0" },
  paths: { "/v1/chat/completions": { post: { responses: { "200": { description: "ok" } } } } },
});

describe("ActiveDoc", () => {
  lifecycleSuite<ActiveDocInputs>(ctx, {
    Provider: ActiveDocProvider,
    inputs: async (connection, unique) => ({
      connection,
      systemName: `doc_${unique}`,
      name: "Granite API",
      productId: (await makeProduct(connection, `d_${unique}`)).id,
      body: JSON.stringify(spec("Granite")),
      published: true,
    }),
    matching: (emulator, inputs) => emulator.state.activeDocs.filter((d) => d.system_name === inputs.systemName),
    expectApplied: (doc, inputs) => {
      expect(JSON.parse(doc.body)).toEqual(JSON.parse(inputs.body));
      expect(doc).toMatchObject({ name: inputs.name, service_id: inputs.productId, published: inputs.published });
    },
    change: (inputs) => ({ ...inputs, body: JSON.stringify(spec("Granite v2")), published: false }),
    drift: (doc) => {
      doc.body = JSON.stringify(spec("edited by hand"));
    },
    expectDeleted: (emulator, inputs) =>
      expect(emulator.state.activeDocs.filter((d) => d.system_name === inputs.systemName)).toEqual([]),
    badInputs: [
      { what: "body not JSON", mutate: (i) => ({ ...i, body: "openapi: 3.0.2" }), property: "body" },
      { what: "body a JSON array", mutate: (i) => ({ ...i, body: "[]" }), property: "body" },
      { what: "missing name", mutate: (i) => ({ ...i, name: undefined }), property: "name" },
    ],
  });

  it("compares the body as parsed JSON: reformatting or reordering keys is no change", async () => {
    const provider = new ActiveDocProvider(FAST_CLIENT);
    const olds = { connection: ctx.connection, systemName: "doc_x", name: "X", body: JSON.stringify(spec("A")) };
    const reordered = JSON.stringify({ paths: spec("A").paths, info: spec("A").info, openapi: "3.0.2" }, null, 2);
    expect((await provider.diff("1", olds, { ...olds, body: reordered })).changes).toBe(false);
    expect((await provider.diff("1", olds, { ...olds, body: JSON.stringify(spec("B")) })).changes).toBe(true);
  });
});
