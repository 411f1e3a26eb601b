/**
 * contracts/ holds structural schemas derived from the upstream CRDs and 3scale OpenAPI specs by
 * scripts/derive-contracts.ts (`npm run contracts`). With the upstream files present (`CONTRACTS_DIR`, default
 * ../shared/contracts) the committed files must equal a fresh derivation; without them the committed files are the
 * reference and are only checked for shape.
 */
import * as fs from "fs";
import * as path from "path";
import {
  DERIVED_DIR,
  UPSTREAM_DIR,
  committedFiles,
  deriveAll,
  parseDerivedSources,
  parseYamlDocuments,
} from "../../scripts/derive-contracts";

const REGENERATE = "run `npm run contracts` and commit contracts/";
const committed = committedFiles();
const read = (rel: string) => fs.readFileSync(path.join(DERIVED_DIR, rel), "utf8");
const jsonFiles = committed.filter((f) => f.endsWith(".json"));

describe("contracts/ (derived structural schemas)", () => {
  test("every derived file parses and SOURCES.md lists each one with its upstream commit and sha256", () => {
    expect(jsonFiles.length).toBeGreaterThan(30);
    for (const f of jsonFiles) expect(() => JSON.parse(read(f))).not.toThrow();
    const listed = parseDerivedSources(read("SOURCES.md"));
    expect([...listed.keys()].sort()).toEqual(jsonFiles);
    for (const line of read("SOURCES.md")
      .split("\n")
      .filter((l) => l.startsWith("| `"))) {
      expect(line).toMatch(/\| `[0-9a-f]{40}` \|/);
      expect(line).toMatch(/\| `[0-9a-f]{64}` \|$/);
    }
  });

  test("no prose is left: no description/title/example/summary/tags keyword anywhere", () => {
    const PROSE = ["description", "title", "summary", "example", "examples", "externalDocs", "tags", "x-descriptors"];
    // Keys of these maps are field or component names (a CRD may well have a field called `description`).
    const NAME_MAPS = new Set(["properties", "patternProperties", "definitions", "schemas"]);
    // Values, not schema: data that happens to be an object.
    const DATA = new Set(["default", "enum", "const"]);
    const found: string[] = [];
    const walk = (node: unknown, where: string, namesHere: boolean) => {
      if (Array.isArray(node)) node.forEach((n, i) => walk(n, `${where}[${i}]`, false));
      else if (node && typeof node === "object")
        for (const [k, v] of Object.entries(node)) {
          if (!namesHere && PROSE.includes(k)) found.push(`${where}.${k}`);
          if (!namesHere && DATA.has(k)) continue;
          walk(v, `${where}.${k}`, !namesHere && NAME_MAPS.has(k));
        }
    };
    for (const f of jsonFiles) walk(JSON.parse(read(f)), f, false);
    expect(found).toEqual([]);
    // And no upstream annotation or label survived.
    for (const f of jsonFiles.filter((x) => !x.startsWith("3scale-api/"))) {
      const crd = JSON.parse(read(f));
      expect(Object.keys(crd.metadata)).toEqual(["name"]);
    }
  });

  test("every derived CRD keeps the envelope an API server needs to install it", () => {
    for (const f of jsonFiles.filter((x) => !x.startsWith("3scale-api/"))) {
      const crd = JSON.parse(read(f));
      const where = `contracts/${f}`;
      expect([where, crd.apiVersion, crd.kind]).toEqual([where, "apiextensions.k8s.io/v1", "CustomResourceDefinition"]);
      const { group, names, scope, versions } = crd.spec;
      expect([where, crd.metadata.name]).toEqual([where, `${names.plural}.${group}`]);
      // listKind and singular are optional: the API server defaults them.
      expect([where, typeof names.kind, ["Namespaced", "Cluster"].includes(scope)]).toEqual([where, "string", true]);
      expect([where, versions.filter((v: any) => v.storage === true).length]).toEqual([where, 1]);
      for (const v of versions) {
        const root = v.schema?.openAPIV3Schema;
        expect([where, v.name, typeof v.served, root?.type]).toEqual([where, v.name, "boolean", "object"]);
      }
    }
  });
});

describe("derivation", () => {
  test("a quoted scalar continued at its key's indentation reads as go-yaml reads it (knative-operator CRD)", () => {
    const text = [
      "x:",
      "  d: 'Number of seconds after the container has",
      "  started. More info:",
      "  https://example.com'",
      "  type: integer",
      "l:",
      "- d: 'one",
      "  two'",
      "  e: 1",
    ].join("\n");
    expect(parseYamlDocuments(text, "t")).toEqual([
      {
        x: { d: "Number of seconds after the container has started. More info: https://example.com", type: "integer" },
        l: [{ d: "one two", e: 1 }],
      },
    ]);
    expect(() => parseYamlDocuments("a: [1", "t")).toThrow(/t: YAML error/);
  });
});

if (fs.existsSync(UPSTREAM_DIR)) {
  describe(`upstream contracts present (${UPSTREAM_DIR})`, () => {
    test("contracts/ equals a fresh derivation from the upstream files", () => {
      const fresh = deriveAll(UPSTREAM_DIR);
      const problems: string[] = [];
      for (const [rel, content] of fresh) {
        if (!committed.includes(rel)) problems.push(`contracts/${rel} is missing`);
        else if (read(rel) !== content) problems.push(`contracts/${rel} drifted from its upstream file`);
      }
      for (const rel of committed) if (!fresh.has(rel)) problems.push(`contracts/${rel} is not listed in SOURCES.md`);
      // Say which upstream files changed, not only that SOURCES.md differs.
      const before = parseDerivedSources(committed.includes("SOURCES.md") ? read("SOURCES.md") : "");
      const after = parseDerivedSources(fresh.get("SOURCES.md")!);
      for (const [rel, sha] of after)
        if (before.has(rel) && before.get(rel) !== sha) problems.push(`upstream file of contracts/${rel} changed`);
      if (problems.length) throw new Error(`${problems.join("\n")}\n${REGENERATE}`);
    });

    test("a derived file whose upstream file left the upstream directory is kept, with its SOURCES.md row", () => {
      const partial = fs.mkdtempSync(path.join(require("os").tmpdir(), "contracts-"));
      try {
        fs.cpSync(UPSTREAM_DIR, partial, { recursive: true });
        const gone = fs.readdirSync(path.join(partial, "crds")).find((f) => f.includes("servingruntimes"))!;
        fs.chmodSync(path.join(partial, "crds"), 0o755);
        fs.rmSync(path.join(partial, "crds", gone));
        const fresh = deriveAll(partial);
        const rel = `crds/${gone.replace(/\.ya?ml$/, ".json")}`;
        expect(fresh.get(rel)).toBe(read(rel));
        expect(parseDerivedSources(fresh.get("SOURCES.md")!).get(rel)).toBe(
          parseDerivedSources(read("SOURCES.md")).get(rel),
        );
      } finally {
        fs.rmSync(partial, { recursive: true, force: true });
      }
    });
  });
} else {
  describe("upstream contracts absent", () => {
    test("upstream contracts absent: derived files are the reference", () => {
      console.info(
        `${UPSTREAM_DIR} does not exist: contracts/ could not be compared with the upstream files ` +
          "(set CONTRACTS_DIR to compare); only its shape was checked.",
      );
      expect(fs.existsSync(UPSTREAM_DIR)).toBe(false);
      expect(committed).toContain("SOURCES.md");
    });
  });
}
