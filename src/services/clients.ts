import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { Db } from "../db/client.js";
import {
  appendClientSettingsVersion,
  deleteClientRow,
  findClientsByApplicationIds,
  findClientsByIds,
  insertClient,
  lockClient,
  updateClientFields,
} from "../db/repositories/clients.js";
import { deleteDrafts } from "../db/repositories/drafts.js";
import { findDatabasesByEnvironmentIds, listEnvironments, lockDatabase } from "../db/repositories/environments.js";
import {
  appendVersion,
  deleteHeads,
  findHeadVersions,
  findJourneysByApplicationIds,
  lastVersionNumbers,
} from "../db/repositories/journeys.js";
import { findOpenRequestsOf } from "../db/repositories/promotion-requests.js";
import type { ApplicationRow, ClientRow, DatabaseRow, EnvironmentRow } from "../db/repositories/rows.js";
import { canonicalHash } from "../domain/canonical-json.js";
import { DEFAULT_CLIENT_SETTINGS, mergeClientSettings } from "../domain/client-settings.js";
import {
  AlreadyExistsError,
  EnvironmentLockedError,
  ForbiddenError,
  InUseError,
  InvalidConfigurationError,
  MissingVariablesError,
  NotFoundError,
  ValidationError,
} from "../domain/errors.js";
import { isUuid } from "../domain/uuid.js";
import { type Actor, hasRole, savedBy } from "./actor.js";
import { audit } from "./audit.js";
import { inputs, parseInput } from "./input.js";
import { lockConfigurations } from "./locks.js";
import { applicationOf, environmentForWrite, environmentOf, writableApplication } from "./lookups.js";
import { noApprovalsCheck } from "./propagations.js";
import { withSyncNotifications } from "./sync-notifications.js";
import { inTransaction, uniqueAs } from "./transaction.js";
import { checkVariablesIn } from "./variables.js";

const url = (what: string, check: (u: URL) => boolean, hint: string) =>
  z
    .string()
    .max(2000, "must be at most 2000 characters")
    .refine((value) => {
      try {
        return check(new URL(value));
      } catch {
        return false;
      }
    }, `must be ${what} (${hint})`);

const isWebScheme = (u: URL) =>
  u.protocol === "https:" || (u.protocol === "http:" && ["localhost", "127.0.0.1", "[::1]"].includes(u.hostname));

const createClientInput = z.object({
  applicationId: z.string(),
  environmentId: z.string(),
  databaseId: z.string(),
  name: inputs.optional(inputs.name(200)),
  redirectUris: z
    .array(url("an absolute URL", (u) => isWebScheme(u) && !u.hash, "https, or http on localhost; no fragment"))
    .max(100, "must have at most 100 entries"),
  allowedOrigins: z
    .array(url("an origin", (u) => isWebScheme(u), "scheme, host and optional port").transform((o) => new URL(o).origin))
    .max(100, "must have at most 100 entries"),
});

export type CreateClientInput = z.input<typeof createClientInput>;

/** The environments below `environment`, nearest first. */
function lowerEnvironments(all: EnvironmentRow[], environment: EnvironmentRow): EnvironmentRow[] {
  return all.filter((e) => e.rank < environment.rank).sort((a, b) => b.rank - a.rank);
}

/** The nearest lower environment where the application has a client: where a new client copies from. */
export function creationSource(all: EnvironmentRow[], clients: ClientRow[], environment: EnvironmentRow) {
  for (const lower of lowerEnvironments(all, environment)) {
    const client = clients.find((c) => c.environmentId === lower.id);
    if (client) return { environment: lower, client };
  }
  return null;
}

/** The database a client names, which must be one of the client's environment. */
/** The database a client is put on, locked shared until commit: its deletion waits, then sees the client (IN_USE). */
async function databaseIn(tx: Db, actor: Actor, id: string, environment: EnvironmentRow): Promise<DatabaseRow> {
  const database = isUuid(id) ? await lockDatabase(tx, actor.organizationId, id, "share") : null;
  if (!database) throw new NotFoundError("database", id);
  if (database.environmentId !== environment.id) {
    throw new ValidationError([
      { path: "databaseId", message: `databaseId names database "${database.name}" of another environment than ${environment.name}` },
    ]);
  }
  return database;
}

function generateClientId(): string {
  return randomBytes(15).toString("base64url").replace(/[-_]/g, "x");
}

/**
 * "Create Client in <environment>": the environment-specific fields come from the input; shared
 * settings and every journey's current configuration are copied from the nearest lower environment
 * that has a client, so the new environment starts in sync.
 */
