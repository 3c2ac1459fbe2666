import { parseArgs } from "node:util";
import { migrateDatabase, openDatabase } from "../db/client.js";
import { loadSettings } from "../server/settings.js";
import { ROLES } from "../services/actor.js";
import type { Role } from "../services/index.js";
import { ensureOrganization, issueTokenWithFreeName, revokeTokenSecret } from "../services/tokens.js";

const usage = `Usage:
  npm run token -- --org <name> --role <VIEWER|EDITOR|PROMOTER|ADMIN> [--name <token name>]
      creates the organization (with development → staging → production) if needed and prints a new token on its last line;
      when an active token already has the name, the new one is named "<name> (2)", "<name> (3)"…
  npm run token -- --revoke <token>
      revokes a token at once: its next request is refused

On the embedded database, stop the server first (one process at a time owns ./data).`;

const { values } = parseArgs({
  options: {
    org: { type: "string" },
    role: { type: "string" },
    name: { type: "string" },
    revoke: { type: "string" },
    help: { type: "boolean" },
  },
});

if (values.help || (!values.revoke && (!values.org || !values.role))) {
  console.error(usage);
  process.exit(values.help ? 0 : 2);
}
const role = values.role?.toUpperCase() as Role | undefined;
if (role && !(ROLES as Role[]).includes(role)) {
  console.error(`--role must be one of ${ROLES.join(", ")}`);
  process.exit(2);
}

const settings = loadSettings(process.env);
const where = settings.databaseUrl ? { url: settings.databaseUrl } : { dataDir: settings.dataDir };
await migrateDatabase(where);
const database = await openDatabase(where);
try {
  if (values.revoke) {
    const revoked = await revokeTokenSecret(database.db, values.revoke);
    if (!revoked) {
      console.error("No active token matches.");
      process.exitCode = 1;
    } else {
      console.log(`Revoked token "${revoked.name}" (${revoked.role}).`);
    }
  } else {
    const { organization, created } = await ensureOrganization(database.db, values.org!);
    const name = values.name ?? `${role!.toLowerCase()}-cli`;
    const { token, apiToken } = await issueTokenWithFreeName(database.db, { organizationId: organization.id, name, role: role! });
    console.log(`${created ? "Created" : "Using"} organization "${organization.name}"; ${role} token "${apiToken.name}":`);
    console.log(token);
  }
} finally {
  await database.close();
}
