import type { Role } from "../db/repositories/rows.js";

/** Who is calling: the organization a token belongs to, its role and its name (the audit author). */
export interface Actor {
  organizationId: string;
  tokenId: string;
  role: Role;
  /** Written as `savedBy` / `updatedBy` / `actor` in audit records, beside `tokenId`. */
  name: string;
  /** The one environment a RUNTIME token reads; absent for every other role. */
  environmentId?: string;
}

/** How a version records its author: the token's name as it is now, and the token. */
export const savedBy = (actor: Actor) => ({ savedBy: actor.name, savedByTokenId: actor.tokenId });

/** How a draft records who edited it last. */
export const updatedBy = (actor: Actor) => ({ updatedBy: actor.name, updatedByTokenId: actor.tokenId });

/** The ladder: each role includes the ones before it. RUNTIME stands outside it (DESIGN.md §6). */
type LadderRole = Exclude<Role, "RUNTIME">;
const ROLE_RANK: Record<LadderRole, number> = { VIEWER: 0, EDITOR: 1, PROMOTER: 2, ADMIN: 3 };

/** Whether the actor's role includes `least`; a RUNTIME token has none of the ladder's roles. */
export function hasRole(actor: Pick<Actor, "role">, least: LadderRole): boolean {
  return actor.role !== "RUNTIME" && ROLE_RANK[actor.role] >= ROLE_RANK[least];
}

/** The roles of the ladder. */
export const ROLES = Object.keys(ROLE_RANK) as LadderRole[];

/** A RUNTIME token: it reads its environment's resolved configuration (`runtimeConfiguration`) and nothing else. */
export const isRuntime = (actor: Pick<Actor, "role">) => actor.role === "RUNTIME";
