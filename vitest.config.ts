import { createRequire } from "node:module";
import { defineConfig } from "vitest/config";

const require = createRequire(import.meta.url);

export default defineConfig({
  resolve: {
    // Node loads graphql's CommonJS build for our dependencies (Pothos, yoga); our own code must get the
    // same instance, not Vite's pick of the ESM build, or graphql refuses types "from another realm".
    alias: [{ find: /^graphql$/, replacement: require.resolve("graphql") }],
  },
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/bench/**", "node_modules/**"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Three files at a time on this 2-core machine (vitest's default is one fewer than the cores): most
    // tests wait on servers, databases and child processes, and the suite takes ~6 min instead of ~10.
    maxWorkers: 3,
    // One module graph per worker, so the worker's database (PGlite takes seconds to start) is shared by its files.
    isolate: false,
  },
});
