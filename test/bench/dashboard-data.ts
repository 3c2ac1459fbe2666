/**
 * The dashboard's data and query, shared by the benches that measure it (dashboard.bench.ts,
 * scale-out.bench.ts): 200 applications × 3 journeys × 3 environments, seeded through the services
 * as users would, and the first page of 50 with each application's clients and production
 * configurations.
 */
import type { Database } from "../../src/db/client.js";
import { listEnvironments } from "../../src/db/repositories/environments.js";
import { globalId } from "../../src/graphql/ids.js";
import type { Actor } from "../../src/services/actor.js";
import { createApplication } from "../../src/services/applications.js";
import { createClient } from "../../src/services/clients.js";
import { createDatabase } from "../../src/services/environments.js";
import { createJourney } from "../../src/services/journeys.js";
import { ensureOrganization, issueToken } from "../../src/services/tokens.js";
import { BENCH_JOURNEYS } from "./journeys.js";

export const APPLICATIONS = 200;
export const PAGE_SIZE = 50;
export const JOURNEYS = BENCH_JOURNEYS;
export const ENVIRONMENT_KEYS = ["development", "staging", "production"] as const;

export const DASHBOARD = `query Dashboard($env: ID!) {
  applications(first: ${PAGE_SIZE}) {
    edges { node {
      name
      clients { environment { key } clientId }
      journeys { key configuration(environmentId: $env) { version hash } }
    } }
  }
}`;

export interface DashboardSeed {
  /** The token the load uses, of `role`. */
  token: string;
  /** Global ID of the production environment (the query's `$env`). */
  productionId: string;
  /** Global IDs of the development environment and of the first application's password-recovery journey: what a draft edit names. */
  developmentId: string;
  journeyId: string;
}

/**
 * A draft edit a team makes all day, the `n`th: the password-recovery journey's risk threshold set to
 * one of a hundred values in the development environment. A draft is not a version: the dashboard's
 * data does not change.
 */
export function draftEdit(seed: DashboardSeed, n: number): string {
  const step = {
    key: "risk",
    type: "RISK_CHECK",
    name: "Risk check",
    enabled: true,
    settings: { threshold: n % 100, action: "deny" },
    transitions: [
      { outcome: "success", to: "email-otp" },
      { outcome: "high-risk", to: "DENY" },
    ],
  };
  return JSON.stringify({
    query: `mutation Edit($input: SaveJourneyStepInput!) { saveJourneyStep(input: $input) { __typename ... on SaveJourneyStepSuccess { draft { revision } } } }`,
    variables: { input: { journeyId: seed.journeyId, environmentId: seed.developmentId, step } },
  });
}

/**
 * Saving the draft of a draft edit (the edit's answer names its revision) as the journey's next
 * version in development: development's heads and versions change; the dashboard of production's
 * configurations reads neither (migration 0017).
 */
export function journeySave(seed: DashboardSeed, editAnswer: string): string {
  const revision = (JSON.parse(editAnswer) as { data?: { saveJourneyStep?: { draft?: { revision?: number } } } }).data?.saveJourneyStep
    ?.draft?.revision;
  if (revision === undefined) throw new Error(`a draft edit answered ${editAnswer}`);
  return JSON.stringify({
    query: `mutation Save($input: SaveJourneyInput!) { saveJourney(input: $input) { __typename } }`,
    variables: { input: { journeyId: seed.journeyId, environmentId: seed.developmentId, draftRevision: revision, comment: "bench" } },
  });
}

/**
 * Seeds through the services: an organization of its own (named `<label> <time>`, so that a run on a
 * shared PostgreSQL database never meets an earlier one) with the default pipeline, a database per
 * environment, and per application a development client, its journeys, then the staging and
 * production clients (which copy the journeys up, so every environment has a version of each).
 * Returns a token of `role` (an ADMIN does the seeding).
 */
export async function seedDashboard(database: Database, label: string, role: "ADMIN" | "VIEWER" = "ADMIN"): Promise<DashboardSeed> {
  const { db } = database;
  const slug = label.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  const { organization } = await ensureOrganization(db, `${label} ${new Date().toISOString()}`);
  const admin = await issueToken(db, { organizationId: organization.id, name: `${slug}-admin`, role: "ADMIN" });
  const actor: Actor = { organizationId: organization.id, tokenId: admin.apiToken.id, role: "ADMIN", name: `${slug}-admin` };
  const token =
    role === "ADMIN" ? admin.token : (await issueToken(db, { organizationId: organization.id, name: `${slug}-viewer`, role })).token;
  const environments = await listEnvironments(db, organization.id);
  if (environments.map((e) => e.key).join() !== ENVIRONMENT_KEYS.join()) throw new Error("unexpected default pipeline");
  const databases = await Promise.all(
    environments.map((e) => createDatabase(db, actor, { environmentId: e.id, name: `${slug}-users-${e.key}` })),
  );
  let journeyId = "";
  for (let n = 1; n <= APPLICATIONS; n++) {
    const application = await createApplication(db, actor, { name: `Application ${String(n).padStart(3, "0")}` });
    const host = `app-${n}.example.com`;
    const clientIn = (index: number) =>
      createClient(db, actor, {
        applicationId: application.id,
        environmentId: environments[index].id,
        databaseId: databases[index].id,
        redirectUris: [`https://${environments[index].key}.${host}/callback`],
        allowedOrigins: [`https://${environments[index].key}.${host}`],
      });
    await clientIn(0);
    for (const journey of JOURNEYS) {
      const created = await createJourney(db, actor, { applicationId: application.id, ...journey });
      if (!journeyId && journey.key === "password-recovery") journeyId = globalId("Journey", created.id);
    }
    await clientIn(1);
    await clientIn(2);
  }
  return {
    token,
    productionId: globalId("Environment", environments[2].id),
    developmentId: globalId("Environment", environments[0].id),
    journeyId,
  };
}

interface DashboardResponse {
  data?: {
    applications: {
      edges: {
        node: {
          name: string;
          clients: { environment: { key: string }; clientId: string }[];
          journeys: { key: string; configuration: { version: number; hash: string } | null }[];
        };
      }[];
    };
  };
  errors?: unknown[];
}

/** Fails unless the response (its text) is a full first page: every application with its three clients and three production configurations. */
export function validateDashboard(text: string): void {
  const response = JSON.parse(text) as DashboardResponse;
  if (response.errors) throw new Error(`dashboard answered with errors: ${JSON.stringify(response.errors)}`);
  const edges = response.data?.applications.edges ?? [];
  if (edges.length !== PAGE_SIZE) throw new Error(`dashboard returned ${edges.length} applications, expected ${PAGE_SIZE}`);
  for (const { node } of edges) {
    const environments = node.clients.map((c) => c.environment.key).join();
    if (environments !== ENVIRONMENT_KEYS.join()) throw new Error(`${node.name}: clients in ${environments}`);
    if (node.journeys.length !== JOURNEYS.length) throw new Error(`${node.name}: ${node.journeys.length} journeys`);
    for (const { key, configuration } of node.journeys) {
      if (configuration?.version !== 1 || !/^[0-9a-f]{64}$/.test(configuration.hash)) {
        throw new Error(`${node.name}/${key}: production configuration ${JSON.stringify(configuration)}`);
      }
    }
  }
}
