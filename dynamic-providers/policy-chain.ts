/**
 * 3scale product policy chain (`services/{id}/proxy/policies.json`). The chain is ordered; it is compared as
 * parsed data after the normalisation 3scale applies (builtin apicast appended when absent, `enabled` defaulting
 * to true here because 3scale treats a missing flag as disabled). A PUT deploys to staging, so it is only sent when
 * the chain really differs.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { idFailures } from "./threescale/common";
import { ConnectionInputs, Failure, isUnknown, sameValue, ThreescaleProvider } from "./threescale/provider-kit";
import { BUILTIN_POLICY_SCHEMAS, JsonSchema, schemaProblems } from "./threescale/policy-schema";

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

export function policyChainFailures(inputs: Partial<PolicyChainInputs>): Failure[] {
  const failures = idFailures(inputs, ["productId"]);
  if (inputs.policies === undefined) return failures;
  if (!Array.isArray(inputs.policies)) {
    return [
      ...failures,
      { property: "policies", reason: 'must be a list, e.g. [{"name":"cors","version":"builtin","configuration":{}}]' },
    ];
  }
  const schemas: Record<string, JsonSchema> = { ...BUILTIN_POLICY_SCHEMAS, ...(inputs.schemas ?? {}) };
  inputs.policies.forEach((policy, i) => {
    const at = `policies[${i}]`;
    if (isUnknown(policy)) return;
    for (const field of ["name", "version"] as const) {
      if (typeof policy?.[field] !== "string" || policy[field] === "") {
        failures.push({
          property: `${at}.${field}`,
          reason: `must be a non-empty string, e.g. "builtin"; got ${JSON.stringify(policy?.[field])}`,
        });
      }
    }
    const configuration = policy?.configuration;
    if (configuration === null || typeof configuration !== "object" || Array.isArray(configuration)) {
      failures.push({
        property: `${at}.configuration`,
        reason: `must be an object ({} allowed); got ${JSON.stringify(configuration)}`,
      });
      return;
    }
    if (policy.enabled !== undefined && typeof policy.enabled !== "boolean") {
      failures.push({
        property: `${at}.enabled`,
        reason: `must be a boolean, e.g. true; got ${JSON.stringify(policy.enabled)}`,
      });
    }
    const schema = schemas[policy.name];
    if (schema) {
      for (const problem of schemaProblems(configuration, schema)) {
        failures.push({ property: `${at}.configuration`, reason: `${policy.name} policy: ${problem}` });
      }
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
    await this.apply(inputs);
    return { id: String(inputs.productId), outs: { ...inputs } };
  }

  async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const found = await this.client(props).find(`/admin/api/services/${props.productId}/proxy/policies.json`);
    if (!found) return {};
    return { id, props: { ...props, policies: chainFromApi(found.policies_config ?? []) } };
  }

  async update(_id: string, _olds: any, news: PolicyChainInputs): Promise<pulumi.dynamic.UpdateResult> {
    await this.apply(news);
    return { outs: { ...news } };
  }

  /** Resets the chain to the builtin apicast policy alone (404: the product is gone, nothing to reset). */
  async delete(_id: string, props: any): Promise<void> {
    const client = this.client(props);
    const path = `/admin/api/services/${props.productId}/proxy/policies.json`;
    const found = await client.find(path);
    if (found && !sameValue(chainFromApi(found.policies_config ?? []), [APICAST])) {
      await client.put(path, { policies_config: [APICAST] });
    }
  }

  private async apply(inputs: PolicyChainInputs): Promise<void> {
    const client: AdminClient = this.client(inputs);
    const path = `/admin/api/services/${inputs.productId}/proxy/policies.json`;
    const desired = normalizeChain(inputs.policies);
    const actual = chainFromApi((await client.get(path)).policies_config ?? []);
    if (!sameValue(desired, actual)) await client.put(path, { policies_config: desired });
  }
}

/** The one instance every resource of this type shares (serialized once). */
export const policyChainProvider = new PolicyChainProvider();

export interface PolicyChainArgs {
  connection: pulumi.Input<Connection>;
  productId: pulumi.Input<number>;
  policies: pulumi.Input<pulumi.Input<PolicyEntry>[]>;
  schemas?: pulumi.Input<Record<string, JsonSchema>>;
}

export class PolicyChain extends pulumi.dynamic.Resource {
  declare public readonly policies: pulumi.Output<PolicyEntry[]>;

  constructor(name: string, args: PolicyChainArgs, opts?: pulumi.CustomResourceOptions) {
    super(policyChainProvider, name, { ...args }, opts, "threescale", "PolicyChain");
  }
}
