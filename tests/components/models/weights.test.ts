import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseConfig } from "../../../components/config/schema";
import { inClusterUrl } from "../../../components/models/model-serving";
import {
  buildHuggingFaceDownload,
  DOWNLOAD_PERMANENT_EXIT_CODE,
  DOWNLOAD_SCRIPT,
  HashCache,
  listModelFiles,
} from "../../../components/models/weights";

const config = (extra: Record<string, unknown> = {}) => parseConfig({ models: [{ name: "m1" }], ...extra });

test("models: RawDeployment and Serverless backend URLs; uploads skip hidden files", () => {
  const m = config().models[0];
  expect(inClusterUrl(m)).toBe("http://m1-predictor.m1.svc.cluster.local:8080");
  expect(inClusterUrl({ ...m, deploymentMode: "Serverless", namespace: "ns" })).toBe("http://m1.ns.svc.cluster.local");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "model-"));
  fs.mkdirSync(path.join(dir, ".git"));
  fs.writeFileSync(path.join(dir, ".git", "HEAD"), "x");
  fs.mkdirSync(path.join(dir, "tok"));
  fs.writeFileSync(path.join(dir, "tok", "vocab.json"), "{}");
  fs.writeFileSync(path.join(dir, "config.json"), "{}");
  expect(listModelFiles(dir, "k").map((f) => f.relativePath)).toEqual(["config.json", "tok/vocab.json"]);
  expect(() => listModelFiles(path.join(dir, "missing"), "maas:models[0].localPath")).toThrow(
    /maas:models\[0\]\.localPath/,
  );
  fs.rmSync(dir, { recursive: true });
});

describe("content hashes of local weights", () => {
  test("an unchanged file is not read again; a rewrite is", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "hashes-"));
    const file = path.join(dir, "model.safetensors");
    fs.writeFileSync(file, "weights v1");
    const cacheFile = path.join(dir, "cache.json");
    const first = new HashCache(cacheFile);
    const h1 = await first.sha256(file);
    expect(first.hashed).toBe(1);
    const second = new HashCache(cacheFile);
    expect(await second.sha256(file)).toBe(h1);
    expect(second.hashed).toBe(0);
    fs.writeFileSync(file, "weights v2, longer");
    expect(await second.sha256(file)).not.toBe(h1);
    expect(second.hashed).toBe(1);
    fs.rmSync(dir, { recursive: true });
  });
});

describe("the Hugging Face download Job", () => {
  const QWEN = { repo: "Qwen/Qwen2.5-0.5B-Instruct", revision: "7ae557604adf67be50417f59c2c2f167def9a775" };
  const model = (huggingFace: Record<string, unknown> = QWEN) =>
    parseConfig({ models: [{ name: "m1", huggingFace: huggingFace as typeof QWEN }] }).models[0];
  const podSpec = (d: ReturnType<typeof buildHuggingFaceDownload>) => (d.job.spec as any).template.spec;
  const env = (d: ReturnType<typeof buildHuggingFaceDownload>) =>
    Object.fromEntries(podSpec(d).containers[0].env.map((e: any) => [e.name, e.value ?? e.valueFrom]));

  test("streams to the bucket: no scratch volume, the script from the ConfigMap, stdlib Python only", () => {
    const d = buildHuggingFaceDownload(model(), "m1", "aws-connection-m1", undefined);
    expect(podSpec(d).volumes).toEqual([
      { name: "script", configMap: { name: `${(d.job.metadata as any).name}-script` } },
    ]);
    expect(podSpec(d).containers[0].volumeMounts).toEqual([{ name: "script", mountPath: "/opt/maas", readOnly: true }]);
    expect(Object.keys(env(d))).toEqual(["HF_REPO", "HF_REVISION", "S3_PREFIX", "MAAS_TOKEN_HINT", "PYTHONUNBUFFERED"]);
    const script = fs.readFileSync(DOWNLOAD_SCRIPT, "utf8");
    expect((d.configMap.data as any)["hf_to_s3.py"]).toBe(script);
    expect(script).not.toMatch(/huggingface_hub import|import huggingface_hub|SCRATCH_DIR/);
  });

  test("a permanent error (no access, no such repository) fails the Job at once instead of retrying", () => {
    const d = buildHuggingFaceDownload(model(), "m1", "aws-connection-m1", undefined);
    expect(podSpec(d).restartPolicy).toBe("Never");
    expect((d.job.spec as any).podFailurePolicy.rules).toEqual([
      {
        action: "FailJob",
        onExitCodes: { containerName: "download", operator: "In", values: [DOWNLOAD_PERMANENT_EXIT_CODE] },
      },
    ]);
    expect(podSpec(d).containers[0].name).toBe("download");
    expect(fs.readFileSync(DOWNLOAD_SCRIPT, "utf8")).toMatch(
      new RegExp(`except PermanentError[\\s\\S]*return ${DOWNLOAD_PERMANENT_EXIT_CODE}`),
    );
  });

  test("the token hint names the config key the token comes from", () => {
    expect(env(buildHuggingFaceDownload(model(), "m1", "c", undefined)).MAAS_TOKEN_HINT).toMatch(
      /pulumi config set --secret huggingFaceToken .*maas:models\[name=m1\]\.huggingFace\.tokenSecret/,
    );
    const fromStack = env(buildHuggingFaceDownload(model(), "m1", "c", "maas-hf-token"));
    expect(fromStack.MAAS_TOKEN_HINT).toMatch(/stack secret huggingFaceToken/);
    expect(fromStack.HF_TOKEN).toEqual({ secretKeyRef: { name: "maas-hf-token", key: "HF_TOKEN" } });
    const own = env(buildHuggingFaceDownload(model({ ...QWEN, tokenSecret: "hf-token" }), "m1", "c", "hf-token"));
    expect(own.MAAS_TOKEN_HINT).toMatch(/Secret "hf-token" \(maas:models\[name=m1\]\.huggingFace\.tokenSecret\)/);
  });

  test("scratchSize is gone from the config: the download needs no scratch space", () => {
    expect(() => model({ ...QWEN, scratchSize: "20Gi" })).toThrow(/scratchSize/);
  });
});
