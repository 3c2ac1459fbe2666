import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { launchChromium } from "./browser.js";

/**
 * Takes docs/dashboard.png (`npm run docs:screenshot`): the server as `npm start` runs it, on a fresh embedded
 * database with the demo organization, then a production client and a few edits through the API so that the
 * picture shows every state, a propagation with its comment and a pending promotion request.
 */

const root = new URL("../..", import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), "jp-screenshot-"));
const server = spawn(process.execPath, ["--import", "tsx", "src/server/main.ts"], {
  cwd: root,
  env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: "", PORT: "0", HOST: "127.0.0.1", LOG_LEVEL: "warn", SEED_DEMO: "true" },
  stdio: ["ignore", "pipe", "inherit"],
});
let output = "";
server.stdout.on("data", (chunk) => (output += chunk));

try {
  const { url, token } = await started();
  const gql = async (query: string, variables: Record<string, unknown> = {}) => {
    const response = await fetch(`${url}/graphql`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await response.json()) as { data?: Record<string, { __typename?: string; message?: string }>; errors?: unknown };
    const failed = Object.values(body.data ?? {}).find((value) => value?.__typename && !value.__typename.endsWith("Success"));
    if (body.errors || failed) throw new Error(JSON.stringify(body.errors ?? failed));
    return body.data as Record<string, any>;
  };

  const { environments, applications } = await gql(`{
    environments { id key databases { id } }
    applications(first: 1) { edges { node { id clients { id environment { key } } journeys { id key } } } }
  }`);
  const env = Object.fromEntries(environments.map((e: { key: string }) => [e.key, e])) as Record<string, any>;
  const app = applications.edges[0].node;
  const login = app.journeys.find((j: { key: string }) => j.key === "login").id;
  const devClient = app.clients.find((c: { environment: { key: string } }) => c.environment.key === "development").id;
  const ids = { applicationId: app.id, fromEnvironmentId: env.development.id };

  await gql(`mutation($input: CreateClientInput!) { createClient(input: $input) { __typename ... on Error { message } } }`, {
    input: {
      applicationId: app.id,
      environmentId: env.production.id,
      databaseId: env.production.databases[0].id,
      redirectUris: [],
      allowedOrigins: [],
    },
  });
  const saveLogin = async (settings: Record<string, number>, comment: string) => {
    const draft = { journeyId: login, environmentId: env.development.id };
    const step = await gql(
      `mutation($input: SaveJourneyStepInput!) { saveJourneyStep(input: $input) { __typename ... on SaveJourneyStepSuccess { draft { revision } } ... on Error { message } } }`,
      {
        input: {
          ...draft,
          step: {
            key: "email-otp",
            type: "EMAIL_OTP",
            name: "Email code",
            enabled: true,
            settings,
            transitions: [
              { outcome: "success", to: "COMPLETE" },
              { outcome: "failure", to: "DENY" },
            ],
          },
        },
      },
    );
    await gql(`mutation($input: SaveJourneyInput!) { saveJourney(input: $input) { __typename ... on Error { message } } }`, {
      input: { ...draft, draftRevision: step.saveJourneyStep.draft.revision, comment },
    });
  };
  await saveLogin({ codeLength: 8, ttlSeconds: 300 }, "Longer email codes");
  await gql(`mutation($input: PropagateChangesInput!) { propagateChanges(input: $input) { __typename ... on Error { message } } }`, {
    input: { ...ids, toEnvironmentId: env.staging.id, selectAll: true, comment: "Longer email codes, as the SMS gateway team asked" },
  });
  await gql(`mutation($input: SetApprovalPolicyInput!) { setApprovalPolicy(input: $input) { __typename ... on Error { message } } }`, {
    input: { environmentId: env.staging.id, requiredApprovals: 1, allowSelfApproval: false, requireComment: false, expiresAfterHours: 72 },
  });
  await saveLogin({ codeLength: 8, ttlSeconds: 600 }, "Codes valid for ten minutes");
  await gql(`mutation($input: RequestPromotionInput!) { requestPromotion(input: $input) { __typename ... on Error { message } } }`, {
    input: { ...ids, toEnvironmentId: env.staging.id, selectAll: true, comment: "Codes valid for ten minutes: users on slow mail" },
  });
  await gql(`mutation($input: UpdateClientInput!) { updateClient(input: $input) { __typename ... on Error { message } } }`, {
    input: { clientId: devClient, settings: { accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 1209600 } },
  });

  // A second application, in development only: its other environments show "Not created".
  const partner = await gql(
    `mutation { createApplication(input: { name: "Partner Portal" }) { __typename ... on CreateApplicationSuccess { application { id } } ... on Error { message } } }`,
  );
  const partnerId = partner.createApplication.application.id;
  await gql(`mutation($input: CreateClientInput!) { createClient(input: $input) { __typename ... on Error { message } } }`, {
    input: {
      applicationId: partnerId,
      environmentId: env.development.id,
      databaseId: env.development.databases[0].id,
      redirectUris: [],
      allowedOrigins: [],
    },
  });
  await gql(`mutation($input: CreateJourneyInput!) { createJourney(input: $input) { __typename ... on Error { message } } }`, {
    input: { applicationId: partnerId, key: "login", name: "Login", type: "LOGIN" },
  });

  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 640 }, reducedMotion: "reduce" });
    await page.goto(`${url}/dashboard`);
    await page.locator("form[data-testid=token-form] input[name=token]").fill(token);
    await page.keyboard.press("Enter");
    await page.locator("[data-testid=live-status][data-state=live]").waitFor();
    await page.locator("[data-testid=promotion-request]").waitFor();
    await page.locator('[data-testid=sync-cell][data-journey=client-settings][data-environment=staging][data-change-count="2"]').waitFor();
    await page.screenshot({ path: join(root, "docs/dashboard.png") });
  } finally {
    await browser.close();
  }
  console.log("docs/dashboard.png written");
} finally {
  server.kill("SIGTERM");
  await new Promise((resolve) => server.once("exit", resolve));
  rmSync(dataDir, { recursive: true, force: true });
}

/** The URL and the demo's admin token, once the server has printed them. */
async function started(): Promise<{ url: string; token: string }> {
  for (let i = 0; i < 600; i++) {
    const ready = /GraphiQL: (\S+)\/graphql[\s\S]*?\n(jpt_\S+)\n/.exec(output);
    if (ready) return { url: ready[1], token: ready[2] };
    if (server.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the server did not start:\n${output}`);
}
