import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig, plaintextSecretKeys } from "../../../components/config/load";
import { ConfigValidationError } from "../../../components/config/validate";

const QWEN = { repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "7ae557604adf67be50417f59c2c2f167def9a775" };
const models = JSON.stringify([{ name: "granite-33-2b-instruct", huggingFace: QWEN }]);
const storage = JSON.stringify({ forceDestroy: true });

function setConfig(values: Record<string, string>, secretKeys: string[] = []): void {
  pulumi.runtime.setAllConfig(values, secretKeys);
}

const unwrap = <T>(o: pulumi.Output<T>): Promise<T> => new Promise((resolve) => o.apply(resolve));
const isSecret = <T>(o: pulumi.Output<T>): Promise<boolean> => (o as any).isSecret;

beforeAll(() =>
  pulumi.runtime.setMocks(
    { newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: (a) => a.inputs },
    "maas",
  ),
);

describe("loadConfig", () => {
  test("reads maas: keys, applies defaults and ignores other namespaces", () => {
    setConfig({
      "maas:models": models,
      "maas:storage": storage,
      "maas:environment": "test",
      "kubernetes:context": "admin",
    });
    const { config, secrets } = loadConfig();
    expect(config.environment).toBe("test");
    expect(config.models[0].name).toBe("granite-33-2b-instruct");
    expect(config.threescale.tenantName).toBe("maas");
    expect(secrets).toEqual({});
    expect(config.releases).toEqual({ openshiftAi: "2.25", threescale: "2.16", sso: "rhbk" });
  });

  test("throws ConfigValidationError listing every problem, unknown maas: keys included", () => {
    setConfig({
      "maas:models": JSON.stringify([
        { name: "Bad", huggingFace: QWEN },
        { name: "ok-model", huggingFace: QWEN, minReplicas: 2 },
      ]),
      "maas:storage": storage,
      "maas:threscale": "{}",
    });
    let error: unknown;
    try {
      loadConfig();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const message = (error as Error).message;
    expect(message).toMatch(/^Invalid stack configuration \(3 problems\):/);
    expect(message).toContain("maas:models[0].name: must be lowercase");
    expect(message).toContain("maas:models[1].minReplicas: minReplicas (2) must not exceed maxReplicas (1)");
    expect(message).toContain('maas:threscale: unknown key (did you mean "threescale"?)');
    expect((error as ConfigValidationError).problems).toHaveLength(3);
  });

  test("returns secrets as Pulumi secrets", async () => {
    setConfig(
      {
        "maas:models": models,
        "maas:storage": storage,
        "maas:sso": JSON.stringify({ github: { enabled: true, clientId: "Iv1.x" } }),
        "maas:githubClientSecret": "gh-secret-value",
      },
      ["maas:githubClientSecret"],
    );
    const { config, secrets } = loadConfig();
    expect(config.sso.github.enabled).toBe(true);
    expect(await unwrap(secrets.githubClientSecret!)).toBe("gh-secret-value");
    expect(await isSecret(secrets.githubClientSecret!)).toBe(true);
    expect(JSON.stringify(config)).not.toContain("gh-secret-value");
  });

  test("rejects a secret stored in plaintext in the stack file it runs with, without echoing it", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stack-"));
    fs.writeFileSync(
      path.join(dir, `Pulumi.${pulumi.getStack()}.yaml`),
      "config:\n  maas:s3SecretAccessKey: plain-value-123\n  maas:githubClientSecret:\n    secure: v1:abc\n",
    );
    setConfig({
      "maas:models": models,
      "maas:storage": JSON.stringify({
        kind: "external",
        external: { endpoint: "https://s3.example.com", accessKeyId: "AK" },
      }),
      "maas:s3SecretAccessKey": "plain-value-123",
    });
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      expect(() => loadConfig()).toThrow(
        /maas:s3SecretAccessKey: is stored in plaintext in Pulumi\.\w+\.yaml; set it with `pulumi config set --secret`/,
      );
      expect(() => loadConfig()).not.toThrow(/plain-value-123/);
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true });
    }
  });

  test("plaintext secret keys are found by reading the stack file, secure ones are not", () => {
    const text =
      "config:\n  maas:githubClientSecret: oops\n  maas:huggingFaceToken:\n    secure: v1:x\n  maas:s3SecretAccessKey: ''\n";
    expect(plaintextSecretKeys(text)).toEqual(["githubClientSecret"]);
  });

  test("an empty secret (the Pulumi.yaml default) counts as not set", () => {
    setConfig(
      {
        "maas:models": models,
        "maas:sso": JSON.stringify({ github: { enabled: true, clientId: "Iv1.x" } }),
        "maas:githubClientSecret": "",
      },
      ["maas:githubClientSecret"],
    );
    expect(() => loadConfig()).toThrow(/maas:githubClientSecret: is required when sso\.github\.enabled is true/);
  });
});
