import { AsyncLocalStorage } from "node:async_hooks";
import type { Db } from "../db/client.js";
import { insertAuditEvent } from "../db/repositories/audit.js";
import { encodeGlobalId } from "../domain/global-id.js";
import type { Actor } from "./actor.js";

/*
 * The audit log (DESIGN.md §10): every successful write of every mutation is one audit event,
 * written in the same transaction as the write. Built once, here and in `inTransaction`: the
 * facade (`createServices`) runs each mutation's use-case in an audit scope named after the
 * mutation; the scope's transaction appends the event before it commits. The use-case says what
 * the write was about (`audit`): the object and a summary that never holds a secret. A use-case
 * that says nothing still leaves an event (action, actor, time), so no write goes unrecorded.
 */

/** Types an audit event's subject may have: the GraphQL node types of the objects mutations write. */
export type AuditSubjectType =
  | "ApiToken"
  | "Environment"
  | "Database"
  | "Application"
  | "Client"
  | "Journey"
  | "JourneyDraft"
  | "JourneyVersion"
  | "Propagation"
  | "PromotionRequest"
  | "Variable";

interface AuditScope {
  action: string;
  actor: Actor;
  subject: { type: AuditSubjectType; id: string } | null;
  summary: Record<string, unknown>;
}

const scopes = new AsyncLocalStorage<AuditScope>();

/** Runs a mutation's use-case in an audit scope named after the mutation. */
export function audited<A extends unknown[], R>(action: string, useCase: (actor: Actor, ...args: A) => Promise<R>) {
  return (actor: Actor, ...args: A): Promise<R> => scopes.run({ action, actor, subject: null, summary: {} }, () => useCase(actor, ...args));
}

/** Runs work that is not the mutation's write (housekeeping such as expiring requests) outside the scope. */
export function unaudited<R>(work: () => Promise<R>): Promise<R> {
  return scopes.exit(work);
}

/**
 * What the current mutation wrote: the object (a global ID in the log) and a summary — names,
 * keys, counts, fingerprints; never a secret's value. Called inside the use-case's transaction.
 */
export function audit(subject: { type: AuditSubjectType; id: string } | null, summary: Record<string, unknown> = {}): void {
  const scope = scopes.getStore();
  if (!scope) return;
  scope.subject = subject;
  scope.summary = summary;
}

/**
 * Appends the current mutation's event in its transaction (called by `inTransaction` after the
 * work succeeded, before the revision is raised). Outside a mutation's scope, nothing.
 */
export async function appendAuditEvent(tx: Db, organizationId: string): Promise<void> {
  const scope = scopes.getStore();
  if (!scope) return;
  await insertAuditEvent(tx, {
    organizationId,
    action: scope.action,
    subjectId: scope.subject === null ? null : encodeGlobalId(scope.subject.type, scope.subject.id),
    actor: scope.actor.name,
    actorTokenId: scope.actor.tokenId,
    summary: scope.summary,
  });
}

/** Every use-case of `useCases` in an audit scope named after its key (the mutation's name). */
export function auditedAll<M extends Record<string, (actor: Actor, ...args: never[]) => Promise<unknown>>>(useCases: M): M {
  return Object.fromEntries(Object.entries(useCases).map(([name, useCase]) => [name, audited(name, useCase)])) as M;
}
