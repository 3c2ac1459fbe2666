import type { Role } from "../db/repositories/rows.js";

/** Who is calling: the organization a token belongs to, its role and its name (the audit author). */
export interface Actor {
  organizationId: string;
  tokenId: string;
  role: Role;
  /** Written as `savedBy` / `updatedBy` / `actor` in audit records, beside `tokenId`. */
  name: string;
}

/** How a version records its author: the token's name as it is now, and the token. */
export const savedBy = (actor: Actor) => ({ savedBy: actor.name, savedByTokenId: actor.tokenId });

/** How a draft records who edited it last. */
export const updatedBy = (actor: Actor) => ({ updatedBy: actor.name, updatedByTokenId: actor.tokenId });

const ROLE_RANK: Record<Role, number> = { VIEWER: 0, EDITOR: 1, PROMOTER: 2, ADMIN: 3 };

export function hasRole(actor: Pick<Actor, "role">, least: Role): boolean {
  return ROLE_RANK[actor.role] >= ROLE_RANK[least];
}

export const ROLES = Object.keys(ROLE_RANK) as Role[];
