/**
 * 3scale metrics and methods of a product or a backend. One provider class serves all four resource types,
 * parametrised by owner (product/backend) and kind (metric, or method = child of `hits`).
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import {
  CatalogOwner,
  deleteReferencedByConfigs,
  Failure,
  fieldFailures,
  FieldRule,
  findOrCreate,
  inputOwner,
  listBackendUsages,
  listOwnerMetrics,
  listProducts,
  ownerIdInput,
  OwnerIdInput,
  ownerPath,
  plainMetricName,
  toApi,
  unlessGone,
} from "./threescale/common";
import { ApiObject, ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";

export type MetricOwner = "product" | "backend";
export type MetricKind = "metric" | "method";

export interface MetricInputs extends ConnectionInputs {
  productId?: number;
  backendId?: number;
  systemName: string;
  friendlyName: string;
  /** Metrics only, e.g. "tokens". */
  unit?: string;
  description?: string;
}

export class MetricProvider extends ObjectProvider<MetricInputs> {
  protected readonly createOnly: string[];
  protected readonly keyIsUnique = true;
  protected readonly idOutput = "metricId";
  protected readonly envelope: string;
  protected readonly fields: Record<string, string>;
  private readonly ownerKey: OwnerIdInput;

  constructor(
    private readonly ownerKind: MetricOwner,
    private readonly kind: MetricKind,
    clientOptions = {},
  ) {
    super(clientOptions);
    this.ownerKey = ownerIdInput(ownerKind);
    this.createOnly = [this.ownerKey, "systemName"];
    this.envelope = kind;
    this.fields =
      kind === "metric"
        ? { friendlyName: "friendly_name", unit: "unit", description: "description" }
        : { friendlyName: "friendly_name", description: "description" };
  }

  protected get label(): string {
    return `${this.ownerKind} ${this.kind}`;
  }

  protected validate(inputs: MetricInputs): Failure[] {
    const rules: Record<string, FieldRule> = {
      [this.ownerKey]: { kind: "id", required: true, example: `42 (the ${this.ownerKind}'s ${this.ownerKey})` },
      systemName: { kind: "systemName", required: true, example: '"total_tokens"' },
      friendlyName: { kind: "string", required: true, example: '"Total tokens"' },
      description: { kind: "text", example: '"prompt + completion tokens"' },
    };
    if (this.kind === "metric") rules.unit = { kind: "string", required: true, example: '"tokens"' };
    return fieldFailures(inputs, rules);
  }

  protected path(inputs: MetricInputs, item: { id: number | string; parent_id?: number | null }): string {
    const base = ownerPath(this.owner(inputs));
    return this.kind === "method"
      ? `${base}/metrics/${item.parent_id}/methods/${item.id}`
      : `${base}/metrics/${item.id}`;
  }

  protected async find(client: AdminClient, inputs: MetricInputs) {
    const owner = this.owner(inputs);
    return (await this.listOwn(client, owner)).find((m) => plainMetricName(owner, m.system_name) === inputs.systemName);
  }

  protected async post(client: AdminClient, inputs: MetricInputs, hitsId?: number) {
    const owner = this.owner(inputs);
    const body = { system_name: inputs.systemName, ...toApi(inputs, this.fields) };
    if (this.kind === "metric") return (await client.post(`${ownerPath(owner)}/metrics.json`, body)).metric;
    const hits = hitsId ?? hitsIn(owner, await listOwnerMetrics(client, owner));
    return (await client.post(`${ownerPath(owner)}/metrics/${hits}/methods.json`, body)).method;
  }

  /**
   * A method's POST needs the id of `hits`, which only the owner's list tells: that one list also serves as the
   * lookup (list + POST on a fresh owner), and the POST reuses the id it found.
   */
  protected async createOrAdopt(client: AdminClient, inputs: MetricInputs): Promise<ApiObject> {
    if (this.kind === "metric") return super.createOrAdopt(client, inputs);
    const owner = this.owner(inputs);
    let hitsId: number | undefined;
    const { item } = await findOrCreate(
      client,
      async (c) => {
        const all = await listOwnerMetrics(c, owner);
        hitsId = hitsIn(owner, all);
        return all.find((m) => !!m.parent_id && plainMetricName(owner, m.system_name) === inputs.systemName);
      },
      (c) => this.post(c, inputs, hitsId),
    );
    return item;
  }

