/**
 * Mutation testing of the domain (issue 20): `npm run test:mutation`. Every mutant of src/domain must be killed by a
 * unit test or marked equivalent in the source (`// Stryker disable next-line <mutator>: why`); docs/mutation-testing.md
 * records the scores. Too long for CI (about 20 minutes on 2 cores); run it when the domain or its tests change.
 *
 * @type {import("@stryker-mutator/api/core").PartialStrykerOptions}
 */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "vitest.mutation.config.ts" },
  mutate: ["src/domain/**/*.ts"],
  coverageAnalysis: "perTest",
  concurrency: 2,
  // a busy shared machine slows the property tests; a mutant must be clearly slower to count as a timeout
  timeoutMS: 20_000,
  reporters: ["clear-text", "progress", "json", "html"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  htmlReporter: { fileName: "reports/mutation/mutation.html" },
  thresholds: { high: 95, low: 90, break: 95 },
  tempDirName: ".stryker-tmp",
};
