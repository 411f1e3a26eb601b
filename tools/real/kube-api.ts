/**
 * A minimal Kubernetes API client over node's https module with the client certificate of a generated kubeconfig.
 * Enough for the starters and tests (get/list/create/apply/delete/wait); not a general client, which the project
 * does not depend on (@kubernetes/client-node is not installed, kubectl is not built).
 */
import * as fs from "fs";
import * as https from "https";
import { parse as parseYaml } from "yaml";
import { parseYamlDocuments } from "../../scripts/derive-contracts";
import { waitFor } from "./procs";

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface KubeCredentials {
  server: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

export class KubeApiError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(`${method} ${path} -> HTTP ${status}: ${body.slice(0, 2000)}`);
  }
}

/** Reads the credentials back from a kubeconfig this package wrote (certificates inlined, one user, one cluster). */
export function credentialsFromKubeconfig(file: string): KubeCredentials {
  const doc = parseYaml(fs.readFileSync(file, "utf8")) as {
    clusters: { cluster: { server: string; "certificate-authority-data": string } }[];
    users: { user: { "client-certificate-data": string; "client-key-data": string } }[];
  };
  const cluster = doc.clusters[0].cluster;
  const user = doc.users[0].user;
  const b = (s: string): Buffer => Buffer.from(s, "base64");
  return {
    server: cluster.server,
    ca: b(cluster["certificate-authority-data"]),
    cert: b(user["client-certificate-data"]),
    key: b(user["client-key-data"]),
  };
}

/** The REST path of a collection, or of one object when `name` is given. */
export function resourcePath(apiVersion: string, plural: string, namespace?: string, name?: string): string {
  const base = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${plural}${name ? `/${encodeURIComponent(name)}` : ""}`;
}

export class KubeApi {
  private readonly agent: https.Agent;

  constructor(readonly creds: KubeCredentials) {
    this.agent = new https.Agent({ ca: creds.ca, cert: creds.cert, key: creds.key, keepAlive: true, maxSockets: 8 });
  }

  static fromKubeconfig(file: string): KubeApi {
    return new KubeApi(credentialsFromKubeconfig(file));
  }

  /** Raw request; resolves for any HTTP status so callers can treat 404/409 as data. */
  raw(
    method: string,
    path: string,
    body?: unknown,
    contentType = "application/json",
  ): Promise<{ status: number; text: string }> {
    const url = new URL(path, this.creds.server);
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = https.request(
        url,
        {
          method,
          agent: this.agent,
          headers: {
            Accept: "application/json",
            ...(payload !== undefined
              ? { "Content-Type": contentType, "Content-Length": Buffer.byteLength(payload) }
              : {}),
          },
          timeout: 30000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }));
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on("error", reject);
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  /** JSON request that throws KubeApiError on a non-2xx status. */
  async request<T>(method: string, path: string, body?: unknown, contentType?: string): Promise<T> {
    const res = await this.raw(method, path, body, contentType);
    if (res.status < 200 || res.status >= 300) throw new KubeApiError(method, path, res.status, res.text);
    return (res.text ? JSON.parse(res.text) : {}) as T;
  }

  /** GET that returns undefined on 404. */
  async get<T = KubeObject>(path: string): Promise<T | undefined> {
    const res = await this.raw("GET", path);
    if (res.status === 404) return undefined;
    if (res.status < 200 || res.status >= 300) throw new KubeApiError("GET", path, res.status, res.text);
    return JSON.parse(res.text) as T;
  }

  async list<T = KubeObject>(path: string): Promise<T[]> {
    return (await this.request<{ items: T[] }>("GET", path)).items;
  }

  create<T = KubeObject>(path: string, obj: unknown): Promise<T> {
    return this.request<T>("POST", path, obj);
  }

  /**
   * Server-side apply (create or update, idempotent). `path` is the object's own path. Unlike client-side apply it
   * has no 256 KiB last-applied annotation limit, which large CRDs (Knative, 3scale) exceed.
   */
  apply<T = KubeObject>(path: string, obj: unknown, fieldManager = "maas-tests"): Promise<T> {
    const q = `?fieldManager=${encodeURIComponent(fieldManager)}&force=true`;
    return this.request<T>("PATCH", `${path}${q}`, obj, "application/apply-patch+yaml");
  }

  async delete(path: string): Promise<void> {
    const res = await this.raw("DELETE", path);
    if (res.status !== 404 && (res.status < 200 || res.status >= 300)) {
      throw new KubeApiError("DELETE", path, res.status, res.text);
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

/**
 * GET of a URL served with a self-signed certificate (the /healthz of kube-controller-manager and kube-scheduler,
 * which generate their own serving certs). Resolves the body on 200, undefined otherwise.
 */
export function getInsecure(url: string, timeoutMs = 5000): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const req = https.get(url, { rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve(res.statusCode === 200 ? Buffer.concat(chunks).toString("utf8") : undefined));
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on("error", reject);
  });
}

interface CrdStatus {
  spec: { names: { plural: string } };
  status?: { conditions?: { type: string; status: string; message?: string }[] };
}

/**
 * Every CustomResourceDefinition document in a YAML file (multi-document files and empty documents allowed). Parsed
 * with the project's kubectl-compatible reader, which accepts the under-indented quoted continuations of
 * knative-operator's generated CRD that the strict `yaml` package rejects.
 */
export function readCrdDocuments(file: string): KubeObject[] {
  const docs = parseYamlDocuments(fs.readFileSync(file, "utf8"), file) as unknown as (KubeObject | null)[];
  const out = docs.filter((d): d is KubeObject => d !== null && d.kind === "CustomResourceDefinition");
  if (out.length === 0) throw new Error(`${file}: no CustomResourceDefinition in it`);
  return out;
}

const CRD_API = "apiextensions.k8s.io/v1";

/** Runs `fn` over `items` with at most `limit` in flight (the apiserver compiles each CRD's schema on apply). */
async function forEachLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Applies the CRDs of each file, then waits until every one is Established (its API is being served). */
export async function applyCrds(api: KubeApi, files: string[], timeoutMs = 60000): Promise<string[]> {
  const crds: { file: string; crd: KubeObject }[] = [];
  for (const file of files) {
    for (const crd of readCrdDocuments(file)) {
      if (crd.apiVersion !== CRD_API)
        throw new Error(`${file}: ${crd.metadata.name} is ${crd.apiVersion}, not ${CRD_API}`);
      crds.push({ file, crd });
    }
  }
  await forEachLimited(crds, 4, async ({ file, crd }) => {
    // status is owned by the server; strip what a dump from a live cluster may carry.
    const { status: _status, ...body } = crd;
    const { resourceVersion: _rv, uid: _uid, creationTimestamp: _ct, managedFields: _mf, ...metadata } = crd.metadata;
    try {
      await api.apply(resourcePath(CRD_API, "customresourcedefinitions", undefined, crd.metadata.name), {
        ...body,
        metadata,
      });
    } catch (err) {
      throw new Error(`${file}: applying CRD ${crd.metadata.name} failed: ${(err as Error).message}`);
    }
  });
  const names = crds.map((c) => c.crd.metadata.name);
  await forEachLimited(names, 4, async (name) => {
    await waitFor(
      `CRD ${name} Established`,
      async () => {
        const crd = await api.get<CrdStatus>(resourcePath(CRD_API, "customresourcedefinitions", undefined, name));
        const established = crd?.status?.conditions?.find((c) => c.type === "Established");
        return established?.status === "True" ? true : undefined;
      },
      { timeoutMs, intervalMs: 200 },
    );
  });
  return names;
}
