/**
 * The developer portal layer: our CMS content (rendered from the stack at plan time), the portal's single sign-on
 * through Keycloak, and the Keycloak side of it. The client secret is generated here and given to both sides; 3scale's
 * SSO integration reports the callback URL that the Keycloak client then allows as its only redirect URI.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { PlatformConfig } from "../config/schema";
import { CmsContent } from "../../dynamic-providers/cms-content";
import { SsoIntegration } from "../../dynamic-providers/sso-integration";
import type { SsoPlatform } from "../sso";
import { SsoRealm } from "./realm";
import { tenantConnection, type TenantAccess } from "../products/tenant-configuration";
import { productSpec } from "../products/builders";
import { buildPortalContent } from "./content";

export { buildPortalContent } from "./content";

/** The name developers see on the portal's sign-in button. */
export function ssoDisplayName(flavor: PlatformConfig["sso"]["flavor"]): string {
  return flavor === "rhsso" ? "Red Hat Single Sign-On" : "Red Hat build of Keycloak";
}

export interface DeveloperPortalArgs {
  config: PlatformConfig;
  tenant: TenantAccess & { portalUrl: pulumi.Input<string> };
  sso: SsoPlatform;
  /** Stack secret, required when `sso.github.enabled`. */
  githubClientSecret?: pulumi.Input<string>;
  /** The model products (and their ActiveDocs) the portal presents: created before the content that shows them. */
  products?: pulumi.Resource[];
}

export class DeveloperPortal extends pulumi.ComponentResource {
  readonly content: CmsContent;
  readonly ssoIntegration: SsoIntegration;
  readonly realm: SsoRealm;

  constructor(name: string, args: DeveloperPortalArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:portal:DeveloperPortal", name, {}, opts);
    const { config, tenant, sso } = args;
    const connection = tenantConnection(tenant, config.threescale.verifyTls);
    const afterTenant = { parent: this, dependsOn: [tenant.apiManager] };

    const gatewayUrls = pulumi
      .all(
        config.models.map((m) =>
          tenant
            .gatewayUrl(productSpec(m, config.threescale).product.systemName)
            .apply((url) => [m.name, url] as const),
        ),
      )
      .apply((pairs) => Object.fromEntries(pairs));
    const content = pulumi
      .all([gatewayUrls, tenant.portalUrl])
      .apply(([urls, portalUrl]) =>
        buildPortalContent({ models: config.models, threescale: config.threescale, gatewayUrls: urls, portalUrl }),
      );
    this.content = new CmsContent(
      `${name}-content`,
      {
        connection,
        sections: content.sections,
        files: content.files,
        layouts: content.layouts,
        partials: content.partials,
        pages: content.pages,
        builtinPages: content.builtinPages,
        builtinPartials: content.builtinPartials,
        publish: content.publish,
      },
      { parent: this, dependsOn: [tenant.apiManager, ...(args.products ?? [])] },
    );

    const clientSecret = new random.RandomPassword(
      `${name}-sso-client-secret`,
      { length: 40, special: false },
      { parent: this },
    ).result;
    this.ssoIntegration = new SsoIntegration(
      `${name}-sso`,
      {
        connection,
        kind: "keycloak",
        name: ssoDisplayName(config.sso.flavor),
        clientId: config.sso.clientId,
        clientSecret,
        site: sso.realmUrl,
        published: true,
        automaticallyApproveAccounts: config.sso.autoApproveAccounts,
        skipSslCertificateVerification: config.sso.tlsInsecureSkipVerify,
      },
      { ...afterTenant, dependsOn: [tenant.apiManager, sso.ready] },
    );
    this.realm = new SsoRealm(
      `${name}-realm`,
      {
        sso: config.sso,
        platform: sso,
        portalUrl: tenant.portalUrl,
        callbackUrl: this.ssoIntegration.callbackUrl,
        clientSecret,
        githubClientSecret: args.githubClientSecret,
      },
      { parent: this },
    );
    this.registerOutputs({ callbackUrl: this.ssoIntegration.callbackUrl });
  }
}