export async function createClient(db: Db, actor: Actor, input: CreateClientInput): Promise<ClientRow> {
  const values = parseInput(createClientInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const application = await writableApplication(tx, actor, values.applicationId);
    const environment = await environmentForWrite(tx, actor, values.environmentId);
    const database = await databaseIn(tx, actor, values.databaseId, environment);
    const all = await listEnvironments(tx, actor.organizationId);
    const lower = lowerEnvironments(all, environment);
    // A client created above another copies its configuration: into an environment that takes
    // configuration only through approved requests, that copy would be an unreviewed promotion.
    const noApprovals = lower.length > 0 ? await noApprovalsCheck(tx, actor, environment) : undefined;
    // Every environment below locked shared (lowest first) before the clients are read: the source is
    // chosen, and its settings and journeys copied, from one state of it — a promotion into it or its
    // client's deletion commits before this reads or waits for this write.
    await lockConfigurations(tx, application.id, { read: lower.map((e) => e.id).reverse(), write: environment.id });
    const clients = await findClientsByApplicationIds(tx, actor.organizationId, [application.id]);
    const source = creationSource(all, clients, environment);
    if (source) noApprovals?.();
    const settings = source ? source.client.settings : DEFAULT_CLIENT_SETTINGS;
    if (source) {
      // What is copied must find its variables here (DESIGN.md §6): refused before anything is written.
      const journeys = await findJourneysByApplicationIds(tx, actor.organizationId, [application.id]);
      const heads = await findHeadVersions(
        tx,
        actor.organizationId,
        journeys.map((j) => ({ journeyId: j.id, environmentId: source.environment.id })),
      );
      const keyOf = new Map(journeys.map((j) => [j.id, j.key]));
      const check = await checkVariablesIn(tx, actor.organizationId, environment, {
        journeys: heads.map((h) => ({ key: keyOf.get(h.journeyId)!, document: h.document })),
        clientSettings: settings,
      });
      if (check.missing.length > 0) throw new MissingVariablesError(check.missing, environment.name);
      if (check.problems.length > 0) throw new InvalidConfigurationError(check.problems);
    }
    return withSyncNotifications(tx, actor, [application.id], async () => {
      const client = await uniqueAs(
        insertClient(
          tx,
          {
            organizationId: actor.organizationId,
            applicationId: application.id,
            environmentId: environment.id,
            clientId: generateClientId(),
            name: values.name ?? `${application.name} (${environment.name})`,
            databaseId: database.id,
            redirectUris: values.redirectUris,
            allowedOrigins: [...new Set(values.allowedOrigins)],
            settings,
            settingsHash: canonicalHash(settings),
          },
          { origin: "CLIENT_CREATION", ...savedBy(actor), comment: source ? `Copied from ${source.environment.name}` : null },
        ),
        `${application.name} already has a client in ${environment.name}`,
      );
      if (source) await copyJourneys(tx, actor, application.id, source.environment, environment);
      audit(
        { type: "Client", id: client.id },
        {
          application: application.name,
          environment: environment.key,
          clientId: client.clientId,
          copiedFrom: source?.environment.key ?? null,
        },
      );
      return client;
    });
  });
}

async function copyJourneys(tx: Db, actor: Actor, applicationId: string, from: EnvironmentRow, to: EnvironmentRow) {
  const journeys = await findJourneysByApplicationIds(tx, actor.organizationId, [applicationId]);
  const keys = journeys.flatMap((j) => [
    { journeyId: j.id, environmentId: from.id },
    { journeyId: j.id, environmentId: to.id },
  ]);
  const heads = await findHeadVersions(tx, actor.organizationId, keys);
  // A journey may have history there without a head: a client deleted there before, or a tombstone.
  const history = await lastVersionNumbers(
    tx,
    to.id,
    journeys.map((j) => j.id),
  );
  for (const journey of journeys) {
    const source = heads.find((h) => h.journeyId === journey.id && h.environmentId === from.id);
    if (!source) continue;
    const current = heads.find((h) => h.journeyId === journey.id && h.environmentId === to.id);
    if (current?.hash === source.hash) continue;
    await appendVersion(tx, { journeyId: journey.id, environmentId: to.id }, current?.version ?? history.get(journey.id) ?? null, {
      document: source.document,
      hash: source.hash,
      origin: "CLIENT_CREATION",
      ...savedBy(actor),
      comment: `Copied from ${from.name} version ${source.version}`,
    });
  }
}

const updateClientInput = z.object({
  clientId: z.string(),
  name: inputs.optional(inputs.name(200)),
  databaseId: inputs.optional(z.string()),
  redirectUris: inputs.optional(createClientInput.shape.redirectUris),
  allowedOrigins: inputs.optional(createClientInput.shape.allowedOrigins),
  settings: inputs.optional(z.unknown()),
  comment: inputs.optional(inputs.comment()),
});

