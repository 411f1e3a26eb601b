/**
 * 3scale metrics and methods of a product or a backend. One provider class serves all four resource types,
 * parametrised by owner (product/backend) and kind (metric, or method = child of `hits`).
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import {
  deleteReferencedByConfigs,
  differingBody,
  findOrCreate,
  idFailures,
  refreshed,
  requiredTextFailures,
  systemNameFailures,
} from "./threescale/common";
import { ConnectionInputs, Failure, ThreescaleProvider } from "./threescale/provider-kit";

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

export class MetricProvider extends ThreescaleProvider<MetricInputs> {
  protected readonly createOnly: string[];
  private readonly ownerKey: "productId" | "backendId";

  constructor(
    private readonly owner: MetricOwner,
    private readonly kind: MetricKind,
    clientOptions = {},
  ) {
    super(clientOptions);
    this.ownerKey = owner === "product" ? "productId" : "backendId";
    this.createOnly = [this.ownerKey, "systemName"];
  }

  private fields(): Record<string, string> {
    return this.kind === "metric"
      ? { friendlyName: "friendly_name", unit: "unit", description: "description" }
      : { friendlyName: "friendly_name", description: "description" };
  }

  // Values are checked once known (unknown ones are absent here); presence is enforced by the Args types.
  protected validate(inputs: MetricInputs): Failure[] {
    const texts = Object.keys(this.fields()).filter((f) => f !== "description" && (inputs as any)[f] !== undefined);
    return [
      ...idFailures(inputs, [this.ownerKey]),
      ...(inputs.systemName !== undefined ? systemNameFailures(inputs.systemName) : []),
      ...requiredTextFailures(inputs, texts, this.kind === "metric" ? "tokens" : "Chat completions"),
    ];
  }

  async create(inputs: MetricInputs): Promise<pulumi.dynamic.CreateResult> {
    const client = this.client(inputs);
    const ownerId = this.ownerId(inputs);
    const { item, adopted } = await findOrCreate(
      async () => (await this.listAll(client, ownerId)).find((m) => this.plainName(m, ownerId) === inputs.systemName),
      async () => {
        const body = { system_name: inputs.systemName, ...differingBody(inputs as any, undefined, this.fields()) };
        if (this.kind === "metric") return (await client.post(`${this.base(ownerId)}/metrics.json`, body)).metric;
        const hits = await this.hitsId(client, ownerId);
        return (await client.post(`${this.base(ownerId)}/metrics/${hits}/methods.json`, body)).method;
      },
    );
    if (adopted) await this.sync(client, inputs, item);
    return { id: String(item.id), outs: { ...inputs, metricId: item.id } };
  }

  async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const client = this.client(props);
    const actual = await this.findById(client, this.ownerId(props), Number(id));
    if (!actual) return {};
    return { id, props: { ...refreshed(props, actual, this.fields()), metricId: Number(id) } };
  }

  async update(id: string, _olds: any, news: MetricInputs): Promise<pulumi.dynamic.UpdateResult> {
    const client = this.client(news);
    const actual = await this.findById(client, this.ownerId(news), Number(id));
    if (!actual) throw new Error(`3scale ${this.owner} ${this.kind} ${id} no longer exists; run "pulumi refresh"`);
    await this.sync(client, news, actual);
    return { outs: { ...news, metricId: Number(id) } };
  }

  async delete(id: string, props: any): Promise<void> {
    const client = this.client(props);
    const ownerId = this.ownerId(props);
    const actual = await this.findById(client, ownerId, Number(id));
    if (!actual) return;
    await deleteReferencedByConfigs(client, this.itemPath(ownerId, actual), () => this.productsUsing(client, ownerId));
  }

  private ownerId(inputs: MetricInputs): number {
    return Number(inputs[this.ownerKey]);
  }

  private base(ownerId: number): string {
    return this.owner === "product" ? `/admin/api/services/${ownerId}` : `/admin/api/backend_apis/${ownerId}`;
  }

  private itemPath(ownerId: number, item: { id: number; parent_id?: number | null }): string {
    return this.kind === "method"
      ? `${this.base(ownerId)}/metrics/${item.parent_id}/methods/${item.id}.json`
      : `${this.base(ownerId)}/metrics/${item.id}.json`;
  }

  /** Metrics and methods of the owner (one list holds both), unwrapped from either envelope. */
  private async listAll(client: AdminClient, ownerId: number): Promise<any[]> {
    const items = await client.list(`${this.base(ownerId)}/metrics.json`, "metrics", undefined);
    return items.map((i) => i.metric ?? i.method ?? i);
  }

  /** The owner's items of this provider's kind, one of which has id `id`. */
  private async findById(client: AdminClient, ownerId: number, id: number): Promise<any | undefined> {
    let items: any[];
    try {
      items = await this.listAll(client, ownerId);
    } catch (err: any) {
      if (err?.status === 404) return undefined; // the owner is gone, and its metrics with it
      throw err;
    }
    return items.find((m) => m.id === id && (this.kind === "method") === !!m.parent_id);
  }

  /** Backend metric names come back as `<name>.<backend id>`. */
  private plainName(item: { system_name: string }, ownerId: number): string {
    const suffix = `.${ownerId}`;
    return this.owner === "backend" && item.system_name.endsWith(suffix)
      ? item.system_name.slice(0, -suffix.length)
      : item.system_name;
  }

  private async hitsId(client: AdminClient, ownerId: number): Promise<number> {
    const hits = (await this.listAll(client, ownerId)).find((m) => this.plainName(m, ownerId) === "hits");
    if (!hits) throw new Error(`3scale ${this.owner} ${ownerId} has no "hits" metric to hold methods`);
    return hits.id;
  }

  private async sync(client: AdminClient, inputs: MetricInputs, actual: any): Promise<void> {
    const body = differingBody(inputs as any, actual, this.fields());
    if (Object.keys(body).length > 0) await client.put(this.itemPath(this.ownerId(inputs), actual), body);
  }

  /** Products whose gateway configs may reference this owner's metrics. */
  private async productsUsing(client: AdminClient, ownerId: number): Promise<number[]> {
    if (this.owner === "product") return [ownerId];
    const services = await client.list("/admin/api/services.json", "services", "service");
    const users: number[] = [];
    for (const service of services) {
      const usages = await client.list(
        `/admin/api/services/${service.id}/backend_usages.json`,
        undefined,
        "backend_usage",
      );
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

export class BackendMetric extends pulumi.dynamic.Resource {
  declare public readonly metricId: pulumi.Output<number>;
  declare public readonly systemName: pulumi.Output<string>;
  constructor(name: string, args: BackendMetricArgs, opts?: pulumi.CustomResourceOptions) {
    super(backendMetricProvider, name, { ...args, metricId: undefined }, opts, "threescale", "BackendMetric");
  }
}

export class BackendMethod extends pulumi.dynamic.Resource {
  declare public readonly metricId: pulumi.Output<number>;
  declare public readonly systemName: pulumi.Output<string>;
  constructor(name: string, args: BackendMethodArgs, opts?: pulumi.CustomResourceOptions) {
    super(backendMethodProvider, name, { ...args, metricId: undefined }, opts, "threescale", "BackendMethod");
  }
}

export class ProductMetric extends pulumi.dynamic.Resource {
  declare public readonly metricId: pulumi.Output<number>;
  declare public readonly systemName: pulumi.Output<string>;
  constructor(name: string, args: ProductMetricArgs, opts?: pulumi.CustomResourceOptions) {
    super(productMetricProvider, name, { ...args, metricId: undefined }, opts, "threescale", "ProductMetric");
  }
}

export class ProductMethod extends pulumi.dynamic.Resource {
  declare public readonly metricId: pulumi.Output<number>;
  declare public readonly systemName: pulumi.Output<string>;
  constructor(name: string, args: ProductMethodArgs, opts?: pulumi.CustomResourceOptions) {
    super(productMethodProvider, name, { ...args, metricId: undefined }, opts, "threescale", "ProductMethod");
  }
}
