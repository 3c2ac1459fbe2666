import { readFileSync } from "node:fs";
import { usePersistedOperations } from "@graphql-yoga/plugin-persisted-operations";
import { GraphQLError, parse } from "graphql";
import type { Plugin } from "graphql-yoga";

/**
 * Persisted documents: the manifest graphql-codegen's client preset emits with `persistedDocuments:
 * true` (`persisted-documents.json`, `{ "sha256:<hex>": "<document>" }`), loaded at start from
 * PERSISTED_DOCUMENTS. A request names a document by `documentId` (GraphQL over HTTP's persisted
 * documents) or by `extensions.persistedQuery.sha256Hash` (Apollo's persisted queries) instead of
 * sending its text; with PERSISTED_DOCUMENTS_ONLY nothing else executes.
 */
export interface PersistedDocuments {
  /** Document text by id; a `sha256:<hex>` id is kept as its hex, which is what Apollo's link sends. */
  readonly byId: ReadonlyMap<string, string>;
  /** Refuse every document that is not in the manifest. */
  readonly only: boolean;
}

/** The message Apollo's persisted-query link recognizes: it then sends the text (refused when `only`). */
export const PERSISTED_DOCUMENT_NOT_FOUND = "PersistedQueryNotFound";

const SHA256_ID = /^sha256:([0-9a-f]{64})$/i;

/** `sha256:<hex>` and `<hex>` name the same document. */
const normalizedId = (id: string) => (SHA256_ID.exec(id)?.[1] ?? id).toLowerCase();

/**
 * Reads and checks a manifest: a JSON object of ids to document texts, each of which parses. Throws
 * an Error saying what is wrong with the file (the settings turn it into a refusal to start).
 */
export function loadPersistedDocuments(file: string): Map<string, string> {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new Error(`cannot read ${file}: ${(error as Error).message}`);
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file} is not JSON: ${(error as Error).message}`);
  }
  if (manifest === null || typeof manifest !== "object" || Array.isArray(manifest)) {
    throw new Error(`${file} must be a JSON object { "<hash>": "<document>" } (graphql-codegen's persisted-documents.json)`);
  }
  const byId = new Map<string, string>();
  for (const [id, document] of Object.entries(manifest)) {
    if (id.trim() === "" || typeof document !== "string") {
      throw new Error(`${file}: every entry must be "<hash>": "<document text>" (entry ${JSON.stringify(id)} is not)`);
    }
    try {
      parse(document);
    } catch (error) {
      throw new Error(`${file}: the document ${JSON.stringify(id)} does not parse: ${(error as Error).message}`);
    }
    byId.set(normalizedId(id), document);
  }
  return byId;
}

/** The persisted document a request names: its `documentId`, else Apollo's `extensions.persistedQuery.sha256Hash`. */
export function persistedDocumentIdOf(params: { documentId?: unknown; extensions?: unknown }): string | null {
  if (typeof params.documentId === "string") return normalizedId(params.documentId);
  const persistedQuery = (params.extensions as { persistedQuery?: { sha256Hash?: unknown } } | null | undefined)?.persistedQuery;
  if (typeof persistedQuery?.sha256Hash === "string") return normalizedId(persistedQuery.sha256Hash);
  return null;
}

const notFound = () =>
  new GraphQLError(PERSISTED_DOCUMENT_NOT_FOUND, {
    extensions: { code: "PERSISTED_DOCUMENT_NOT_FOUND" },
  });

const onlyPersisted = () =>
  new GraphQLError("Only persisted documents are executed here: send a documentId from the manifest instead of the document", {
    extensions: { code: "PERSISTED_DOCUMENTS_ONLY", http: { status: 400, spec: true } },
  });

const missingDocument = () =>
  new GraphQLError("Send a query or the documentId of a persisted document", {
    extensions: { code: "BAD_REQUEST", http: { status: 400, spec: true } },
  });

/**
 * Over HTTP (yoga's persisted-operations plugin, before anything is parsed): a request with a text
 * runs it (unless `only`); one with an id runs the manifest's document, or is refused with
 * PERSISTED_DOCUMENT_NOT_FOUND.
 */
export function usePersistedDocuments({ byId, only }: PersistedDocuments): Plugin {
  return usePersistedOperations({
    allowArbitraryOperations: !only,
    extractPersistedOperationId: (params) => persistedDocumentIdOf(params as Parameters<typeof persistedDocumentIdOf>[0]),
    getPersistedOperation: (id) => byId.get(id) ?? null,
    customErrors: { notFound, persistedQueryOnly: onlyPersisted, keyNotFound: missingDocument },
  }) as Plugin;
}

/**
 * The same rules for the transports that do not go through yoga's parameters (graphql-ws, SSE in
 * single-connection mode): the document text to run, or the refusal.
 */
export function documentToRun({ byId, only }: PersistedDocuments, params: { query?: unknown; documentId?: unknown; extensions?: unknown }) {
  if (typeof params.query === "string" && params.query !== "") return only ? onlyPersisted() : params.query;
  const id = persistedDocumentIdOf(params);
  if (id === null) return missingDocument();
  return byId.get(id) ?? notFound();
}
