/**
 * The developer portal: the tenant's portal settings (no access code, no sample product), our CMS content (rendered
 * from the stack at plan time), the portal's single sign-on through Keycloak, and the Keycloak side of it. The client
 * secret is generated here and given to both sides; 3scale's SSO integration reports the callback URL that the Keycloak
 * client then allows as its only redirect URI.
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { CmsContent } from "../../dynamic-providers/cms-content";
import { DeveloperPortalAccess } from "../../dynamic-providers/developer-portal-access";
import { SsoIntegration } from "../../dynamic-providers/sso-integration";
import type { Connection } from "../../dynamic-providers/threescale/client";
import { TenantDefaults } from "../../dynamic-providers/tenant-defaults";
import type { ModelConfig, PlatformConfig } from "../config/schema";
import type { ModelProduct } from "../products/model-product";
import type { SsoServer } from "../sso";
import { buildPortalContent } from "./content";
import { SsoRealm } from "./realm";

/** The name developers see on the portal's sign-in button. */
export function ssoDisplayName(flavor: PlatformConfig["sso"]["flavor"]): string {
  return flavor === "rhsso" ? "Red Hat Single Sign-On" : "Red Hat build of Keycloak";
}

export interface DeveloperPortalArgs {
  /** Portal settings of the tenant. */
  threescale: Pick<PlatformConfig["threescale"], "removeAccessCode" | "removeDefaultProduct">;
  sso: PlatformConfig["sso"];
  tenant: {
    connection: pulumi.Input<Connection>;
    portalUrl: pulumi.Input<string>;
    /** The tenant exists once the APIManager is ready. */
    apiManager: pulumi.Resource;
  };
  ssoServer: Pick<SsoServer, "realmUrl" | "serverUrl" | "basePath" | "adminUsername" | "adminPassword" | "ready">;
  /** The models the portal presents, with their products (created before the content that shows them). */
  models: { model: ModelConfig; product: Pick<ModelProduct, "spec" | "gatewayUrl" | "product"> }[];
  /** The one-endpoint product, presented first ("one key, every model"). */
  endpoint?: {
    name: string;
    systemName: string;
    usage: boolean;
    gatewayUrl: pulumi.Output<string>;
    product: pulumi.Resource;
  };
  /** Stack secret, required when `sso.github.enabled`. */
  githubClientSecret?: pulumi.Input<string>;
  /** Where the portal settings were declared before this layout: their parent's URN and name (their aliases). */
  formerSettings?: { parent: pulumi.Input<string>; name: string };
}

export class DeveloperPortal extends pulumi.ComponentResource {
  readonly content: CmsContent;
  readonly ssoIntegration: SsoIntegration;
  readonly realm: SsoRealm;

  constructor(name: string, args: DeveloperPortalArgs, opts?: pulumi.ComponentResourceOptions) {
    super("maas:portal:DeveloperPortal", name, {}, opts);
    const { tenant, sso, ssoServer } = args;
    const connection = tenant.connection;
    const afterTenant = { parent: this, dependsOn: [tenant.apiManager] };
    const products = [...args.models.map((m) => m.product.product), ...(args.endpoint ? [args.endpoint.product] : [])];
    const formerly = (suffix: string) => {
      const former = args.formerSettings;
      return former ? { aliases: [{ name: `${former.name}-${suffix}`, parent: former.parent }] } : {};
    };

    if (args.threescale.removeAccessCode) {
      new DeveloperPortalAccess(
        `${name}-access`,
        { connection, siteAccessCode: "" },
        { ...afterTenant, ...formerly("portal-access") },
      );
    }
    if (args.threescale.removeDefaultProduct) {
      // 3scale refuses to delete a tenant's last product: run after ours exist.
      new TenantDefaults(
        `${name}-tenant-defaults`,
        { connection, removeDefaultProduct: true, productSystemName: "api" },
        { parent: this, dependsOn: [tenant.apiManager, ...products], ...formerly("tenant-defaults") },
      );
    }

    const content = pulumi
      .all([
        pulumi.all(args.models.map((m) => m.product.gatewayUrl)),
        tenant.portalUrl,
        args.endpoint ? args.endpoint.gatewayUrl : pulumi.output(undefined),
      ])
      .apply(([gatewayUrls, portalUrl, endpointUrl]) =>
        buildPortalContent({
          models: args.models.map((m, i) => ({ model: m.model, spec: m.product.spec, gatewayUrl: gatewayUrls[i] })),
          portalUrl,
          endpoint:
            args.endpoint && endpointUrl
              ? {
                  name: args.endpoint.name,
                  systemName: args.endpoint.systemName,
                  usage: args.endpoint.usage,
                  gatewayUrl: endpointUrl,
                }
              : undefined,
        }),
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
      { parent: this, dependsOn: [tenant.apiManager, ...products] },
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
        name: ssoDisplayName(sso.flavor),
        clientId: sso.clientId,
        clientSecret,
        site: ssoServer.realmUrl,
        published: true,
        automaticallyApproveAccounts: sso.autoApproveAccounts,
        skipSslCertificateVerification: sso.tlsInsecureSkipVerify,
      },
      { ...afterTenant, dependsOn: [tenant.apiManager, ssoServer.ready] },
    );
    this.realm = new SsoRealm(
      `${name}-realm`,
      {
        sso,
        server: ssoServer,
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
