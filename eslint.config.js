// graphql-eslint's schema rules on the printed schema (schema.graphql) only; Biome lints the TypeScript.
// Deviations from flat/schema-recommended + flat/schema-relay are each tied to /work/shared/DESIGN.md (the binding contract).
import graphqlPlugin from "@graphql-eslint/eslint-plugin";

export default [
  {
    files: ["schema.graphql"],
    languageOptions: {
      parser: graphqlPlugin.parser,
      parserOptions: { graphQLConfig: { schema: "schema.graphql" } },
    },
    plugins: { "@graphql-eslint": graphqlPlugin },
    rules: {
      ...graphqlPlugin.configs["flat/schema-recommended"].rules,
      ...graphqlPlugin.configs["flat/schema-relay"].rules,
      // DESIGN §9 binds the object type StepType: the "Type" suffix is allowed, the rest of the recommended options stay.
      "@graphql-eslint/naming-convention": [
        "error",
        {
          ...graphqlPlugin.configs["flat/schema-recommended"].rules["@graphql-eslint/naming-convention"][1],
          "ObjectTypeDefinition,ObjectTypeExtension": { forbiddenPrefixes: ["Type"] },
        },
      ],
      // DESIGN §4 binds Client.clientId (the OAuth client_id); the rule has no options, so it is off.
      "@graphql-eslint/no-typename-prefix": "off",
      // DESIGN §4/§6/§8/§10 bind plain lists (environments, clients, journeys, changes, steps, ...); only connections need edges.
      "@graphql-eslint/relay-edge-types": ["error", { listTypeCanWrapOnlyEdgeType: false }],
      // Entities implement Node (§4, §9); results, errors, pages and value objects the contract defines without an id are exempt.
      "@graphql-eslint/strict-id-in-types": [
        "error",
        {
          acceptedIdNames: ["id"],
          acceptedIdTypes: ["ID"],
          exceptions: {
            // §4 "<Mutation>Success" and typed "...Error" types; Relay "...Connection"/"...Edge" wrappers.
            suffixes: ["Success", "Error", "Connection", "Edge"],
            types: [
              // §4
              "Viewer",
              "PageInfo",
              "JourneyStep",
              "StepTransition",
              "JourneySyncState",
              "ConfigurationDiff",
              "ClientCreationPlan",
              "MappingNote",
              "Problem",
              // §6
              "VariableValue",
              "VariableValueChange",
              "VariableReference",
              "MissingVariable",
              "RuntimeConfiguration",
              // §7
              "RevertPreview",
              "RevertConflict",
              // §8 (PromotionRequestEvent has a cursor, not an id)
              "ApprovalPolicy",
              "PromotionReview",
              "PromotionRequestEvent",
              // §9
              "StepType",
            ],
          },
        },
      ],
    },
  },
];
