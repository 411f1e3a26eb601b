/** 3scale Product (`/admin/api/services`): the API consumers subscribe to, one per served model. */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import {
  differingBody,
  findOrCreate,
  refreshed,
  requiredTextFailures,
  systemNameFailures,
  waitUntilGone,
} from "./threescale/common";
import { ConnectionInputs, Failure, ThreescaleProvider } from "./threescale/provider-kit";

export interface ProductInputs extends ConnectionInputs {
  systemName: string;
  name: string;
  description?: string;
  deploymentOption?: string;
  backendVersion?: string;
  /** Delete the `GET /` → hits rule 3scale seeds into every new product (default true). */
  removeDefaultMappingRule?: boolean;
}

const UPDATABLE = {
  name: "name",
  description: "description",
  deploymentOption: "deployment_option",
  backendVersion: "backend_version",
};
const DEPLOYMENT_OPTIONS = /^(hosted|self_managed|service_mesh_istio|plugin_\w+)$/;
const BACKEND_VERSIONS = ["1", "2", "oidc"];

export class ProductProvider extends ThreescaleProvider<ProductInputs> {
  protected readonly createOnly = ["systemName"];

  protected validate(inputs: ProductInputs): Failure[] {
    const failures: Failure[] = [
      ...(inputs.systemName !== undefined ? systemNameFailures(inputs.systemName) : []),
      ...(inputs.name !== undefined ? requiredTextFailures(inputs, ["name"], "Llama 3 8B") : []),
    ];
    if (inputs.deploymentOption !== undefined && !DEPLOYMENT_OPTIONS.test(String(inputs.deploymentOption))) {
      failures.push({
        property: "deploymentOption",
        reason: `must be hosted, self_managed, service_mesh_istio or plugin_<lang>, e.g. "hosted"; got ${JSON.stringify(inputs.deploymentOption)}`,
      });
    }
    if (inputs.backendVersion !== undefined && !BACKEND_VERSIONS.includes(String(inputs.backendVersion))) {
      failures.push({
        property: "backendVersion",
        reason: `must be "1" (user key), "2" (app id + key) or "oidc", e.g. "1"; got ${JSON.stringify(inputs.backendVersion)}`,
      });
    }
    return failures;
  }

  async create(inputs: ProductInputs): Promise<pulumi.dynamic.CreateResult> {
    const client = this.client(inputs);
    const { item, adopted } = await findOrCreate(
      async () =>
        (await client.list("/admin/api/services.json", "services", "service")).find(
          (s) => s.system_name === inputs.systemName,
        ),
      async () =>
        (
          await client.post("/admin/api/services.json", {
            system_name: inputs.systemName,
            ...differingBody(inputs as any, undefined, UPDATABLE),
          })
        ).service,
    );
    if (adopted) await this.sync(client, inputs, item);
    const hitsMetricId = await hitsMetric(client, item.id);
    if (inputs.removeDefaultMappingRule !== false) await removeSeededRule(client, item.id, hitsMetricId);
    await publishDefaultServicePlan(client, item.id);
    return { id: String(item.id), outs: { ...inputs, productId: item.id, hitsMetricId } };
  }

  async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const found = await this.client(props).find(`/admin/api/services/${id}.json`);
    if (!found) return {};
    return { id, props: { ...refreshed(props, found.service, UPDATABLE), productId: Number(id) } };
  }

  async update(id: string, olds: any, news: ProductInputs): Promise<pulumi.dynamic.UpdateResult> {
    const client = this.client(news);
    await this.sync(client, news, (await client.get(`/admin/api/services/${id}.json`)).service);
    const hitsMetricId = olds.hitsMetricId ?? (await hitsMetric(client, Number(id)));
    return { outs: { ...news, productId: Number(id), hitsMetricId } };
  }

  async delete(id: string, props: any): Promise<void> {
    const client = this.client(props);
    await client.deleteIfExists(`/admin/api/services/${id}.json`);
    // Deletion is asynchronous and keeps the system_name taken: wait so a replacement can reuse it.
    await waitUntilGone(client, "service", Number(id));
  }

  private async sync(client: AdminClient, inputs: ProductInputs, actual: Record<string, unknown>): Promise<void> {
    const body = differingBody(inputs as any, actual, UPDATABLE);
    if (Object.keys(body).length > 0) await client.put(`/admin/api/services/${actual.id}.json`, body);
  }
}

/** Id of the product's `hits` metric (every product has one). */
async function hitsMetric(client: AdminClient, productId: number): Promise<number> {
  const metrics = await client.list(`/admin/api/services/${productId}/metrics.json`, "metrics", "metric");
  const hits = metrics.find((m) => m.system_name === "hits");
  if (!hits) throw new Error(`3scale product ${productId} has no "hits" metric`);
  return hits.id;
}

/** Deletes the `GET /` → hits rule 3scale seeds, which would otherwise meter every path as a hit. */
async function removeSeededRule(client: AdminClient, productId: number, hitsMetricId: number): Promise<void> {
  const base = `/admin/api/services/${productId}/proxy/mapping_rules`;
  const rules = await client.list(`${base}.json`, "mapping_rules", "mapping_rule");
  for (const rule of rules) {
    if (rule.http_method === "GET" && rule.pattern === "/" && rule.metric_id === hitsMetricId && rule.delta === 1) {
      await client.deleteIfExists(`${base}/${rule.id}.json`);
    }
  }
}

/**
 * Makes the product's seeded service plan published and default: developers are subscribed to the default service
 * plan when they get an application, and signup needs it published.
 */
async function publishDefaultServicePlan(client: AdminClient, productId: number): Promise<void> {
  const plans = await client.list(`/admin/api/services/${productId}/service_plans.json`, "plans", "service_plan");
  const plan = plans.find((p) => p.default) ?? plans.find((p) => p.name === "Default") ?? plans[0];
  if (!plan) return;
  const base = `/admin/api/services/${productId}/service_plans/${plan.id}`;
  if (plan.state !== "published") await client.put(`${base}.json`, { state_event: "publish" });
  if (plan.default !== true) await client.put(`${base}/default.json`);
}

/** The one instance every resource of this type shares (serialized once). */
export const productProvider = new ProductProvider();

export interface ProductArgs {
  connection: pulumi.Input<Connection>;
  systemName: pulumi.Input<string>;
  name: pulumi.Input<string>;
  description?: pulumi.Input<string>;
  deploymentOption?: pulumi.Input<string>;
  backendVersion?: pulumi.Input<string>;
  removeDefaultMappingRule?: pulumi.Input<boolean>;
}

export class Product extends pulumi.dynamic.Resource {
  declare public readonly productId: pulumi.Output<number>;
  declare public readonly hitsMetricId: pulumi.Output<number>;
  declare public readonly systemName: pulumi.Output<string>;

  constructor(name: string, args: ProductArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      productProvider,
      name,
      { ...args, productId: undefined, hitsMetricId: undefined },
      opts,
      "threescale",
      "Product",
    );
  }
}
