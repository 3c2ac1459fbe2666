import type { Db } from "../db/client.js";
import { insertAuditEvent } from "../db/repositories/audit.js";
import { findClientsByApplicationIds } from "../db/repositories/clients.js";
import { findDatabasesByIds } from "../db/repositories/environments.js";
import { findHeadVersions, findJourneysByApplicationIds } from "../db/repositories/journeys.js";
import type { ApplicationRow, EnvironmentRow } from "../db/repositories/rows.js";
import { findSealedValuesIn, findValuesByVariableIds, listVariables } from "../db/repositories/variables.js";
import { ForbiddenError } from "../domain/errors.js";
import type { JsonValue } from "../domain/journey-document.js";
import { resolveJourneyDocument } from "../domain/journey-validation.js";
import type { Keyring } from "../domain/secret-box.js";
import { type ResolvableVariable, resolveValue, settingReferencesIn } from "../domain/variables.js";
import { type Actor, isRuntime } from "./actor.js";
import { applicationOf, environmentOf } from "./lookups.js";
import { inSnapshot } from "./transaction.js";
import { sealedAt } from "./variables.js";

/** An application's configuration as the identity runtime of one environment executes it. */
export interface RuntimeConfiguration {
  environment: EnvironmentRow;
  application: ApplicationRow;
  /** The client's environment-specific fields and its resolved shared settings; null where it has no client. */
  client: Record<string, unknown> | null;
  /** Journey key → resolved document. */
  journeys: Record<string, unknown>;
  resolvedAt: Date;
}

/**
 * The resolved configuration of an application in the RUNTIME token's environment, secrets
 * included — the only way a secret's plaintext leaves the server (DESIGN.md §6). Every read is an
 * audit event naming what was read (the secrets by key, never by value). The event is written on
 * its own, without raising the organization's revision: a read changes no configuration, and the
 * response cache never keeps a response that read the audit log (src/server/graphql-handler.ts).
 * The configuration is read in one snapshot (a read-only REPEATABLE READ transaction): a promotion
 * writes a client and heads together, and a runtime must never get one without the other, nor
 * values of a variable set after the settings that reference it were read.
 */
export async function runtimeConfiguration(
  db: Db,
  keyring: Keyring,
  actor: Actor,
  applicationId: string,
  subjectId: string,
): Promise<RuntimeConfiguration> {
  if (!isRuntime(actor) || !actor.environmentId) throw new ForbiddenError("Only a RUNTIME token reads runtimeConfiguration");
  const environmentId = actor.environmentId;
  const { configuration, secretsRead } = await inSnapshot(db, (tx) =>
    resolveConfiguration(tx, keyring, actor, applicationId, environmentId),
  );
  await insertAuditEvent(db, {
    organizationId: actor.organizationId,
    action: "runtimeConfiguration",
    subjectId,
    actor: actor.name,
    actorTokenId: actor.tokenId,
    occurredAt: configuration.resolvedAt,
    summary: {
      environment: configuration.environment.key,
      journeys: Object.keys(configuration.journeys).sort(),
      secrets: secretsRead.sort(),
    },
  });
  return configuration;
}

/** The configuration resolved, and the keys of the secrets opened for it. */
async function resolveConfiguration(
  db: Db,
  keyring: Keyring,
  actor: Actor,
  applicationId: string,
  environmentId: string,
): Promise<{ configuration: RuntimeConfiguration; secretsRead: string[] }> {
  const application = await applicationOf(db, actor, applicationId);
  const environment = await environmentOf(db, actor, environmentId);
  const client = (await findClientsByApplicationIds(db, actor.organizationId, [application.id])).find(
    (c) => c.environmentId === environment.id,
  );
  const journeys = client ? await findJourneysByApplicationIds(db, actor.organizationId, [application.id]) : [];
  const heads = await findHeadVersions(
    db,
    actor.organizationId,
    journeys.map((j) => ({ journeyId: j.id, environmentId: environment.id })),
  );
  const keyOf = new Map(journeys.map((j) => [j.id, j.key]));

  // The variables this configuration references, secrets opened only for those.
  const referenced = new Set<string>();
  for (const head of heads) for (const use of settingReferencesIn(head.document as never, "")) referenced.add(use.key);
  if (client) for (const use of settingReferencesIn(client.settings as never, "settings")) referenced.add(use.key);
  const all = (await listVariables(db, actor.organizationId)).filter((v) => referenced.has(v.key));
  const values = (
    await findValuesByVariableIds(
      db,
      actor.organizationId,
      all.map((v) => v.id),
    )
  ).filter((v) => v.environmentId === environment.id);
  const sealed = all.some((v) => v.kind === "SECRET") ? await findSealedValuesIn(db, actor.organizationId, environment.id) : [];
  const byKey = new Map<string, ResolvableVariable>();
  const secretsRead: string[] = [];
  for (const variable of all) {
    const entry: ResolvableVariable = { kind: variable.kind };
    if (variable.kind === "SECRET") {
      const row = sealed.find((s) => s.variableId === variable.id);
      if (row) {
        entry.value = keyring.open({ keyId: row.keyId, ciphertext: row.ciphertext }, sealedAt(variable.id, environment.id));
        secretsRead.push(variable.key);
      }
    } else {
      const value = values.find((v) => v.variableId === variable.id);
      if (value) entry.value = value.value as JsonValue;
    }
    byKey.set(variable.key, entry);
  }
  const lookup = (key: string) => byKey.get(key);

  const resolvedJourneys = Object.fromEntries(
    heads.map((head) => [keyOf.get(head.journeyId)!, resolveJourneyDocument(head.document, lookup, "value")]),
  );
  let resolvedClient: Record<string, unknown> | null = null;
  if (client) {
    const [database] = await findDatabasesByIds(db, actor.organizationId, [client.databaseId]);
    resolvedClient = {
      clientId: client.clientId,
      name: client.name,
      database: database?.name ?? null,
      redirectUris: client.redirectUris,
      allowedOrigins: client.allowedOrigins,
      settings: resolveValue(client.settings as never, lookup, { secrets: "value" }).value,
    };
  }
  const configuration = { environment, application, client: resolvedClient, journeys: resolvedJourneys, resolvedAt: new Date() };
  return { configuration, secretsRead };
}
