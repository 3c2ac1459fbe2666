/*
 * The dashboard's GraphQL operations, exactly as it sends them, and the shapes of their answers. They use the public
 * schema only (schema.graphql): a dashboard team can copy them as they are.
 */

export type SyncStatus = "IN_SYNC" | "OUT_OF_SYNC" | "NOT_CREATED";

export interface Environment {
  id: string;
  key: string;
  name: string;
  rank: number;
}

/**
 * Where the notifications stand before the matrix is read: the dashboard subscribes after this cursor, so whatever
 * commits between this read and the subscription is replayed, not lost ("0": from the start, when there are none).
 */
export const LATEST_NOTIFICATION = `
  query DashboardLatestNotification {
    syncNotifications(last: 1) { edges { node { cursor } } }
  }
`;

export interface LatestNotificationData {
  syncNotifications: { edges: { node: { cursor: string } }[] };
}

/**
 * The matrix: environments (lowest first), and a page of applications with each client's status and each journey's
 * state in every environment that has a lower one. Ten applications a page keeps the operation well under the cost
 * limit (journeys × sync states are costed at their declared sizes).
 */
export const MATRIX = `
  query DashboardMatrix($after: String) {
    environments { id key name rank }
    applications(first: 10, after: $after) {
      edges { node {
        id name
        clients { id environment { key } syncStatus }
        journeys { id key name syncStates { environment { key } status changeCount message } }
      } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;

export interface MatrixApplication {
  id: string;
  name: string;
  clients: { id: string; environment: { key: string }; syncStatus: SyncStatus }[];
  journeys: {
    id: string;
    key: string;
    name: string;
    syncStates: { environment: { key: string }; status: SyncStatus; changeCount: number; message: string }[];
  }[];
}

export interface MatrixData {
  environments: Environment[];
  applications: {
    edges: { node: MatrixApplication }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

/**
 * How many changes the client settings of an out-of-sync client differ by: `Client` has a status but no count, so
 * the count is the diff's changes that belong to no journey (the same count `syncStatusChanged` reports).
 */
export const CLIENT_SETTINGS_CHANGES = `
  query DashboardClientSettingsChanges($application: ID!, $from: ID!, $to: ID!) {
    diff(applicationId: $application, fromEnvironmentId: $from, toEnvironmentId: $to) {
      changes { id journey { id } }
    }
  }
`;

export interface ClientSettingsChangesData {
  diff: { changes: { id: string; journey: { id: string } | null }[] };
}

/** The recent propagations and the open promotion requests: the side lists. */
export const ACTIVITY = `
  query DashboardActivity {
    propagations(first: 8) {
      edges { node {
        id createdAt actor comment mode
        application { name } from { key name } to { key name }
      } }
    }
    pending: promotionRequests(first: 10, status: PENDING) { ...OpenRequests }
    approved: promotionRequests(first: 10, status: APPROVED) { ...OpenRequests }
  }
  fragment OpenRequests on PromotionRequestConnection {
    edges { node {
      id status createdAt expiresAt requestedBy comment approvalsNeeded
      application { name } from { key name } to { key name }
    } }
  }
`;

export type PropagationMode = "PROMOTE_NOW" | "REVIEWED" | "REVERT" | "APPROVED_REQUEST";

export interface Propagation {
  id: string;
  createdAt: string;
  actor: string;
  comment: string | null;
  mode: PropagationMode;
  application: { name: string };
  from: { key: string; name: string };
  to: { key: string; name: string };
}

export interface PromotionRequest {
  id: string;
  status: "PENDING" | "APPROVED";
  createdAt: string;
  expiresAt: string;
  requestedBy: string;
  comment: string | null;
  approvalsNeeded: number;
  application: { name: string };
  from: { key: string; name: string };
  to: { key: string; name: string };
}

export interface ActivityData {
  propagations: { edges: { node: Propagation }[] };
  pending: { edges: { node: PromotionRequest }[] };
  approved: { edges: { node: PromotionRequest }[] };
}

/** Every sync state change of the organization, resumed after the last cursor seen. */
export const SYNC_STATUS_CHANGED = `
  subscription DashboardSyncStatusChanged($after: String) {
    syncStatusChanged(after: $after) {
      cursor status changeCount message occurredAt
      application { id name } journey { key } environment { key }
    }
  }
`;

export interface SyncNotification {
  cursor: string;
  status: SyncStatus;
  changeCount: number;
  message: string;
  occurredAt: string;
  application: { id: string; name: string };
  /** Null for the client settings. */
  journey: { key: string } | null;
  environment: { key: string };
}

/** Status changes of promotion requests: the open requests' list is read again when one arrives. */
export const PROMOTION_REQUEST_CHANGED = `
  subscription DashboardPromotionRequestChanged {
    promotionRequestChanged { cursor status }
  }
`;
