import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { PossibleTypesMap } from "@apollo/client";
import { type CodegenConfig, generate } from "@graphql-codegen/cli";
import config from "../../codegen.js";

/** The repository's root: codegen reads `schema.graphql` from there, as `npx graphql-codegen` does. */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** Runs graphql-codegen's programmatic API on `config` in the repository root, writing to files. */
export async function runCodegen(options: CodegenConfig): Promise<void> {
  await generate({ ...options, cwd: ROOT, silent: true }, true);
}

/**
 * Apollo Client's `possibleTypes`, generated as documented: the repository's codegen.ts (the
 * fragment-matcher plugin over schema.graphql), its output redirected to a temporary folder, so
 * the map a test runs with is never stale.
 */
export async function generatedPossibleTypes(): Promise<PossibleTypesMap> {
  const dir = mkdtempSync(join(tmpdir(), "possible-types-"));
  try {
    const generates = Object.fromEntries(Object.entries(config.generates).map(([path, target]) => [join(dir, basename(path)), target]));
    await runCodegen({ ...config, generates });
    const [file] = Object.keys(generates);
    return (JSON.parse(readFileSync(file, "utf8")) as { possibleTypes: PossibleTypesMap }).possibleTypes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
