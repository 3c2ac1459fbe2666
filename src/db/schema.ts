import { sql } from "drizzle-orm";
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  boolean,
  check,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  unique,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import type { ClientSettings, JourneyDocument } from "../domain/journey-document.js";

const createdAt = () => timestamp("created_at", { withTimezone: true, mode: "date" }).notNull().defaultNow();
/** The token an audit record was written with, beside its name. */
const authorToken = (name: string) => uuid(name).references(() => apiTokens.id);

export const organizations = pgTable("organizations", {
  id: uuid("id").primaryKey().defaultRandom(),
  name: text("name").notNull().unique(),
  createdAt: createdAt(),
  /**
   * Counts the organization's committed write transactions: each one raises it as its last
   * statement. A response computed at revision n is exact for as long as the revision is n.
   */
  revision: bigint("revision", { mode: "number" }).notNull().default(0),
  /**
   * Per table of the organization's data, the revision of the last committed write transaction that
   * wrote to it (a table never written is absent). A statement-level trigger on every table notes the
   * tables a transaction writes (migration 0015); raising the revision records them here, by the
   * organization's own trigger (migration 0016). A response
   * that read only tables whose entries are unchanged is still exact (src/server/response-cache.ts).
   */
  tableRevisions: jsonb("table_revisions").$type<Record<string, number>>().notNull().default({}),
});

export const apiTokens = pgTable(
  "api_tokens",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    /** Unique among the organization's active tokens: audit records name their author by it. */
    name: text("name").notNull(),
    role: text("role", { enum: ["VIEWER", "EDITOR", "PROMOTER", "ADMIN", "RUNTIME"] }).notNull(),
    /** The one environment a RUNTIME token reads (DESIGN.md §6); null for every other role. */
    environmentId: uuid("environment_id").references((): AnyPgColumn => environments.id),
    /** SHA-256 of the secret; the secret itself is shown once and never stored. */
    tokenHash: text("token_hash").notNull().unique(),
    createdAt: createdAt(),
    revokedAt: timestamp("revoked_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    index("api_tokens_organization_idx").on(t.organizationId),
    uniqueIndex("api_tokens_organization_active_name_unique").on(t.organizationId, t.name).where(sql`${t.revokedAt} is null`),
    check("api_tokens_runtime_environment", sql`(${t.role} = 'RUNTIME') = (${t.environmentId} is not null)`),
  ],
);

export const environments = pgTable(
  "environments",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    key: text("key").notNull(),
    name: text("name").notNull(),
    rank: integer("rank").notNull(),
    isProduction: boolean("is_production").notNull().default(false),
    editable: boolean("editable").notNull().default(false),
    /** Approval policy (DESIGN.md §8): with 1 or more, changes enter only through approved requests. */
    requiredApprovals: integer("required_approvals").notNull().default(0),
    allowSelfApproval: boolean("allow_self_approval").notNull().default(false),
    requireComment: boolean("require_comment").notNull().default(false),
    expiresAfterHours: integer("expires_after_hours").notNull().default(72),
    createdAt: createdAt(),
    /**
     * Set by deleteEnvironment (DESIGN.md §10): the environment leaves the pipeline, which closes up
     * around it; the row stays, so the history that names it (propagations, versions) keeps its name.
     */
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    unique("environments_organization_key_unique").on(t.organizationId, t.key),
    check("environments_required_approvals_range", sql`${t.requiredApprovals} between 0 and 10`),
    check("environments_expires_after_hours_range", sql`${t.expiresAfterHours} between 1 and 8760`),
    // Ranks are unique per organization by an exclusion constraint checked at commit
    // (environments_organization_rank_exclusive, migration 0005): drizzle cannot express it.
    check("environments_rank_non_negative", sql`${t.rank} >= 0`),
  ],
);

export const databases = pgTable(
  "databases",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    environmentId: uuid("environment_id")
      .notNull()
      .references(() => environments.id),
    name: text("name").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique("databases_organization_name_unique").on(t.organizationId, t.name),
    index("databases_environment_idx").on(t.environmentId),
  ],
);

