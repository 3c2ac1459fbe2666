import type { CodegenConfig } from "@graphql-codegen/cli";

/**
 * Client code generated from the API's contract (schema.graphql), the way client teams generate it:
 * `npx graphql-codegen --config codegen.ts` writes Apollo Client's `possibleTypes` (which concrete
 * types each interface and union of the schema has: without them InMemoryCache drops the fields
 * selected with `... on Error`) to dist/client/possible-types.json. test/clients/apollo.test.ts
 * generates this very target into a temporary folder and runs Apollo Client with the result.
 */
const config: CodegenConfig = {
  schema: "schema.graphql",
  generates: {
    "dist/client/possible-types.json": { plugins: ["fragment-matcher"] },
  },
};

export default config;
