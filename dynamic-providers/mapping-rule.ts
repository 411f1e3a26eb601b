/** 3scale mapping rules of a product (`proxy/mapping_rules`) or a backend (`mapping_rules`). */
import * as pulumi from "@pulumi/pulumi";
import { HTTP_METHODS } from "../components/config/schema";
import type { AdminClient, Connection } from "./threescale/client";
import {
  Failure,
  fieldFailures,
  FieldRule,
  inputOwner,
  ownerIdInput,
  OwnerIdInput,
  rulesPath,
  toApi,
} from "./threescale/common";
import { ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";

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

const RULE_FIELDS: Record<string, FieldRule> = {
  httpMethod: { kind: "string", required: true, oneOf: HTTP_METHODS, example: '"POST"' },
  pattern: { kind: "path", required: true, example: '"/v1/chat/completions$"' },
  metricId: { kind: "id", required: true, example: "42 (a metric's or method's metricId)" },
  delta: { kind: "integer", required: true, min: 1, example: "1" },
  last: { kind: "boolean", example: "false" },
  position: { kind: "integer", min: 1, example: "1" },
};

/** Pure validation of a rule's fields; `ownerKey` is the owner's id input (productId or backendId). */
export function mappingRuleFailures(inputs: Partial<MappingRuleInputs>, ownerKey = "productId"): Failure[] {
  return fieldFailures(inputs, {
    [ownerKey]: { kind: "id", required: true, example: `42 (the owner's ${ownerKey})` },
    ...RULE_FIELDS,
  });
}

export class MappingRuleProvider extends ObjectProvider<MappingRuleInputs> {
  protected readonly createOnly: string[];
  protected readonly idOutput = "mappingRuleId";
  protected readonly envelope = "mapping_rule";
  protected readonly fields = {
    httpMethod: "http_method",
    pattern: "pattern",
    metricId: "metric_id",
    delta: "delta",
    last: "last",
    position: "position",
  };
  // Product rules are documented with PATCH, backend rules with PUT.
  protected readonly updateVerb: "put" | "patch";
  private readonly ownerKey: OwnerIdInput;

  constructor(
    private readonly owner: "product" | "backend",
    clientOptions = {},
  ) {
    super(clientOptions);
    this.ownerKey = ownerIdInput(owner);
    this.createOnly = [this.ownerKey];
    this.updateVerb = owner === "product" ? "patch" : "put";
  }

  protected validate(inputs: MappingRuleInputs): Failure[] {
    return mappingRuleFailures(inputs, this.ownerKey);
  }

  protected path(inputs: MappingRuleInputs, item: { id: number | string }): string {
    return `${this.base(inputs)}/${item.id}`;
  }

  /** A rule with the same method and pattern (the API itself accepts duplicates). */
  protected async find(client: AdminClient, inputs: MappingRuleInputs) {
    const rules = await client.list(`${this.base(inputs)}.json`, "mapping_rules", "mapping_rule");
    return rules.find((r) => r.http_method === inputs.httpMethod && r.pattern === inputs.pattern);
  }

  protected async post(client: AdminClient, inputs: MappingRuleInputs) {
    return (await client.post(`${this.base(inputs)}.json`, toApi(inputs, this.fields))).mapping_rule;
  }

  private base(inputs: MappingRuleInputs): string {
    return rulesPath(inputOwner(this.owner, inputs));
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

/** The output every mapping-rule resource has. */
abstract class MappingRuleResource extends pulumi.dynamic.Resource {
  declare public readonly mappingRuleId: pulumi.Output<number>;
  /** Changes whenever create/update wrote to 3scale (see `withAppliedRevision`). */
  declare public readonly appliedRevision: pulumi.Output<string>;
}

export class ProductMappingRule extends MappingRuleResource {
  constructor(name: string, args: ProductMappingRuleArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      productRuleProvider,
      name,
      { ...args, mappingRuleId: undefined, appliedRevision: undefined },
      opts,
      "threescale",
      "ProductMappingRule",
    );
  }
}

export class BackendMappingRule extends MappingRuleResource {
  constructor(name: string, args: BackendMappingRuleArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      backendRuleProvider,
      name,
      { ...args, mappingRuleId: undefined, appliedRevision: undefined },
      opts,
      "threescale",
      "BackendMappingRule",
    );
  }
}
