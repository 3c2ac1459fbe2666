import { randomUUID } from "node:crypto";
import type { Role } from "../../src/services/index.js";
import { ensureOrganization, issueToken } from "../../src/services/tokens.js";
import { testDatabase } from "./database.js";

export interface Tenant {
  organizationId: string;
  name: string;
  tokens: Record<Role, string>;
}

/** A fresh organization with the default pipeline and a token of every role: a test's private world. */
export async function createTenant(label = "test"): Promise<Tenant> {
  const { db } = await testDatabase();
  const name = `${label}-${randomUUID()}`;
  const { organization } = await ensureOrganization(db, name);
  const tokens = {} as Record<Role, string>;
  for (const role of ["VIEWER", "EDITOR", "PROMOTER", "ADMIN"] as const) {
    tokens[role] = (await issueToken(db, { organizationId: organization.id, name: `${role.toLowerCase()}-token`, role })).token;
  }
  return { organizationId: organization.id, name, tokens };
}
