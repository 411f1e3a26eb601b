import { definePlatform } from "./components/platform";

const platform = definePlatform();

export const adminUrl = platform.adminUrl;
export const portalUrl = platform.portalUrl;
export const modelEndpoints = platform.modelEndpoints;
export const realmUrl = platform.realmUrl;
