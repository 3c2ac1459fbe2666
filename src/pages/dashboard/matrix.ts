import type { Environment, MatrixApplication, SyncNotification, SyncStatus } from "./operations.js";

/** The row key of an application's client settings (`data-journey` of its cells). */
export const CLIENT_SETTINGS = "client-settings";

export interface Cell {
  status: SyncStatus;
  changeCount: number;
  /** The server's words for an out-of-sync state ("Journey Configuration out of Sync"). */
  message: string;
}

export interface Row {
  /** A journey's key, or CLIENT_SETTINGS. */
  key: string;
  label: string;
  /** By environment key. */
  cells: Map<string, Cell>;
}

export interface ApplicationRows {
  id: string;
  name: string;
  rows: Row[];
}

/**
 * The sync matrix: environments in pipeline order as columns; per application, a row for its client settings and
 * one per journey. Each cell is the state the API reports against the environment just below; the lowest
 * environment has nothing below it, so, as `Client.syncStatus` says of it, it is in sync wherever the application
 * has a client there.
 */
export interface Matrix {
  environments: Environment[];
  applications: ApplicationRows[];
}

const inSync = (): Cell => ({ status: "IN_SYNC", changeCount: 0, message: "" });
const notCreated = (): Cell => ({ status: "NOT_CREATED", changeCount: 0, message: "" });

/** The matrix of a snapshot read through DashboardMatrix (client settings counts are filled in afterwards). */
export function matrixOf(environments: Environment[], applications: MatrixApplication[]): Matrix {
  const ordered = [...environments].sort((a, b) => a.rank - b.rank);
  const lowest = ordered[0]?.key;
  return {
    environments: ordered,
    applications: applications.map((application) => {
      const clientIn = new Map(application.clients.map((c) => [c.environment.key, c]));
      const clientRow: Row = { key: CLIENT_SETTINGS, label: "Client settings", cells: new Map() };
      for (const environment of ordered) {
        const client = clientIn.get(environment.key);
        clientRow.cells.set(environment.key, client ? { status: client.syncStatus, changeCount: 0, message: "" } : notCreated());
      }
      const journeyRows = application.journeys.map((journey): Row => {
        const states = new Map(journey.syncStates.map((s) => [s.environment.key, s]));
        const cells = new Map<string, Cell>();
        for (const environment of ordered) {
          const state = states.get(environment.key);
          if (state) cells.set(environment.key, { status: state.status, changeCount: state.changeCount, message: state.message });
          else cells.set(environment.key, environment.key === lowest && clientIn.has(environment.key) ? inSync() : notCreated());
        }
        return { key: journey.key, label: journey.name, cells };
      });
      return { id: application.id, name: application.name, rows: [clientRow, ...journeyRows] };
    }),
  };
}

/** The cell a notification is about, if the matrix has it (a new application or journey is not in it yet). */
export function cellOf(matrix: Matrix, notification: SyncNotification): Cell | undefined {
  const application = matrix.applications.find((a) => a.id === notification.application.id);
  const row = application?.rows.find((r) => r.key === (notification.journey?.key ?? CLIENT_SETTINGS));
  return row?.cells.get(notification.environment.key);
}

/** Applies a notification: each carries the cell's whole new state, so applying them in cursor order converges. */
export function apply(cell: Cell, notification: SyncNotification): void {
  cell.status = notification.status;
  cell.changeCount = notification.changeCount;
  cell.message = notification.message;
}

/** The status in words: never by colour alone. */
export function statusWords(cell: Cell, isClientSettings: boolean): string {
  switch (cell.status) {
    case "IN_SYNC":
      return "In sync";
    case "NOT_CREATED":
      return "Not created";
    case "OUT_OF_SYNC":
      return cell.message || (isClientSettings ? "Client Settings out of Sync" : "Journey Configuration out of Sync");
  }
}

export function changeWords(count: number): string {
  return count === 1 ? "1 change" : `${count} changes`;
}
