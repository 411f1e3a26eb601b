/** Transpile-only TypeScript (type checking is `npm run typecheck`), one Node environment per test file. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/tests"],
  testMatch: ["**/*.test.ts"],
  // The suites against real counterparts run with `npm run test:real` (jest.real.config.js).
  testPathIgnorePatterns: ["/node_modules/", "<rootDir>/tests/real/"],
  transform: {
    "^.+\\.ts$": ["ts-jest", { tsconfig: "tsconfig.json", diagnostics: false }],
  },
  moduleFileExtensions: ["ts", "js", "json"],
  testTimeout: 120000,
  maxWorkers: 2,
};
