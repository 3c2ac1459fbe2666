import { h } from "./dom.js";
import { GraphQLRequestError, query, Unauthorized } from "./http.js";
import { type Live, startLive, type Transport } from "./live.js";
import { apply, type Cell, CLIENT_SETTINGS, cellOf, changeWords, type Matrix, matrixOf, statusWords } from "./matrix.js";
import {
  ACTIVITY,
  type ActivityData,
  CLIENT_SETTINGS_CHANGES,
  type ClientSettingsChangesData,
  LATEST_NOTIFICATION,
  type LatestNotificationData,
  MATRIX,
  type MatrixApplication,
  type MatrixData,
  type SyncNotification,
} from "./operations.js";
import { type CellElements, cellKey, fillCell, matrixTable, propagationList, requestList } from "./view.js";

/**
 * The live sync dashboard (`GET /dashboard`, DESIGN §11): the token typed into a form and kept in this tab's
 * sessionStorage (never in a URL), the matrix read once, then kept current by `syncStatusChanged`.
 */

const TOKEN_KEY = "journey-promotion-api:token";
const main = document.getElementById("main")!;
const session = document.getElementById("session")!;
const announcer = document.getElementById("announcer")!;

function signIn(message?: string) {
  session.replaceChildren();
  const input = h("input", {
    id: "token",
    name: "token",
    type: "password",
    autocomplete: "off",
    spellcheck: "false",
    required: true,
    "aria-describedby": "token-help",
  });
  const error = h("p", { class: "error", role: "alert" }, message ?? "");
  // POST, and the page's CSP allows no form action: were the script to fail, the token would still go nowhere.
  const form = h(
    "form",
    { "data-testid": "token-form", method: "post", class: "token-form", "aria-labelledby": "token-title" },
    h("h2", { id: "token-title" }, "Open the dashboard"),
    h(
      "p",
      { id: "token-help" },
      "Paste an API token of your organization (any role reads the dashboard). It stays in this browser tab only and is sent in the Authorization header, never in a URL.",
    ),
    h("label", { for: "token" }, "API token"),
    input,
    error,
    h("button", { type: "submit" }, "Open"),
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const token = input.value.trim();
    if (!token) {
      error.textContent = "Enter a token.";
      return;
    }
    input.value = "";
    sessionStorage.setItem(TOKEN_KEY, token);
    void open(token);
  });
  main.replaceChildren(form);
  input.focus();
}

let current: Dashboard | undefined;

async function open(token: string) {
  current?.close();
  current = new Dashboard(token);
  await current.start();
}

function signOut(message?: string) {
  current?.close();
  current = undefined;
  sessionStorage.removeItem(TOKEN_KEY);
  signIn(message);
}

class Dashboard {
  private matrix: Matrix = { environments: [], applications: [] };
  private readonly cells: CellElements = new Map();
  /** Notifications received while the matrix is read again, applied to the new one once it is in. */
  private buffered: SyncNotification[] | undefined;
  /** Notifications applied per cell: a count read by a slower query is dropped when a newer state came meanwhile. */
  private readonly changes = new Map<Cell, number>();
  private live: Live | undefined;
  private closed = false;
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly status = h("p", { "data-testid": "live-status", "data-state": "reconnecting", role: "status", class: "live-status" });
  private readonly table = h("div", { class: "table-scroll", role: "region", "aria-labelledby": "matrix-title", tabindex: "0" });
  private readonly propagations = h("div", { class: "list" });
  private readonly requests = h("div", { class: "list" });
  private readonly problem = h("p", { class: "error", role: "alert" });
  private readonly onOnline = () => this.live?.retryNow();
  private readonly onVisible = () => {
    if (document.visibilityState === "visible") this.live?.retryNow();
  };

  constructor(private readonly token: string) {}

