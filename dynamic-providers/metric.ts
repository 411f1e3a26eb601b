/**
 * 3scale metrics and methods of a product. One provider class serves both resource types, parametrised by kind:
 * a metric, or a method (a child of the product's `hits` metric).
 */
import * as pulumi from "@pulumi/pulumi";
import { type AdminClient, type Connection, unlessGone } from "./threescale/client";
import { listProductMetrics, productPath } from "./threescale/catalog";
import { Failure, fieldFailures, FieldRule } from "./threescale/checks";
import { findOrCreate } from "./threescale/create-or-adopt";
import { toApi } from "./threescale/fields";
import { deleteReferencedByConfigs } from "./threescale/gateway-config";
import { ApiObject, ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";
import { ThreescaleResource } from "./threescale/resource";

export type MetricKind = "metric" | "method";

export interface MetricInputs extends ConnectionInputs {
  productId: number;
  systemName: string;
  friendlyName: string;
  /** Metrics only, e.g. "tokens". */
  unit?: string;
  description?: string;
}

export class MetricProvider extends ObjectProvider<MetricInputs> {
  protected readonly createOnly = ["productId", "systemName"];
  protected readonly keyIsUnique = true;
  protected readonly idOutput = "metricId";
  protected readonly envelope: string;
  protected readonly fields: Record<string, string>;

  constructor(
    private readonly kind: MetricKind,
    clientOptions = {},
  ) {
    super(clientOptions);
    this.envelope = kind;
    this.fields =
      kind === "metric"
        ? { friendlyName: "friendly_name", unit: "unit", description: "description" }
        : { friendlyName: "friendly_name", description: "description" };
  }

  protected get label(): string {
    return `product ${this.kind}`;
  }

  protected validate(inputs: MetricInputs): Failure[] {
    const rules: Record<string, FieldRule> = {
      productId: { kind: "id", required: true, example: "42 (the product's productId)" },
      systemName: { kind: "systemName", required: true, example: '"total_tokens"' },
      friendlyName: { kind: "string", required: true, example: '"Total tokens"' },
      description: { kind: "text", example: '"prompt + completion tokens"' },
    };
    if (this.kind === "metric") rules.unit = { kind: "string", required: true, example: '"tokens"' };
    return fieldFailures(inputs, rules);
  }

  protected path(inputs: MetricInputs, item: { id: number | string; parent_id?: number | null }): string {
    const base = productPath(inputs.productId);
    return this.kind === "method"
      ? `${base}/metrics/${item.parent_id}/methods/${item.id}`
      : `${base}/metrics/${item.id}`;
  }

  protected async find(client: AdminClient, inputs: MetricInputs) {
    return (await this.listOwn(client, inputs.productId)).find((m) => m.system_name === inputs.systemName);
  }

  protected async post(client: AdminClient, inputs: MetricInputs, hitsId?: number) {
    const base = productPath(inputs.productId);
    const body = { system_name: inputs.systemName, ...toApi(inputs, this.fields) };
    if (this.kind === "metric") return (await client.post(`${base}/metrics.json`, body)).metric;
    const hits = hitsId ?? hitsIn(inputs.productId, await listProductMetrics(client, inputs.productId));
    return (await client.post(`${base}/metrics/${hits}/methods.json`, body)).method;
  }

  /**
   * A method's POST needs the id of `hits`, which only the product's list tells: that one list also serves as the
   * lookup (list + POST on a fresh product), and the POST reuses the id it found.
   */
  protected async createOrAdopt(client: AdminClient, inputs: MetricInputs): Promise<ApiObject> {
    if (this.kind === "metric") return super.createOrAdopt(client, inputs);
    let hitsId: number | undefined;
    return findOrCreate(
      client,
      async (c) => {
        const all = await listProductMetrics(c, inputs.productId);
        hitsId = hitsIn(inputs.productId, all);
        return all.find((m) => !!m.parent_id && m.system_name === inputs.systemName);
      },
      (c) => this.post(c, inputs, hitsId),
    );
  }

  /** Methods have no GET of their own without the parent id: look the item up in the product's list. */
  protected async fetch(client: AdminClient, inputs: MetricInputs, id: string): Promise<ApiObject | undefined> {
    // A 404 on the list means the product is gone, and its metrics with it.
    const items = await unlessGone(() => this.listOwn(client, inputs.productId));
    return items?.find((m) => m.id === Number(id));
  }

  async delete(id: string, props: MetricInputs): Promise<void> {
    const client = this.client(props);
    const actual = await this.fetch(client, props, id);
    if (!actual) return;
    await deleteReferencedByConfigs(client, `${this.path(props, actual)}.json`, props.productId);
  }

  /** The product's items of this provider's kind (methods are the children of hits). */
  private async listOwn(client: AdminClient, productId: number): Promise<ApiObject[]> {
    return (await listProductMetrics(client, productId)).filter((m) => (this.kind === "method") === !!m.parent_id);
  }
}

// One provider instance per resource type (registry.ts), shared by all its resources.
export const productMetricProvider = new MetricProvider("metric");
export const productMethodProvider = new MetricProvider("method");

export interface ProductMethodArgs {
  connection: pulumi.Input<Connection>;
  productId: pulumi.Input<number>;
  systemName: pulumi.Input<string>;
  friendlyName: pulumi.Input<string>;
  description?: pulumi.Input<string>;
}

export interface ProductMetricArgs extends ProductMethodArgs {
  unit: pulumi.Input<string>;
}

/** Per kind: the shared provider and the resource type (existing stacks know the resources by it: never change it). */
const RESOURCE_TYPES = {
  metric: { provider: productMetricProvider, type: "ProductMetric" },
  method: { provider: productMethodProvider, type: "ProductMethod" },
} as const;

/** A product's metric or method: the outputs both have, registered the same way. */
abstract class MetricResource extends ThreescaleResource {
  declare public readonly metricId: pulumi.Output<number>;
  declare public readonly systemName: pulumi.Output<string>;
  /** Changes whenever create/update wrote to 3scale (see `withAppliedRevision`). */
  declare public readonly appliedRevision: pulumi.Output<string>;

  protected constructor(kind: MetricKind, name: string, args: ProductMethodArgs, opts?: pulumi.CustomResourceOptions) {
    const { provider, type } = RESOURCE_TYPES[kind];
    super(provider, type, name, args, ["metricId", "appliedRevision"], opts);
  }
}

export class ProductMetric extends MetricResource {
  constructor(name: string, args: ProductMetricArgs, opts?: pulumi.CustomResourceOptions) {
    super("metric", name, args, opts);
  }
}

export class ProductMethod extends MetricResource {
  constructor(name: string, args: ProductMethodArgs, opts?: pulumi.CustomResourceOptions) {
    super("method", name, args, opts);
  }
}

/** The id of the product's `hits` metric (the parent of every method) in its metric list. */
function hitsIn(productId: number, metrics: any[]): number {
  const hits = metrics.find((m) => m.system_name === "hits");
  if (!hits) throw new Error(`3scale product ${productId} has no "hits" metric to hold methods`);
  return hits.id;
}