export const applications = pgTable(
  "applications",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    name: text("name").notNull(),
    createdAt: createdAt(),
    /** Set by archiveApplication (DESIGN.md §10): hidden from lists and read-only until unarchived. */
    archivedAt: timestamp("archived_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    // One name per organization — as a partial index (its predicate always holds: `name` is NOT NULL)
    // so that `name` is not a key column: renaming takes the row FOR NO KEY UPDATE, which does not
    // block the foreign-key checks of rows naming the application — notifications written under the
    // organization's row (`atCommit`); a rename waiting for that row while holding a key lock
    // deadlocked with them (found by an attacking review).
    uniqueIndex("applications_organization_name_unique").on(t.organizationId, t.name).where(sql`${t.name} is not null`),
    // The lists' order, (name, id) per organization: a page is read from here, whatever the other
    // organizations hold. The unique index above cannot serve it: a query would have to repeat its
    // predicate, and PostgreSQL 17 and later drop `name is not null` from a query as always true
    // before they match partial indexes (the embedded PGlite, PostgreSQL 18, then scans the whole
    // table even so). Not unique, so `name` stays no key column.
    index("applications_organization_name_id_idx").on(t.organizationId, t.name, t.id),
  ],
);

export const clients = pgTable(
  "clients",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    applicationId: uuid("application_id")
      .notNull()
      .references(() => applications.id),
    environmentId: uuid("environment_id")
      .notNull()
      .references(() => environments.id),
    /** The generated OAuth client_id. */
    clientId: text("client_id").notNull().unique(),
    name: text("name").notNull(),
    databaseId: uuid("database_id")
      .notNull()
      .references(() => databases.id),
    redirectUris: jsonb("redirect_uris").$type<string[]>().notNull(),
    allowedOrigins: jsonb("allowed_origins").$type<string[]>().notNull(),
    /** Head of the shared settings: the current version's content, number and hash. */
    settings: jsonb("settings").$type<ClientSettings>().notNull(),
    settingsVersion: integer("settings_version").notNull(),
    settingsHash: text("settings_hash").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique("clients_application_environment_unique").on(t.applicationId, t.environmentId),
    index("clients_environment_idx").on(t.environmentId),
    // A database's clients (its deletion's IN_USE check): without it, every organization's clients
    // (migration 0019). No index by organization: reads go by application (the dashboard's, the
    // scan for references), and one would invite the planner to read an organization's every
    // client for a page of them when its statistics lag (docs/performance.md, 2026-12-07).
    index("clients_database_idx").on(t.databaseId),
  ],
);

const versionOrigin = ["SAVE", "PROPAGATION", "CLIENT_CREATION", "RESTORE", "REVERT"] as const;

