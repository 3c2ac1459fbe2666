import { statSync } from "node:fs";
import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Cheap files first. A mutant that runs the whole suite (one reached while modules load: a schema, a label) stops at
 * its first failing test (Stryker bails), so the example tests should come before the property tests, which take
 * seconds each; vitest's own order runs the longest first.
 */
class CheapFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const cost = (file: TestSpecification) => (/propert/.test(file.moduleId) ? 1e9 : 0) + statSync(file.moduleId).size;
    return [...files].sort((a, b) => cost(a) - cost(b));
  }
}

/**
 * The unit tests that exercise src/domain, for mutation runs (stryker.config.mjs, `npm run test:mutation`).
 * test/unit/server and test/unit/services test other layers (one of them on a database), so they are left out, and
 * no global setup is needed: the domain's tests touch neither a database nor the environment.
 */
export default defineConfig({
  test: {
    include: ["test/unit/**/*.test.ts"],
    exclude: ["test/unit/server/**", "test/unit/services/**", "node_modules/**"],
    setupFiles: ["test/support/mutation-setup.ts"],
    sequence: { sequencer: CheapFirst },
    testTimeout: 60_000,
  },
});