export type UpdateClientInput = z.input<typeof updateClientInput>;

/**
 * Changes a client. Environment-specific fields (name, database, redirect URIs, origins) may change
 * in any environment, by an ADMIN. Shared settings change only where the environment is editable
 * (elsewhere they arrive by propagation) and are versioned like journeys, so they diff and propagate.
 */
export async function updateClient(db: Db, actor: Actor, input: UpdateClientInput): Promise<ClientRow> {
  const values = parseInput(updateClientInput, input);
  const touchesFields = [values.name, values.databaseId, values.redirectUris, values.allowedOrigins].some((v) => v !== undefined);
  return inTransaction(db, actor.organizationId, async (tx) => {
    // The configuration lock before the client's row, as a propagation into this environment takes them.
    const [unlocked] = isUuid(values.clientId) ? await findClientsByIds(tx, actor.organizationId, [values.clientId]) : [];
    if (!unlocked) throw new NotFoundError("client", values.clientId);
    await writableApplication(tx, actor, unlocked.applicationId);
    if (values.settings !== undefined) await lockConfigurations(tx, unlocked.applicationId, { write: unlocked.environmentId });
    let client = await lockClient(tx, actor.organizationId, unlocked.id);
    if (!client) throw new NotFoundError("client", values.clientId);
    if (touchesFields && !hasRole(actor, "ADMIN")) {
      throw new ForbiddenError("Only an ADMIN may change a client's name, database, redirect URIs or origins");
    }
    const environment = await environmentOf(tx, actor, client.environmentId);
    if (values.databaseId !== undefined) await databaseIn(tx, actor, values.databaseId, environment);
    if (values.settings !== undefined) {
      if (!environment.editable) throw new EnvironmentLockedError(environment.name);
      const merged = mergeClientSettings(client.settings, values.settings);
      if (!merged.ok) throw new ValidationError(merged.problems);
      const variables = await checkVariablesIn(tx, actor.organizationId, environment, { journeys: [], clientSettings: merged.value });
      if (variables.problems.length > 0) throw new ValidationError(variables.problems);
      const hash = canonicalHash(merged.value);
      // Settings that do not change the hash change no state: nothing to write, nothing to notify.
      if (hash !== client.settingsHash) {
        const head = client;
        client = await withSyncNotifications(tx, actor, [head.applicationId], async () => {
          const moved = await appendClientSettingsVersion(tx, head, {
            settings: merged.value,
            hash,
            origin: "SAVE",
            ...savedBy(actor),
            comment: values.comment ?? null,
          });
          if (!moved) throw new Error("client settings head moved under a row lock");
          return moved;
        });
      }
    }
    if (touchesFields) {
      client = await updateClientFields(tx, client.id, {
        name: values.name,
        databaseId: values.databaseId,
        redirectUris: values.redirectUris,
        allowedOrigins: values.allowedOrigins && [...new Set(values.allowedOrigins)],
      });
    }
    const fields = ["name", "databaseId", "redirectUris", "allowedOrigins", "settings"] as const;
    audit({ type: "Client", id: client.id }, { environment: environment.key, changed: fields.filter((f) => values[f] !== undefined) });
    return client;
  });
}

export interface ClientCreationPlan {
  sourceEnvironment: EnvironmentRow | null;
  requiredFields: string[];
  mappingNotes: { field: string; note: string }[];
}

/**
 * What "Create Client in <environment>" will do: where shared settings and journeys come from,
 * which fields the person must give, and why each field that is not copied is not.
 */
