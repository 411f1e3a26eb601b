/**
 * Base classes of every 3scale dynamic provider:
 * - `ThreescaleProvider`: connection handling, `check` that tolerates values not known yet (preview), and a
 *   normalised `diff` that ignores `__provider` and knows which fields force a replacement;
 * - `ObjectProvider`: create/read/update/delete of an admin API object with its own id (product, backend, plan, ...)
 *   — create adopts an existing object with the same key, update writes only what differs, read refreshes.
 *
 * Like client.ts this module stays serializable by value (states written before provider references, see
 * ../provider-reference.ts, hold providers so): no module-level state, no Pulumi runtime objects (only types from
 * @pulumi/pulumi, which TypeScript erases).
 */
import type * as pulumi from "@pulumi/pulumi";
import { AdminClient, ClientOptions, Connection, unlessGone } from "./client";
import { withAppliedRevision } from "./applied-revision";
import type { Failure } from "./checks";
import { findOrCreate } from "./create-or-adopt";
import { sameValue, withDefaultPort } from "./equality";
import {
  differingBody,
  FieldMap,
  FieldNormalizer,
  hasAny,
  onlyFields,
  refreshed,
  unwrittenBody,
  withoutFields,
} from "./fields";
import { isUnknown } from "./unknown";

/** Inputs every 3scale resource takes. */
export interface ConnectionInputs {
  connection: Connection;
}

/** Fields a diff never looks at: the serialized provider and credentials (rotating a token is not a change). */
const IGNORED_FIELDS = ["__provider", "connection"];

