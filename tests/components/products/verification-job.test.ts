/**
 * The verification Job's script, run for real (sh + curl) against loopback stand-ins of the predictor and the
 * gateway: it passes when every hop answers 2xx and names the failing hop otherwise.
 */
import { execFile } from "child_process";
import * as http from "http";
import type { AddressInfo } from "net";
import {
  API_KEY_ENV,
  verificationJob,
  verificationJobName,
  verificationScript,
  VerificationTarget,
} from "../../../components/products/verification-job";

interface Seen {
  path: string;
  auth?: string;
  body: string;
}

async function stub(status: (path: string) => number, seen: Seen[]): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ path: req.url ?? "", auth: req.headers.authorization, body });
      res.writeHead(status(req.url ?? ""), { "Content-Type": "application/json" });
      res.end('{"ok":true}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

function target(gatewayUrl: string, predictorUrl: string): VerificationTarget {
  return {
    model: "granite",
    servedModelName: "granite",
    gatewayUrl,
    predictorUrl,
    listModels: true,
    completion: "chat",
    insecure: false,
    revision: "3",
  };
}

function runScript(t: VerificationTarget): Promise<{ code: number; output: string }> {
  const job = verificationJob(t, "3scale", "key-secret");
  const env = Object.fromEntries(
    job.spec.template.spec.containers[0].env
      .filter((e: any) => e.value !== undefined)
      .map((e: any) => [e.name, e.value]),
  );
  return new Promise((resolve) => {
    execFile(
      "/bin/sh",
      ["-c", verificationScript(t)],
      { env: { ...process.env, ...env, [API_KEY_ENV]: "test-key-123", ATTEMPTS: "1" }, timeout: 30_000 },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as any).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe("verification script", () => {
  it("calls the predictor without a key, then the gateway with the application key", async () => {
    const seen: Seen[] = [];
    const predictor = await stub(() => 200, seen);
    const gateway = await stub(() => 200, seen);
    try {
      const result = await runScript(target(gateway.url, predictor.url));
      expect(result.output).toContain("verification passed for granite");
      expect(result.code).toBe(0);
      expect(seen.map((s) => s.path)).toEqual(["/v1/models", "/v1/models", "/v1/chat/completions"]);
      expect(seen[0].auth).toBeUndefined();
      expect(seen[1].auth).toBe("Bearer test-key-123");
      expect(JSON.parse(seen[2].body)).toMatchObject({ model: "granite", max_tokens: 1 });
    } finally {
      await predictor.close();
      await gateway.close();
    }
  });

  it("fails naming the gateway hop when the gateway rejects the key", async () => {
    const seen: Seen[] = [];
    const predictor = await stub(() => 200, seen);
    const gateway = await stub(() => 403, seen);
    try {
      const result = await runScript(target(gateway.url, predictor.url));
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/FAILED hop: gateway GET \/v1\/models -> HTTP 403/);
      expect(result.output).not.toContain("verification passed");
    } finally {
      await predictor.close();
      await gateway.close();
    }
  });

  it("fails naming the predictor hop when the model server is down", async () => {
    const seen: Seen[] = [];
    const gateway = await stub(() => 200, seen);
    const down = await stub(() => 200, []);
    await down.close();
    try {
      const result = await runScript(target(gateway.url, down.url));
      expect(result.code).not.toBe(0);
      expect(result.output).toMatch(/FAILED hop: predictor GET \/v1\/models \(in-cluster, no gateway\) -> HTTP 000/);
      expect(seen).toEqual([]);
    } finally {
      await gateway.close();
    }
  });
});

describe("verification Job", () => {
  const t = target(
    "https://granite-maas-apicast-production.apps.example.com:443",
    "http://granite-predictor.granite.svc.cluster.local:8080",
  );

  it("waits for completion, takes the key from a Secret and never inlines it", () => {
    const job = verificationJob(t, "3scale", "maas-verify-granite");
    expect(job.metadata.annotations["pulumi.com/waitFor"]).toBe("condition=Complete");
    expect(job.metadata.namespace).toBe("3scale");
    const env = job.spec.template.spec.containers[0].env;
    expect(env.find((e: any) => e.name === API_KEY_ENV)).toEqual({
      name: API_KEY_ENV,
      valueFrom: { secretKeyRef: { name: "maas-verify-granite", key: API_KEY_ENV } },
    });
    expect(job.spec.backoffLimit).toBe(0);
  });

  it("gets a new name when anything it checks changes, so a changed config runs it again", () => {
    const name = verificationJobName(t);
    expect(name).toMatch(/^verify-granite-[0-9a-f]{8}$/);
    expect(verificationJobName({ ...t })).toBe(name);
    expect(verificationJobName({ ...t, revision: "4" })).not.toBe(name);
    expect(verificationJobName({ ...t, gatewayUrl: t.gatewayUrl + "x" })).not.toBe(name);
    expect(verificationJobName({ ...t, model: "m".repeat(80) }).length).toBeLessThanOrEqual(63);
  });
});
