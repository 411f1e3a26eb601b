/**
 * `npm run test:real`: the suites against real counterparts (tests/real), one file at a time in one
 * process (each starts its own control plane, Keycloak and Pulumi stack; two at once would compete for the
 * router's port 443 and for two CPU cores). scripts/test-real.sh builds or reuses the counterparts first.
 */
const base = require("./jest.config.js");

module.exports = {
  ...base,
  roots: ["<rootDir>/tests/real"],
  testPathIgnorePatterns: [],
  maxWorkers: 1,
  testTimeout: 15 * 60 * 1000,
  globalSetup: "<rootDir>/tests/real/global-setup.ts",
  // The platform file first: it records the counterparts' versions.
  testSequencer: "<rootDir>/tests/real/sequencer.js",
};
