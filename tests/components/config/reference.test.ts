import * as fs from "fs";
import * as YAML from "yaml";
import { configKeyDocs, undocumentedKeys } from "../../../components/config/reference";
import { configSchema } from "../../../components/config/schema";
import {
  projectConfigBlock,
  PULUMI_YAML_PATH,
  REFERENCE_PATH,
  renderConfigReference,
} from "../../../scripts/gen-config-reference";

const REGENERATE = "run `npm run config-reference` and commit the result";

describe("config reference, Pulumi.yaml and the schema agree", () => {
  test("every schema key has a description (components/config/reference.ts)", () => {
    const missing = undocumentedKeys();
    if (missing.length > 0)
      throw new Error(`describe ${missing.join(", ")} in DOCS of components/config/reference.ts, then ${REGENERATE}`);
  });

  test("Pulumi.yaml declares every top-level key with the schema's type, default and description", () => {
    const project = YAML.parse(fs.readFileSync(PULUMI_YAML_PATH, "utf8"));
    expect(project.name).toBe("maas");
    expect(project.runtime).toMatchObject({ name: "nodejs" });
    const declared = project.config ?? {};
    const expected = projectConfigBlock();
    const drift = Object.keys({ ...declared, ...expected }).filter(
      (k) => JSON.stringify(declared[k]) !== JSON.stringify(expected[k]),
    );
    if (drift.length > 0) throw new Error(`Pulumi.yaml config drifted for: ${drift.join(", ")}; ${REGENERATE}`);
    expect(Object.keys(declared)).toEqual(expect.arrayContaining(Object.keys(configSchema.shape)));
  });

  test("Pulumi.yaml uses only the project-config schema Pulumi accepts", () => {
    const declared: Record<string, any> = YAML.parse(fs.readFileSync(PULUMI_YAML_PATH, "utf8")).config;
    const jsonType = (v: unknown) => (Array.isArray(v) ? "array" : Number.isInteger(v) ? "integer" : typeof v);
    for (const [key, entry] of Object.entries(declared)) {
      expect(Object.keys(entry).every((k) => ["type", "items", "description", "default"].includes(k))).toBe(true);
      expect(["string", "integer", "boolean", "array", "object"]).toContain(entry.type);
      if (entry.type === "array") expect(entry.items).toBeDefined();
      if (entry.default !== undefined) expect(`${key}:${jsonType(entry.default)}`).toBe(`${key}:${entry.type}`);
    }
  });

  test("docs/config-reference.md is up to date", () => {
    const current = fs.existsSync(REFERENCE_PATH) ? fs.readFileSync(REFERENCE_PATH, "utf8") : "";
    if (current !== renderConfigReference()) throw new Error(`docs/config-reference.md drifted; ${REGENERATE}`);
  });

  test("the reference lists every key path with its default", () => {
    const doc = renderConfigReference();
    for (const d of configKeyDocs()) expect(doc).toContain(`| \`${d.path}\` |`);
    expect(doc).toContain('| `threescale.tenantName` | string | `"maas"` |');
    expect(doc).toContain("| `models` | array of object | **required** |");
  });

  test("section defaults in Pulumi.yaml are what the loader applies", () => {
    const block = projectConfigBlock();
    expect(block.threescale.default).toEqual(configSchema.shape.threescale.parse(undefined));
    expect(block.githubClientSecret).toMatchObject({ type: "string", default: "" });
    expect(block.githubClientSecret.description).toContain("pulumi config set --secret githubClientSecret");
    expect(block.models.default).toBeUndefined();
  });
});
