import { type Api, apiAs, type Catalogue, createCatalogue, createClient } from "../support/fixtures.js";
import type { TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";

/** A tenant with the fixtures' catalogue and a client in staging too: staging has a target to diff and promote to. */
export interface ClientWorld {
  tenant: Tenant;
  admin: Api;
  catalogue: Catalogue;
  /** The application's client in staging. */
  stagingClientId: string;
}

export async function clientWorld(server: TestServer, label: string): Promise<ClientWorld> {
  const tenant = await createTenant(label);
  const admin = apiAs(server.endpoint, tenant);
  const catalogue = await createCatalogue(admin);
  const stagingClientId = await createClient(admin, {
    applicationId: catalogue.applicationId,
    environmentId: catalogue.environments.staging,
    databaseId: catalogue.databases.staging,
    redirectUris: ["https://staging.example/callback"],
    allowedOrigins: ["https://staging.example"],
  });
  return { tenant, admin, catalogue, stagingClientId };
}

/** A request a client sent, as the server received it. */
export interface SentRequest {
  method: string;
  url: string;
  body: any;
}

/** `fetch` that records every request it sends: what a client did over the network, without guessing. */
export function recordingFetch(): { fetch: typeof fetch; sent: SentRequest[] } {
  const sent: SentRequest[] = [];
  const recording: typeof fetch = async (input, init) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const text = typeof init?.body === "string" ? init.body : undefined;
    sent.push({ method: init?.method ?? "GET", url, body: text === undefined ? undefined : JSON.parse(text) });
    return fetch(input, init);
  };
  return { fetch: recording, sent };
}

export { passwordStep } from "../support/documents.js";