export const clientSettingsVersions = pgTable(
  "client_settings_versions",
  {
    clientId: uuid("client_id")
      .notNull()
      .references(() => clients.id),
    version: integer("version").notNull(),
    /** Always version - 1 (null for version 1): with the foreign key below, numbers are gapless by construction. */
    previousVersion: integer("previous_version"),
    settings: jsonb("settings").$type<ClientSettings>().notNull(),
    hash: text("hash").notNull(),
    origin: text("origin", { enum: versionOrigin }).notNull(),
    savedAt: timestamp("saved_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** The token's name as it was. */
    savedBy: text("saved_by").notNull(),
    /** The token itself (names repeat once a token is revoked); null for versions written before it was kept. */
    savedByTokenId: authorToken("saved_by_token_id"),
    comment: text("comment"),
  },
  (t) => [
    primaryKey({ name: "client_settings_versions_pk", columns: [t.clientId, t.version] }),
    check(
      "client_settings_versions_gapless",
      sql`(${t.version} = 1 and ${t.previousVersion} is null) or ${t.previousVersion} = ${t.version} - 1`,
    ),
    foreignKey({
      name: "client_settings_versions_previous_fk",
      columns: [t.clientId, t.previousVersion],
      foreignColumns: [t.clientId, t.version],
    }),
  ],
);

export const journeys = pgTable(
  "journeys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    applicationId: uuid("application_id")
      .notNull()
      .references(() => applications.id),
    key: text("key").notNull(),
    name: text("name").notNull(),
    type: text("type", { enum: ["LOGIN", "REGISTRATION", "PROFILE_UPDATE", "PASSWORD_RECOVERY"] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [unique("journeys_application_key_unique").on(t.applicationId, t.key)],
);

export const journeyVersions = pgTable(
  "journey_versions",
  {
    journeyId: uuid("journey_id")
      .notNull()
      .references(() => journeys.id),
    environmentId: uuid("environment_id")
      .notNull()
      .references(() => environments.id),
    version: integer("version").notNull(),
    /** Always version - 1 (null for version 1): with the foreign key below, numbers are gapless by construction. */
    previousVersion: integer("previous_version"),
    document: jsonb("document").$type<JourneyDocument>().notNull(),
    hash: text("hash").notNull(),
    origin: text("origin", { enum: versionOrigin }).notNull(),
    savedAt: timestamp("saved_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** The token's name as it was. */
    savedBy: text("saved_by").notNull(),
    /** The token itself (names repeat once a token is revoked); null for versions written before it was kept. */
    savedByTokenId: authorToken("saved_by_token_id"),
    comment: text("comment"),
    /**
     * A tombstone (DESIGN.md §10): the journey was retired here with this version, which keeps the
     * document it retired. No head points at a tombstone: where it is the last version, the journey
     * has no configuration.
     */
    retired: boolean("retired").notNull().default(false),
  },
  (t) => [
    primaryKey({ name: "journey_versions_pk", columns: [t.journeyId, t.environmentId, t.version] }),
    check("journey_versions_gapless", sql`(${t.version} = 1 and ${t.previousVersion} is null) or ${t.previousVersion} = ${t.version} - 1`),
    foreignKey({
      name: "journey_versions_previous_fk",
      columns: [t.journeyId, t.environmentId, t.previousVersion],
      foreignColumns: [t.journeyId, t.environmentId, t.version],
    }),
  ],
);

/** The current version of a journey in an environment; absent where the journey does not exist there. */
export const journeyHeads = pgTable(
  "journey_heads",
  {
    journeyId: uuid("journey_id")
      .notNull()
      .references(() => journeys.id),
    environmentId: uuid("environment_id")
      .notNull()
      .references(() => environments.id),
    version: integer("version").notNull(),
    hash: text("hash").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ name: "journey_heads_pk", columns: [t.journeyId, t.environmentId] }),
    foreignKey({
      name: "journey_heads_version_fk",
      columns: [t.journeyId, t.environmentId, t.version],
      foreignColumns: [journeyVersions.journeyId, journeyVersions.environmentId, journeyVersions.version],
    }),
    index("journey_heads_environment_idx").on(t.environmentId),
  ],
);

/** Pending edits of one journey in one editable environment ("Save changes" writes here). */
export const journeyDrafts = pgTable(
  "journey_drafts",
  {
    journeyId: uuid("journey_id")
      .notNull()
      .references(() => journeys.id),
    environmentId: uuid("environment_id")
      .notNull()
      .references(() => environments.id),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    /** The head version the draft was started from; saving requires the head to still be there. */
    baseVersion: integer("base_version").notNull(),
    /** Number of edits so far (0 before the first is applied); a save names the revision that was reviewed. */
    revision: integer("revision").notNull(),
    document: jsonb("document").$type<JourneyDocument>().notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
    /** The token's name as it was. */
    updatedBy: text("updated_by").notNull(),
    /** The token itself; null for drafts last edited before it was kept. */
    updatedByTokenId: authorToken("updated_by_token_id"),
    /** The version restoreJourneyVersion made this draft from; null once the draft is edited otherwise. */
    restoredFromVersion: integer("restored_from_version"),
  },
  (t) => [
    primaryKey({ name: "journey_drafts_pk", columns: [t.journeyId, t.environmentId] }),
    check("journey_drafts_revision_non_negative", sql`${t.revision} >= 0`),
    // An organization's drafts (the scan for variable references): few per organization, so a plan
    // that goes by it when the statistics lag reads a few rows, not every organization's (migration 0019).
    index("journey_drafts_organization_idx").on(t.organizationId),
  ],
);

/** One item of a propagation: a change exactly as it was applied. */
export interface PropagationItem {
  id: string;
  path: string;
  kind: "ADDED" | "REMOVED" | "MODIFIED";
  summary: string;
  journeyKey: string | null;
  journeyId: string | null;
  stepKey: string | null;
  oldValue: unknown;
  newValue: unknown;
  /** For a step the propagation removed: its journey's order in the target before (absent in rows written before 2026-12). */
  oldOrder?: string[];
  requires: string[];
  bundleId: string;
}

/** The audit record of a propagation, written in the transaction that applied it. */
export const propagations = pgTable(
  "propagations",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    applicationId: uuid("application_id")
      .notNull()
      .references(() => applications.id),
    fromEnvironmentId: uuid("from_environment_id")
      .notNull()
      .references(() => environments.id),
    toEnvironmentId: uuid("to_environment_id")
      .notNull()
      .references(() => environments.id),
    mode: text("mode", { enum: ["PROMOTE_NOW", "REVIEWED", "REVERT", "APPROVED_REQUEST"] }).notNull(),
    /** The propagation this one reverts (mode REVERT, or an approved request to revert it). */
    revertOfId: uuid("revert_of_id").references((): AnyPgColumn => propagations.id),
    /** The approved request this propagation executed (mode APPROVED_REQUEST). */
    promotionRequestId: uuid("promotion_request_id").references((): AnyPgColumn => promotionRequests.id),
    items: jsonb("items").$type<PropagationItem[]>().notNull(),
    /** Required ids added because the caller asked for them (`includeRequired`). */
    addedChangeIds: jsonb("added_change_ids").$type<string[]>().notNull(),
    comment: text("comment"),
    /** The token's name as it was. */
    actor: text("actor").notNull(),
    /** The token itself; null for propagations recorded before it was kept. */
    actorTokenId: authorToken("actor_token_id"),
    /** Scripts retry with the same key: the first call's record is returned, nothing applied again. */
    idempotencyKey: text("idempotency_key"),
    /** Hash of the request a key was first used with: the same key with another request is refused. */
    requestHash: text("request_hash"),
    /**
     * In milliseconds, as JavaScript dates and the history's cursors hold it: a cursor names the
     * exact time stored, so paging neither repeats nor skips a row written in the same millisecond.
     */
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date", precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    unique("propagations_organization_idempotency_key_unique").on(t.organizationId, t.idempotencyKey),
    index("propagations_application_created_idx").on(t.applicationId, t.createdAt),
    index("propagations_organization_created_idx").on(t.organizationId, t.createdAt),
    index("propagations_revert_of_idx").on(t.revertOfId),
    check(
      "propagations_revert_mode",
      sql`(${t.mode} <> 'REVERT' or ${t.revertOfId} is not null) and (${t.revertOfId} is null or ${t.mode} in ('REVERT', 'APPROVED_REQUEST'))`,
    ),
    check("propagations_request_mode", sql`(${t.mode} = 'APPROVED_REQUEST') = (${t.promotionRequestId} is not null)`),
    uniqueIndex("propagations_promotion_request_unique").on(t.promotionRequestId),
  ],
);

/**
 * A promotion request (DESIGN.md §8): a plan of changes into an environment whose policy requires
 * approvals, applied only once approved, exactly as planned. The policy it was made under is kept
 * with it: a later change of policy does not move the goalposts of an open request.
 */
export const promotionRequests = pgTable(
  "promotion_requests",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    applicationId: uuid("application_id")
      .notNull()
      .references(() => applications.id),
    fromEnvironmentId: uuid("from_environment_id")
      .notNull()
      .references(() => environments.id),
    toEnvironmentId: uuid("to_environment_id")
      .notNull()
      .references(() => environments.id),
    /** The journey the plan was limited to, if any. */
    journeyId: uuid("journey_id").references(() => journeys.id),
    /** A request to revert this propagation (in part). */
    revertOfId: uuid("revert_of_id").references((): AnyPgColumn => propagations.id),
    status: text("status", { enum: ["PENDING", "APPROVED", "REJECTED", "EXECUTED", "STALE", "CANCELLED", "EXPIRED"] }).notNull(),
    /** The planned changes, with old and new values, as they were validated. */
    changes: jsonb("changes").$type<PropagationItem[]>().notNull(),
    /** SHA-256 over the sorted change ids: what reviewers approve. */
    planHash: text("plan_hash").notNull(),
    addedChangeIds: jsonb("added_change_ids").$type<string[]>().notNull(),
    comment: text("comment"),
    requestedBy: text("requested_by").notNull(),
    requestedByTokenId: authorToken("requested_by_token_id").notNull(),
    requiredApprovals: integer("required_approvals").notNull(),
    allowSelfApproval: boolean("allow_self_approval").notNull(),
    requireComment: boolean("require_comment").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date", precision: 3 }).notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true, mode: "date", precision: 3 }).notNull(),
  },
  (t) => [
    index("promotion_requests_organization_created_idx").on(t.organizationId, t.createdAt),
    index("promotion_requests_open_expiry_idx").on(t.organizationId, t.expiresAt).where(sql`${t.status} in ('PENDING', 'APPROVED')`),
    check("promotion_requests_required_approvals_range", sql`${t.requiredApprovals} between 0 and 10`),
  ],
);

