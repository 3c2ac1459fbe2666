import { z } from "zod";
import { type SecretKey, secretKeyFromBase64 } from "../domain/secret-box.js";
import { loadPersistedDocuments, type PersistedDocuments } from "./persisted-documents.js";

const booleanFlag = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");

/** `https://app.example.com` or `http://localhost:3000`: what a browser sends in `Origin`. */
function isOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === "http:" || url.protocol === "https:") && url.origin === value;
  } catch {
    return false;
  }
}

const settingsSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  HOST: z.string().default("0.0.0.0"),
  DATABASE_URL: z.string().url().optional(),
  DATA_DIR: z.string().default("./data"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  SEED_DEMO: booleanFlag.default(true),
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  INTROSPECTION: booleanFlag.default(true),
  RESPONSE_CACHE: booleanFlag.default(true),
  CORS_ORIGINS: z
    .string()
    .transform((value, context) => {
      const origins = value
        .split(",")
        .map((origin) => origin.trim())
        .filter((origin) => origin !== "");
      for (const origin of origins.filter((o) => !isOrigin(o))) {
        context.addIssue({
          code: "custom",
          message: `"${origin}" is not an origin: write scheme://host[:port], no path, no trailing slash`,
        });
      }
      return origins;
    })
    .default([]),
  PERSISTED_DOCUMENTS: z.string().optional(),
  PERSISTED_DOCUMENTS_ONLY: booleanFlag.default(false),
  SECRETS_KEY: z.string().optional(),
  SECRETS_KEY_PREVIOUS: z.string().optional(),
});

export interface Settings {
  port: number;
  host: string;
  /** PostgreSQL server; absent: the embedded database in `dataDir`. */
  databaseUrl?: string;
  dataDir: string;
  logLevel: z.infer<typeof settingsSchema>["LOG_LEVEL"];
  /** Seed the demo organization on an empty database. */
  seedDemo: boolean;
  databasePoolSize: number;
  /** Answer introspection queries (turn off in production). */
  introspection: boolean;
  /** Cache query responses (exact: a write to a table a response read ends it, src/server/response-cache.ts). */
  responseCache: boolean;
  /** Origins browsers may call the API from (CORS); empty: none. */
  corsOrigins: string[];
  /** The persisted documents manifest and whether only its documents execute; absent: no manifest. */
  persistedDocuments?: PersistedDocuments;
  /** The key secrets are sealed with (SECRETS_KEY); absent: the embedded database's key file (src/server/secret-keys.ts). */
  secretsKey?: SecretKey;
  /** An earlier key, to open what it sealed until `npm run secrets:rotate` re-sealed it (SECRETS_KEY_PREVIOUS). */
  secretsKeyPrevious?: SecretKey;
}

/** Configuration from environment variables; an invalid value stops the process with a clear message. */
export function loadSettings(env: NodeJS.ProcessEnv): Settings {
  const parsed = settingsSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== "")));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const s = parsed.data;
  if (s.PERSISTED_DOCUMENTS_ONLY && !s.PERSISTED_DOCUMENTS) {
    throw new Error(
      "Invalid configuration:\n  PERSISTED_DOCUMENTS_ONLY: needs PERSISTED_DOCUMENTS (the manifest of the documents to execute)",
    );
  }
  let persistedDocuments: PersistedDocuments | undefined;
  if (s.PERSISTED_DOCUMENTS) {
    try {
      persistedDocuments = { byId: loadPersistedDocuments(s.PERSISTED_DOCUMENTS), only: s.PERSISTED_DOCUMENTS_ONLY };
    } catch (error) {
      throw new Error(`Invalid configuration:\n  PERSISTED_DOCUMENTS: ${(error as Error).message}`);
    }
  }
  // A key's problem is stated without the key.
  const key = (name: "SECRETS_KEY" | "SECRETS_KEY_PREVIOUS") => {
    const text = s[name];
    if (text === undefined) return undefined;
    try {
      return secretKeyFromBase64(text, name);
    } catch (error) {
      throw new Error(`Invalid configuration:\n  ${(error as Error).message}`);
    }
  };
  return {
    port: s.PORT,
    host: s.HOST,
    databaseUrl: s.DATABASE_URL,
    dataDir: s.DATA_DIR,
    logLevel: s.LOG_LEVEL,
    seedDemo: s.SEED_DEMO,
    databasePoolSize: s.DATABASE_POOL_SIZE,
    introspection: s.INTROSPECTION,
    responseCache: s.RESPONSE_CACHE,
    corsOrigins: s.CORS_ORIGINS,
    persistedDocuments,
    secretsKey: key("SECRETS_KEY"),
    secretsKeyPrevious: key("SECRETS_KEY_PREVIOUS"),
  };
}
