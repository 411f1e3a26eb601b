/**
 * Every provider instance by the type token of its resources: what a `providerReference` in a resource's state
 * resolves to in the engine's dynamic-provider host. A resource type missing here fails its first call there; the
 * registry test checks each resource class against it.
 */
import { activeDocProvider } from "./active-doc";
import { applicationPlanProvider } from "./application-plan";
import { applicationProvider } from "./application";
import { backendUsageProvider } from "./backend-usage";
import { backendProvider } from "./backend";
import { cmsContentProvider } from "./cms-content";
import { developerAccountProvider } from "./developer-account";
import { developerPortalAccessProvider } from "./developer-portal-access";
import { productRuleProvider } from "./mapping-rule";
import { productMethodProvider, productMetricProvider } from "./metric";
import { planLimitProvider } from "./plan-limit";
import { policyChainProvider } from "./policy-chain";
import { productProvider } from "./product";
import { proxyPromotionProvider } from "./proxy-promotion";
import { proxySettingsProvider } from "./proxy-settings";
import { modelWeightsProvider } from "./s3/model-weights";
import { ssoIntegrationProvider } from "./sso-integration";
import { tenantDefaultsProvider } from "./tenant-defaults";

export const PROVIDERS = {
  "threescale:ActiveDoc": activeDocProvider,
  "threescale:Application": applicationProvider,
  "threescale:ApplicationPlan": applicationPlanProvider,
  "threescale:Backend": backendProvider,
  "threescale:BackendUsage": backendUsageProvider,
  "threescale:CmsContent": cmsContentProvider,
  "threescale:DeveloperAccount": developerAccountProvider,
  "threescale:DeveloperPortalAccess": developerPortalAccessProvider,
  "threescale:PlanLimit": planLimitProvider,
  "threescale:PolicyChain": policyChainProvider,
  "threescale:Product": productProvider,
  "threescale:ProductMappingRule": productRuleProvider,
  "threescale:ProductMethod": productMethodProvider,
  "threescale:ProductMetric": productMetricProvider,
  "threescale:ProxyPromotion": proxyPromotionProvider,
  "threescale:ProxySettings": proxySettingsProvider,
  "threescale:SsoIntegration": ssoIntegrationProvider,
  "threescale:TenantDefaults": tenantDefaultsProvider,
  "s3:ModelWeights": modelWeightsProvider,
} as const;
