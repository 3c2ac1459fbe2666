import { h, time } from "./dom.js";
import { type ApplicationRows, type Cell, CLIENT_SETTINGS, changeWords, type Matrix, type Row, statusWords } from "./matrix.js";
import type { Environment, PromotionRequest, Propagation, PropagationMode } from "./operations.js";

const ICONS = { IN_SYNC: "✓", OUT_OF_SYNC: "≠", NOT_CREATED: "∅" } as const;

const MODES: Record<PropagationMode, string> = {
  PROMOTE_NOW: "Promote now",
  REVIEWED: "Reviewed selection",
  REVERT: "Revert",
  APPROVED_REQUEST: "Approved request",
};

/** The table cell of one state, with the test hooks of DESIGN §11 (`data-testid=sync-cell` and its data attributes). */
export function cellElement(application: ApplicationRows, row: Row, environment: Environment, cell: Cell): HTMLTableCellElement {
  const td = h("td", {
    "data-testid": "sync-cell",
    "data-application": application.name,
    "data-journey": row.key,
    "data-environment": environment.key,
  });
  fillCell(td, row, cell);
  return td;
}

/** Writes a state into its cell: the status in words and an icon, the change count, and the data attributes. */
export function fillCell(td: HTMLTableCellElement, row: Row, cell: Cell): void {
  td.dataset.status = cell.status;
  td.dataset.changeCount = String(cell.changeCount);
  td.className = `status status-${cell.status.toLowerCase().replaceAll("_", "-")}`;
  td.replaceChildren(
    h("span", { class: "icon", "aria-hidden": "true" }, ICONS[cell.status]),
    h("span", { class: "words" }, statusWords(cell, row.key === CLIENT_SETTINGS)),
  );
  // The comma is for screen readers and copied text; the count has a line of its own on screen.
  if (cell.status === "OUT_OF_SYNC") {
    td.append(h("span", { class: "count" }, h("span", { class: "visually-hidden" }, ", "), changeWords(cell.changeCount)));
  }
}

/** Where each cell element is, to update one without drawing the table again. */
export type CellElements = Map<string, HTMLTableCellElement>;

export const cellKey = (applicationId: string, row: string, environment: string) => `${applicationId}\u0000${row}\u0000${environment}`;

/**
 * The matrix as a real table: a column header per environment (in pipeline order), a row group per application
 * (its name a row-group header), a row header per journey and for the client settings.
 */
export function matrixTable(matrix: Matrix, cells: CellElements): HTMLTableElement {
  cells.clear();
  const lowest = matrix.environments[0];
  const head = h(
    "thead",
    {},
    h(
      "tr",
      {},
      h("th", { scope: "col" }, "Application"),
      h("th", { scope: "col" }, "Configuration"),
      ...matrix.environments.map((environment, index) =>
        h(
          "th",
          { scope: "col", "data-environment": environment.key },
          h("span", { class: "environment-name" }, environment.name),
          h(
            "span",
            { class: "environment-note" },
            environment === lowest ? "source of the pipeline" : `against ${matrix.environments[index - 1].name}`,
          ),
        ),
      ),
    ),
  );
  const bodies = matrix.applications.map((application) =>
    h(
      "tbody",
      { "data-application": application.name },
      ...application.rows.map((row, index) =>
        h(
          "tr",
          {},
          index === 0 ? h("th", { scope: "rowgroup", rowspan: application.rows.length, class: "application" }, application.name) : null,
          h(
            "th",
            { scope: "row", class: row.key === CLIENT_SETTINGS ? "row client-settings" : "row" },
            row.label,
            row.key === CLIENT_SETTINGS ? null : h("span", { class: "key" }, row.key),
          ),
          ...matrix.environments.map((environment) => {
            const td = cellElement(application, row, environment, row.cells.get(environment.key)!);
            cells.set(cellKey(application.id, row.key, environment.key), td);
            return td;
          }),
        ),
      ),
    ),
  );
  const empty =
    matrix.applications.length === 0
      ? h("tbody", {}, h("tr", {}, h("td", { colspan: matrix.environments.length + 2 }, "No applications yet.")))
      : null;
  return h(
    "table",
    { class: "matrix" },
    h("caption", {}, "Each journey and the client settings of each application, in every environment, against the environment below it"),
    head,
    ...bodies,
    empty,
  );
}

export function propagationList(propagations: Propagation[]): HTMLElement {
  if (propagations.length === 0) return h("p", { class: "empty" }, "No propagation yet.");
  return h(
    "ol",
    { class: "activity" },
    ...propagations.map((p) =>
      h(
        "li",
        { "data-testid": "propagation" },
        h("p", { class: "what" }, h("strong", {}, p.application.name), `: ${p.from.name} → ${p.to.name}`),
        h("p", { class: "meta" }, `${MODES[p.mode]} by ${p.actor}, `, time(p.createdAt)),
        p.comment ? h("blockquote", { class: "comment" }, p.comment) : h("p", { class: "meta" }, "No comment."),
      ),
    ),
  );
}

export function requestList(requests: PromotionRequest[]): HTMLElement {
  if (requests.length === 0) return h("p", { class: "empty" }, "No open promotion request.");
  return h(
    "ol",
    { class: "activity" },
    ...requests.map((r) =>
      h(
        "li",
        { "data-testid": "promotion-request", "data-status": r.status },
        h("p", { class: "what" }, h("strong", {}, r.application.name), `: ${r.from.name} → ${r.to.name}`),
        h(
          "p",
          { class: "meta" },
          r.status === "APPROVED"
            ? "Approved, waiting to be executed"
            : `Pending: ${r.approvalsNeeded} approval${r.approvalsNeeded === 1 ? "" : "s"} needed`,
          `; requested by ${r.requestedBy}, `,
          time(r.createdAt),
          "; expires ",
          time(r.expiresAt),
        ),
        r.comment ? h("blockquote", { class: "comment" }, r.comment) : null,
      ),
    ),
  );
}
