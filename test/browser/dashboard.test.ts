import type { Browser, Page, WebSocketRoute } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { SAVE, SAVE_STEP, UPDATE_CLIENT } from "../support/documents.js";
import { type Api, apiAs, type Catalogue, createCatalogueWithStaging, operation } from "../support/fixtures.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { createTenant, type Tenant } from "../support/tenant.js";
import { launchChromium, openPage, type Watched } from "./browser.js";
import { eventually } from "./eventually.js";

/**
 * The live sync dashboard (DESIGN §11) in headless Chromium, against the real server: the matrix of a seeded
 * organization, a save through the API reaching the right cell without a reload, a dropped connection resumed after
 * the last cursor, the SSE fallback, the side lists. Cells are found by the contract's test hooks only.
 */

const PROPAGATE = operation(`
  mutation DashboardTestPropagate($input: PropagateChangesInput!) {
    propagateChanges(input: $input) { __typename ... on Error { code message } }
  }
`);

const SET_POLICY = operation(`
  mutation DashboardTestPolicy($input: SetApprovalPolicyInput!) {
    setApprovalPolicy(input: $input) { __typename ... on Error { code message } }
  }
`);

const REQUEST = operation(`
  mutation DashboardTestRequest($input: RequestPromotionInput!) {
    requestPromotion(input: $input) { __typename ... on Error { code message } }
  }
`);

const LATEST_CURSOR = operation(`
  query DashboardTestLatestCursor { syncNotifications(last: 1) { edges { node { cursor } } } }
`);

const LOGIN_STATES = operation(`
  query DashboardTestLoginStates($id: ID!) {
    node(id: $id) { ... on Journey { syncStates { environment { key } status changeCount } } }
  }
`);

let browser: Browser;
let server: TestServer;
const opened: Watched[] = [];

beforeAll(async () => {
  [browser, server] = await Promise.all([launchChromium(), startTestServer()]);
  // Bundled once per process; done here so that no test's timing includes it.
  await server.app.preparePages();
});

afterEach(async () => {
  for (const watched of opened.splice(0)) await watched.context.close();
});

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

interface World {
  tenant: Tenant;
  api: Api;
  catalogue: Catalogue;
}

/** A fresh organization with "Customer Portal" in development and staging, `login` and `registration` in sync. */
async function seeded(): Promise<World> {
  const tenant = await createTenant("dashboard");
  const api = apiAs(server.endpoint, tenant);
  return { tenant, api, catalogue: await createCatalogueWithStaging(api) };
}

/** Saves a new `email-otp` step of `login` in development: one change against staging per setting that differs. */
async function saveLogin({ api, catalogue }: World, settings: { codeLength: number; ttlSeconds: number }, comment: string) {
  const draft = { journeyId: catalogue.journeys.login, environmentId: catalogue.environments.development };
  const step = await api.data(SAVE_STEP, {
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
  });
  expect(step.saveJourneyStep.__typename).toBe("SaveJourneyStepSuccess");
  const saved = await api.data(SAVE, { input: { ...draft, draftRevision: step.saveJourneyStep.draft.revision, comment } });
  expect(saved.saveJourney.__typename).toBe("SaveJourneySuccess");
}

/** Changes shared settings of the client in development: one change against staging per setting. */
async function updateClientSettings({ api, catalogue }: World, settings: Record<string, number>) {
  const data = await api.data(UPDATE_CLIENT, { input: { clientId: catalogue.clientId, settings } });
  expect(data.updateClient.__typename).toBe("UpdateClientSuccess");
}

async function latestCursor(api: Api): Promise<string> {
  const data = await api.data(LATEST_CURSOR);
  return data.syncNotifications.edges[0].node.cursor;
}

/** Opens the dashboard, types the token into the form and waits until it is live. */
async function openDashboard(token: string): Promise<Watched> {
  const watched = await openPage(browser, server.url);
  opened.push(watched);
  const { page } = watched;
  await page.goto(`${server.url}/dashboard`);
  await page.locator("form[data-testid=token-form] input[name=token]").fill(token);
  await page.locator("form[data-testid=token-form]").getByRole("button", { name: "Open" }).click();
  await liveStatus(page, "live");
  return watched;
}

