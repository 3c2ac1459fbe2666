import { describe, expect, it } from "vitest";
import { DEFAULT_CLIENT_SETTINGS } from "../../../src/domain/client-settings.js";
import { defaultJourneyDocument } from "../../../src/domain/journey-validation.js";
import {
  changeCount,
  clientDiffSide,
  clientSyncStates,
  clientSyncStatus,
  journeyDiffSide,
  journeySyncStates,
  syncMessage,
} from "../../../src/domain/sync.js";

const [dev, staging, production] = [
  { id: "dev", name: "Development" },
  { id: "staging", name: "Staging" },
  { id: "production", name: "Production" },
];
const pipeline = [dev, staging, production];
const client = (environmentId: string, settingsHash = "s1") => ({ environmentId, settingsHash });

describe("journey sync states", () => {
  it("compares each environment with the one below it by head hash", () => {
    const states = journeySyncStates(
      pipeline,
      [client("dev"), client("staging"), client("production")],
      [
        { environmentId: "dev", hash: "h2" },
        { environmentId: "staging", hash: "h1" },
        { environmentId: "production", hash: "h1" },
      ],
    );
    expect(states.map((s) => [s.sourceEnvironment.id, s.environment.id, s.status, s.sourceHash, s.targetHash])).toEqual([
      ["dev", "staging", "OUT_OF_SYNC", "h2", "h1"],
      ["staging", "production", "IN_SYNC", "h1", "h1"],
    ]);
  });

  it("is NOT_CREATED where the application has no client, whatever the hashes", () => {
    const states = journeySyncStates(pipeline, [client("dev"), client("staging")], [{ environmentId: "dev", hash: "h1" }]);
    expect(states.map((s) => s.status)).toEqual(["OUT_OF_SYNC", "NOT_CREATED"]);
  });

  it("is in sync where the journey is absent on both sides", () => {
    const states = journeySyncStates(pipeline, [client("dev"), client("staging"), client("production")], []);
    expect(states.map((s) => s.status)).toEqual(["IN_SYNC", "IN_SYNC"]);
  });
});

describe("client sync status", () => {
  it("compares the settings hash with the lower neighbour's client", () => {
    const clients = [client("dev", "a"), client("staging", "b"), client("production", "b")];
    expect(clientSyncStatus(pipeline, clients, clients[1])).toBe("OUT_OF_SYNC");
    expect(clientSyncStatus(pipeline, clients, clients[2])).toBe("IN_SYNC");
  });

  it("is in sync in the lowest environment, and where the lower neighbour has no client", () => {
    const clients = [client("dev", "a"), client("production", "b")];
    expect(clientSyncStatus(pipeline, clients, clients[0])).toBe("IN_SYNC");
    expect(clientSyncStatus(pipeline, clients, clients[1])).toBe("IN_SYNC");
  });

  it("has no source hash where the lower neighbour has no client, and is in sync there", () => {
    const states = clientSyncStates(pipeline, [client("staging", "b")]);
    expect(states.map((s) => [s.sourceEnvironment.id, s.environment.id, s.status, s.sourceHash, s.targetHash])).toEqual([
      ["dev", "staging", "IN_SYNC", null, "b"],
      ["staging", "production", "NOT_CREATED", "b", null],
    ]);
    expect(clientSyncStates(pipeline, []).map((s) => [s.status, s.sourceHash, s.targetHash])).toEqual([
      ["NOT_CREATED", null, null],
      ["NOT_CREATED", null, null],
    ]);
  });

  it("lists every environment with a lower one, NOT_CREATED where there is no client", () => {
    const states = clientSyncStates(pipeline, [client("dev", "a"), client("staging", "b")]);
    expect(states.map((s) => [s.environment.id, s.status, s.sourceHash, s.targetHash])).toEqual([
      ["staging", "OUT_OF_SYNC", "a", "b"],
      ["production", "NOT_CREATED", "b", null],
    ]);
  });
});

describe("sync messages", () => {
  it("names the subject and status, and the environment that lacks a client", () => {
    expect(syncMessage("journey", "IN_SYNC", staging)).toBe("Journey Configuration in Sync");
    expect(syncMessage("client", "OUT_OF_SYNC", staging)).toBe("Client Settings out of Sync");
    expect(syncMessage("journey", "NOT_CREATED", production)).toBe("No client in Production: create it first");
  });
});

describe("change counts", () => {
  const document = defaultJourneyDocument();
  const renamed = { ...document, steps: { identify: { ...document.steps.identify, name: "Who are you?" } } };

  it("counts the changes promoting the source would make", () => {
    const source = journeyDiffSide({ document: renamed, hash: "h2" });
    const target = journeyDiffSide({ document, hash: "h1" });
    expect(changeCount({ status: "OUT_OF_SYNC" }, source, target)).toBe(1);
  });

  it("counts a journey absent from the target as one change", () => {
    expect(changeCount({ status: "OUT_OF_SYNC" }, journeyDiffSide({ document, hash: "h1" }), journeyDiffSide(null))).toBe(1);
  });

  it("counts client settings changes", () => {
    const source = clientDiffSide({
      ...DEFAULT_CLIENT_SETTINGS,
      accessTokenTtlSeconds: 60,
      pkceRequired: !DEFAULT_CLIENT_SETTINGS.pkceRequired,
    });
    expect(changeCount({ status: "OUT_OF_SYNC" }, source, clientDiffSide(DEFAULT_CLIENT_SETTINGS))).toBe(2);
  });

  it("is zero unless out of sync", () => {
    const source = journeyDiffSide({ document: renamed, hash: "h2" });
    const target = journeyDiffSide({ document, hash: "h1" });
    expect(changeCount({ status: "IN_SYNC" }, source, target)).toBe(0);
    expect(changeCount({ status: "NOT_CREATED" }, source, target)).toBe(0);
  });
});
