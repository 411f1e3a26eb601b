/**
 * Developer-portal single sign-on through an OpenID Connect provider (Red Hat SSO / Keycloak). 3scale allows one
 * provider per kind and has no DELETE for it: create adopts the tenant's provider of the same kind, and delete
 * unpublishes it. `callbackUrl` is the redirect URI to register on the Keycloak client.
 */
import * as pulumi from "@pulumi/pulumi";
import type { AdminClient, Connection } from "./threescale/client";
import { Failure, fieldFailures } from "./threescale/checks";
import { toApi } from "./threescale/fields";
import { ApiObject, ConnectionInputs, ObjectProvider } from "./threescale/provider-kit";
import { ThreescaleResource, withSecretOutputs } from "./threescale/resource";

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

const BASE = "/admin/api/authentication_providers";

export class SsoIntegrationProvider extends ObjectProvider<SsoIntegrationInputs> {
  protected readonly createOnly = ["kind", "name", "systemName"];
  protected readonly keyIsUnique = true;
  protected readonly idOutput = "providerId";
  protected readonly envelope = "authentication_provider";
  /** Fields 3scale lets an update change. */
  protected readonly fields = {
    clientId: "client_id",
    clientSecret: "client_secret",
    site: "site",
    published: "published",
    skipSslCertificateVerification: "skip_ssl_certificate_verification",
    automaticallyApproveAccounts: "automatically_approve_accounts",
  };

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

  protected path(_inputs: SsoIntegrationInputs, item: { id: number | string }): string {
    return `${BASE}/${item.id}`;
  }

  /** 3scale allows one provider per kind: the tenant's provider of this kind is ours. */
  protected async find(client: AdminClient, inputs: SsoIntegrationInputs) {
    const all = await client.list(`${BASE}.json`, "authentication_providers", "authentication_provider");
    return all.find((p) => p.kind === inputs.kind);
  }

  protected async post(client: AdminClient, inputs: SsoIntegrationInputs) {
    const body = {
      kind: inputs.kind,
      ...toApi(inputs, { name: "name", systemName: "system_name" }),
      ...toApi(inputs, this.fields),
    };
    return (await client.post(`${BASE}.json`, body)).authentication_provider;
  }

  protected outputs(inputs: Record<string, any>, provider: ApiObject): Record<string, any> {
    return { ...super.outputs(inputs, provider), callbackUrl: provider.callback_url };
  }

  /** There is no DELETE for portal SSO providers: unpublish so developers can no longer sign in with it. */
  async delete(id: string, props: SsoIntegrationOutputs): Promise<void> {
    const client = this.client(props);
    const found = await this.fetch(client, props, id);
    if (found?.published) await client.put(`${BASE}/${id}.json`, { published: false });
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

export class SsoIntegration extends ThreescaleResource {
  declare public readonly providerId: pulumi.Output<number>;
  declare public readonly callbackUrl: pulumi.Output<string>;
  declare public readonly clientSecret: pulumi.Output<string>;

  constructor(name: string, args: SsoIntegrationArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      ssoIntegrationProvider,
      "SsoIntegration",
      name,
      { ...args, clientSecret: pulumi.secret(args.clientSecret) },
      ["providerId", "callbackUrl"],
      withSecretOutputs(opts, ["clientSecret"]),
    );
  }
}