export async function clientCreationPlan(
  db: Db,
  actor: Actor,
  request: { applicationId: string; environmentId: string },
): Promise<ClientCreationPlan> {
  const application = await applicationOf(db, actor, request.applicationId);
  const environment = await environmentOf(db, actor, request.environmentId);
  const all = await listEnvironments(db, actor.organizationId);
  const clients = await findClientsByApplicationIds(db, actor.organizationId, [application.id]);
  if (clients.some((c) => c.environmentId === environment.id)) {
    throw new AlreadyExistsError(`${application.name} already has a client in ${environment.name}`);
  }
  const source = creationSource(all, clients, environment);
  const journeys = await findJourneysByApplicationIds(db, actor.organizationId, [application.id]);
  const sourceHeads = source
    ? await findHeadVersions(
        db,
        actor.organizationId,
        journeys.map((j) => ({ journeyId: j.id, environmentId: source.environment.id })),
      )
    : [];
  const databases = (await findDatabasesByEnvironmentIds(db, actor.organizationId, [environment.id])).map((d) => d.name);
  const copied = journeys.filter((j) => sourceHeads.some((h) => h.journeyId === j.id));
  const from = source?.environment.name;
  return {
    sourceEnvironment: source?.environment ?? null,
    requiredFields: ["databaseId", "redirectUris", "allowedOrigins"],
    mappingNotes: [
      {
        field: "settings",
        note: source
          ? `Copied from ${from}: token lifetimes, grant types, PKCE and refresh token rotation, so ${environment.name} starts in sync.`
          : "No lower environment has a client: the default settings are used.",
      },
      {
        field: "journeys",
        note: source
          ? copied.length > 0
            ? `Copied from ${from} at their current versions (origin CLIENT_CREATION): ${copied.map((j) => j.key).join(", ")}.`
            : `${from} has no journeys yet: nothing to copy.`
          : "No lower environment has a client: no journey is copied.",
      },
      {
        field: "databaseId",
        note: `Environment-specific, never copied: user stores are separate per environment. Choose a database of ${environment.name}${
          databases.length > 0 ? ` (${databases.join(", ")})` : " (it has none yet: create one first)"
        }.`,
      },
      {
        field: "redirectUris",
        note: `Environment-specific, never copied: ${environment.name} serves the application from its own URLs${
          source && source.client.redirectUris.length > 0 ? ` (${from} uses ${source.client.redirectUris.join(", ")})` : ""
        }.`,
      },
      {
        field: "allowedOrigins",
        note: `Environment-specific, never copied: the browser origins allowed to call ${environment.name}.`,
      },
      { field: "clientId", note: `Generated anew: every environment has its own OAuth client_id.` },
      { field: "name", note: `Optional; default "${application.name} (${environment.name})".` },
    ],
  };
}

const deleteClientInput = z.object({ clientId: z.string() });

/**
 * Deletes a client (ADMIN, DESIGN.md §10) from the top down: IN_USE while an environment above has
 * a client of the application, or an open promotion request goes from or into its environment. The
 * application leaves that environment: the client and its settings versions go, and so do its
 * journeys' configurations and drafts there (their versions stay as history). What was promoted
 * stays readable in the propagations' records; the audit event keeps the last settings.
 */
export async function deleteClient(db: Db, actor: Actor, input: { clientId: string }): Promise<ApplicationRow> {
  if (!hasRole(actor, "ADMIN")) throw new ForbiddenError("Only an ADMIN may delete a client");
  const { clientId } = parseInput(deleteClientInput, input);
  return inTransaction(db, actor.organizationId, async (tx) => {
    const [unlocked] = isUuid(clientId) ? await findClientsByIds(tx, actor.organizationId, [clientId]) : [];
    if (!unlocked) throw new NotFoundError("client", clientId);
    const application = await writableApplication(tx, actor, unlocked.applicationId);
    // The configuration lock before the client's row, as every write into the environment takes them.
    await lockConfigurations(tx, application.id, { write: unlocked.environmentId });
    const client = await lockClient(tx, actor.organizationId, unlocked.id);
    if (!client) throw new NotFoundError("client", clientId);
    const pipeline = await listEnvironments(tx, actor.organizationId);
    const environment = pipeline.find((e) => e.id === client.environmentId)!;
    const above = new Set(pipeline.filter((e) => e.rank > environment.rank).map((e) => e.id));
    const siblings = await findClientsByApplicationIds(tx, actor.organizationId, [application.id]);
    const requests = await findOpenRequestsOf(tx, actor.organizationId, application.id, environment.id);
    const dependents = [
      ...siblings
        .filter((c) => above.has(c.environmentId))
        .map((c) => `client "${c.name}" in ${pipeline.find((e) => e.id === c.environmentId)!.name}: delete it first`),
      ...requests.map((r) => `open promotion request ${r.id}`),
    ];
    if (dependents.length > 0) throw new InUseError(`Client "${client.name}"`, dependents);
    await withSyncNotifications(tx, actor, [application.id], async () => {
      const journeys = await findJourneysByApplicationIds(tx, actor.organizationId, [application.id]);
      const keys = journeys.map((j) => ({ journeyId: j.id, environmentId: environment.id }));
      await deleteDrafts(tx, keys);
      await deleteHeads(tx, keys);
      await deleteClientRow(tx, client.id);
    });
    audit(
      { type: "Client", id: client.id },
      {
        application: application.name,
        environment: environment.key,
        clientId: client.clientId,
        name: client.name,
        settingsVersion: client.settingsVersion,
        settings: client.settings,
      },
    );
    return application;
  });
}
