import type { Actor, Loaders, Services } from "../services/index.js";

/** What every resolver gets: the caller, the use-cases and this request's DataLoaders. */
export interface GraphQLContext {
  actor: Actor;
  services: Services;
  loaders: Loaders;
}
