/** Plain-fetch helpers for the emulator's own tests (deliberately independent of the project's admin client). */
import { startEmulator, type Emulator, type EmulatorOptions } from "../../../tools/threescale-emulator";

export interface Response {
  status: number;
  text: string;
  /** Parsed JSON, or undefined for empty / non-JSON bodies. */
  body: any;
  contentType: string | null;
}

export interface CallOptions {
  query?: Record<string, string>;
  json?: unknown;
  form?: Record<string, string>;
  multipart?: FormData;
  /** "query" (default) | "basic-user" | "basic-password" | "bearer" | "none" | "form" | "json". */
  auth?: "query" | "basic-user" | "basic-password" | "bearer" | "none" | "form" | "json";
  token?: string;
}

export type Api = (method: string, path: string, opts?: CallOptions) => Promise<Response>;

export function apiFor(emulator: Emulator): Api {
  return async (method, path, opts = {}) => {
    const token = opts.token ?? emulator.accessToken;
    const auth = opts.auth ?? "query";
    const url = new URL(path, emulator.url);
    for (const [k, v] of Object.entries(opts.query ?? {})) url.searchParams.set(k, v);
    if (auth === "query") url.searchParams.set("access_token", token);
    const headers: Record<string, string> = {};
    if (auth === "basic-user") headers.authorization = `Basic ${Buffer.from(`${token}:`).toString("base64")}`;
    if (auth === "basic-password") headers.authorization = `Basic ${Buffer.from(`:${token}`).toString("base64")}`;
    if (auth === "bearer") headers.authorization = `Bearer ${token}`;
    let body: string | FormData | undefined;
    if (opts.json !== undefined || auth === "json") {
      headers["content-type"] = "application/json";
      const json = (opts.json ?? {}) as Record<string, unknown>;
      body = JSON.stringify(auth === "json" ? { ...json, access_token: token } : json);
    } else if (opts.form || auth === "form") {
      headers["content-type"] = "application/x-www-form-urlencoded";
      body = new URLSearchParams({
        ...(opts.form ?? {}),
        ...(auth === "form" ? { access_token: token } : {}),
      }).toString();
    } else if (opts.multipart) {
      body = opts.multipart;
    }
    const res = await fetch(url, { method, headers, body });
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    return { status: res.status, text, body: parsed, contentType: res.headers.get("content-type") };
  };
}

/** One emulator per describe block, fresh per test file. */
export function useEmulator(opts: EmulatorOptions = {}): { readonly emulator: Emulator; readonly api: Api } {
  let current: Emulator | undefined;
  beforeAll(async () => {
    current = await startEmulator({ accessToken: "test-token-0123456789", ...opts });
  });
  afterAll(async () => {
    await current?.close();
  });
  return {
    get emulator() {
      if (!current) throw new Error("emulator not started");
      return current;
    },
    get api() {
      return apiFor(this.emulator);
    },
  };
}

let counter = 0;
/** A unique name per call, so tests sharing one emulator do not collide. */
export function unique(prefix: string): string {
  counter += 1;
  return `${prefix}_${counter}`;
}

/** Creates a backend + product + usage, the minimum for a product that can be deployed. */
export async function productWithBackend(api: Api, name = unique("prod")) {
  const backend = await api("POST", "/admin/api/backend_apis.json", {
    json: { name: `${name} backend`, private_endpoint: "http://model.svc.cluster.local:8080" },
  });
  const product = await api("POST", "/admin/api/services.json", { json: { name, system_name: name } });
  const serviceId: number = product.body.service.id;
  const backendId: number = backend.body.backend_api.id;
  const usage = await api("POST", `/admin/api/services/${serviceId}/backend_usages.json`, {
    json: { backend_api_id: backendId, path: "/" },
  });
  expect([backend.status, product.status, usage.status]).toEqual([201, 201, 201]);
  return { serviceId, backendId, systemName: name, backendSystemName: backend.body.backend_api.system_name as string };
}
