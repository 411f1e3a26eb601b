/**
 * What the harness answers when no test or cluster-fixture handler matches: id `<name>-id` and the inputs echoed as
 * state, plus the outputs a real provider computes (deterministic, so runs are repeatable).
 */
import * as crypto from "crypto";
import type { ResourceHandler, ResourceHandlerArgs } from "./mock-runner";

const digest = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

/** A deterministic stand-in of `length` characters derived from the URN. */
function fakeRandom(urn: string, length: number): string {
  let text = "";
  for (let i = 0; text.length < length; i++) text += digest(`${urn}#${i}`);
  return text.slice(0, length);
}

type Computed = (a: ResourceHandlerArgs) => Record<string, unknown>;

const randomText: Computed = (a) => ({ result: fakeRandom(a.urn, Number(a.inputs.length ?? 16)) });

const computedOutputs: Record<string, Computed> = {
  "random:index/randomPassword:RandomPassword": (a) => ({
    ...randomText(a),
    bcryptHash: `$2a$10$${fakeRandom(a.urn, 53)}`,
  }),
  "random:index/randomString:RandomString": randomText,
  "random:index/randomId:RandomId": (a) => {
    const hex = fakeRandom(a.urn, 2 * Number(a.inputs.byteLength ?? 8));
    const b64 = Buffer.from(hex, "hex");
    return {
      hex,
      dec: BigInt(`0x${hex}`).toString(),
      b64Std: b64.toString("base64"),
      b64Url: b64.toString("base64url"),
    };
  },
  "random:index/randomUuid:RandomUuid": (a) => {
    const h = fakeRandom(a.urn, 32);
    return { result: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}` };
  },
  "random:index/randomBytes:RandomBytes": (a) => {
    const bytes = Buffer.from(fakeRandom(a.urn, 2 * Number(a.inputs.length ?? 16)), "hex");
    return { hex: bytes.toString("hex"), base64: bytes.toString("base64") };
  },
  // 3scale answers with the portal's callback URL for the provider (https://<tenant>.<wildcard>/auth/<name>/callback).
  "pulumi-nodejs:dynamic/threescale:SsoIntegration": (a) => {
    const adminUrl = a.inputs.connection?.adminUrl;
    if (typeof adminUrl !== "string" || !/^https?:\/\//.test(adminUrl)) return {};
    const portalHost = new URL(adminUrl).host.replace(/^([^.]+)-admin\./, "$1.");
    const systemName = a.inputs.systemName ?? a.inputs.kind;
    return { providerId: 1, callbackUrl: `https://${portalHost}/auth/${systemName}/callback` };
  },
  "keycloak:openid/client:Client": (a) => ({
    clientSecret: a.inputs.clientSecret ?? `fake-client-secret-${fakeRandom(a.urn, 16)}`,
  }),
};

/** Kubernetes objects without metadata.name get `<name>-<8 chars>`, as the provider's auto-naming does. */
function kubernetesOutputs(a: ResourceHandlerArgs): Record<string, unknown> {
  const metadata = (a.inputs.metadata ?? {}) as Record<string, unknown>;
  if (metadata.name !== undefined) return {};
  return { metadata: { ...metadata, name: `${a.name}-${fakeRandom(a.urn, 8)}` } };
}

export const defaultHandler: ResourceHandler = async (a) => {
  const computed =
    computedOutputs[a.type]?.(a) ?? (a.type.startsWith("kubernetes:") && a.custom ? kubernetesOutputs(a) : {});
  return { id: a.id ?? `${a.name}-id`, state: { ...a.inputs, ...computed } };
};