/** A reviewer's decision on a request, for the plan hash they saw; one per reviewer token and request. */
export const promotionReviews = pgTable(
  "promotion_reviews",
  {
    /** Internal, never shown: orders a request's reviews as they were recorded. */
    id: bigserial("id", { mode: "number" }).primaryKey(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    requestId: uuid("request_id")
      .notNull()
      .references(() => promotionRequests.id),
    reviewer: text("reviewer").notNull(),
    reviewerTokenId: authorToken("reviewer_token_id").notNull(),
    decision: text("decision", { enum: ["APPROVED", "REJECTED"] }).notNull(),
    comment: text("comment"),
    planHash: text("plan_hash").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true, mode: "date", precision: 3 }).notNull(),
  },
  (t) => [unique("promotion_reviews_request_reviewer_unique").on(t.requestId, t.reviewerTokenId)],
);

/**
 * A persisted event: a promotion request changed status. Numbered per organization like sync
 * notifications (`seq`, gapless, assigned under the organization's row lock as the transaction
 * commits: `atCommit`), and delivered and resumed by the same machinery.
 */
export const promotionRequestEvents = pgTable(
  "promotion_request_events",
  {
    /** Internal: shared by all organizations, never shown. */
    id: bigserial("id", { mode: "number" }).primaryKey(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    seq: bigint("seq", { mode: "number" }).notNull(),
    requestId: uuid("request_id")
      .notNull()
      .references(() => promotionRequests.id),
    applicationId: uuid("application_id")
      .notNull()
      .references(() => applications.id),
    /** The request's target. */
    environmentId: uuid("environment_id")
      .notNull()
      .references(() => environments.id),
    status: text("status", { enum: ["PENDING", "APPROVED", "REJECTED", "EXECUTED", "STALE", "CANCELLED", "EXPIRED"] }).notNull(),
    /** Who moved it: a token's name, or `system` for an expiry. */
    actor: text("actor").notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true, mode: "date", precision: 3 }).notNull(),
  },
  (t) => [unique("promotion_request_events_organization_seq_unique").on(t.organizationId, t.seq)],
);

