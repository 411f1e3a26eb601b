/**
 * Shared behaviour of every 3scale dynamic provider: connection handling, validation that tolerates unknown values
 * during preview, and a normalised diff that ignores `__provider` and knows which fields force a replacement.
 *
 * Like client.ts this module is serialized by value into each provider: no module-level state, no Pulumi runtime
 * objects (only types from @pulumi/pulumi, which TypeScript erases).
 */
import type * as pulumi from "@pulumi/pulumi";
import { AdminClient, ClientOptions, Connection } from "./client";

/** The sentinel Pulumi passes for values that are not known yet (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(value: unknown): boolean {
  if (value === UNKNOWN) return true;
  if (Array.isArray(value)) return value.some(isUnknown);
  if (value && typeof value === "object") return Object.values(value).some(isUnknown);
  return false;
}

/** Inputs every 3scale resource takes. */
export interface ConnectionInputs {
  connection: Connection;
}

export type Failure = { property: string; reason: string };

/** Fields a diff never looks at: the serialized provider and credentials (rotating a token is not a change). */
const IGNORED_FIELDS = ["__provider", "connection"];

export function connectionFailures(inputs: Partial<ConnectionInputs>): Failure[] {
  const c = inputs.connection;
  if (c === undefined || isUnknown(c))
    return c === undefined ? [{ property: "connection", reason: "is required" }] : [];
  const failures: Failure[] = [];
  if (!isUnknown(c.adminUrl) && !/^https?:\/\/[^/\s]+/.test(String(c.adminUrl ?? ""))) {
    failures.push({
      property: "connection.adminUrl",
      reason: `must be the tenant admin URL, e.g. "https://maas-admin.apps.example.com"; got "${c.adminUrl ?? ""}"`,
    });
  }
  if (!isUnknown(c.accessToken) && !c.accessToken) {
    failures.push({ property: "connection.accessToken", reason: "is required (the tenant admin access token)" });
  }
  return failures;
}

/** Stable JSON: object keys sorted, so comparisons ignore key order but not array order. */
export function canonical(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .filter((k) => (value as any)[k] !== undefined)
        .map((k) => [k, sortKeys((value as any)[k])]),
    );
  }
  return value;
}

export function sameValue(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** `https://host` → `https://host:443`, as 3scale stores endpoints; other URLs unchanged. */
export function withDefaultPort(url: string): string {
  const match = /^(https?):\/\/([^/:?#]+)(:\d+)?(.*)$/.exec(url);
  if (!match) return url;
  const [, scheme, host, port, rest] = match;
  return `${scheme}://${host}${port ?? (scheme === "https" ? ":443" : ":80")}${rest}`;
}

/** Names of the desired fields whose value differs from the old outputs (ignoring provider and connection). */
export function changedFields(olds: Record<string, any>, news: Record<string, any>, fields?: string[]): string[] {
  const keys = fields ?? Object.keys(news).filter((k) => !IGNORED_FIELDS.includes(k));
  return keys.filter((k) => !IGNORED_FIELDS.includes(k) && !sameValue(olds[k], news[k]));
}

/**
 * Base of every 3scale provider: subclasses declare which inputs are create-only and validate their own fields;
 * check and diff come from here. Subclasses implement create/read/update/delete.
 */
export abstract class ThreescaleProvider<I extends ConnectionInputs> implements pulumi.dynamic.ResourceProvider {
  /** Inputs that cannot change in place (3scale ignores them on update): a change replaces the object. */
  protected abstract readonly createOnly: string[];

  /** Field-level validation of known values; return failures naming the input and what would be right. */
  protected abstract validate(inputs: I): Failure[];

  /** Options for the admin client (tests shorten timeouts and backoff through here). */
  protected clientOptions: ClientOptions = {};

  constructor(clientOptions: ClientOptions = {}) {
    this.clientOptions = clientOptions;
  }

  protected client(inputs: ConnectionInputs): AdminClient {
    return new AdminClient(inputs.connection, this.clientOptions);
  }

  /** Desired-state view of inputs used for diffs; override to normalise (e.g. add default URL ports). */
  protected normalize(inputs: Record<string, any>): Record<string, any> {
    return inputs;
  }

  async check(_olds: any, news: any): Promise<pulumi.dynamic.CheckResult> {
    const failures = connectionFailures(news);
    const known = Object.fromEntries(Object.entries(news).filter(([, v]) => !isUnknown(v))) as unknown as I;
    failures.push(...this.validate(known));
    return failures.length > 0 ? { inputs: news, failures } : { inputs: news };
  }

  async diff(_id: string, olds: any, news: any): Promise<pulumi.dynamic.DiffResult> {
    const oldView = this.normalize(olds);
    const newView = this.normalize(news);
    const unknown = Object.keys(news).filter((k) => !IGNORED_FIELDS.includes(k) && isUnknown(news[k]));
    const changed = [...new Set([...changedFields(oldView, newView), ...unknown])];
    const replaces = changed.filter((k) => this.createOnly.includes(k));
    if (olds.connection?.adminUrl && news.connection?.adminUrl && !isUnknown(news.connection.adminUrl)) {
      if (withDefaultPort(olds.connection.adminUrl) !== withDefaultPort(news.connection.adminUrl)) {
        replaces.push("connection"); // another tenant: the object must be created there
      }
    }
    return {
      changes: changed.length > 0 || replaces.length > 0,
      replaces,
      deleteBeforeReplace: replaces.length > 0,
    };
  }

  abstract create(inputs: I): Promise<pulumi.dynamic.CreateResult>;
  abstract read(id: string, props: any): Promise<pulumi.dynamic.ReadResult>;
  abstract update(id: string, olds: any, news: I): Promise<pulumi.dynamic.UpdateResult>;
  abstract delete(id: string, props: any): Promise<void>;
}
