import { randomUUID } from "node:crypto";
import type { Db } from "../../src/db/client.js";
import { listEnvironments } from "../../src/db/repositories/environments.js";
import type { Role } from "../../src/db/repositories/rows.js";
import type { Actor } from "../../src/services/actor.js";
import { createApplication } from "../../src/services/applications.js";
import { createClient } from "../../src/services/clients.js";
import { createDatabase } from "../../src/services/environments.js";
import { createJourney } from "../../src/services/journeys.js";
import { ensureOrganization, issueToken } from "../../src/services/tokens.js";
import { LOGIN_DOCUMENT } from "./fixtures.js";

export interface ServiceCatalogue {
  /** An ADMIN of the organization, named `admin-token` as the API tests' tokens are. */
  actor: Actor;
  /** Environment row IDs by key. */
  environments: Record<"development" | "staging" | "production", string>;
  /** Database row IDs by environment key. */
  databases: Record<"development" | "staging" | "production", string>;
  applicationId: string;
  /** The application's client in development. */
  clientId: string;
  /** The `login` journey (the journey document of ARCHITECTURE.md, "The domain"). */
  loginId: string;
}

/** Another caller of the catalogue's organization, with a token of its own. */
export async function actorOf(tx: Db, organizationId: string, role: Role): Promise<Actor> {
  const name = `${role.toLowerCase()}-token`;
  const { apiToken } = await issueToken(tx, { organizationId, name, role });
  return { organizationId, tokenId: apiToken.id, role, name };
}

/**
 * createCatalogue of test/support/fixtures.ts through the service functions, on `tx`: a new organization
 * with the default pipeline, a database per environment, "Customer Portal" with its client in development
 * and the `login` journey. Row IDs, not global IDs: the services take those.
 */
export async function createServiceCatalogue(tx: Db): Promise<ServiceCatalogue> {
  const { organization } = await ensureOrganization(tx, `services-${randomUUID()}`);
  const actor = await actorOf(tx, organization.id, "ADMIN");
  const environments = Object.fromEntries(
    (await listEnvironments(tx, organization.id)).map((e) => [e.key, e.id]),
  ) as ServiceCatalogue["environments"];
  const databases = {} as ServiceCatalogue["databases"];
  for (const key of ["development", "staging", "production"] as const) {
    databases[key] = (await createDatabase(tx, actor, { environmentId: environments[key], name: `acme-users-${key}` })).id;
  }
  const application = await createApplication(tx, actor, { name: "Customer Portal" });
  const client = await createClient(tx, actor, {
    applicationId: application.id,
    environmentId: environments.development,
    databaseId: databases.development,
    redirectUris: ["http://localhost:3000/callback"],
    allowedOrigins: ["http://localhost:3000"],
  });
  const login = await createJourney(tx, actor, {
    applicationId: application.id,
    key: "login",
    name: "Login",
    type: "LOGIN",
    document: LOGIN_DOCUMENT,
  });
  return { actor, environments, databases, applicationId: application.id, clientId: client.id, loginId: login.id };
}
