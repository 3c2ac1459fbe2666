import type * as schema from "../schema.js";

export type OrganizationRow = typeof schema.organizations.$inferSelect;
export type ApiTokenRow = typeof schema.apiTokens.$inferSelect;
export type EnvironmentRow = typeof schema.environments.$inferSelect;
export type DatabaseRow = typeof schema.databases.$inferSelect;
export type ApplicationRow = typeof schema.applications.$inferSelect;
export type ClientRow = typeof schema.clients.$inferSelect;
/** A client without its settings and URI lists: what lists of clients and sync states need. */
export type ClientSummaryRow = Omit<ClientRow, "settings" | "redirectUris" | "allowedOrigins">;
export type ClientSettingsVersionRow = typeof schema.clientSettingsVersions.$inferSelect;
export type JourneyRow = typeof schema.journeys.$inferSelect;
export type JourneyVersionRow = typeof schema.journeyVersions.$inferSelect;
export type JourneyHeadRow = typeof schema.journeyHeads.$inferSelect;
export type Role = ApiTokenRow["role"];
export type VersionOrigin = JourneyVersionRow["origin"];

/** Orders batch results like their keys, as DataLoader requires. */
export function byKeys<K, R>(keys: readonly K[], rows: R[], keyOf: (row: R) => K): (R | null)[] {
  const found = new Map<K, R>();
  for (const row of rows) found.set(keyOf(row), row);
  return keys.map((key) => found.get(key) ?? null);
}

/** Groups batch results by key, in key order, as DataLoader requires. */
export function groupByKeys<K, R>(keys: readonly K[], rows: R[], keyOf: (row: R) => K): R[][] {
  const groups = new Map<K, R[]>();
  for (const row of rows) {
    const key = keyOf(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return keys.map((key) => groups.get(key) ?? []);
}