  async start() {
    this.setStatus("reconnecting", "Connecting…");
    const signOutButton = h("button", { type: "button", class: "secondary" }, "Sign out");
    signOutButton.addEventListener("click", () => signOut());
    session.replaceChildren(this.status, signOutButton);
    main.replaceChildren(
      this.problem,
      h(
        "div",
        { class: "layout" },
        h(
          "section",
          { class: "matrix-section", "aria-labelledby": "matrix-title" },
          h("h2", { id: "matrix-title" }, "Sync matrix"),
          h(
            "p",
            { class: "legend" },
            "✓ In sync · ≠ out of sync, with the number of changes a promotion from the environment below would make · ∅ Not created (no client there yet)",
          ),
          this.table,
        ),
        h(
          "aside",
          { class: "side" },
          h(
            "section",
            { "aria-labelledby": "propagations-title" },
            h("h2", { id: "propagations-title" }, "Recent propagations"),
            this.propagations,
          ),
          h(
            "section",
            { "aria-labelledby": "requests-title" },
            h("h2", { id: "requests-title" }, "Open promotion requests"),
            this.requests,
          ),
        ),
      ),
    );
    this.table.append(h("p", {}, "Loading…"));
    try {
      // The cursor first, then the matrix: whatever commits in between is replayed by the subscription.
      const latest = await query<LatestNotificationData>(this.token, LATEST_NOTIFICATION);
      const after = latest.syncNotifications.edges[0]?.node.cursor ?? "0";
      await this.loadMatrix();
      if (this.closed) return;
      void this.loadActivity();
      this.live = startLive(this.token, after, {
        sync: (notification) => this.onNotification(notification),
        requestChanged: () => this.later("activity", 300, () => this.loadActivity()),
        connected: (transport) => this.onConnected(transport),
        reconnecting: (retryInMs, reason) =>
          this.setStatus("reconnecting", `Reconnecting (${reason}); next attempt in ${Math.ceil(retryInMs / 1000)} s…`),
        unauthorized: () => signOut("The server refused this token (invalid, revoked, or not allowed to read). Enter another one."),
      });
      addEventListener("online", this.onOnline);
      document.addEventListener("visibilitychange", this.onVisible);
    } catch (error) {
      this.fail(error);
    }
  }

  close() {
    this.closed = true;
    this.live?.stop();
    for (const timer of this.timers.values()) clearTimeout(timer);
    removeEventListener("online", this.onOnline);
    document.removeEventListener("visibilitychange", this.onVisible);
  }

  private fail(error: unknown) {
    if (this.closed) return;
    if (error instanceof Unauthorized || (error instanceof GraphQLRequestError && error.code === "FORBIDDEN")) {
      signOut(`The server refused this token: ${error.message}. Enter another one.`);
      return;
    }
    const retry = h("button", { type: "button" }, "Try again");
    retry.addEventListener("click", () => void open(this.token));
    this.problem.replaceChildren(`Could not read the dashboard: ${error instanceof Error ? error.message : String(error)}. `, retry);
  }

  private setStatus(state: "live" | "reconnecting", text: string) {
    this.status.dataset.state = state;
    this.status.textContent = text;
  }

  private onConnected(transport: Transport) {
    this.setStatus("live", `Live (${transport === "SSE" ? "server-sent events" : "WebSocket"})`);
    // The lists are not resumable by cursor: read them again after every (re)connection.
    void this.loadActivity();
  }

  /** Every application, a page at a time; client settings' change counts follow. */
  private async loadMatrix() {
    this.buffered = [];
    const applications: MatrixApplication[] = [];
    let after: string | null = null;
    let environments: MatrixData["environments"] = [];
    for (;;) {
      const page: MatrixData = await query<MatrixData>(this.token, MATRIX, { after });
      environments = page.environments;
      applications.push(...page.applications.edges.map((e) => e.node));
      if (!page.applications.pageInfo.hasNextPage) break;
      after = page.applications.pageInfo.endCursor;
    }
    if (this.closed) return;
    this.matrix = matrixOf(environments, applications);
    const missed = this.buffered;
    this.buffered = undefined;
    this.changes.clear();
    this.table.replaceChildren(matrixTable(this.matrix, this.cells));
    for (const notification of missed) this.onNotification(notification);
    void this.loadClientSettingsCounts();
  }

