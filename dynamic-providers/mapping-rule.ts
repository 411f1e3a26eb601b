/** 3scale mapping rules of a product (`proxy/mapping_rules`) or a backend (`mapping_rules`). */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { differingBody, idFailures, refreshed } from "./threescale/common";
import { ConnectionInputs, Failure, ThreescaleProvider } from "./threescale/provider-kit";

export const HTTP_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

export interface MappingRuleInputs extends ConnectionInputs {
  productId?: number;
  backendId?: number;
  httpMethod: string;
  pattern: string;
  metricId: number;
  delta: number;
  last?: boolean;
  position?: number;
}

const UPDATABLE = {
  httpMethod: "http_method",
  pattern: "pattern",
  metricId: "metric_id",
  delta: "delta",
  last: "last",
  position: "position",
};

/** Pure validation of a rule's fields (known values only). */
export function mappingRuleFailures(inputs: Partial<MappingRuleInputs>): Failure[] {
  const failures: Failure[] = [];
  if (inputs.httpMethod !== undefined && !HTTP_METHODS.includes(inputs.httpMethod)) {
    failures.push({
      property: "httpMethod",
      reason: `must be one of ${HTTP_METHODS.join(", ")}, e.g. "POST"; got ${JSON.stringify(inputs.httpMethod)}`,
    });
  }
  if (inputs.pattern !== undefined) {
    const p = inputs.pattern;
    if (typeof p !== "string" || !p.startsWith("/") || p.length > 255 || /\s/.test(p)) {
      failures.push({
        property: "pattern",
        reason: `must be a path starting with "/" (no spaces, at most 255 chars), e.g. "/v1/chat/completions$"; got ${JSON.stringify(p)}`,
      });
    }
  }
  if (inputs.delta !== undefined && (!Number.isInteger(inputs.delta) || inputs.delta <= 0)) {
    failures.push({ property: "delta", reason: `must be an integer > 0, e.g. 1; got ${JSON.stringify(inputs.delta)}` });
  }
  if (inputs.position !== undefined && (!Number.isInteger(inputs.position) || inputs.position < 1)) {
    failures.push({
      property: "position",
      reason: `must be an integer >= 1, e.g. 1; got ${JSON.stringify(inputs.position)}`,
    });
  }
  if (inputs.last !== undefined && typeof inputs.last !== "boolean") {
    failures.push({ property: "last", reason: `must be a boolean, e.g. false; got ${JSON.stringify(inputs.last)}` });
  }
  return [...failures, ...idFailures(inputs, ["productId", "backendId", "metricId"])];
}

export class MappingRuleProvider extends ThreescaleProvider<MappingRuleInputs> {
  protected readonly createOnly: string[];
  private readonly ownerKey: "productId" | "backendId";

  constructor(
    private readonly owner: "product" | "backend",
    clientOptions = {},
  ) {
    super(clientOptions);
    this.ownerKey = owner === "product" ? "productId" : "backendId";
    this.createOnly = [this.ownerKey];
  }

  protected validate(inputs: MappingRuleInputs): Failure[] {
    return mappingRuleFailures(inputs);
  }

  async create(inputs: MappingRuleInputs): Promise<pulumi.dynamic.CreateResult> {
    const client = this.client(inputs);
    const base = this.base(inputs);
    const sameKey = (r: any) => r.http_method === inputs.httpMethod && r.pattern === inputs.pattern;
    let rule = (await this.list(client, base)).find(sameKey);
    if (rule) {
      await this.sync(client, base, inputs, rule);
    } else {
      rule = (await client.post(`${base}.json`, differingBody(inputs as any, undefined, UPDATABLE))).mapping_rule;
      // The API accepts duplicates, so a POST retried after a lost response can leave a twin: keep only ours.
      for (const twin of (await this.list(client, base)).filter((r) => sameKey(r) && r.id !== rule.id)) {
        await client.deleteIfExists(`${base}/${twin.id}.json`);
      }
    }
    return { id: String(rule.id), outs: { ...inputs, mappingRuleId: rule.id } };
  }

  async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const found = await this.client(props).find(`${this.base(props)}/${id}.json`);
    if (!found) return {};
    return { id, props: { ...refreshed(props, found.mapping_rule, UPDATABLE), mappingRuleId: Number(id) } };
  }

  async update(id: string, _olds: any, news: MappingRuleInputs): Promise<pulumi.dynamic.UpdateResult> {
    const client = this.client(news);
    const base = this.base(news);
    const actual = (await client.get(`${base}/${id}.json`)).mapping_rule;
    await this.sync(client, base, news, actual);
    return { outs: { ...news, mappingRuleId: Number(id) } };
  }

  async delete(id: string, props: any): Promise<void> {
    await this.client(props).deleteIfExists(`${this.base(props)}/${id}.json`);
  }

  private base(inputs: MappingRuleInputs): string {
    return this.owner === "product"
      ? `/admin/api/services/${inputs.productId}/proxy/mapping_rules`
      : `/admin/api/backend_apis/${inputs.backendId}/mapping_rules`;
  }

  private list(client: AdminClient, base: string): Promise<any[]> {
    return client.list(`${base}.json`, "mapping_rules", "mapping_rule");
  }

  private async sync(client: AdminClient, base: string, inputs: MappingRuleInputs, actual: any): Promise<void> {
    const body = differingBody(inputs as any, actual, UPDATABLE);
    if (Object.keys(body).length === 0) return;
    // Product rules are documented with PATCH, backend rules with PUT.
    const path = `${base}/${actual.id}.json`;
    await (this.owner === "product" ? client.patch(path, body) : client.put(path, body));
  }
}

export const productRuleProvider = new MappingRuleProvider("product");
export const backendRuleProvider = new MappingRuleProvider("backend");

interface CommonArgs {
  connection: pulumi.Input<Connection>;
  httpMethod: pulumi.Input<string>;
  pattern: pulumi.Input<string>;
  metricId: pulumi.Input<number>;
  delta: pulumi.Input<number>;
  last?: pulumi.Input<boolean>;
  position?: pulumi.Input<number>;
}
export interface ProductMappingRuleArgs extends CommonArgs {
  productId: pulumi.Input<number>;
}
export interface BackendMappingRuleArgs extends CommonArgs {
  backendId: pulumi.Input<number>;
}

export class ProductMappingRule extends pulumi.dynamic.Resource {
  declare public readonly mappingRuleId: pulumi.Output<number>;
  constructor(name: string, args: ProductMappingRuleArgs, opts?: pulumi.CustomResourceOptions) {
    super(productRuleProvider, name, { ...args, mappingRuleId: undefined }, opts, "threescale", "ProductMappingRule");
  }
}

export class BackendMappingRule extends pulumi.dynamic.Resource {
  declare public readonly mappingRuleId: pulumi.Output<number>;
  constructor(name: string, args: BackendMappingRuleArgs, opts?: pulumi.CustomResourceOptions) {
    super(backendRuleProvider, name, { ...args, mappingRuleId: undefined }, opts, "threescale", "BackendMappingRule");
  }
}
