import type { Actor, Loaders, Services } from "../services/index.js";

/** What every resolver gets: the caller, the use-cases and this request's DataLoaders. */
export interface GraphQLContext {
  actor: Actor;
  services: Services;
  loaders: Loaders;
}

/**
 * A context whose DataLoaders are made on first use: a subscription's context lives as long as the
 * subscription, and thousands of idle subscribers should not each hold a set they never use (every
 * event brings its own).
 */
export function createContext(actor: Actor, services: Services): GraphQLContext {
  let loaders: Loaders | undefined;
  return {
    actor,
    services,
    get loaders() {
      return (loaders ??= services.loaders(actor));
    },
    set loaders(value) {
      loaders = value;
    },
  };
}
