/**
 * 3scale product policy chain (`services/{id}/proxy/policies.json`). The chain is ordered; it is compared as
 * parsed data after the normalisation 3scale applies (builtin apicast appended when absent, `enabled` defaulting
 * to true here because 3scale treats a missing flag as disabled). A PUT deploys to staging, so it is only sent when
 * the chain really differs.
 */
import * as pulumi from "@pulumi/pulumi";
import { type AdminClient, type Connection, unlessGone } from "./threescale/client";
import { withAppliedRevision } from "./threescale/applied-revision";
import { productPath } from "./threescale/catalog";
import { failure, Failure, fieldFailures, FieldRule } from "./threescale/checks";
import { sameValue } from "./threescale/equality";
import { isUnknown, known, UNKNOWN } from "./threescale/unknown";
import { ConnectionInputs, ThreescaleProvider } from "./threescale/provider-kit";
import { BUILTIN_POLICY_SCHEMAS, JsonSchema, schemaProblems } from "./threescale/policy-schema";
import { ThreescaleResource } from "./threescale/resource";

export interface PolicyEntry {
  name: string;
  version: string;
  configuration: Record<string, unknown>;
  enabled?: boolean;
}

export interface PolicyChainInputs extends ConnectionInputs {
  productId: number;
  policies: PolicyEntry[];
  /** Configuration schemas of custom policies by name (e.g. llm_metrics from its apicast-policy.json). */
  schemas?: Record<string, JsonSchema>;
}

const APICAST: Required<PolicyEntry> = { name: "apicast", version: "builtin", configuration: {}, enabled: true };

/** The chain as 3scale will store it: only the kept keys, `enabled` explicit, apicast appended when absent. */
export function normalizeChain(policies: PolicyEntry[]): Required<PolicyEntry>[] {
  const chain = policies.map((p) => ({
    name: p.name,
    version: p.version,
    configuration: p.configuration ?? {},
    enabled: p.enabled ?? true,
  }));
  return chain.some((p) => p.name === "apicast") ? chain : [...chain, { ...APICAST }];
}

/** The chain read from 3scale, where an entry without `enabled` is inactive. */
export function chainFromApi(policies: Array<Partial<PolicyEntry>>): Required<PolicyEntry>[] {
  return policies.map((p) => ({
    name: String(p.name),
    version: String(p.version),
    configuration: p.configuration ?? {},
    enabled: p.enabled === true,
  }));
}

const ENTRY_RULES: Record<string, FieldRule> = {
  name: { kind: "string", required: true, example: '"cors"' },
  version: { kind: "string", required: true, example: '"builtin"' },
  enabled: { kind: "boolean", example: "true" },
};

export function policyChainFailures(inputs: Partial<PolicyChainInputs>): Failure[] {
  const failures = fieldFailures(inputs, {
    productId: { kind: "id", required: true, example: "42 (a Product's productId)" },
  });
  const policies: unknown = inputs.policies;
  if (policies === UNKNOWN) return failures;
  if (!Array.isArray(policies)) {
    const problem = policies === undefined ? "is required (may be empty: [])" : "must be a list";
    return [...failures, failure("policies", problem, '[{"name":"cors","version":"builtin","configuration":{}}]')];
  }
  // Custom schemas not known yet (preview) are checked once they are.
  const schemas: Record<string, JsonSchema> = {
    ...BUILTIN_POLICY_SCHEMAS,
    ...(known(inputs.schemas) ? inputs.schemas : {}),
  };
  policies.forEach((policy: PolicyEntry | typeof UNKNOWN, i) => {
    const at = `policies[${i}]`;
    if (policy === UNKNOWN || typeof policy !== "object") {
      if (policy !== UNKNOWN)
        failures.push(failure(at, "must be a policy entry", '{"name":"cors","version":"builtin","configuration":{}}'));
      return;
    }
    failures.push(...fieldFailures(policy ?? {}, ENTRY_RULES, `${at}.`));
    const configuration = policy?.configuration;
    if (isUnknown(configuration)) return;
    if (configuration === null || typeof configuration !== "object" || Array.isArray(configuration)) {
      failures.push(failure(`${at}.configuration`, "must be an object ({} allowed)", "{}", configuration ?? null));
      return;
    }
    const schema = known(policy.name) ? schemas[policy.name] : undefined;
    for (const problem of schema ? schemaProblems(configuration, schema) : []) {
      failures.push({ property: `${at}.configuration`, reason: `${policy.name} policy: ${problem}` });
    }
  });
  return failures;
}

export class PolicyChainProvider extends ThreescaleProvider<PolicyChainInputs> {
  protected readonly createOnly = ["productId"];

  protected validate(inputs: PolicyChainInputs): Failure[] {
    return policyChainFailures(inputs);
  }

  protected normalize(inputs: Record<string, any>): Record<string, any> {
    const { schemas: _schemas, ...rest } = inputs; // schemas only validate; they are not part of the chain
    return Array.isArray(rest.policies) && !isUnknown(rest.policies)
      ? { ...rest, policies: normalizeChain(rest.policies) }
      : rest;
  }

  async create(inputs: PolicyChainInputs): Promise<pulumi.dynamic.CreateResult> {
    return { id: String(inputs.productId), outs: await this.apply(inputs) };
  }

  async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const chain = await unlessGone(() => this.currentChain(this.client(props), props.productId));
    return chain ? { id, props: { ...props, policies: chain } } : {};
  }

  async update(_id: string, olds: any, news: PolicyChainInputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await this.apply(news, olds) };
  }

  /** Resets the chain to the builtin apicast policy alone (404: the product is gone, nothing to reset). */
  async delete(_id: string, props: any): Promise<void> {
    const client = this.client(props);
    const chain = await unlessGone(() => this.currentChain(client, props.productId));
    if (chain && !sameValue(chain, [APICAST]))
      await client.put(chainPath(props.productId), { policies_config: [APICAST] });
  }

  /** Writes the chain when it differs; returns the outputs. */
  private async apply(inputs: PolicyChainInputs, olds?: any): Promise<Record<string, any>> {
    const client = this.client(inputs);
    const desired = normalizeChain(inputs.policies);
    const actual = await this.currentChain(client, inputs.productId);
    if (!sameValue(desired, actual)) await client.put(chainPath(inputs.productId), { policies_config: desired });
    return withAppliedRevision({ ...inputs }, client, olds);
  }

  private async currentChain(client: AdminClient, productId: number): Promise<Required<PolicyEntry>[]> {
    return chainFromApi((await client.get(chainPath(productId))).policies_config ?? []);
  }
}

const chainPath = (productId: number) => `${productPath(productId)}/proxy/policies.json`;

/** The one instance every resource of this type shares (registry.ts; the state holds a reference to it). */
export const policyChainProvider = new PolicyChainProvider();

export interface PolicyChainArgs {
  connection: pulumi.Input<Connection>;
  productId: pulumi.Input<number>;
  policies: pulumi.Input<pulumi.Input<PolicyEntry>[]>;
  schemas?: pulumi.Input<Record<string, JsonSchema>>;
}

export class PolicyChain extends ThreescaleResource {
  declare public readonly policies: pulumi.Output<PolicyEntry[]>;
  /** Changes whenever this resource wrote the chain (see `withAppliedRevision`). */
  declare public readonly appliedRevision: pulumi.Output<string>;

  constructor(name: string, args: PolicyChainArgs, opts?: pulumi.CustomResourceOptions) {
    super(policyChainProvider, "PolicyChain", name, args, ["appliedRevision"], opts);
  }
}
