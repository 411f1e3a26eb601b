/**
 * 3scale product integration settings (`services/{id}/proxy.json`): credential location and gateway error
 * responses. Only the fields given are managed; a PATCH carries only the differing ones, because every saving
 * PATCH also deploys a new staging configuration.
 */
import * as pulumi from "@pulumi/pulumi";
import { type AdminClient, type Connection, unlessGone } from "./threescale/client";
import { withAppliedRevision } from "./threescale/applied-revision";
import { productPath } from "./threescale/catalog";
import { failure, Failure, fieldFailures, FieldRule } from "./threescale/checks";
import { differingBody, FieldMap, hasAny, refreshed, snakeCase } from "./threescale/fields";
import { known } from "./threescale/unknown";
import { ConnectionInputs, ThreescaleProvider } from "./threescale/provider-kit";
import { isHttpHeaderText } from "./threescale/vocabulary";
import { ThreescaleResource } from "./threescale/resource";

export const CREDENTIALS_LOCATIONS = ["headers", "query", "authorization"];

const ERROR_CASES = ["AuthFailed", "AuthMissing", "NoMatch", "LimitsExceeded"];

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

/** Every managed setting (camelCase input; its API field is the snake_case form). */
const SETTINGS: Record<string, FieldRule> = {
  credentialsLocation: {
    kind: "string",
    required: true,
    oneOf: CREDENTIALS_LOCATIONS,
    example: '"authorization" (HTTP Basic)',
  },
  authUserKey: { kind: "string", example: '"Authorization"' },
  ...Object.fromEntries(
    ERROR_CASES.flatMap((c) => [
      [`errorStatus${c}`, { kind: "integer", min: 200, max: 599, example: "403" }],
      [`error${c}`, { kind: "text", example: '"Authentication failed"' }],
      [`errorHeaders${c}`, { kind: "text", example: '"application/json"' }],
    ]),
  ),
};
const FIELDS: FieldMap = Object.fromEntries(Object.keys(SETTINGS).map((input) => [input, snakeCase(input)]));

export function proxySettingsFailures(inputs: Partial<ProxySettingsInputs>): Failure[] {
  const failures = fieldFailures(inputs, {
    productId: { kind: "id", required: true, example: "42 (a Product's productId)" },
    ...SETTINGS,
  });
  if (known(inputs.authUserKey) && !/^[\w-]+$/.test(String(inputs.authUserKey))) {
    failures.push(
      failure("authUserKey", 'may only hold letters, digits, "_" and "-"', '"Authorization"', inputs.authUserKey),
    );
  }
  // porta proxy.rb L43, L72-76: error bodies and content types must match HTTP_HEADER ("is invalid"); L79-85: ≤ 255.
  for (const c of ERROR_CASES) {
    for (const [key, example] of [
      [`error${c}`, '"Authentication failed" or \'{"error":"Rate limit exceeded"}\''],
      [`errorHeaders${c}`, '"application/json; charset=utf-8"'],
    ]) {
      const value = (inputs as Record<string, unknown>)[key];
      if (!known(value) || typeof value !== "string") continue;
      if (!isHttpHeaderText(value)) {
        failures.push(
          failure(
            key,
            'is invalid (3scale allows only ASCII letters, digits, "_", spaces and {}[],.;@#~%&()?"=/\\:+- here; ' +
              "no apostrophes, !, <, > or accents)",
            example,
            value,
          ),
        );
      } else if (value.length > 255) {
        failures.push(failure(key, "is too long (maximum is 255 characters)", example, `${value.slice(0, 40)}...`));
      }
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
    const proxy = await unlessGone(() => this.fetch(this.client(props), props.productId));
    if (!proxy) return {};
    return { id, props: { ...refreshed(props, proxy, FIELDS), ...endpoints(proxy) } };
  }

  async update(_id: string, olds: any, news: ProxySettingsInputs): Promise<pulumi.dynamic.UpdateResult> {
    return { outs: await this.apply(news, olds) };
  }

  /** Settings live and die with the product: nothing to delete. */
  async delete(): Promise<void> {}

  private async apply(inputs: ProxySettingsInputs, olds?: any): Promise<Record<string, unknown>> {
    const client = this.client(inputs);
    let proxy = await this.fetch(client, inputs.productId);
    const body = differingBody(inputs, proxy, FIELDS);
    if (hasAny(body)) proxy = (await client.patch(proxyPath(inputs.productId), body)).proxy;
    return withAppliedRevision({ ...inputs, ...endpoints(proxy) }, client, olds);
  }

  private async fetch(client: AdminClient, productId: number): Promise<Record<string, any>> {
    return (await client.get(proxyPath(productId))).proxy;
  }
}

const proxyPath = (productId: number) => `${productPath(productId)}/proxy.json`;

function endpoints(proxy: any): { endpoint: string; sandboxEndpoint: string } {
  return { endpoint: proxy.endpoint ?? "", sandboxEndpoint: proxy.sandbox_endpoint ?? "" };
}

/** The one instance every resource of this type shares (registry.ts; the state holds a reference to it). */
export const proxySettingsProvider = new ProxySettingsProvider();

export type ProxySettingsArgs = {
  [K in keyof Omit<ProxySettingsInputs, "connection">]: pulumi.Input<ProxySettingsInputs[K]>;
} & { connection: pulumi.Input<Connection> };

export class ProxySettings extends ThreescaleResource {
  /** Production public base URL of the product's gateway. */
  declare public readonly endpoint: pulumi.Output<string>;
  /** Staging public base URL. */
  declare public readonly sandboxEndpoint: pulumi.Output<string>;
  /** Changes whenever this resource wrote the settings (see `withAppliedRevision`). */
  declare public readonly appliedRevision: pulumi.Output<string>;

  constructor(name: string, args: ProxySettingsArgs, opts?: pulumi.CustomResourceOptions) {
    super(proxySettingsProvider, "ProxySettings", name, args, ["endpoint", "sandboxEndpoint", "appliedRevision"], opts);
  }
}
