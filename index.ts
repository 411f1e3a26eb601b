/**
 * The program: load and validate the stack config, then create the platform. Pulumi calls the exported function and
 * publishes what it returns as the stack outputs.
 */
import { loadConfig } from "./components/config/load";
import { Platform } from "./components/platform";

export = () => {
  const { config, secrets } = loadConfig();
  const platform = new Platform("maas", { config, secrets });
  return {
    adminUrl: platform.adminUrl,
    portalUrl: platform.portalUrl,
    modelEndpoints: platform.modelEndpoints,
    allModelsEndpoint: platform.allModelsEndpoint,
    realmUrl: platform.realmUrl,
  };
};
