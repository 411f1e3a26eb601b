import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as YAML from "yaml";
import { parseArgs, plan } from "../../../scripts/plan";
import { FIXTURE_SECRETS } from "../../../scripts/plan/cluster-fixture";
import { fakeSecretValue, PROJECT_ROOT, RecordedResource } from "../../../scripts/plan/mock-runner";

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "maas-plan-"));

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? filesUnder(p) : [p];
  });
}

/** Values that must never be shown: supplied/fake stack secrets, generated passwords, cluster secrets, client secrets. */
function sensitiveValues(resources: RecordedResource[], supplied: string[]): string[] {
  const generated = resources.flatMap((r) => {
    if (r.type === "random:index/randomPassword:RandomPassword") return [r.outputs.result, r.outputs.bcryptHash];
    if (r.type === "keycloak:openid/client:Client") return [r.outputs.clientSecret];
    return [];
  });
  const plain = [...supplied, ...Object.values(FIXTURE_SECRETS), ...generated].filter(
    (v): v is string => typeof v === "string" && v.length >= 8,
  );
  return [...plain, ...plain.map((v) => Buffer.from(v).toString("base64"))];
}

describe("offline plan", () => {
  test.each(["dev", "prod"])(
    "stack %s: prints tree and counts, writes out/ files, and shows no secret value",
    async (stack) => {
      const outDir = tmp();
      const printed: string[] = [];
      const knownSecret = `known-${stack}-github-client-secret`;
      const result = await plan({
        stack,
        outDir,
        secrets: stack === "prod" ? { githubClientSecret: knownSecret } : {},
        print: (t) => printed.push(t),
        progress: (l) => printed.push(l),
      });
      const text = printed.join("\n");
      expect(text).toContain("maas:index:Platform maas");
      expect(text).toMatch(/kubernetes:core\/v1:NamespacePatch\s+\d+/);
      expect(text).toMatch(new RegExp(`total\\s+${result.resources.length}\\n`));

      const manifests = fs.readdirSync(path.join(outDir, "manifests"));
      expect(manifests.length).toBeGreaterThan(10);
      for (const f of manifests) {
        expect(f).toMatch(/^\d{2,}-[a-z0-9.]+-[A-Za-z0-9_.-]+-[A-Za-z0-9_.-]+\.yaml$/);
        const m = YAML.parse(fs.readFileSync(path.join(outDir, "manifests", f), "utf8"));
        expect(m).toMatchObject({
          apiVersion: expect.any(String),
          kind: expect.any(String),
          metadata: expect.anything(),
        });
        if (m.kind === "Secret")
          for (const field of ["data", "stringData"])
            if (typeof m[field] === "string") expect(m[field]).toBe("[secret]");
            else for (const v of Object.values(m[field] ?? {})) expect(["[secret]", "[redacted]"]).toContain(v);
      }
      const planJson = JSON.parse(fs.readFileSync(path.join(outDir, "plan.json"), "utf8"));
      expect(planJson.objects.some((o: any) => o.type === "pulumi-nodejs:dynamic/threescale:Product")).toBe(true);
      expect(JSON.stringify(planJson)).not.toContain("__provider");
      expect(fs.readFileSync(path.join(outDir, "graph.mmd"), "utf8")).toMatch(/^flowchart LR\n[\s\S]*-->/);

      const secretsToFind = stack === "prod" ? [knownSecret] : [fakeSecretValue(stack, "maas:githubClientSecret")];
      const sensitive = sensitiveValues(result.resources, secretsToFind);
      expect(sensitive.length).toBeGreaterThan(6);
      // The program did receive the known secret: it must reach a resource, only as a secret.
      if (stack === "prod")
        expect(result.resources.some((r) => JSON.stringify(r.inputs).includes(knownSecret))).toBe(true);
      const leaks = [
        ["stdout", text] as const,
        ...filesUnder(outDir).map((f) => [path.relative(outDir, f), fs.readFileSync(f, "utf8")] as const),
      ].flatMap(([where, content]) => sensitive.filter((s) => content.includes(s)).map((s) => `${where}: ${s}`));
      expect(leaks).toEqual([]);
    },
  );

  test("a bad stack file exits non-zero naming every problem, without a stack trace", () => {
    const dir = tmp();
    const stackFile = path.join(dir, "Pulumi.broken.yaml");
    fs.writeFileSync(
      stackFile,
      YAML.stringify({
        config: {
          "maas:models": [
            { name: "Granite_2B" },
            {
              name: "llama",
              plans: [{ systemName: "basic", name: "Basic", limits: [{ metric: "hits", period: "day", value: -3 }] }],
            },
            { name: "llama" },
          ],
        },
      }),
    );
    const run = spawnSync(
      process.execPath,
      ["-r", "ts-node/register/transpile-only", "scripts/plan.ts", "--stack-file", stackFile, "--out", dir],
      { cwd: PROJECT_ROOT, encoding: "utf8" },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toContain("maas:models[0].name: must be lowercase");
    expect(run.stderr).toContain('maas:models[2].name: duplicate model name "llama"');
    expect(run.stderr).toContain("maas:models[1].plans[0].limits[0].value: must be a whole number >= 0");
    expect(run.stderr).not.toMatch(/^\s+at /m);
    expect(run.stdout).toBe("");
    expect(fs.existsSync(path.join(dir, "plan.json"))).toBe(false);
  });

  test("arguments", () => {
    expect(parseArgs(["--stack", "dev"])).toEqual({ stack: "dev" });
    expect(parseArgs(["--stack-file=x.yaml", "--out", "o"])).toEqual({ stackFile: "x.yaml", outDir: "o" });
    expect(() => parseArgs([])).toThrow("--stack or --stack-file is required");
    expect(() => parseArgs(["--stack"])).toThrow("--stack needs a value");
    expect(() => parseArgs(["--stak", "dev"])).toThrow('unknown argument "--stak"');
  });
});
