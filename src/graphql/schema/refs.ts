import type { VariableUse } from "../../domain/errors.js";
import type {
  ApiTokenRow,
  ApplicationRow,
  ClientSummaryRow,
  DatabaseRow,
  EnvironmentRow,
  JourneyHeadRow,
  JourneyRow,
  JourneyVersionRow,
  OrganizationRow,
} from "../../services/index.js";
import { builder } from "../builder.js";

/** Object refs declared apart from their implementations, so areas can point at each other. */
export const OrganizationRef = builder.objectRef<OrganizationRow>("Organization");
export const ApiTokenRef = builder.objectRef<ApiTokenRow>("ApiToken");
export const EnvironmentRef = builder.objectRef<EnvironmentRow>("Environment");
export const DatabaseRef = builder.objectRef<DatabaseRow>("Database");
export const ApplicationRef = builder.objectRef<ApplicationRow>("Application");
/** A full client row, or a summary from a list: the settings and URI lists then load by id. */
export const ClientRef = builder.objectRef<ClientSummaryRow>("Client");
export const JourneyRef = builder.objectRef<JourneyRow>("Journey");
/** A whole version row, or just a head (number and hash) whose other fields load on demand. */
export type JourneyVersionView = JourneyVersionRow | JourneyHeadRow;
export const JourneyVersionRef = builder.objectRef<JourneyVersionView>("JourneyVersion");
/** Where a configuration references a variable. */
export const VariableReferenceRef = builder.objectRef<VariableUse>("VariableReference");

export const RoleEnum = builder.enumType("Role", {
  description: "What a token may do. Each role from VIEWER to ADMIN includes the ones before it; RUNTIME stands apart.",
  values: {
    VIEWER: { description: "Reads everything of its organization." },
    EDITOR: { description: "Also edits drafts, saves and creates journeys in editable environments." },
    PROMOTER: { description: "Also propagates changes into environments that are not production." },
    ADMIN: { description: "Also propagates into production, manages environments, databases, applications, clients and tokens." },
    RUNTIME: {
      description:
        "Outside the ladder: the identity runtime of one environment. Reads only `runtimeConfiguration` (secrets included, each read audited) and nothing else.",
    },
  } as const,
});

export const VersionOriginEnum = builder.enumType("VersionOrigin", {
  description: "How a version came to be.",
  values: {
    SAVE: { description: 'Saved by a person in an editable environment ("Save in development").' },
    PROPAGATION: { description: "Written by a propagation from the lower environment." },
    CLIENT_CREATION: { description: "Copied from the lower environment when the client was created here." },
    RESTORE: { description: "An earlier version restored (restoreJourneyVersion, then saveJourney)." },
    REVERT: { description: "Written by a revert of a past propagation (revertPropagation)." },
  } as const,
});

export const JourneyTypeEnum = builder.enumType("JourneyType", {
  description: "What a journey is for.",
  values: {
    LOGIN: { description: "Signing in." },
    REGISTRATION: { description: "Creating an account." },
    PROFILE_UPDATE: { description: "Changing profile data." },
    PASSWORD_RECOVERY: { description: "Recovering access after a forgotten password." },
  } as const,
});
