import type { Actor, Loaders, Services } from "../services/index.js";

/** What every resolver gets: the caller, the use-cases and this request's DataLoaders. */
export interface GraphQLContext {
  actor: Actor;
  services: Services;
  loaders: Loaders;
  /** The organization's revision as the token was checked (HTTP requests with the response cache on; a WebSocket's is not kept). */
  organizationRevision?: number;
  /** Per table, the revision of the organization's last write to it, read with `organizationRevision`. */
  tableRevisions?: Readonly<Record<string, number>>;
  /**
   * Set by a resolver whose answer depends on the time, not only on the data (an open promotion
   * request may expire any moment): the response is then not kept by the response cache.
   */
  timeDependent?: boolean;
}
