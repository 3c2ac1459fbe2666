import type { Role } from "../db/repositories/rows.js";

/** Who is calling: the organization a token belongs to, its role and its name (the audit author). */
export interface Actor {
  organizationId: string;
  tokenId: string;
  role: Role;
  /** Written as `savedBy` / `actor` in audit records. */
  name: string;
}

const ROLE_RANK: Record<Role, number> = { VIEWER: 0, EDITOR: 1, PROMOTER: 2, ADMIN: 3 };

export function hasRole(actor: Pick<Actor, "role">, least: Role): boolean {
  return ROLE_RANK[actor.role] >= ROLE_RANK[least];
}

export const ROLES = Object.keys(ROLE_RANK) as Role[];