export function connectionFailures(inputs: Partial<ConnectionInputs>): Failure[] {
  const c = inputs.connection;
  if (c === undefined || c === null) return [{ property: "connection", reason: "is required" }];
  if (typeof c !== "object") return isUnknown(c) ? [] : [{ property: "connection", reason: "must be an object" }];
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

/** Names of the desired fields whose value differs from the old outputs (ignoring provider and connection). */
function changedFields(olds: Record<string, any>, news: Record<string, any>): string[] {
  return Object.keys(news).filter((k) => !IGNORED_FIELDS.includes(k) && !sameValue(olds[k], news[k]));
}

/**
 * Base of every 3scale provider: subclasses declare which inputs are create-only and validate their own fields;
 * check and diff come from here. Subclasses implement create/read/update/delete.
 */
export abstract class ThreescaleProvider<I extends ConnectionInputs> implements pulumi.dynamic.ResourceProvider {
  /** Inputs that cannot change in place (3scale ignores them on update): a change replaces the object. */
  protected abstract readonly createOnly: string[];

  /**
   * Field-level validation; return failures naming the input and what would be right. During preview any value
   * may be the UNKNOWN sentinel: it counts as given (never "missing") and is judged once known. `fieldFailures`
   * does this by itself; custom checks judge only `known(...)` values.
   */
  protected abstract validate(inputs: I): Failure[];

  /** Options for the admin client (tests and the test engine shorten timeouts and backoff through here). */
  clientOptions: ClientOptions = {};

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
    const failures = [...connectionFailures(news), ...this.validate(news)];
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

/** An admin API object as 3scale returns it (unwrapped from its envelope). */
export type ApiObject = Record<string, any> & { id: number };

/**
 * A 3scale object with its own id and path. Subclasses say how to find (for adoption), create and address it and
 * which fields are managed; the lifecycle is the same for all:
 * - create adopts an object with the same key (a crashed `up` can be re-run) and then writes what differs;
 * - read returns the id and the managed fields as 3scale has them (drift), or no id when the object is gone;
 *   write-only fields (3scale takes them, never returns them) keep the value last written;
 * - update writes only the differing fields: zero calls besides the read when nothing changed; a write-only field
 *   is compared with the value last written, never with the read-back;
 * - the `appliedRevision` output changes exactly when create/update wrote (see `withAppliedRevision`);
 * - delete treats 404 as done.
 */
export abstract class ObjectProvider<I extends ConnectionInputs> extends ThreescaleProvider<I> {
  /** Output holding the object's id, e.g. "productId". */
  protected abstract readonly idOutput: string;
  /** Envelope key of the object in API answers, e.g. "service". */
  protected abstract readonly envelope: string;
  /** Managed fields (input → API field) an update may change. */
  protected abstract readonly fields: FieldMap;
  /** Value normalisation before comparing API fields (e.g. default URL ports). */
  protected readonly fieldNormalizer?: FieldNormalizer;
  /**
   * Inputs among `fields` that 3scale accepts but never returns (e.g. an application plan's description): compared
   * with the value last written (the stored state), never with what a read shows.
   */
  protected readonly writeOnly: readonly string[] = [];
  /**
   * 3scale deletes the object in the background (products, backends): delete is done once 3scale accepted it, and a
   * create that finds the key still taken by the deleted namesake waits for it (see findOrCreate).
   */
  protected readonly deletedAsynchronously: boolean = false;
  /**
   * 3scale rejects a second object with this one's key (422 "has already been taken"): create POSTs first and
   * adopts on that answer. False for objects 3scale accepts twice: create looks them up first.
   */
  protected readonly keyIsUnique: boolean = false;
  /** HTTP verb of updates. */
  protected readonly updateVerb: "put" | "patch" = "put";

  /** The object's path without `.json`; `item` is the object, or just its id when only that is known. */
  protected abstract path(inputs: I, item: { id: number | string } & Record<string, any>): string;
  /** The existing object create adopts (same system name or key), if any. */
  protected abstract find(client: AdminClient, inputs: I): Promise<ApiObject | undefined>;
  /** Creates the object (one POST; the caller handles retries) and returns it. */
  protected abstract post(client: AdminClient, inputs: I): Promise<ApiObject>;

  /** What this object is called in errors, e.g. "product". */
  protected get label(): string {
    return this.envelope.replace(/_/g, " ");
  }

  protected unwrap(data: any): ApiObject | undefined {
    return data?.[this.envelope];
  }

  /** The object by id, undefined when it is gone. */
  protected async fetch(client: AdminClient, inputs: I, id: string): Promise<ApiObject | undefined> {
    return unlessGone(async () => this.unwrap(await client.get(`${this.path(inputs, { id })}.json`)));
  }

  /** Managed fields 3scale returns (compared with the read-back). */
  protected get readableFields(): FieldMap {
    return withoutFields(this.fields, this.writeOnly);
  }

  /**
   * Writes the managed fields that differ: readable ones from `actual`, write-only ones from `written` (the state
   * stored after the last write; undefined on create, so they are all sent). Returns the object as it is now.
   */
  protected async sync(
    client: AdminClient,
    inputs: I,
    actual: ApiObject,
    written?: Record<string, any>,
  ): Promise<ApiObject> {
    const body = {
      ...differingBody(inputs, actual, this.readableFields, this.fieldNormalizer),
      ...unwrittenBody(inputs, written, onlyFields(this.fields, this.writeOnly)),
    };
    if (!hasAny(body)) return actual;
    const answer = await client[this.updateVerb](`${this.path(inputs, actual)}.json`, body);
    return this.unwrap(answer) ?? actual;
  }

  /** The stored properties with the readable managed fields as 3scale has them (write-only ones as last written). */
  protected refresh(props: Record<string, any>, actual: ApiObject): Record<string, any> {
    return refreshed(props, actual, this.readableFields, this.fieldNormalizer);
  }

  /** Outputs: the inputs (or refreshed props), the id output, and anything subclasses add (`olds` on update). */
  protected outputs(inputs: Record<string, any>, actual: ApiObject, _olds?: Record<string, any>): Record<string, any> {
    return { ...inputs, [this.idOutput]: Number(actual.id) };
  }

  /** The object, created or adopted (see findOrCreate). */
  protected async createOrAdopt(client: AdminClient, inputs: I): Promise<ApiObject> {
    return findOrCreate(
      client,
      (c) => this.find(c, inputs),
      (c) => this.post(c, inputs),
      { keyIsUnique: this.keyIsUnique, deletedAsynchronously: this.deletedAsynchronously, label: this.label },
    );
  }

  async create(inputs: I): Promise<pulumi.dynamic.CreateResult> {
    const client = this.client(inputs);
    const item = await this.createOrAdopt(client, inputs);
    const current = await this.sync(client, inputs, item);
    return { id: String(current.id), outs: withAppliedRevision(this.outputs(inputs, current), client) };
  }

  async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const actual = await this.fetch(this.client(props), props, id);
    if (!actual) return {};
    return { id, props: this.outputs(this.refresh(props, actual), actual) };
  }

  async update(id: string, olds: any, news: I): Promise<pulumi.dynamic.UpdateResult> {
    const client = this.client(news);
    const actual = await this.fetch(client, news, id);
    if (!actual) throw new Error(`3scale ${this.label} ${id} no longer exists; run "pulumi refresh"`);
    const outs = this.outputs(news, await this.sync(client, news, actual, olds), olds);
    return { outs: withAppliedRevision(outs, client, olds) };
  }

  /**
   * DELETE; 404 is done. For objects 3scale deletes in the background, done is when 3scale accepted it: the object
   * is out of the API at once, and only its system_name stays taken a while (a namesake's create waits for that).
   */
  async delete(id: string, props: any): Promise<void> {
    await this.client(props).deleteIfExists(`${this.path(props, { id })}.json`);
  }
}
