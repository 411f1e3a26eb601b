import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseConfig } from "../../../components/config/schema";
import { inClusterUrl } from "../../../components/models/model-serving";
import { HashCache, listModelFiles } from "../../../components/models/weights";

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
