import { type ResolveCursorConnectionArgs, resolveCursorConnection } from "@pothos/plugin-relay";
import { NotFoundError, ValidationError } from "../../domain/errors.js";
import { isStorableText } from "../../domain/storable-text.js";
import { isUuid } from "../../domain/uuid.js";
import { type AuditEventRow, hasRole } from "../../services/index.js";
import { builder } from "../builder.js";
import { pageCost } from "../cost.js";
import { auditEventCursor, MAX_PAGE_SIZE, pagePositions } from "../cursors.js";
import { globalId, localId, parseGlobalId } from "../ids.js";

const AuditEventRef = builder.objectRef<AuditEventRow>("AuditEvent");

builder.node(AuditEventRef, {
  description:
    "One successful write of a mutation (DESIGN.md §10): who, what, which object, when, and a summary without secrets. Only ADMIN tokens see them.",
  id: { resolve: (e) => e.id },
  loadOne: (id, { loaders, actor }) => (hasRole(actor, "ADMIN") ? loaders.auditEvent.load(id) : null),
  fields: (t) => ({
    action: t.exposeString("action", {
      description:
        "The mutation's name (`createClient`, `promoteNow`…); `runtimeConfiguration` for a configuration read by a RUNTIME token.",
    }),
    subjectId: t.id({
      nullable: true,
      description: "Global ID of the object written (it may since have been deleted); null when the write has no one object.",
      resolve: (e) => e.subjectId,
    }),
    actor: t.exposeString("actor", { description: "The token's name when it wrote." }),
    actorTokenId: t.id({
      nullable: true,
      description: "Global ID of the token that wrote (names repeat once a token is revoked; the token does not).",
      resolve: (e) => (e.actorTokenId === null ? null : globalId("ApiToken", e.actorTokenId)),
    }),
    occurredAt: t.expose("occurredAt", { type: "DateTime", description: "When the writing transaction began (to the millisecond)." }),
    summary: t.field({
      type: "JSON",
      description: "What was written, redacted: names, keys, counts, fingerprints — never a secret's value.",
      resolve: (e) => e.summary,
    }),
  }),
});

/** A token's local id from its global ID: NOT_FOUND unless it is one a token could have. */
function tokenIdOf(globalId: string): string {
  const id = localId(globalId, "ApiToken");
  if (!isUuid(id)) throw new NotFoundError("API token", globalId);
  return id;
}

/** The longest action filter taken: longer than any mutation's name. */
const MAX_ACTION_LENGTH = 100;

builder.queryField("auditLog", (t) =>
  t.connection(
    {
      type: AuditEventRef,
      authScopes: { admin: true },
      complexity: pageCost(20),
      description: "The audit log of the organization (ADMIN): every successful write of every mutation, newest first.",
      args: {
        action: t.arg.string({ required: false, description: "Only events of this mutation (its name)." }),
        subjectId: t.arg.id({ required: false, description: "Only events about this object (its global ID; deleted objects too)." }),
        actorTokenId: t.arg.id({ required: false, description: "Only events written with this token (its global ID)." }),
      },
      resolve: async (_root, args, { services, actor }) => {
        const positions = pagePositions(auditEventCursor, args);
        if (args.action != null && (args.action.length > MAX_ACTION_LENGTH || !isStorableText(args.action))) {
          throw new ValidationError([
            { path: "action", message: `action must be text of at most ${MAX_ACTION_LENGTH} characters (a mutation's name)` },
          ]);
        }
        if (args.subjectId != null && parseGlobalId(args.subjectId) === null) {
          throw new ValidationError([{ path: "subjectId", message: "subjectId is not a global ID of this API" }]);
        }
        const filter = {
          action: args.action ?? undefined,
          subjectId: args.subjectId ?? undefined,
          actorTokenId: args.actorTokenId == null ? undefined : tokenIdOf(args.actorTokenId),
        };
        return resolveCursorConnection(
          { args, toCursor: auditEventCursor.encode, maxSize: MAX_PAGE_SIZE, defaultSize: 20 },
          ({ limit, inverted }: ResolveCursorConnectionArgs) => services.listAuditEvents(actor, filter, { ...positions, limit, inverted }),
        );
      },
    },
    { name: "AuditEventConnection", description: "A page of audit events." },
    { name: "AuditEventEdge", description: "An audit event and its cursor." },
  ),
);