/**
 * A persisted event: the sync status (or its content) of a journey — or of the client settings when
 * `journeyId` is null — in an environment changed. Rows of one organization are inserted under its
 * row's lock, held to commit (`atCommit`), so commit order is `seq` order (and `id` order) and a
 * subscriber resuming after a cursor can miss nothing.
 */
export const syncNotifications = pgTable(
  "sync_notifications",
  {
    /** Internal: shared by all organizations, so never shown (its gaps would show other tenants' activity). */
    id: bigserial("id", { mode: "number" }).primaryKey(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    /** 1, 2, 3… per organization, without gaps: the cursor and the ID clients see. */
    seq: bigint("seq", { mode: "number" }).notNull(),
    applicationId: uuid("application_id")
      .notNull()
      .references(() => applications.id),
    journeyId: uuid("journey_id").references(() => journeys.id),
    environmentId: uuid("environment_id")
      .notNull()
      .references(() => environments.id),
    sourceEnvironmentId: uuid("source_environment_id")
      .notNull()
      .references(() => environments.id),
    status: text("status", { enum: ["IN_SYNC", "OUT_OF_SYNC", "NOT_CREATED"] }).notNull(),
    message: text("message").notNull(),
    changeCount: integer("change_count").notNull(),
    occurredAt: timestamp("occurred_at", { withTimezone: true, mode: "date" }).notNull().defaultNow(),
  },
  (t) => [unique("sync_notifications_organization_seq_unique").on(t.organizationId, t.seq)],
);

export const variableKinds = ["STRING", "NUMBER", "BOOLEAN", "URL", "JSON", "SECRET"] as const;

/**
 * An organization-wide variable (DESIGN.md §6): a key and a kind, a value per environment in
 * `variable_values`. Deleting one keeps its row (and its values' history) with `deleted_at`, so its
 * key can be used again.
 */
export const variables = pgTable(
  "variables",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    key: text("key").notNull(),
    kind: text("kind", { enum: variableKinds }).notNull(),
    description: text("description"),
    createdAt: createdAt(),
    deletedAt: timestamp("deleted_at", { withTimezone: true, mode: "date" }),
  },
  (t) => [
    uniqueIndex("variables_organization_active_key_unique").on(t.organizationId, t.key).where(sql`${t.deletedAt} is null`),
    index("variables_organization_idx").on(t.organizationId),
  ],
);

