import type { Actor, Loaders, Services } from "../services/index.js";

/** What every resolver gets: the caller, the use-cases and this request's DataLoaders. */
export interface GraphQLContext {
  actor: Actor;
  services: Services;
  loaders: Loaders;
  /** The organization's revision as the token was checked (HTTP requests; a WebSocket's is not kept). */
  organizationRevision?: number;
}
