import { describe, expect, it } from "vitest";
import type { Db } from "../../src/db/client.js";
import { findDrafts } from "../../src/db/repositories/drafts.js";
import { findHeadVersions } from "../../src/db/repositories/journeys.js";
import { DraftConflictError, EnvironmentLockedError, NotFoundError, ValidationError } from "../../src/domain/errors.js";
import { discardJourneyDraft, removeJourneyStep, saveJourney, saveJourneyStep, setJourneyStart } from "../../src/services/drafts.js";
import { LOGIN_DOCUMENT_STORED } from "../support/fixtures.js";
import { rolledBack } from "../support/rolled-back.js";
import { actorOf, createServiceCatalogue, type ServiceCatalogue } from "../support/service-catalogue.js";

/**
 * Editing a journey's draft, use-case by use-case on the service functions: each test runs in a
 * transaction rolled back at its end, and reads the rows the use-case left instead of a response.
 */

const RISK_STEP = {
  key: "risk",
  type: "RISK_CHECK",
  name: "Risk check",
  enabled: true,
  settings: {},
  transitions: [
    { outcome: "success", to: "email-otp" },
    { outcome: "high-risk", to: "DENY" },
  ],
};

/** The login journey's draft in development, and its target for the edit inputs. */
function loginDraft(catalogue: ServiceCatalogue) {
  return { journeyId: catalogue.loginId, environmentId: catalogue.environments.development };
}

async function draftOf(tx: Db, catalogue: ServiceCatalogue) {
  const [draft] = await findDrafts(tx, catalogue.actor.organizationId, [loginDraft(catalogue)]);
  return draft;
}

async function headOf(tx: Db, catalogue: ServiceCatalogue) {
  const [head] = await findHeadVersions(tx, catalogue.actor.organizationId, [loginDraft(catalogue)]);
  return head;
}

describe("saveJourneyStep", () => {
  it("starts a draft from the head version and inserts a new step at the given position", () =>
    rolledBack(async (tx) => {
      const catalogue = await createServiceCatalogue(tx);
      const draft = await saveJourneyStep(tx, catalogue.actor, { ...loginDraft(catalogue), step: RISK_STEP, position: 2 });
      expect(draft).toMatchObject({ baseVersion: 1, revision: 1, updatedBy: "admin-token", updatedByTokenId: catalogue.actor.tokenId });
      expect(draft.document.order).toEqual(["identify", "password", "risk", "email-otp"]);
      expect(draft.document.steps.risk.transitions).toEqual({ success: "email-otp", "high-risk": "DENY" });
      // The head version is what it was: a draft is not saved.
      expect((await headOf(tx, catalogue)).document).toEqual(LOGIN_DOCUMENT_STORED);
    }));

  it("replaces a step in place and counts one more revision", () =>
    rolledBack(async (tx) => {
      const catalogue = await createServiceCatalogue(tx);
      await saveJourneyStep(tx, catalogue.actor, { ...loginDraft(catalogue), step: RISK_STEP });
      const password = { ...LOGIN_DOCUMENT_STORED.steps.password, key: "password", settings: { minLength: 14 } };
      const draft = await saveJourneyStep(tx, catalogue.actor, {
        ...loginDraft(catalogue),
        step: { ...password, transitions: [{ outcome: "success", to: "risk" }] },
      });
      expect(draft.revision).toBe(2);
      expect(draft.document.order).toEqual(["identify", "password", "email-otp", "risk"]);
      expect(draft.document.steps.password).toMatchObject({
        settings: { minLength: 14, allowReset: true },
        transitions: { success: "risk" },
      });
    }));

  it("refuses a transition to a step the draft does not have, and starts no draft", () =>
    rolledBack(async (tx) => {
      const catalogue = await createServiceCatalogue(tx);
      const edit = saveJourneyStep(tx, catalogue.actor, {
        ...loginDraft(catalogue),
        step: { ...RISK_STEP, transitions: [{ outcome: "success", to: "captcha" }] },
      });
      await expect(edit).rejects.toBeInstanceOf(ValidationError);
      await expect(edit).rejects.toMatchObject({
        problems: [{ path: "steps.risk.transitions.success", message: expect.stringContaining('unknown step "captcha"') }],
      });
      expect(await draftOf(tx, catalogue)).toBeUndefined();
    }));

  it("refuses an edit in an environment that is not editable", () =>
    rolledBack(async (tx) => {
      const catalogue = await createServiceCatalogue(tx);
      const edit = saveJourneyStep(tx, catalogue.actor, {
        journeyId: catalogue.loginId,
        environmentId: catalogue.environments.staging,
        step: RISK_STEP,
      });
      await expect(edit).rejects.toBeInstanceOf(EnvironmentLockedError);
    }));
});

