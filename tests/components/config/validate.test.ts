import { formatProblem, validateConfig } from "../../../components/config/validate";
import { decodeStackConfig } from "../../../components/config/validate";
import { RELEASES } from "../../../components/config/releases";
import { stackConfig, stackFilePath } from "../../../scripts/plan/stack-config";

type Raw = Record<string, any>;

const QWEN = { repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "7ae557604adf67be50417f59c2c2f167def9a775" };
const model = (over: Raw = {}): Raw => ({ name: "granite-33-2b-instruct", huggingFace: QWEN, ...over });
const plan = (over: Raw = {}): Raw => ({ systemName: "basic", name: "Basic", ...over });
const limit = (over: Raw = {}): Raw => ({ metric: "hits", period: "minute", value: 10, ...over });
const base = (over: Raw = {}): Raw => ({ models: [model()], ...over });

function problemLines(raw: Raw): string[] {
  const result = validateConfig(raw);
  if (result.ok) throw new Error(`expected problems, config was accepted: ${JSON.stringify(raw)}`);
  return result.problems.map(formatProblem);
}

/** [what is wrong, raw config, key path, part of the message] */
const badConfigs: Array<[string, Raw, string, string | RegExp]> = [
  [
    "model name with capitals and underscore",
    base({ models: [model({ name: "Granite_2B" })] }),
    "maas:models[0].name",
    "lowercase letters",
  ],
  [
    "model name starting with a digit",
    base({ models: [model({ name: "3b-model" })] }),
    "maas:models[0].name",
    "start with a letter",
  ],
  [
    "one-character model name",
    base({ models: [model({ name: "a" })] }),
    "maas:models[0].name",
    "at least two characters",
  ],
  [
    "model name too long for derived hosts",
    base({ models: [model({ name: "m" + "-x".repeat(25) })] }),
    "maas:models[0].name",
    "at most 45",
  ],
  [
    "duplicate model names",
    base({ models: [model(), model()] }),
    "maas:models[1].name",
    'duplicate model name "granite-33-2b-instruct"',
  ],
  [
    "model namespace is the 3scale namespace",
    base({ models: [model({ namespace: "3scale" })] }),
    "maas:models[0].namespace",
    "already used by threescale.namespace",
  ],
  [
    "model name (default namespace) is the SSO namespace",
    base({ models: [model({ name: "keycloak" })] }),
    "maas:models[0].name",
    "already used by sso.namespace",
  ],
  [
    "model namespace in the openshift- space",
    base({ models: [model({ namespace: "openshift-models" })] }),
    "maas:models[0].namespace",
    "belongs to the cluster",
  ],
  [
    "invalid model namespace",
    base({ models: [model({ namespace: "Models!" })] }),
    "maas:models[0].namespace",
    "DNS label",
  ],
  [
    "minReplicas above maxReplicas",
    base({ models: [model({ minReplicas: 3, maxReplicas: 2 })] }),
    "maas:models[0].minReplicas",
    "must not exceed maxReplicas (2)",
  ],
  [
    "embeddings endpoint without embeddings",
    base({ models: [model({ endpoints: ["chat_completions", "embeddings"] })] }),
    "maas:models[0].endpoints[1]",
    "embeddings is not true",
  ],
  [
    "unknown endpoint name",
    base({ models: [model({ endpoints: ["chat"] })] }),
    "maas:models[0].endpoints[0]",
    "must be one of",
  ],
  [
    "duplicate endpoint",
    base({ models: [model({ endpoints: ["completions", "completions"] })] }),
    "maas:models[0].endpoints[1]",
    "duplicate endpoint",
  ],
  [
    "duplicate plan system names",
    base({ models: [model({ plans: [plan(), plan({ name: "Other" })] })] }),
    "maas:models[0].plans[1].systemName",
    'duplicate plan system name "basic"',
  ],
  [
    "two default plans",
    base({ models: [model({ plans: [plan({ default: true }), plan({ systemName: "pro", default: true })] })] }),
    "maas:models[0].plans[1].default",
    "more than one default plan",
  ],
  [
    "limit on an unknown metric",
    base({ models: [model({ plans: [plan({ limits: [limit({ metric: "requests" })] })] })] }),
    "maas:models[0].plans[0].limits[0].metric",
    'metric "requests" is not measured',
  ],
  [
    "limit on an endpoint the model does not serve",
    base({ models: [model({ plans: [plan({ limits: [limit({ metric: "embeddings" })] })] })] }),
    "maas:models[0].plans[0].limits[0].metric",
    "not measured",
  ],
  [
    "duplicate metric and period",
    base({ models: [model({ plans: [plan({ limits: [limit(), limit({ value: 20 })] })] })] }),
    "maas:models[0].plans[0].limits[1]",
    'duplicate limit for metric "hits" per minute',
  ],
  [
    "negative limit",
    base({ models: [model({ plans: [plan({ limits: [limit({ value: -5 })] })] })] }),
    "maas:models[0].plans[0].limits[0].value",
    ">= 0",
  ],
  [
    "fractional limit",
    base({ models: [model({ plans: [plan({ limits: [limit({ value: 1.5 })] })] })] }),
    "maas:models[0].plans[0].limits[0].value",
    "whole number",
  ],
  [
    "unknown limit period",
    base({ models: [model({ plans: [plan({ limits: [limit({ period: "fortnight" })] })] })] }),
    "maas:models[0].plans[0].limits[0].period",
    "must be one of",
  ],
  [
    "plan system name too short",
    base({ models: [model({ plans: [plan({ systemName: "b" })] })] }),
    "maas:models[0].plans[0].systemName",
    "3scale system name",
  ],
  [
    "default plan limiting an unknown metric",
    base({ threescale: { defaultPlans: [plan({ limits: [limit({ metric: "tokens" })] })] } }),
    "maas:threescale.defaultPlans[0].limits[0].metric",
    "not measured",
  ],
  [
    "two default plans in threescale.defaultPlans",
    base({ threescale: { defaultPlans: [plan({ default: true }), plan({ systemName: "b2", default: true })] } }),
    "maas:threescale.defaultPlans[1].default",
    "more than one default plan",
  ],
  [
    "external storage without its settings",
    base({ storage: { kind: "external" }, s3SecretAccessKey: "x" }),
    "maas:storage.external",
    "required when storage.kind is external",
  ],
  [
    "external storage without the secret key",
    base({ storage: { kind: "external", external: { endpoint: "https://s3.example.com", accessKeyId: "AK" } } }),
    "maas:s3SecretAccessKey",
    "pulumi config set --secret s3SecretAccessKey",
  ],
  [
    "external endpoint that is not a URL",
    base({
      storage: { kind: "external", external: { endpoint: "s3.example.com", accessKeyId: "AK" } },
      s3SecretAccessKey: "x",
    }),
    "maas:storage.external.endpoint",
    "absolute URL",
  ],
  [
    "storage.external with kind minio",
    base({ storage: { external: { endpoint: "https://s3.example.com", accessKeyId: "AK" } } }),
    "maas:storage.kind",
    "storage.external is set",
  ],
  ["invalid bucket name", base({ storage: { bucket: "My_Bucket" } }), "maas:storage.bucket", "S3 bucket name"],
  [
    "GitHub login without client id",
    base({ sso: { github: { enabled: true } }, githubClientSecret: "x" }),
    "maas:sso.github.clientId",
    "required when sso.github.enabled",
  ],
  [
    "GitHub login without the client secret",
    base({ sso: { github: { enabled: true, clientId: "Iv1.x" } } }),
    "maas:githubClientSecret",
    "pulumi config set --secret githubClientSecret",
  ],
  [
    "ODF with two nodes",
    base({ storage: { odf: { enabled: true, nodes: ["w1", "w2"] } } }),
    "maas:storage.odf.nodes",
    "at least 3 storage nodes, got 2",
  ],
  [
    "ODF with a repeated node",
    base({ storage: { odf: { enabled: true, nodes: ["w1", "w2", "w1"] } } }),
    "maas:storage.odf.nodes[2]",
    'duplicate node "w1"',
  ],
  [
    "unknown top-level key",
    base({ modelz: [] }),
    "maas:modelz",
    'unknown key (did you mean "models"?); known keys here: environment, cluster',
  ],
  [
    "unknown key inside a model",
    base({ models: [model({ gpu: 1 })] }),
    "maas:models[0].gpu",
    'unknown key (did you mean "gpus"?); known keys here: name, displayName',
  ],
  [
    '"*" in CORS origins',
    base({ threescale: { corsAllowOrigins: ["*"] } }),
    "maas:threescale.corsAllowOrigins[0]",
    '"*" is not allowed',
  ],
  [
    "CORS origin with a path",
    base({ threescale: { corsAllowOrigins: ["https://portal.example.com/docs"] } }),
    "maas:threescale.corsAllowOrigins[0]",
    "is not an origin",
  ],
  [
    "apps domain with an underscore",
    base({ cluster: { appsDomain: "apps_cluster.example.com" } }),
    "maas:cluster.appsDomain",
    "DNS domain",
  ],
  [
    "Manual install approval without a starting CSV",
    base({ operators: { threescale: { installPlanApproval: "Manual" } } }),
    "maas:operators.threescale.startingCSV",
    /is required when installPlanApproval is Manual.*; e\.g\. "3scale-operator\.v/,
  ],
  [
    "3scale system storage on a claim, without an RWX class or ODF",
    { models: [model()], threescale: { systemStorage: "pvc" } },
    "maas:storage.rwxStorageClass",
    /required with threescale\.systemStorage pvc .*e\.g\. "ocs-storagecluster-cephfs"/,
  ],
  [
    "a model without a weights source",
    base({ models: [{ name: "granite" }] }),
    "maas:models[0]",
    /needs a weights source: huggingFace .*, localPath or s3Prefix; e\.g\. .*"huggingFace"/,
  ],
  [
    "s3Prefix into the MinIO the stack creates (empty before up)",
    base({ models: [{ name: "granite", s3Prefix: "granite" }] }),
    "maas:models[0].s3Prefix",
    "points into the MinIO this stack creates",
  ],
  [
    "two weights sources",
    base({ models: [model({ localPath: "./models/granite" })] }),
    "maas:models[0].huggingFace",
    "choose one weights source",
  ],
  [
    "a Hugging Face branch instead of a commit",
    base({ models: [model({ huggingFace: { repo: QWEN.repo, revision: "main" } })] }),
    "maas:models[0].huggingFace.revision",
    "must be a full commit id",
  ],
  [
    "a Hugging Face repository without its organisation",
    base({ models: [model({ huggingFace: { repo: "gpt2", revision: QWEN.revision } })] }),
    "maas:models[0].huggingFace.repo",
    'must be a Hugging Face repository id "org/name"',
  ],
  [
    "a channel of another release than the one selected",
    base({ openshiftAi: { release: "2.25" }, operators: { openshiftAi: { channel: "stable-2.16" } } }),
    "maas:operators.openshiftAi.channel",
    /"stable-2\.16" installs 2\.16, but the stack selects release 2\.25 .*e\.g\. "stable-2\.25"/,
  ],
  [
    "forceDestroy on an external bucket",
    base({
      storage: {
        kind: "external",
        forceDestroy: true,
        external: { endpoint: "https://s3.example.com", accessKeyId: "a" },
      },
      s3SecretAccessKey: "s",
    }),
    "maas:storage.forceDestroy",
    "an external bucket is never deleted",
  ],
  [
    "vllmVersion without a custom runtime image",
    base({ models: [model({ vllmVersion: "0.10.1" })] }),
    "maas:models[0].vllmVersion",
    "describes a custom runtimeImage",
  ],
  [
    "PostgreSQL image on :latest",
    base({ sso: { postgresImage: "registry.redhat.io/rhel9/postgresql-15:latest" } }),
    "maas:sso.postgresImage",
    /must be pinned by digest or a specific tag .*; e\.g\. "registry\.redhat\.io\/rhel9\/postgresql-15@sha256:/,
  ],
  [
    "MinIO image without a tag",
    base({ storage: { rwxStorageClass: "nfs", minio: { image: "quay.io/minio/minio" } } }),
    "maas:storage.minio.image",
    "must be pinned by digest or a specific tag",
  ],
  [
    "vLLM image on :latest behind a registry port",
    base({ models: [model({ runtimeImage: "registry.local:5000/vllm:latest" })] }),
    "maas:models[0].runtimeImage",
    "must be pinned by digest or a specific tag",
  ],
  [
    "unsupported operator channel",
    base({ operators: { openshiftAi: { channel: "fast" } } }),
    "maas:operators.openshiftAi.channel",
    '"fast" is not a supported channel: one of stable-2.16',
  ],
  ["no models", { models: [] }, "maas:models", "at least one model"],
  ["models missing", {}, "maas:models", "is required"],
  [
    "GPU count as a string",
    base({ models: [model({ gpus: "2" })] }),
    "maas:models[0].gpus",
    'must be a number, got string "2"',
  ],
  [
    "memory limit that is not a quantity",
    base({ models: [model({ resources: { memoryLimit: "16 GB" } })] }),
    "maas:models[0].resources.memoryLimit",
    "Kubernetes quantity",
  ],
  [
    "unknown environment",
    base({ environment: "staging" }),
    "maas:environment",
    'must be one of "dev", "test", "prod", got string "staging"',
  ],
  [
    "S3 prefix starting with a slash",
    base({ models: [model({ huggingFace: undefined, localPath: "./m", s3Prefix: "/granite" })] }),
    "maas:models[0].s3Prefix",
    "lowercase letters",
  ],
  [
    "repeated MachineSet",
    base({
      capacity: {
        machineSets: [
          { name: "w", replicas: 1 },
          { name: "w", replicas: 2 },
        ],
      },
    }),
    "maas:capacity.machineSets[1].name",
    'duplicate MachineSet "w"',
  ],
  ["unknown SSO flavor", base({ sso: { flavor: "keycloak" } }), "maas:sso.flavor", 'must be one of "rhsso", "rhbk"'],
];

