/**
 * 3scale product integration settings (`services/{id}/proxy.json`): credential location and gateway error
 * responses. Only the fields given are managed; a PATCH carries only the differing ones, because every saving
 * PATCH also deploys a new staging configuration.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { differingBody, idFailures, refreshed, snakeCase } from "./threescale/common";
import { ConnectionInputs, Failure, ThreescaleProvider } from "./threescale/provider-kit";

export const CREDENTIALS_LOCATIONS = ["headers", "query", "authorization"];

const ERROR_CASES = ["AuthFailed", "AuthMissing", "NoMatch", "LimitsExceeded"];
const STATUS_FIELDS = ERROR_CASES.map((c) => `errorStatus${c}`);
/** Every managed input (camelCase) → its API field. */
const FIELDS: Record<string, string> = Object.fromEntries(
  [
    "credentialsLocation",
    "authUserKey",
    ...STATUS_FIELDS,
    ...ERROR_CASES.map((c) => `error${c}`),
    ...ERROR_CASES.map((c) => `errorHeaders${c}`),
  ].map((input) => [input, snakeCase(input)]),
);

export interface ProxySettingsInputs extends ConnectionInputs {
  productId: number;
  credentialsLocation: "headers" | "query" | "authorization";
  authUserKey?: string;
  errorStatusAuthFailed?: number;
  errorAuthFailed?: string;
  errorHeadersAuthFailed?: string;
  errorStatusAuthMissing?: number;
  errorAuthMissing?: string;
  errorHeadersAuthMissing?: string;
  errorStatusNoMatch?: number;
  errorNoMatch?: string;
  errorHeadersNoMatch?: string;
  errorStatusLimitsExceeded?: number;
  errorLimitsExceeded?: string;
  errorHeadersLimitsExceeded?: string;
}

export function proxySettingsFailures(inputs: Partial<ProxySettingsInputs>): Failure[] {
  const failures = idFailures(inputs, ["productId"]);
  if (inputs.credentialsLocation !== undefined && !CREDENTIALS_LOCATIONS.includes(inputs.credentialsLocation)) {
    failures.push({
      property: "credentialsLocation",
      reason: `must be one of ${CREDENTIALS_LOCATIONS.join(", ")} ("authorization" = HTTP Basic), e.g. "authorization"; got ${JSON.stringify(inputs.credentialsLocation)}`,
    });
  }
  if (inputs.authUserKey !== undefined && !/^[\w-]+$/.test(String(inputs.authUserKey))) {
    failures.push({
      property: "authUserKey",
      reason: `may only hold letters, digits, "_" and "-", e.g. "Authorization"; got ${JSON.stringify(inputs.authUserKey)}`,
    });
  }
  for (const field of STATUS_FIELDS) {
    const value = (inputs as any)[field];
    if (value !== undefined && (!Number.isInteger(value) || value < 200 || value > 599)) {
      failures.push({
        property: field,
        reason: `must be an HTTP status 200-599, e.g. 403; got ${JSON.stringify(value)}`,
      });
    }
  }
  return failures;
}

export class ProxySettingsProvider extends ThreescaleProvider<ProxySettingsInputs> {
  protected readonly createOnly = ["productId"];

  protected validate(inputs: ProxySettingsInputs): Failure[] {
    return proxySettingsFailures(inputs);
  }

  async create(inputs: ProxySettingsInputs): Promise<pulumi.dynamic.CreateResult> {
    return { id: String(inputs.productId), outs: await this.apply(inputs) };
  }

  async read(id: string, props: any): Promise<pulumi.dynamic.ReadResult> {
    const found = await this.client(props).find(`/admin/api/services/${props.productId}/proxy.json`);
    if (!found) return {};
    return { id, props: { ...refreshed(props, found.proxy, FIELDS), ...endpoints(found.proxy) } };
  }

  async update(_id: string, _olds: any, news: ProxySettingsInputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await this.apply(news) };
  }

  /** Settings live and die with the product: nothing to delete. */
  async delete(): Promise<void> {}

  private async apply(inputs: ProxySettingsInputs): Promise<Record<string, unknown>> {
    const client: AdminClient = this.client(inputs);
    const path = `/admin/api/services/${inputs.productId}/proxy.json`;
    let proxy = (await client.get(path)).proxy;
    const body = differingBody(inputs as any, proxy, FIELDS);
    if (Object.keys(body).length > 0) proxy = (await client.patch(path, body)).proxy;
    return { ...inputs, ...endpoints(proxy) };
  }
}

function endpoints(proxy: any): { endpoint: string; sandboxEndpoint: string } {
  return { endpoint: proxy.endpoint ?? "", sandboxEndpoint: proxy.sandbox_endpoint ?? "" };
}

/** The one instance every resource of this type shares (serialized once). */
export const proxySettingsProvider = new ProxySettingsProvider();

export type ProxySettingsArgs = {
  [K in keyof Omit<ProxySettingsInputs, "connection">]: pulumi.Input<ProxySettingsInputs[K]>;
} & { connection: pulumi.Input<Connection> };

export class ProxySettings extends pulumi.dynamic.Resource {
  /** Production public base URL of the product's gateway. */
  declare public readonly endpoint: pulumi.Output<string>;
  /** Staging public base URL. */
  declare public readonly sandboxEndpoint: pulumi.Output<string>;

  constructor(name: string, args: ProxySettingsArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      proxySettingsProvider,
      name,
      { ...args, endpoint: undefined, sandboxEndpoint: undefined },
      opts,
      "threescale",
      "ProxySettings",
    );
  }
}