  /** `Client` has no change count: an out-of-sync client's count is its diff's changes outside every journey. */
  private async loadClientSettingsCounts() {
    const { environments } = this.matrix;
    await Promise.all(
      this.matrix.applications.flatMap((application) => {
        const row = application.rows.find((r) => r.key === CLIENT_SETTINGS)!;
        return environments.slice(1).map(async (environment, index) => {
          const cell = row.cells.get(environment.key)!;
          if (cell.status !== "OUT_OF_SYNC") return;
          const seen = this.changes.get(cell) ?? 0;
          try {
            const data = await query<ClientSettingsChangesData>(this.token, CLIENT_SETTINGS_CHANGES, {
              application: application.id,
              from: environments[index].id,
              to: environment.id,
            });
            if ((this.changes.get(cell) ?? 0) !== seen || cell.status !== "OUT_OF_SYNC") return;
            cell.changeCount = data.diff.changes.filter((c) => c.journey === null).length;
            this.draw(application.id, row.key, environment.key, cell, false);
          } catch (error) {
            this.fail(error);
          }
        });
      }),
    );
  }

  private async loadActivity() {
    try {
      const data = await query<ActivityData>(this.token, ACTIVITY);
      if (this.closed) return;
      this.problem.replaceChildren();
      this.propagations.replaceChildren(propagationList(data.propagations.edges.map((e) => e.node)));
      const open = [...data.pending.edges, ...data.approved.edges].map((e) => e.node);
      open.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
      this.requests.replaceChildren(requestList(open));
    } catch (error) {
      this.fail(error);
    }
  }

  private onNotification(notification: SyncNotification) {
    if (this.buffered) {
      this.buffered.push(notification);
      return;
    }
    // A propagation or a save: the propagation list may have grown.
    this.later("activity", 300, () => this.loadActivity());
    const cell = cellOf(this.matrix, notification);
    if (!cell) {
      // An application, journey or environment the matrix does not show yet: read it again.
      this.later("matrix", 200, () => this.loadMatrix().catch((error) => this.fail(error)));
      return;
    }
    apply(cell, notification);
    this.changes.set(cell, (this.changes.get(cell) ?? 0) + 1);
    const row = notification.journey?.key ?? CLIENT_SETTINGS;
    this.draw(notification.application.id, row, notification.environment.key, cell);
    const application = this.matrix.applications.find((a) => a.id === notification.application.id)!;
    const label = application.rows.find((r) => r.key === row)!.label;
    const environment = this.matrix.environments.find((e) => e.key === notification.environment.key)!;
    const count = cell.status === "OUT_OF_SYNC" ? `, ${changeWords(cell.changeCount)}` : "";
    announcer.textContent = `${application.name}, ${label} in ${environment.name}: ${statusWords(cell, row === CLIENT_SETTINGS)}${count}`;
  }

  /** Redraws a cell; `changed` outlines it for a moment (a live change, not a count that finished loading). */
  private draw(applicationId: string, row: string, environment: string, cell: Cell, changed = true) {
    const td = this.cells.get(cellKey(applicationId, row, environment));
    if (!td) return;
    const application = this.matrix.applications.find((a) => a.id === applicationId)!;
    fillCell(td, application.rows.find((r) => r.key === row)!, cell);
    if (!changed) return;
    td.classList.add("changed");
    setTimeout(() => td.classList.remove("changed"), 2_000);
  }

  /** Runs `work` once, `ms` after the last of a burst of calls with the same name. */
  private later(name: string, ms: number, work: () => unknown) {
    clearTimeout(this.timers.get(name));
    this.timers.set(
      name,
      setTimeout(() => {
        this.timers.delete(name);
        if (!this.closed) void work();
      }, ms),
    );
  }
}

const stored = sessionStorage.getItem(TOKEN_KEY);
if (stored) void open(stored);
else signIn();
