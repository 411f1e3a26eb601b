/** 3scale backend usage: routes a product's path prefix to a backend (`services/{id}/backend_usages`). */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { findOrCreate, idFailures } from "./threescale/common";
import { ConnectionInputs, Failure, ThreescaleProvider } from "./threescale/provider-kit";

export interface BackendUsageInputs extends ConnectionInputs {
  productId: number;
  backendId: number;
  path: string;
}

/** The path as 3scale stores it: one leading slash, no trailing slash, "/" when empty. */
export function normalizeUsagePath(path: string): string {
  return "/" + path.replace(/^\/+|\/+$/g, "");
}

export class BackendUsageProvider extends ThreescaleProvider<BackendUsageInputs> {
  protected readonly createOnly = ["productId", "backendId"];

  protected validate(inputs: BackendUsageInputs): Failure[] {
    const failures = idFailures(inputs, ["productId", "backendId"]);
    if (inputs.path !== undefined && (typeof inputs.path !== "string" || /[\s?#]/.test(inputs.path))) {
      failures.push({
        property: "path",
        reason: `must be a URL path prefix without spaces, query or fragment, e.g. "/" or "/v1"; got ${JSON.stringify(inputs.path)}`,
      });
    }
    return failures;
  }

  protected normalize(inputs: Record<string, any>): Record<string, any> {
    return typeof inputs.path === "string" ? { ...inputs, path: normalizeUsagePath(inputs.path) } : inputs;
  }

  async create(inputs: BackendUsageInputs): Promise<pulumi.dynamic.CreateResult> {
    const client = this.client(inputs);
    const base = `/admin/api/services/${inputs.productId}/backend_usages`;
    const { item, adopted } = await findOrCreate(
      async () => (await listUsages(client, inputs.productId)).find((u) => u.backend_id === inputs.backendId),
      async () =>
        (await client.post(`${base}.json`, { backend_api_id: inputs.backendId, path: inputs.path })).backend_usage,
    );
    if (adopted) await this.sync(client, inputs, item);
    return { id: String(item.id), outs: { ...inputs, backendUsageId: item.id } };
  }

  async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const found = await this.client(props).find(`/admin/api/services/${props.productId}/backend_usages/${id}.json`);
    if (!found) return {};
    const usage = found.backend_usage;
    return {
      id,
      props: { ...props, path: usage.path, backendId: usage.backend_id, backendUsageId: Number(id) },
    };
  }

  async update(id: string, _olds: any, news: BackendUsageInputs): Promise<pulumi.dynamic.UpdateResult> {
    const client = this.client(news);
    const actual = (await client.get(`/admin/api/services/${news.productId}/backend_usages/${id}.json`)).backend_usage;
    await this.sync(client, news, actual);
    return { outs: { ...news, backendUsageId: Number(id) } };
  }

  async delete(id: string, props: any): Promise<void> {
    await this.client(props).deleteIfExists(`/admin/api/services/${props.productId}/backend_usages/${id}.json`);
  }

  private async sync(client: AdminClient, inputs: BackendUsageInputs, actual: any): Promise<void> {
    if (normalizeUsagePath(inputs.path) === actual.path) return;
    await client.put(`/admin/api/services/${inputs.productId}/backend_usages/${actual.id}.json`, { path: inputs.path });
  }
}

/** The usage list is a bare JSON array of `{backend_usage: {...}}`. */
function listUsages(client: AdminClient, productId: number): Promise<any[]> {
  return client.list(`/admin/api/services/${productId}/backend_usages.json`, undefined, "backend_usage");
}

/** The one instance every resource of this type shares (serialized once). */
export const backendUsageProvider = new BackendUsageProvider();

export interface BackendUsageArgs {
  connection: pulumi.Input<Connection>;
  productId: pulumi.Input<number>;
  backendId: pulumi.Input<number>;
  path: pulumi.Input<string>;
}

export class BackendUsage extends pulumi.dynamic.Resource {
  declare public readonly backendUsageId: pulumi.Output<number>;
  constructor(name: string, args: BackendUsageArgs, opts?: pulumi.CustomResourceOptions) {
    super(backendUsageProvider, name, { ...args, backendUsageId: undefined }, opts, "threescale", "BackendUsage");
  }
}
