import * as pulumi from "@pulumi/pulumi";
import { ConfigValidationError, loadConfig } from "../../../components/config/load";

const models = JSON.stringify([{ name: "granite-33-2b-instruct" }]);
/** Without ODF, an RWX class must be named (3scale system storage). */
const storage = JSON.stringify({ rwxStorageClass: "ocs-storagecluster-cephfs" });

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
    expect(secrets).toEqual({ githubClientSecret: undefined, s3SecretAccessKey: undefined });
  });

  test("throws ConfigValidationError listing every problem, unknown maas: keys included", () => {
    setConfig({
      "maas:models": JSON.stringify([{ name: "Bad" }, { name: "ok-model", minReplicas: 2 }]),
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

  test("rejects a secret stored in plaintext without echoing it", () => {
    setConfig({
      "maas:models": models,
      "maas:storage": JSON.stringify({
        kind: "external",
        external: { endpoint: "https://s3.example.com", accessKeyId: "AK" },
      }),
      "maas:s3SecretAccessKey": "plain-value-123",
    });
    expect(() => loadConfig()).toThrow(
      /maas:s3SecretAccessKey: is stored in plaintext; set it with `pulumi config set --secret`/,
    );
    try {
      loadConfig();
    } catch (e) {
      expect((e as Error).message).not.toContain("plain-value-123");
    }
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
