import { readFileSync } from "node:fs";
import { type OperationDefinitionNode, parse } from "graphql";

/** One GraphQL operation of README.md, exactly as written there. */
export interface ReadmeOperation {
  name: string;
  kind: OperationDefinitionNode["operation"];
  /** The operation's text as the README shows it (one definition). */
  source: string;
  /** The names of the variables it declares. */
  variables: string[];
}

const readme = () => readFileSync(new URL("../../README.md", import.meta.url), "utf8");

/** Every operation of the README's ```graphql blocks, in the order they appear. */
export function readmeOperations(): ReadmeOperation[] {
  const blocks = [...readme().matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.flatMap((block) =>
    parse(block).definitions.map((definition) => {
      if (definition.kind !== "OperationDefinition") throw new Error(`README: a graphql block holds a ${definition.kind}`);
      return {
        name: definition.name?.value ?? "",
        kind: definition.operation,
        source: block.slice(definition.loc!.start, definition.loc!.end),
        variables: (definition.variableDefinitions ?? []).map((v) => v.variable.name.value),
      };
    }),
  );
}

/**
 * The GraphQL documents the README's shell examples send (`curl … -d '{"query": …}'` in ```sh
 * blocks): the JSON body each sends, parsed.
 */
export function readmeShellRequests(): { query: string; variables?: Record<string, unknown> }[] {
  const blocks = [...readme().matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.flatMap((block) =>
    [...block.replace(/\\\n\s*/g, " ").matchAll(/-d '(\{[\s\S]*?\})'/g)].map((m) => JSON.parse(m[1]) as { query: string }),
  );
}