describe("removeJourneyStep", () => {
  it("removes a step from the order and the steps; what pointed at it stays, to fix before saving", () =>
    rolledBack(async (tx) => {
      const catalogue = await createServiceCatalogue(tx);
      const draft = await removeJourneyStep(tx, catalogue.actor, { ...loginDraft(catalogue), stepKey: "email-otp" });
      expect(draft.document.order).toEqual(["identify", "password"]);
      expect(Object.keys(draft.document.steps)).toEqual(["identify", "password"]);
      expect(draft.document.steps.password.transitions).toEqual({ success: "email-otp", failure: "DENY" });
    }));

  it("refuses to remove the start step", () =>
    rolledBack(async (tx) => {
      const catalogue = await createServiceCatalogue(tx);
      const edit = removeJourneyStep(tx, catalogue.actor, { ...loginDraft(catalogue), stepKey: "identify" });
      await expect(edit).rejects.toMatchObject({ code: "VALIDATION_FAILED", problems: [{ path: "stepKey" }] });
    }));
});

describe("setJourneyStart", () => {
  it("moves the start to another step of the draft", () =>
    rolledBack(async (tx) => {
      const catalogue = await createServiceCatalogue(tx);
      const draft = await setJourneyStart(tx, catalogue.actor, { ...loginDraft(catalogue), stepKey: "password" });
      expect(draft.document.start).toBe("password");
      expect(draft.document.order).toEqual(["identify", "password", "email-otp"]);
    }));

  it("refuses a key that names no step, even one every object answers to", () =>
    rolledBack(async (tx) => {
      const catalogue = await createServiceCatalogue(tx);
      for (const stepKey of ["captcha", "constructor"]) {
        await expect(setJourneyStart(tx, catalogue.actor, { ...loginDraft(catalogue), stepKey })).rejects.toBeInstanceOf(NotFoundError);
      }
    }));
});

describe("discardJourneyDraft", () => {
  it("drops the draft and leaves the head version as it was", () =>
    rolledBack(async (tx) => {
      const catalogue = await createServiceCatalogue(tx);
      await saveJourneyStep(tx, catalogue.actor, { ...loginDraft(catalogue), step: RISK_STEP });
      const head = await headOf(tx, catalogue);
      const journey = await discardJourneyDraft(tx, catalogue.actor, loginDraft(catalogue));
      expect(journey.id).toBe(catalogue.loginId);
      expect(await draftOf(tx, catalogue)).toBeUndefined();
      expect(await headOf(tx, catalogue)).toEqual(head);
    }));
});

describe("saveJourney", () => {
  it("turns the reviewed draft into the next version, by its author, and ends the draft", () =>
    rolledBack(async (tx) => {
      const catalogue = await createServiceCatalogue(tx);
      const editor = await actorOf(tx, catalogue.actor.organizationId, "EDITOR");
      const draft = await saveJourneyStep(tx, editor, { ...loginDraft(catalogue), step: RISK_STEP });
      const version = await saveJourney(tx, editor, { ...loginDraft(catalogue), draftRevision: draft.revision, comment: "Risk check" });
      expect(version).toMatchObject({
        version: 2,
        origin: "SAVE",
        savedBy: "editor-token",
        comment: "Risk check",
        document: draft.document,
      });
      expect((await headOf(tx, catalogue)).version).toBe(2);
      expect(await draftOf(tx, catalogue)).toBeUndefined();
    }));

  it("refuses a revision other than the draft's with DRAFT_CONFLICT and saves nothing", () =>
    rolledBack(async (tx) => {
      const catalogue = await createServiceCatalogue(tx);
      await saveJourneyStep(tx, catalogue.actor, { ...loginDraft(catalogue), step: RISK_STEP });
      await saveJourneyStep(tx, catalogue.actor, { ...loginDraft(catalogue), step: { ...RISK_STEP, name: "Risk" } });
      const save = saveJourney(tx, catalogue.actor, { ...loginDraft(catalogue), draftRevision: 1 });
      await expect(save).rejects.toBeInstanceOf(DraftConflictError);
      expect((await headOf(tx, catalogue)).version).toBe(1);
      expect((await draftOf(tx, catalogue)).revision).toBe(2);
    }));
});
