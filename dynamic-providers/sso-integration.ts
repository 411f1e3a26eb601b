/**
 * Developer-portal single sign-on through an OpenID Connect provider (Red Hat SSO / Keycloak). 3scale allows one
 * provider per kind and has no DELETE for it: create adopts the tenant's provider of the same kind, and delete
 * unpublishes it. `callbackUrl` is the redirect URI to register on the Keycloak client.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { ConnectionInputs, Failure, ThreescaleProvider } from "./threescale/provider-kit";
import {
  differences,
  fieldFailures,
  findOrCreate,
  fromApi,
  hasAny,
  toApi,
  unlessGone,
} from "./threescale/provider-helpers";

export const SSO_KINDS = ["keycloak", "auth0", "github"] as const;

export interface SsoIntegrationInputs extends ConnectionInputs {
  kind: (typeof SSO_KINDS)[number];
  name?: string;
  systemName?: string;
  clientId: string;
  /** Secret. */
  clientSecret: string;
  /** Keycloak realm URL, e.g. https://sso.apps.example.com/realms/maas */
  site: string;
  published: boolean;
  automaticallyApproveAccounts: boolean;
  skipSslCertificateVerification?: boolean;
}

export interface SsoIntegrationOutputs extends SsoIntegrationInputs {
  providerId: number;
  callbackUrl: string;
}

/** Fields 3scale lets an update change. */
const UPDATABLE = {
  clientId: "client_id",
  clientSecret: "client_secret",
  site: "site",
  published: "published",
  skipSslCertificateVerification: "skip_ssl_certificate_verification",
  automaticallyApproveAccounts: "automatically_approve_accounts",
};

const BASE = "/admin/api/authentication_providers";

export class SsoIntegrationProvider extends ThreescaleProvider<SsoIntegrationInputs> {
  protected readonly createOnly = ["kind", "name", "systemName"];

  protected validate(inputs: SsoIntegrationInputs): Failure[] {
    return fieldFailures(inputs, {
      kind: { kind: "string", required: true, oneOf: SSO_KINDS, example: '"keycloak"' },
      name: { kind: "string", example: '"Red Hat Single Sign-On"' },
      systemName: { kind: "systemName", example: '"keycloak"' },
      clientId: { kind: "string", required: true, example: '"3scale-developer-portal"' },
      clientSecret: { kind: "string", required: true, secret: true, example: "a Pulumi secret from the SSO client" },
      site: { kind: "url", required: true, example: '"https://sso.apps.example.com/realms/maas"' },
      published: { kind: "boolean", required: true, example: "true" },
      automaticallyApproveAccounts: { kind: "boolean", required: true, example: "true" },
      skipSslCertificateVerification: { kind: "boolean", example: "false" },
    });
  }

  async create(inputs: SsoIntegrationInputs): Promise<pulumi.dynamic.CreateResult> {
    const found = await findOrCreate(
      inputs.connection,
      this.clientOptions,
      async (client) =>
        (await client.list(`${BASE}.json`, "authentication_providers", "authentication_provider")).find(
          (p) => p.kind === inputs.kind,
        ),
      async (client) =>
        (
          await client.post(`${BASE}.json`, {
            kind: inputs.kind,
            ...(inputs.name === undefined ? {} : { name: inputs.name }),
            ...(inputs.systemName === undefined ? {} : { system_name: inputs.systemName }),
            ...toApi(inputs, UPDATABLE),
          })
        ).authentication_provider,
    );
    const synced = await this.sync(this.client(inputs), found, inputs);
    return { id: String(synced.id), outs: this.outputs(inputs, synced) };
  }

  async read(id: string, props: SsoIntegrationOutputs): Promise<pulumi.dynamic.ReadResult> {
    const found = await unlessGone(() => this.fetch(this.client(props), id));
    if (!found) return {};
    return { id, props: this.outputs({ ...props, ...fromApi(found, UPDATABLE, props) }, found) };
  }

  async update(id: string, _olds: SsoIntegrationOutputs, news: SsoIntegrationInputs) {
    const client = this.client(news);
    return { outs: this.outputs(news, await this.sync(client, await this.fetch(client, id), news)) };
  }

  /** There is no DELETE for portal SSO providers: unpublish so developers can no longer sign in with it. */
  async delete(id: string, props: SsoIntegrationOutputs): Promise<void> {
    const client = this.client(props);
    const found = await unlessGone(() => this.fetch(client, id));
    if (found?.published) await client.put(`${BASE}/${id}.json`, { published: false });
  }

  private async fetch(client: AdminClient, id: string): Promise<any> {
    return (await client.get(`${BASE}/${id}.json`)).authentication_provider;
  }

  private async sync(client: AdminClient, current: any, inputs: SsoIntegrationInputs): Promise<any> {
    const changed = differences(toApi(inputs, UPDATABLE), current);
    if (!hasAny(changed)) return current;
    return (await client.put(`${BASE}/${current.id}.json`, changed)).authentication_provider;
  }

  private outputs(inputs: SsoIntegrationInputs, provider: any): SsoIntegrationOutputs {
    return { ...inputs, providerId: provider.id, callbackUrl: provider.callback_url };
  }
}

export const ssoIntegrationProvider = new SsoIntegrationProvider();

export interface SsoIntegrationArgs {
  connection: pulumi.Input<Connection>;
  kind: pulumi.Input<SsoIntegrationInputs["kind"]>;
  name?: pulumi.Input<string>;
  systemName?: pulumi.Input<string>;
  clientId: pulumi.Input<string>;
  clientSecret: pulumi.Input<string>;
  site: pulumi.Input<string>;
  published: pulumi.Input<boolean>;
  automaticallyApproveAccounts: pulumi.Input<boolean>;
  skipSslCertificateVerification?: pulumi.Input<boolean>;
}

export class SsoIntegration extends pulumi.dynamic.Resource {
  declare public readonly providerId: pulumi.Output<number>;
  declare public readonly callbackUrl: pulumi.Output<string>;
  declare public readonly clientSecret: pulumi.Output<string>;

  constructor(name: string, args: SsoIntegrationArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      ssoIntegrationProvider,
      name,
      { ...args, clientSecret: pulumi.secret(args.clientSecret), providerId: undefined, callbackUrl: undefined },
      { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "clientSecret"] },
      "threescale",
      "SsoIntegration",
    );
  }
}