describe("validateConfig rejects bad configs with the key path, what is wrong and an example", () => {
  test.each(badConfigs)("%s", (_title, raw, key, fragment) => {
    const lines = problemLines(raw);
    const line = lines.find((l) => l.startsWith(`${key}: `));
    if (!line) throw new Error(`no problem for ${key}; got:\n${lines.join("\n")}`);
    expect(line).toMatch(fragment);
    // Every problem carries a concrete example of a right value.
    expect(line).toMatch(/; e\.g\. \S/);
    expect(line.match(/e\.g\./g)).toHaveLength(1);
    expect(line).not.toContain("(see docs");
  });

  test("the cases are distinct", () => {
    expect(new Set(badConfigs.map(([t]) => t)).size).toBe(badConfigs.length);
    expect(badConfigs.length).toBeGreaterThanOrEqual(30);
  });

  test("reports every problem at once: invalid name, duplicate model and negative limit", () => {
    const lines = problemLines({
      models: [model({ name: "Bad_Name" }), model(), model({ plans: [plan({ limits: [limit({ value: -1 })] })] })],
    });
    expect(lines.map((l) => l.split(": ")[0])).toEqual(
      expect.arrayContaining(["maas:models[0].name", "maas:models[2].name", "maas:models[2].plans[0].limits[0].value"]),
    );
  });

  test("the example for a duplicate is a different, valid value", () => {
    const result = validateConfig(base({ models: [model(), model()] }));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const dup = result.problems.find((p) => p.key === "maas:models[1].name");
    const fixed = validateConfig(base({ models: [model(), model({ name: JSON.parse(dup!.example) })] }));
    expect(fixed.ok).toBe(true);
  });
});

