import { afterEach, describe, expect, it, vi } from "vitest";
import { apiContext } from "../support/api-context.js";
import { createCatalogue } from "../support/fixtures.js";

/**
 * Variables written inside list and object literals, JSON ones included, read as the variable's
 * value whatever executor runs the document (compiled execution parses scalar literals without the
 * variables, so such documents run on graphql-js), and no executor writes to stderr.
 */

const { tenantWithApi } = apiContext();

afterEach(() => vi.restoreAllMocks());

const SAVE_STEP_WITH = (settings: string) => `
  mutation($journey: ID!, $dev: ID!, ${settings.includes("$n") ? "$n: Int, " : ""}$to: String!) {
    saveJourneyStep(input: {
      journeyId: $journey, environmentId: $dev,
      step: { key: "password", type: "PASSWORD", name: "Password", enabled: true, settings: ${settings},
              transitions: [{ outcome: "success", to: $to }, { outcome: "failure", to: "DENY" }] }
    }) {
      ... on SaveJourneyStepSuccess { draft { steps { key settings transitions { outcome to } } } }
      ... on Error { code message }
    }
  }`;

describe("variables inside literals", () => {
  it.each([
    ["a JSON object literal", "{ minLength: $n }", 17],
    ["a nested JSON literal", "{ minLength: $n, allowReset: false }", 18],
    ["a JSON literal without variables (compiled)", "{ minLength: 19 }", 19],
  ])("reads %s", async (_label, settings, expected) => {
    const errors = vi.spyOn(console, "error");
    const { api } = await tenantWithApi("literals");
    const catalogue = await createCatalogue(api);
    const data = await api.data(SAVE_STEP_WITH(settings), {
      journey: catalogue.journeys.login,
      dev: catalogue.environments.development,
      ...(settings.includes("$n") ? { n: expected } : {}),
      to: "email-otp",
    });
    const step = data.saveJourneyStep.draft.steps.find((s: { key: string }) => s.key === "password");
    expect(step.settings.minLength).toBe(expected);
    expect(step.transitions).toContainEqual({ outcome: "success", to: "email-otp" });
    expect(errors).not.toHaveBeenCalled();
  });
});
