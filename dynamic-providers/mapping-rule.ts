/** 3scale mapping rules of a product (`services/{id}/proxy/mapping_rules`). */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { productRulesPath } from "./threescale/catalog";
import { Failure, fieldFailures, FieldRule } from "./threescale/checks";
import { toApi } from "./threescale/fields";
import { ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";
import { failure } from "./threescale/checks";
import { known } from "./threescale/unknown";
import { HTTP_METHODS, isMappingPattern, mappingPatternProblems } from "./threescale/vocabulary";
import { ThreescaleResource } from "./threescale/resource";

export interface MappingRuleInputs extends ConnectionInputs {
  productId: number;
  httpMethod: string;
  pattern: string;
  metricId: number;
  delta: number;
  last?: boolean;
  position?: number;
}

const RULE_FIELDS: Record<string, FieldRule> = {
  productId: { kind: "id", required: true, example: "42 (the owner's productId)" },
  httpMethod: { kind: "string", required: true, oneOf: HTTP_METHODS, example: '"POST" (uppercase)' },
  pattern: { kind: "path", required: true, example: '"/v1/chat/completions$"' },
  metricId: { kind: "id", required: true, example: "42 (a metric's or method's metricId)" },
  delta: { kind: "integer", required: true, min: 1, example: "1" },
  last: { kind: "boolean", example: "false" },
  position: { kind: "integer", min: 1, example: "1" },
};

/**
 * Pure validation of a rule's fields, with 3scale's own rules for the pattern (porta proxy_rule.rb L29-88, L147-164)
 * and methods (L27, L89: uppercase only, "is not included in the list").
 */
export function mappingRuleFailures(inputs: Partial<MappingRuleInputs>): Failure[] {
  const failures = fieldFailures(inputs, RULE_FIELDS);
  const pattern = inputs.pattern;
  if (known(pattern) && typeof pattern === "string" && !failures.some((f) => f.property === "pattern")) {
    const example = '"/v1/chat/completions$" or "/v1/models/{model}"';
    if (!isMappingPattern(pattern))
      failures.push(
        failure(
          "pattern",
          "is invalid (3scale's pattern grammar: /segment/... of letters, digits, -_.!~*'():@&=+, %XX and {variable}, " +
            "an optional final $, an optional ?query)",
          example,
          pattern,
        ),
      );
    for (const problem of mappingPatternProblems(pattern)) failures.push(failure("pattern", problem, example, pattern));
  }
  return failures;
}

export class MappingRuleProvider extends ObjectProvider<MappingRuleInputs> {
  protected readonly createOnly = ["productId"];
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
  // Product rules are documented with PATCH.
  protected readonly updateVerb = "patch";

  protected validate(inputs: MappingRuleInputs): Failure[] {
    return mappingRuleFailures(inputs);
  }

  protected path(inputs: MappingRuleInputs, item: { id: number | string }): string {
    return `${productRulesPath(inputs.productId)}/${item.id}`;
  }

  /** A rule with the same method and pattern (the API itself accepts duplicates). */
  protected async find(client: AdminClient, inputs: MappingRuleInputs) {
    const rules = await client.list(`${productRulesPath(inputs.productId)}.json`, "mapping_rules", "mapping_rule");
    return rules.find((r) => r.http_method === inputs.httpMethod && r.pattern === inputs.pattern);
  }

  protected async post(client: AdminClient, inputs: MappingRuleInputs) {
    return (await client.post(`${productRulesPath(inputs.productId)}.json`, toApi(inputs, this.fields))).mapping_rule;
  }
}

/** The one instance every resource of this type shares (registry.ts; the state holds a reference to it). */
export const productRuleProvider = new MappingRuleProvider();

export interface ProductMappingRuleArgs {
  connection: pulumi.Input<Connection>;
  productId: pulumi.Input<number>;
  httpMethod: pulumi.Input<string>;
  pattern: pulumi.Input<string>;
  metricId: pulumi.Input<number>;
  delta: pulumi.Input<number>;
  last?: pulumi.Input<boolean>;
  position?: pulumi.Input<number>;
}

export class ProductMappingRule extends ThreescaleResource {
  declare public readonly mappingRuleId: pulumi.Output<number>;
  /** Changes whenever create/update wrote to 3scale (see `withAppliedRevision`). */
  declare public readonly appliedRevision: pulumi.Output<string>;

  constructor(name: string, args: ProductMappingRuleArgs, opts?: pulumi.CustomResourceOptions) {
    super(productRuleProvider, "ProductMappingRule", name, args, ["mappingRuleId", "appliedRevision"], opts);
  }
}