/**
 * A variable's value in one environment. A SECRET's plaintext is never stored: `ciphertext`
 * (AES-256-GCM under the key `key_id` names, bound to the variable and environment) and its
 * `fingerprint`; every other kind keeps `value` and no ciphertext.
 */
export const variableValues = pgTable(
  "variable_values",
  {
    variableId: uuid("variable_id")
      .notNull()
      .references(() => variables.id),
    environmentId: uuid("environment_id")
      .notNull()
      .references(() => environments.id),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    value: jsonb("value").$type<unknown>(),
    ciphertext: text("ciphertext"),
    keyId: text("key_id"),
    fingerprint: text("fingerprint"),
    /** 1, 2, 3… per variable and environment, across removals (the history's numbers). */
    version: integer("version").notNull(),
    updatedAt: timestamp("updated_at", { withTimezone: true, mode: "date", precision: 3 }).notNull().defaultNow(),
    updatedBy: text("updated_by").notNull(),
    updatedByTokenId: authorToken("updated_by_token_id"),
  },
  (t) => [
    primaryKey({ name: "variable_values_pk", columns: [t.variableId, t.environmentId] }),
    index("variable_values_organization_idx").on(t.organizationId),
    check(
      "variable_values_secret_sealed",
      sql`(${t.ciphertext} is null) = (${t.keyId} is null) and (${t.ciphertext} is null) = (${t.fingerprint} is null)`,
    ),
  ],
);

/** Every change of a variable's value, newest last: a SECRET's as its fingerprint only. */
export const variableValueChanges = pgTable(
  "variable_value_changes",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    variableId: uuid("variable_id")
      .notNull()
      .references(() => variables.id),
    environmentId: uuid("environment_id")
      .notNull()
      .references(() => environments.id),
    version: integer("version").notNull(),
    value: jsonb("value").$type<unknown>(),
    fingerprint: text("fingerprint"),
    removed: boolean("removed").notNull(),
    actor: text("actor").notNull(),
    actorTokenId: authorToken("actor_token_id"),
    occurredAt: timestamp("occurred_at", { withTimezone: true, mode: "date", precision: 3 }).notNull().defaultNow(),
  },
  (t) => [
    unique("variable_value_changes_version_unique").on(t.variableId, t.environmentId, t.version),
    index("variable_value_changes_variable_idx").on(t.variableId, t.id),
  ],
);

/**
 * One audit event (DESIGN.md §10): who (token id and name), what (the action), which object (its
 * global ID), when, and a redacted summary (secrets as fingerprints or keys, never values). Written
 * in the transaction of what it records; the runtime's reads of configurations are recorded here.
 */
export const auditEvents = pgTable(
  "audit_events",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    organizationId: uuid("organization_id")
      .notNull()
      .references(() => organizations.id),
    action: text("action").notNull(),
    subjectId: text("subject_id"),
    actor: text("actor").notNull(),
    actorTokenId: authorToken("actor_token_id"),
    occurredAt: timestamp("occurred_at", { withTimezone: true, mode: "date", precision: 3 }).notNull().defaultNow(),
    summary: jsonb("summary").$type<Record<string, unknown>>().notNull(),
  },
  (t) => [
    index("audit_events_organization_occurred_idx").on(t.organizationId, t.occurredAt),
    // auditLog(subjectId:): the history of one object.
    index("audit_events_subject_idx").on(t.organizationId, t.subjectId, t.occurredAt),
  ],
);
