import type { ApiTokenRow } from "../../services/index.js";
import { builder } from "../builder.js";
import type { GraphQLContext } from "../context.js";
import { localId } from "../ids.js";
import { Errors, mutationErrors } from "./errors.js";
import { ApiTokenRef, EnvironmentRef, OrganizationRef, RoleEnum } from "./refs.js";

builder.node(OrganizationRef, {
  description: "A tenant. Every object belongs to one; a token sees only its own.",
  id: { resolve: (o) => o.id },
  loadOne: (id, { loaders }) => loaders.organization.load(id),
  fields: (t) => ({
    name: t.exposeString("name", { description: "Unique name of the organization." }),
  }),
});

builder.node(ApiTokenRef, {
  description: "A bearer token of the organization. Only its hash is stored; the secret is shown once, at creation.",
  id: { resolve: (t) => t.id },
  loadOne: (id, { loaders }) => loaders.apiToken.load(id),
  fields: (t) => ({
    name: t.exposeString("name", {
      description: "Who or what uses the token, unique among the organization's active tokens; written as the actor of audit records.",
    }),
    role: t.field({ type: RoleEnum, description: "What the token may do.", resolve: (row) => row.role }),
    createdAt: t.expose("createdAt", { type: "DateTime", description: "When the token was created." }),
    revokedAt: t.expose("revokedAt", {
      type: "DateTime",
      nullable: true,
      description: "When the token was revoked; null while it is valid.",
    }),
    environment: t.field({
      type: EnvironmentRef,
      nullable: true,
      description: "The environment a RUNTIME token reads; null for every other role.",
      resolve: (row, _args, { loaders }) => (row.environmentId ? loaders.environment.load(row.environmentId) : null),
    }),
  }),
});

const ViewerRef = builder.objectRef<GraphQLContext["actor"]>("Viewer").implement({
  description: "The caller: the token's organization and role.",
  fields: (t) => ({
    organization: t.field({
      type: OrganizationRef,
      description: "The organization the token belongs to.",
      resolve: async (actor, _args, { loaders }) => (await loaders.organization.load(actor.organizationId))!,
    }),
    role: t.field({ type: RoleEnum, description: "The token's role.", resolve: (actor) => actor.role }),
  }),
});

builder.queryFields((t) => ({
  viewer: t.field({
    type: ViewerRef,
    description: "Who is calling.",
    resolve: (_root, _args, { actor }) => actor,
  }),
}));

const CreateApiTokenInput = builder.inputType("CreateApiTokenInput", {
  description: "A new token of the caller's organization.",
  fields: (t) => ({
    name: t.string({ description: "Who or what will use it (1–100 characters); no other active token of the organization may have it." }),
    role: t.field({ type: RoleEnum, description: "What it may do." }),
    environmentId: t.id({
      required: false,
      description: "For a RUNTIME token (and only for one): the environment whose configuration it reads.",
    }),
  }),
});

const CreateApiTokenSuccess = builder.objectRef<{ token: string; apiToken: ApiTokenRow }>("CreateApiTokenSuccess").implement({
  description: "The token was created.",
  fields: (t) => ({
    token: t.exposeString("token", { description: "The bearer secret. Shown only now: store it." }),
    apiToken: t.field({ type: ApiTokenRef, description: "The token's record.", resolve: (r) => r.apiToken }),
  }),
});

const RevokeApiTokenInput = builder.inputType("RevokeApiTokenInput", {
  description: "The token to revoke.",
  fields: (t) => ({ apiTokenId: t.id({ description: "Global ID of the token." }) }),
});

const RevokeApiTokenSuccess = builder.objectRef<{ apiToken: ApiTokenRow }>("RevokeApiTokenSuccess").implement({
  description: "The token was revoked: its next request is refused and its subscriptions end.",
  fields: (t) => ({
    apiToken: t.field({ type: ApiTokenRef, description: "The revoked token.", resolve: (r) => r.apiToken }),
  }),
});

builder.mutationFields((t) => ({
  createApiToken: t.field({
    type: CreateApiTokenSuccess,
    description:
      "Creates a token of the caller's organization (ADMIN). Its name must differ from every active token's of the organization.",
    authScopes: { admin: true },
    errors: mutationErrors("createApiToken", [Errors.AlreadyExists]),
    args: { input: t.arg({ type: CreateApiTokenInput, description: "What to do." }) },
    resolve: (_root, { input }, { services, actor }) =>
      services.createApiToken(actor, {
        ...input,
        environmentId: input.environmentId == null ? undefined : localId(input.environmentId, "Environment"),
      }),
  }),
  revokeApiToken: t.field({
    type: RevokeApiTokenSuccess,
    description: "Revokes a token of the caller's organization (ADMIN); its open subscriptions end.",
    authScopes: { admin: true },
    errors: mutationErrors("revokeApiToken"),
    args: { input: t.arg({ type: RevokeApiTokenInput, description: "What to do." }) },
    resolve: async (_root, { input }, { services, actor }) => ({
      apiToken: await services.revokeApiToken(actor, localId(input.apiTokenId, "ApiToken")),
    }),
  }),
}));