const liveStatus = (page: Page, state: "live" | "reconnecting") =>
  page.locator(`[data-testid=live-status][data-state=${state}]`).waitFor({ timeout: 15_000 });

const cell = (page: Page, journey: string, environment: string, application = "Customer Portal") =>
  page.locator(`[data-testid=sync-cell][data-application="${application}"][data-journey="${journey}"][data-environment="${environment}"]`);

/** Every cell as [journey, environment, status, change count]. */
async function matrix(page: Page): Promise<string[][]> {
  return page
    .locator("[data-testid=sync-cell]")
    .evaluateAll((cells) =>
      cells.map((c) => [
        c.getAttribute("data-journey")!,
        c.getAttribute("data-environment")!,
        c.getAttribute("data-status")!,
        c.getAttribute("data-change-count")!,
      ]),
    );
}

/** What the API itself says of `login` in staging. */
async function loginInStaging({ api, catalogue }: World): Promise<{ status: string; changeCount: number }> {
  const data = await api.data(LOGIN_STATES, { id: catalogue.journeys.login });
  return data.node.syncStates.find((s: { environment: { key: string } }) => s.environment.key === "staging");
}

describe("the sync dashboard", () => {
  it("shows a seeded organization's matrix, its propagations with their comments and its pending requests", async () => {
    const world = await seeded();
    const { api, catalogue, tenant } = world;
    const apps = { applicationId: catalogue.applicationId, fromEnvironmentId: catalogue.environments.development };
    await saveLogin(world, { codeLength: 8, ttlSeconds: 300 }, "Longer codes");
    const propagated = await api.data(PROPAGATE, {
      input: { ...apps, toEnvironmentId: catalogue.environments.staging, selectAll: true, comment: "Longer codes for the SMS gateway" },
    });
    expect(propagated.propagateChanges.__typename).toBe("PropagateChangesSuccess");
    const policy = { requiredApprovals: 1, allowSelfApproval: false, requireComment: false, expiresAfterHours: 72 };
    await api.data(SET_POLICY, { input: { environmentId: catalogue.environments.staging, ...policy } });
    await saveLogin(world, { codeLength: 8, ttlSeconds: 600 }, "Codes live longer");
    const requested = await api.data(REQUEST, {
      input: { ...apps, toEnvironmentId: catalogue.environments.staging, selectAll: true, comment: "Ten minutes, second try" },
    });
    expect(requested.requestPromotion.__typename).toBe("RequestPromotionSuccess");
    await updateClientSettings(world, { accessTokenTtlSeconds: 900, refreshTokenTtlSeconds: 1209600 });

    const { page, errors, foreignRequests } = await openDashboard(tenant.tokens.VIEWER);

    const headers = await page.locator("table thead th[scope=col]").allInnerTexts();
    expect(headers.map((h) => h.split("\n")[0])).toEqual(["Application", "Configuration", "Development", "Staging", "Production"]);
    expect(await page.locator("tbody th[scope=row]").allInnerTexts()).toEqual([
      "Client settings",
      "Login\nlogin",
      "Registration\nregistration",
    ]);
    // A client has a status but no count: the page counts its diff's client changes, as syncStatusChanged does.
    await cell(page, "client-settings", "staging").and(page.locator("[data-change-count='2']")).waitFor();
    expect(await matrix(page)).toEqual([
      ["client-settings", "development", "IN_SYNC", "0"],
      ["client-settings", "staging", "OUT_OF_SYNC", "2"],
      ["client-settings", "production", "NOT_CREATED", "0"],
      ["login", "development", "IN_SYNC", "0"],
      ["login", "staging", "OUT_OF_SYNC", "1"],
      ["login", "production", "NOT_CREATED", "0"],
      ["registration", "development", "IN_SYNC", "0"],
      ["registration", "staging", "IN_SYNC", "0"],
      ["registration", "production", "NOT_CREATED", "0"],
    ]);
    // Status in words, not colour alone.
    await eventually(() => cell(page, "login", "staging").textContent()).toMatch(/Journey Configuration out of Sync, 1 change$/);
    expect(await cell(page, "login", "production").textContent()).toMatch(/Not created/);
    expect(await cell(page, "registration", "staging").textContent()).toMatch(/In sync/);

    const propagation = page.locator("[data-testid=propagation]");
    await eventually(() => propagation.allInnerTexts()).toEqual([
      expect.stringMatching(/Development → Staging[\s\S]*Longer codes for the SMS gateway/),
    ]);
    const request = page.locator("[data-testid=promotion-request]");
    expect(await request.allInnerTexts()).toEqual([expect.stringMatching(/Pending: 1 approval needed[\s\S]*Ten minutes, second try/)]);

    // The token lives in this tab's sessionStorage, never in a URL: a reload reopens the dashboard without the form.
    expect(page.url()).toBe(`${server.url}/dashboard`);
    expect(await page.evaluate(() => Object.values(sessionStorage))).toEqual([tenant.tokens.VIEWER]);
    await page.reload();
    await liveStatus(page, "live");
    expect(await page.locator("form[data-testid=token-form]").count()).toBe(0);
    expect(page.url()).toBe(`${server.url}/dashboard`);

    // Keyboard: the table region and the sign-out button are reached by Tab, and signing out brings the form back.
    await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const reached: string[] = [];
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press("Tab");
      reached.push(await page.evaluate(() => document.activeElement?.textContent?.slice(0, 20) ?? ""));
    }
    expect(reached).toContain("Sign out");
    expect(reached.some((text) => text.startsWith("Each journey"))).toBe(true);
    await page.getByRole("button", { name: "Sign out" }).focus();
    await page.keyboard.press("Enter");
    await page.locator("form[data-testid=token-form] input[name=token]").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    expect(errors).toEqual([]);
    expect(foreignRequests).toEqual([]);
  });

  it("turns the right cell out of sync when a save goes through the API, without a reload", async () => {
    const world = await seeded();
    const { page, errors } = await openDashboard(world.tenant.tokens.VIEWER);
    expect(await cell(page, "login", "staging").getAttribute("data-status")).toBe("IN_SYNC");
    const before = await matrix(page);
    await page.evaluate(() => Object.assign(window, { sameDocument: true }));

    await saveLogin(world, { codeLength: 8, ttlSeconds: 600 }, "Longer codes, longer lives");

    await eventually(() => cell(page, "login", "staging").getAttribute("data-status")).toBe("OUT_OF_SYNC");
    const api = await loginInStaging(world);
    expect(api).toMatchObject({ status: "OUT_OF_SYNC", changeCount: 2 });
    expect(await cell(page, "login", "staging").getAttribute("data-change-count")).toBe("2");
    expect(await cell(page, "login", "staging").textContent()).toMatch(/Journey Configuration out of Sync, 2 changes$/);
    // Only that cell moved, and the page was not reloaded.
    expect((await matrix(page)).filter((c, i) => c.join() !== before[i].join())).toEqual([["login", "staging", "OUT_OF_SYNC", "2"]]);
    expect(await page.evaluate(() => (window as unknown as { sameDocument?: boolean }).sameDocument)).toBe(true);

    await updateClientSettings(world, { accessTokenTtlSeconds: 900 });
    await eventually(() => cell(page, "client-settings", "staging").getAttribute("data-status")).toBe("OUT_OF_SYNC");
    expect(await cell(page, "client-settings", "staging").getAttribute("data-change-count")).toBe("1");
    expect(await cell(page, "client-settings", "staging").textContent()).toMatch(/Client Settings out of Sync, 1 change$/);
    expect(errors).toEqual([]);
  });

  it("shows a dropped connection as reconnecting, then resumes after the last cursor it saw and shows what it missed", async () => {
    const world = await seeded();
    const first = await latestCursor(world.api);
    const watched = await openPage(browser, server.url);
    opened.push(watched);
    const { page, errors } = watched;
    // The page's WebSockets go through this proxy, which can drop them, refuse new ones, and records what they send.
    const sockets: WebSocketRoute[] = [];
    const subscribed: { after?: string }[] = [];
    let refusing = false;
    await page.routeWebSocket(/\/graphql$/, (ws) => {
      if (refusing) return void ws.close({ code: 1001, reason: "network down" });
      const upstream = ws.connectToServer();
      sockets.push(ws);
      ws.onMessage((message) => {
        const parsed = JSON.parse(String(message));
        if (parsed.type === "subscribe" && /syncStatusChanged/.test(parsed.payload.query)) subscribed.push(parsed.payload.variables);
        upstream.send(message);
      });
    });
    await page.goto(`${server.url}/dashboard`);
    await page.locator("form[data-testid=token-form] input[name=token]").fill(world.tenant.tokens.VIEWER);
    await page.keyboard.press("Enter");
    await liveStatus(page, "live");
    expect(subscribed).toEqual([{ after: first }]);
    await saveLogin(world, { codeLength: 4, ttlSeconds: 300 }, "Shorter codes, seen live");
    await cell(page, "login", "staging").and(page.locator("[data-change-count='1']")).waitFor();
    const seen = await latestCursor(world.api);

    refusing = true;
    await Promise.all(sockets.map((ws) => ws.close({ code: 1001, reason: "network down" })));
    await liveStatus(page, "reconnecting");
    await saveLogin(world, { codeLength: 4, ttlSeconds: 600 }, "Codes live longer, saved while the dashboard was away");
    // Nothing reaches the page while it is away.
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(await cell(page, "login", "staging").getAttribute("data-change-count")).toBe("1");
    expect(await page.locator("[data-testid=live-status]").getAttribute("data-state")).toBe("reconnecting");

    refusing = false;
    // The network is back: the page tries again at once rather than at the end of its back-off.
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    await liveStatus(page, "live");
    await cell(page, "login", "staging").and(page.locator("[data-change-count='2']")).waitFor();
    expect(await cell(page, "login", "staging").getAttribute("data-status")).toBe("OUT_OF_SYNC");
    // Resumed after the last notification it had received: neither from the start, nor from now.
    expect(Number(seen)).toBeGreaterThan(Number(first));
    expect(subscribed.at(-1)).toEqual({ after: seen });
    expect(errors).toEqual([]);
  });

  it("falls back to server-sent events where WebSockets are blocked, and stays live", async () => {
    const world = await seeded();
    const watched = await openPage(browser, server.url);
    opened.push(watched);
    const { page, errors } = watched;
    let attempts = 0;
    await page.routeWebSocket(/\/graphql$/, (ws) => {
      attempts++;
      return ws.close({ code: 1008, reason: "WebSockets are not allowed here" });
    });
    await page.goto(`${server.url}/dashboard`);
    await page.locator("form[data-testid=token-form] input[name=token]").fill(world.tenant.tokens.VIEWER);
    await page.keyboard.press("Enter");
    await liveStatus(page, "live");
    expect(await page.locator("[data-testid=live-status]").textContent()).toMatch(/server-sent events/);
    expect(attempts).toBe(2);

    await saveLogin(world, { codeLength: 8, ttlSeconds: 300 }, "Over SSE");
    await eventually(() => cell(page, "login", "staging").getAttribute("data-status")).toBe("OUT_OF_SYNC");
    expect(await cell(page, "login", "staging").getAttribute("data-change-count")).toBe("1");
    expect(errors).toEqual([]);
  });

  it("asks for another token when the server refuses the one typed", async () => {
    const watched = await openPage(browser, server.url);
    opened.push(watched);
    const { page, errors } = watched;
    await page.goto(`${server.url}/dashboard`);
    await page.locator("form[data-testid=token-form] input[name=token]").fill("jpt_not-a-token");
    await page.keyboard.press("Enter");
    await eventually(() => page.locator("form[data-testid=token-form] [role=alert]").textContent()).toMatch(/refused this token/);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    expect(page.url()).toBe(`${server.url}/dashboard`);
    // The browser reports the 401 itself; nothing else may go wrong.
    expect(errors.filter((e) => !/status of 401/.test(e))).toEqual([]);
  });
});
