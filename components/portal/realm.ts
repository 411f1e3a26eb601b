/**
 * The developer-portal realm's configuration in Keycloak (RH-SSO or RHBK) through @pulumi/keycloak: the confidential
 * client 3scale signs developers in with, its token mappers, and optionally a GitHub identity provider. The realm itself
 * belongs to the SSO server; this layer references it by name once the server reports it ready.
 */
import * as keycloak from "@pulumi/keycloak";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "../config/schema";
import type { SsoServer } from "../sso";

type SsoConfig = PlatformConfig["sso"];

/** The admin connection: the master realm's admin-cli with the SSO server's admin user, logging in lazily. */
export function keycloakProviderArgs(
  sso: SsoConfig,
  basePath: string,
): Omit<keycloak.ProviderArgs, "url" | "username" | "password"> {
  return {
    basePath,
    clientId: "admin-cli",
    realm: "master",
    // The URL and credentials are outputs of this same program: log in on first use, not at provider creation.
    initialLogin: false,
    ...(sso.flavor === "rhsso" ? { redHatSso: true } : {}),
    ...(sso.tlsInsecureSkipVerify ? { tlsInsecureSkipVerify: true } : {}),
  };
}

/** Exact redirect URIs only: a wildcard would let any page on any host receive authorization codes. */
export function checkRedirectUri(uri: string): string {
  if (!/^https:\/\/[^\s*?#]+$/.test(uri)) {
    throw new Error(
      `SsoIntegration.callbackUrl: the Keycloak client's redirect URI must be an exact https URL without wildcards, ` +
        `got ${JSON.stringify(uri)}; e.g. "https://maas.apps.example.com/auth/keycloak/callback"`,
    );
  }
  return uri;
}

export function portalOriginOf(portalUrl: string): string {
  return new URL(portalUrl).origin;
}

/** The 3scale portal's client: confidential, authorization-code flow only. */
export function portalClientArgs(sso: SsoConfig) {
  return {
    realmId: sso.realm,
    clientId: sso.clientId,
    name: "3scale developer portal",
    description: "Developer portal sign-in (3scale SSO integration)",
    enabled: true,
    accessType: "CONFIDENTIAL",
    standardFlowEnabled: true,
    implicitFlowEnabled: false,
    directAccessGrantsEnabled: false,
    serviceAccountsEnabled: false,
  } satisfies keycloak.openid.ClientArgs;
}

/** Where Keycloak may send developers back to: the portal's SSO callback only. */
export function portalClientUrls(portal: { callbackUrl: string; portalUrl: string }) {
  return {
    validRedirectUris: [checkRedirectUri(portal.callbackUrl)],
    webOrigins: [portalOriginOf(portal.portalUrl)],
    rootUrl: portal.portalUrl,
  };
}

const ALL_TOKENS = { addToIdToken: true, addToAccessToken: true, addToUserinfo: true } as const;

/** 3scale trusts the e-mail only when the token says it is verified. */
export function emailVerifiedMapperArgs(
  sso: SsoConfig,
): Omit<keycloak.openid.UserPropertyProtocolMapperArgs, "clientId"> {
  return {
    realmId: sso.realm,
    name: "email verified",
    userProperty: "emailVerified",
    claimName: "email_verified",
    claimValueType: "boolean",
    ...ALL_TOKENS,
  };
}

/** 3scale names the developer account after `org_name`; the e-mail gives every developer an account of their own. */
export function orgNameMapperArgs(sso: SsoConfig): Omit<keycloak.openid.UserAttributeProtocolMapperArgs, "clientId"> {
  return {
    realmId: sso.realm,
    name: "org_name",
    userAttribute: "email",
    claimName: "org_name",
    claimValueType: "String",
    multivalued: false,
    aggregateAttributes: false,
    ...ALL_TOKENS,
  };
}

/** GitHub sign-in brokered by Keycloak: e-mails trusted, users imported once (later GitHub edits do not overwrite). */
export function githubIdentityProviderArgs(
  sso: SsoConfig,
): Omit<keycloak.oidc.GithubIdentityProviderArgs, "clientSecret"> | undefined {
  if (!sso.github.enabled) return undefined;
  if (!sso.github.clientId) {
    throw new Error(
      'maas:sso.github.clientId: is required when sso.github.enabled is true; e.g. "Iv1.0123456789abcdef"',
    );
  }
  return {
    realm: sso.realm,
    alias: "github",
    displayName: "GitHub",
    clientId: sso.github.clientId,
    trustEmail: true,
    syncMode: "IMPORT",
    defaultScopes: "user:email",
    enabled: true,
  };
}

export interface SsoRealmArgs {
  sso: SsoConfig;
  server: Pick<SsoServer, "serverUrl" | "basePath" | "adminUsername" | "adminPassword" | "ready">;
  portalUrl: pulumi.Input<string>;
  /** The redirect URI 3scale's SSO integration reports. */
  callbackUrl: pulumi.Input<string>;
  /** Shared with the 3scale SSO integration. */
  clientSecret: pulumi.Input<string>;
  githubClientSecret?: pulumi.Input<string>;
}

export class SsoRealm extends pulumi.ComponentResource {
  readonly provider: keycloak.Provider;
  readonly client: keycloak.openid.Client;
  readonly githubIdentityProvider?: keycloak.oidc.GithubIdentityProvider;

  constructor(name: string, args: SsoRealmArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      "maas:portal:SsoRealm",
      name,
      {},
      {
        ...opts,
        aliases: [{ type: "maas:sso-realm:SsoRealm" }, ...(opts?.aliases ?? [])],
      },
    );
    const { sso, server } = args;
    this.provider = new keycloak.Provider(
      `${name}-keycloak`,
      {
        ...keycloakProviderArgs(sso, server.basePath),
        url: server.serverUrl,
        username: server.adminUsername,
        password: pulumi.secret(server.adminPassword),
      },
      { parent: this, dependsOn: [server.ready] },
    );
    // The realm is created by the SSO server: every resource waits for it to be ready.
    const inRealm = { parent: this, provider: this.provider, dependsOn: [server.ready] };

    const urls = pulumi
      .all([args.callbackUrl, args.portalUrl])
      .apply(([callbackUrl, portalUrl]) => portalClientUrls({ callbackUrl, portalUrl }));
    this.client = new keycloak.openid.Client(
      `${name}-portal-client`,
      {
        ...portalClientArgs(sso),
        validRedirectUris: urls.validRedirectUris,
        webOrigins: urls.webOrigins,
        rootUrl: urls.rootUrl,
        clientSecret: pulumi.secret(args.clientSecret),
      },
      inRealm,
    );
    new keycloak.openid.UserPropertyProtocolMapper(
      `${name}-email-verified`,
      { ...emailVerifiedMapperArgs(sso), clientId: this.client.id },
      inRealm,
    );
    new keycloak.openid.UserAttributeProtocolMapper(
      `${name}-org-name`,
      { ...orgNameMapperArgs(sso), clientId: this.client.id },
      inRealm,
    );

    const github = githubIdentityProviderArgs(sso);
    if (github) {
      if (args.githubClientSecret === undefined) {
        throw new Error(
          "maas:githubClientSecret: is required when sso.github.enabled is true; run `pulumi config set --secret githubClientSecret <secret>`",
        );
      }
      this.githubIdentityProvider = new keycloak.oidc.GithubIdentityProvider(
        `${name}-github`,
        { ...github, clientSecret: pulumi.secret(args.githubClientSecret) },
        inRealm,
      );
    }
    this.registerOutputs({ clientId: this.client.clientId });
  }
}
