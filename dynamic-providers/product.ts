/** 3scale Product (`/admin/api/services`): the API consumers subscribe to, one per served model. */
import * as pulumi from "@pulumi/pulumi";
import { type AdminClient, type Connection, ThreescaleApiError } from "./threescale/client";
import { listProducts, productPath, productRulesPath, PRODUCTS_PATH } from "./threescale/catalog";
import { failure, Failure, fieldFailures } from "./threescale/checks";
import { toApi } from "./threescale/fields";
import { known } from "./threescale/unknown";
import { ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";
import { DEPLOYMENT_OPTIONS } from "./threescale/vocabulary";
import { ThreescaleResource } from "./threescale/resource";

export interface ProductInputs extends ConnectionInputs {
  systemName: string;
  name: string;
  description?: string;
  deploymentOption?: string;
  backendVersion?: string;
  /** Delete the `GET /` → hits rule 3scale seeds into every new product (default true). */
  removeDefaultMappingRule?: boolean;
}

export class ProductProvider extends ObjectProvider<ProductInputs> {
  protected readonly createOnly = ["systemName"];
  protected readonly keyIsUnique = true;
  // porta services_controller.rb L45-50: marked deleted, destroyed later by DeleteObjectHierarchyWorker.
  protected readonly deletedAsynchronously = true;
  protected readonly idOutput = "productId";
  protected readonly envelope = "service";
  protected readonly fields = {
    name: "name",
    description: "description",
    deploymentOption: "deployment_option",
    backendVersion: "backend_version",
  };

  protected validate(inputs: ProductInputs): Failure[] {
    const failures = fieldFailures(inputs, {
      systemName: { kind: "systemName", required: true, example: '"llama_3_8b"' },
      name: { kind: "string", required: true, example: '"Llama 3 8B"' },
      description: { kind: "text", example: '"Chat model"' },
      backendVersion: {
        kind: "string",
        oneOf: ["1", "2", "oidc"],
        example: '"1" (user key; "2" = app id + key)',
      },
      removeDefaultMappingRule: { kind: "boolean", example: "true" },
    });
    const option = inputs.deploymentOption;
    if (known(option) && !(DEPLOYMENT_OPTIONS as readonly string[]).includes(String(option))) {
      failures.push(
        failure(
          "deploymentOption",
          `is not included in the list (3scale's deployment options: ${DEPLOYMENT_OPTIONS.join(", ")})`,
          '"hosted"',
          option,
        ),
      );
    }
    return failures;
  }

  protected path(_inputs: ProductInputs, item: { id: number | string }): string {
    return productPath(item.id);
  }

  protected async find(client: AdminClient, inputs: ProductInputs) {
    return (await listProducts(client)).find((s) => s.system_name === inputs.systemName);
  }

  protected async post(client: AdminClient, inputs: ProductInputs) {
    const body = { system_name: inputs.systemName, ...toApi(inputs, this.fields) };
    return (await client.post(`${PRODUCTS_PATH}.json`, body)).service;
  }

  protected outputs(inputs: Record<string, any>, actual: { id: number }, olds?: Record<string, any>) {
    const hitsMetricId = inputs.hitsMetricId ?? olds?.hitsMetricId;
    return { ...super.outputs(inputs, actual), ...(hitsMetricId === undefined ? {} : { hitsMetricId }) };
  }

  async create(inputs: ProductInputs): Promise<pulumi.dynamic.CreateResult> {
    const created = await super.create(inputs);
    const client = this.client(inputs);
    const productId = Number(created.id);
    const hitsMetricId = await hitsMetric(client, productId);
    if (inputs.removeDefaultMappingRule !== false) await removeSeededRule(client, productId, hitsMetricId);
    await publishDefaultServicePlan(client, productId);
    return { id: created.id, outs: { ...created.outs, hitsMetricId } };
  }

  async update(id: string, olds: any, news: ProductInputs): Promise<pulumi.dynamic.UpdateResult> {
    const updated = await super.update(id, olds, news);
    if (updated.outs?.hitsMetricId !== undefined) return updated;
    return { outs: { ...updated.outs, hitsMetricId: await hitsMetric(this.client(news), Number(id)) } };
  }

  /**
   * Done once 3scale accepted it: the product is gone from the API at once, its system_name stays taken until the
   * background worker ran, which a namesake's create waits for (see `deletedAsynchronously`).
   */
  async delete(id: string, props: ProductInputs): Promise<void> {
    try {
      await super.delete(id, props);
    } catch (err) {
      // 3scale keeps a tenant's last product: it stays (and goes with the tenant); an `up` that wants it adopts it.
      if (isLastProductRefusal(err)) return;
      throw err;
    }
  }
}

/** 3scale's answer to deleting a tenant's last product: its state machine refuses the `mark_as_deleted` event. */
function isLastProductRefusal(err: unknown): boolean {
  return err instanceof ThreescaleApiError && err.status === 422 && /mark_as_deleted/.test(JSON.stringify(err.body));
}

/** Id of the product's `hits` metric (every product has one). */
async function hitsMetric(client: AdminClient, productId: number): Promise<number> {
  const metrics = await client.list(`${productPath(productId)}/metrics.json`, "metrics", "metric");
  const hits = metrics.find((m) => m.system_name === "hits");
  if (!hits) throw new Error(`3scale product ${productId} has no "hits" metric`);
  return hits.id;
}

/** Deletes the `GET /` → hits rule 3scale seeds, which would otherwise meter every path as a hit. */
async function removeSeededRule(client: AdminClient, productId: number, hitsMetricId: number): Promise<void> {
  const base = productRulesPath(productId);
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
  const plans = await client.list(`${productPath(productId)}/service_plans.json`, "plans", "service_plan");
  const plan = plans.find((p) => p.default) ?? plans.find((p) => p.name === "Default") ?? plans[0];
  if (!plan) return;
  const base = `${productPath(productId)}/service_plans/${plan.id}`;
  if (plan.state !== "published") await client.put(`${base}.json`, { state_event: "publish" });
  if (plan.default !== true) await client.put(`${base}/default.json`);
}

/** The one instance every resource of this type shares (registry.ts; the state holds a reference to it). */
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

export class Product extends ThreescaleResource {
  declare public readonly productId: pulumi.Output<number>;
  declare public readonly hitsMetricId: pulumi.Output<number>;
  declare public readonly systemName: pulumi.Output<string>;
  /** Changes whenever create/update wrote to 3scale (see `withAppliedRevision`). */
  declare public readonly appliedRevision: pulumi.Output<string>;

  constructor(name: string, args: ProductArgs, opts?: pulumi.CustomResourceOptions) {
    super(productProvider, "Product", name, args, ["productId", "hitsMetricId", "appliedRevision"], opts);
  }
}