describe("validateConfig accepts good configs and applies defaults", () => {
  test("a minimal config gets every default", () => {
    const result = validateConfig(base());
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
    const c = result.config;
    expect(c.environment).toBe("dev");
    expect(c.releases).toEqual({ openshiftAi: "2.25", threescale: "2.16", sso: "rhbk" });
    expect(c.operators.openshiftAi.channel).toBe("stable-2.25");
    expect(c.operators.threescale.channel).toBe("threescale-2.16");
    expect(c.operators.gpu.source).toBe("certified-operators");
    expect(c.models[0].runtimeImage).toBe(RELEASES.vllmImage["2.25"]);
    expect(c.threescale.defaultPlans.every((p) => !p.default)).toBe(true);
    expect(c.storage.forceDestroy).toBe(false);
    expect(c.operators.threescale.installPlanApproval).toBe("Automatic");
    expect(c.storage.kind).toBe("minio");
    expect(c.storage.minio.namespace).toBe("ai-models");
    expect(c.threescale.defaultPlans[0].systemName).toBe("basic");
    expect(c.sso.flavor).toBe("rhbk");
    expect(c.models[0].gpus).toBe(1);
    expect(c.models[0].resources.memoryLimit).toBe("16Gi");
    expect(c.models[0].tolerations[0].key).toBe("nvidia.com/gpu");
  });

  test("Manual approval with a starting CSV, ODF's class by default, pinned images by tag or digest", () => {
    const result = validateConfig({
      models: [model({ runtimeImage: "registry.local:5000/vllm:0.8.5" })],
      operators: { rhbk: { installPlanApproval: "Manual", startingCSV: "rhbk-operator.v26.0.8-opr.1" } },
      storage: { odf: { enabled: true, nodes: ["w1", "w2", "w3"] } },
      sso: { postgresImage: "registry.redhat.io/rhel9/postgresql-15:1" },
    });
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
    expect(result.config.operators.rhbk.startingCSV).toBe("rhbk-operator.v26.0.8-opr.1");
    expect(result.config.storage.rwxStorageClass).toBeUndefined();
    expect(result.config.sso.postgresImage).toBe("registry.redhat.io/rhel9/postgresql-15:1");
  });

  test("secret keys are accepted next to the config and are not part of it", () => {
    const result = validateConfig(
      base({ sso: { github: { enabled: true, clientId: "Iv1.x" } }, githubClientSecret: "s" }),
    );
    expect(result.ok).toBe(true);
    if (result.ok) expect(JSON.stringify(result.config)).not.toContain("githubClientSecret");
  });

  test.each(["dev", "prod"])("Pulumi.%s.yaml is valid", (stack) => {
    const { values } = stackConfig(stack, stackFilePath(stack));
    const { raw, problems } = decodeStackConfig(values);
    expect(problems).toEqual([]);
    const result = validateConfig(raw);
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join("\n"));
    expect(result.config.environment).toBe(stack);
  });

  test("the stacks have the shape the docs promise", () => {
    const load = (stack: string) => {
      const result = validateConfig(decodeStackConfig(stackConfig(stack, stackFilePath(stack)).values).raw);
      if (!result.ok) throw new Error("invalid");
      return result.config;
    };
    const dev = load("dev");
    expect(dev.models.map((m) => [m.name, m.huggingFace?.repo])).toEqual([
      ["qwen25-05b-instruct", "Qwen/Qwen2.5-0.5B-Instruct"],
    ]);
    expect(dev.releases).toEqual({ openshiftAi: "2.16", threescale: "2.15", sso: "rhsso" });
    expect(dev.storage.forceDestroy).toBe(true);
    expect(dev.threescale.verification).toBe(true);
    const prod = load("prod");
    expect(prod.models.length).toBeGreaterThanOrEqual(3);
    expect(prod.models.some((m) => m.embeddings)).toBe(true);
    expect(prod.releases).toEqual({ openshiftAi: "2.25", threescale: "2.16", sso: "rhbk" });
    expect(prod.models.every((m) => m.huggingFace !== undefined)).toBe(true);
    expect(prod.storage.forceDestroy).toBe(false);
    expect(prod.storage.odf.enabled).toBe(true);
    expect(prod.storage.odf.nodes.length).toBeGreaterThanOrEqual(3);
    expect(prod.threescale.corsAllowOrigins.length).toBeGreaterThan(0);
    expect(prod.models.flatMap((m) => m.plans ?? []).length).toBeGreaterThanOrEqual(3);
  });
});

describe("decodeStackConfig", () => {
  test("decodes JSON values, keeps plain strings and ignores other namespaces", () => {
    const { raw, problems } = decodeStackConfig({
      "maas:environment": "prod",
      "maas:models": JSON.stringify([{ name: "m1" }]),
      "kubernetes:context": "admin",
    });
    expect(problems).toEqual([]);
    expect(raw).toEqual({ environment: "prod", models: [{ name: "m1" }] });
  });

  test("a structured key holding text that is not JSON is a problem naming the key", () => {
    const { problems } = decodeStackConfig({ "maas:storage": "minio" });
    expect(problems.map(formatProblem)[0]).toMatch(/^maas:storage: must be structured YAML\/JSON .*; e\.g\. /);
  });
});
