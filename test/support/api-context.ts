import { afterAll, beforeAll } from "vitest";
import { type Api, apiAs } from "./fixtures.js";
import { startTestServer, type TestServer } from "./server.js";
import { createTenant, type Tenant } from "./tenant.js";

export interface ApiContext {
  /** The file's server; read it inside a test or hook, once `beforeAll` has started it. */
  readonly server: TestServer;
  /** A fresh tenant and an API client with its token of `role`. */
  tenantWithApi(label: string, role?: keyof Tenant["tokens"]): Promise<{ tenant: Tenant; api: Api }>;
}

/**
 * The real server for the calling test file: started before its tests and stopped after them. Call it at
 * the top of a test file; the hooks are registered for that file (support modules load once per worker,
 * so hooks registered at their top level would belong to whichever file imported them first).
 */
export function apiContext(): ApiContext {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server?.stop());
  const context: ApiContext = {
    get server() {
      if (!server) throw new Error("the test server is started in beforeAll: read it inside a test");
      return server;
    },
    async tenantWithApi(label, role = "ADMIN") {
      const tenant = await createTenant(label);
      return { tenant, api: apiAs(context.server.endpoint, tenant, role) };
    },
  };
  return context;
}
