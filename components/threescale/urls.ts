/** The tenant's public URLs, derived from its name and the cluster's wildcard domain as 3scale's routes are. */

/** The developer portal's origin, `https://<tenant>.<wildcard domain>`. */
export function portalOrigin(tenantName: string, wildcardDomain: string): string {
  return `https://${tenantName}.${wildcardDomain}`;
}

export function threescaleUrls(tenant: string, wildcardDomain: string) {
  return {
    adminUrl: `https://${tenant}-admin.${wildcardDomain}`,
    portalUrl: portalOrigin(tenant, wildcardDomain),
    gatewayUrl: (product: string) => `https://${product}-${tenant}-apicast-production.${wildcardDomain}:443`,
    stagingGatewayUrl: (product: string) => `https://${product}-${tenant}-apicast-staging.${wildcardDomain}:443`,
  };
}