  /** Methods have no GET of their own without the parent id: look the item up in the owner's list. */
  protected async fetch(client: AdminClient, inputs: MetricInputs, id: string): Promise<ApiObject | undefined> {
    // A 404 on the list means the owner is gone, and its metrics with it.
    const items = await unlessGone(() => this.listOwn(client, this.owner(inputs)));
    return items?.find((m) => m.id === Number(id));
  }

  async delete(id: string, props: MetricInputs): Promise<void> {
    const client = this.client(props);
    const owner = this.owner(props);
    const actual = await this.fetch(client, props, id);
    if (!actual) return;
    await deleteReferencedByConfigs(client, `${this.path(props, actual)}.json`, () =>
      this.productsUsing(client, owner),
    );
  }

  private owner(inputs: MetricInputs): CatalogOwner {
    return inputOwner(this.ownerKind, inputs);
  }

  /** The owner's items of this provider's kind (methods are the children of hits). */
  private async listOwn(client: AdminClient, owner: CatalogOwner): Promise<ApiObject[]> {
    return (await listOwnerMetrics(client, owner)).filter((m) => (this.kind === "method") === !!m.parent_id);
  }

  /** Products whose gateway configs may reference this owner's metrics. */
  private async productsUsing(client: AdminClient, { kind, id: ownerId }: CatalogOwner): Promise<number[]> {
    if (kind === "product") return [ownerId];
    const users: number[] = [];
    for (const service of await listProducts(client)) {
      const usages = await listBackendUsages(client, service.id);
      if (usages.some((u) => u.backend_id === ownerId)) users.push(service.id);
    }
    return users;
  }
}

// One provider instance per resource type, each serialized once and shared by all its resources.
export const backendMetricProvider = new MetricProvider("backend", "metric");
export const backendMethodProvider = new MetricProvider("backend", "method");
export const productMetricProvider = new MetricProvider("product", "metric");
export const productMethodProvider = new MetricProvider("product", "method");

interface CommonArgs {
  connection: pulumi.Input<Connection>;
  systemName: pulumi.Input<string>;
  friendlyName: pulumi.Input<string>;
  description?: pulumi.Input<string>;
}
export interface BackendMetricArgs extends CommonArgs {
  backendId: pulumi.Input<number>;
  unit: pulumi.Input<string>;
}
export interface BackendMethodArgs extends CommonArgs {
  backendId: pulumi.Input<number>;
}
export interface ProductMetricArgs extends CommonArgs {
  productId: pulumi.Input<number>;
  unit: pulumi.Input<string>;
}
export interface ProductMethodArgs extends CommonArgs {
  productId: pulumi.Input<number>;
}

/** The outputs every metric and method resource has. */
abstract class MetricResource extends pulumi.dynamic.Resource {
  declare public readonly metricId: pulumi.Output<number>;
  declare public readonly systemName: pulumi.Output<string>;
  /** Changes whenever create/update wrote to 3scale (see `withAppliedRevision`). */
  declare public readonly appliedRevision: pulumi.Output<string>;
}

export class BackendMetric extends MetricResource {
  constructor(name: string, args: BackendMetricArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      backendMetricProvider,
      name,
      { ...args, metricId: undefined, appliedRevision: undefined },
      opts,
      "threescale",
      "BackendMetric",
    );
  }
}

export class BackendMethod extends MetricResource {
  constructor(name: string, args: BackendMethodArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      backendMethodProvider,
      name,
      { ...args, metricId: undefined, appliedRevision: undefined },
      opts,
      "threescale",
      "BackendMethod",
    );
  }
}

export class ProductMetric extends MetricResource {
  constructor(name: string, args: ProductMetricArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      productMetricProvider,
      name,
      { ...args, metricId: undefined, appliedRevision: undefined },
      opts,
      "threescale",
      "ProductMetric",
    );
  }
}

export class ProductMethod extends MetricResource {
  constructor(name: string, args: ProductMethodArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      productMethodProvider,
      name,
      { ...args, metricId: undefined, appliedRevision: undefined },
      opts,
      "threescale",
      "ProductMethod",
    );
  }
}

/** The id of the owner's `hits` metric (the parent of every method) in its metric list. */
function hitsIn(owner: CatalogOwner, metrics: any[]): number {
  const hits = metrics.find((m) => plainMetricName(owner, m.system_name) === "hits");
  if (!hits) throw new Error(`3scale ${owner.kind} ${owner.id} has no "hits" metric to hold methods`);
  return hits.id;
}
