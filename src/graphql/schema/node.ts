import { brandWithType } from "@pothos/core";
import { resolveNodes } from "@pothos/plugin-relay";
import { builder } from "../builder.js";
import { parseGlobalId } from "../ids.js";

/**
 * The Relay entry point. Each node type loads itself by id (its `loadOne`, beside the type); this field only
 * turns an ID that is not one of ours into null instead of an error, as the relay plugin's own `node` field would not.
 */
builder.queryField("node", (t) =>
  t.field({
    type: builder.nodeInterfaceRef(),
    nullable: true,
    description: "The object with this global ID, or null when the organization has none.",
    args: { id: t.arg.id({ description: "A global ID." }) },
    resolve: async (_root, { id }, context, info) => {
      const parsed = parseGlobalId(id);
      if (!parsed) return null;
      // A second alias of the same ID is handed the first one's load while it is under way (a
      // promise in the list), and the relay plugin brands the object with its type only once it
      // settles: awaited and branded here, the interface resolves the type for both aliases.
      const node: unknown = await (await resolveNodes(builder, context, info, [parsed]))[0];
      if (node && typeof node === "object") brandWithType(node, parsed.typename as never);
      return node ?? null;
    },
  }),
);
