import { decodeGlobalID, encodeGlobalID } from "@pothos/plugin-relay";
import { LRUCache } from "lru-cache";
import { NotFoundError } from "../domain/errors.js";
import { isUuid } from "../domain/uuid.js";
import type { Loaders } from "../services/index.js";

export type NodeTypeName =
  | "Organization"
  | "ApiToken"
  | "Environment"
  | "Database"
  | "Application"
  | "Client"
  | "Journey"
  | "JourneyVersion"
  | "JourneyDraft"
  | "Propagation"
  | "PromotionRequest"
  | "SyncNotification"
  | "Variable"
  | "VariableValueChange"
  | "AuditEvent";

const LABEL: Record<NodeTypeName, string> = {
  Organization: "organization",
  ApiToken: "API token",
  Environment: "environment",
  Database: "database",
  Application: "application",
  Client: "client",
  Journey: "journey",
  JourneyVersion: "journey version",
  JourneyDraft: "journey draft",
  Propagation: "propagation",
  PromotionRequest: "promotion request",
  SyncNotification: "sync notification",
  Variable: "variable",
  VariableValueChange: "variable value change",
  AuditEvent: "audit event",
};

type ParsedGlobalId = Readonly<{ typename: NodeTypeName; id: string }>;

/**
 * Global IDs parsed before: a page names one environment or application in every row's field
 * arguments (a dashboard's `configuration(environmentId:)`, 150 times), each a base64 decode.
 * Bounded; what falls out is parsed again.
 */
const parsedIds = new LRUCache<string, ParsedGlobalId | "none">({ max: 10_000 });

/** The type and local id of a global ID, or null when it is not one of ours. */
export function parseGlobalId(globalId: string): ParsedGlobalId | null {
  if (typeof globalId !== "string" || globalId.length > 200) return null;
  const known = parsedIds.get(globalId);
  if (known !== undefined) return known === "none" ? null : known;
  const parsed = decodeOurs(globalId);
  parsedIds.set(globalId, parsed ?? "none");
  return parsed;
}

function decodeOurs(globalId: string): ParsedGlobalId | null {
  try {
    const { typename, id } = decodeGlobalID(globalId);
    if (!(typename in LABEL) || !id) return null;
    // A UUID in lower case, as the database gives it back: its case variants name the same row, and
    // would otherwise be as many keys of the caches (the kept diffs', the loaders').
    return Object.freeze({ typename: typename as NodeTypeName, id: isUuid(id) ? id.toLowerCase() : id });
  } catch {
    return null;
  }
}

/** The local id of a global ID of the expected type; anything else names nothing: NOT_FOUND. */
export function localId(globalId: string, expected: NodeTypeName): string {
  const parsed = parseGlobalId(globalId);
  if (!parsed || parsed.typename !== expected) throw new NotFoundError(LABEL[expected], globalId);
  return parsed.id;
}

export function globalId(typename: NodeTypeName, id: string): string {
  return encodeGlobalID(typename, id);
}

/**
 * The local id of an environment the caller's organization has; NOT_FOUND otherwise. Checked once
 * per set of loaders (`memo`, until they are cleared): a page's rows that name the same environment
 * share the check.
 */
export function environmentIdOf(loaders: Loaders, globalId: string): Promise<string> {
  return loaders.memo(`environmentIdOf:${globalId}`, () => checkEnvironment(loaders, globalId));
}

async function checkEnvironment(loaders: Loaders, globalId: string): Promise<string> {
  const id = localId(globalId, "Environment");
  if (!(await loaders.environment.load(id))) throw new NotFoundError("environment", globalId);
  return id;
}

/**
 * A sync notification's local id: its organization and its number there. Numbers repeat from one
 * organization to the next; the organization keeps the global ID unique.
 */
export function notificationLocalId(notification: { organizationId: string; seq: number }): string {
  return `${notification.organizationId}/${notification.seq}`;
}

/** The organization and number a notification's local id names, or null when it is not one. */
export function parseNotificationLocalId(id: string): { organizationId: string; seq: number } | null {
  const match = /^([0-9a-f-]{36})\/([1-9]\d{0,14})$/i.exec(id);
  return match ? { organizationId: match[1].toLowerCase(), seq: Number(match[2]) } : null;
}

const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const JOURNEY_ENVIRONMENT = new RegExp(`^(${UUID})/(${UUID})$`);
const JOURNEY_VERSION = new RegExp(`^(${UUID})/(${UUID})/([1-9]\\d{0,9})$`);

/** A journey's draft or version lives per environment: its local id names the journey and the environment (and the number). */
export const journeyEnvironmentLocalId = (key: { journeyId: string; environmentId: string }) => `${key.journeyId}/${key.environmentId}`;
export const journeyVersionLocalId = (key: { journeyId: string; environmentId: string; version: number }) =>
  `${journeyEnvironmentLocalId(key)}/${key.version}`;

/** The journey and environment a draft's local id names, or null when it is not one. */
export function parseJourneyEnvironmentLocalId(id: string): { journeyId: string; environmentId: string } | null {
  const match = JOURNEY_ENVIRONMENT.exec(id);
  return match ? { journeyId: match[1], environmentId: match[2] } : null;
}

/** The journey, environment and number a version's local id names, or null when it is not one. */
export function parseJourneyVersionLocalId(id: string): { journeyId: string; environmentId: string; version: number } | null {
  const match = JOURNEY_VERSION.exec(id);
  const version = match ? Number(match[3]) : 0;
  return match && version <= 2 ** 31 - 1 ? { journeyId: match[1], environmentId: match[2], version } : null;
}
