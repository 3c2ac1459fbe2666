import { describe, expect, it } from "vitest";
import { STEP_CATALOGUE, STEP_TYPES, settingsJsonSchema } from "../../src/domain/step-catalogue.js";
import { apiContext } from "../support/api-context.js";
import { operation } from "../support/fixtures.js";

/** The step catalogue as a client reads it: `stepTypes`, for every role. */

const STEP_TYPES_QUERY = operation(`
  query StepTypes { stepTypes { __typename type label description settingsSchema defaults secretSettings } }
`);

/** A value for each required setting without a default, so the domain can fill in the rest. */
const REQUIRED: Record<string, Record<string, unknown>> = {
  SOCIAL_LOGIN: { providers: ["github"] },
  CONSENT: { documents: [{ id: "terms", version: "2024-01" }] },
  PROFILE_COMPLETION: { fields: ["given_name"] },
  WEBHOOK: { url: "https://risk.example.com/score" },
};

const { tenantWithApi } = apiContext();

describe("stepTypes", () => {
  it("lists every type of the domain's catalogue, in its order, with its label and description, to a VIEWER", async () => {
    const { api } = await tenantWithApi("step-types", "VIEWER");
    const { stepTypes } = await api.data(STEP_TYPES_QUERY);
    expect(stepTypes.map((t: any) => t.type)).toEqual([...STEP_TYPES]);
    expect(stepTypes).toHaveLength(11);
    for (const t of stepTypes) {
      expect(t.__typename).toBe("StepType");
      expect(t.label).toBe(STEP_CATALOGUE[t.type as keyof typeof STEP_CATALOGUE].label);
      expect(t.description).toBe(STEP_CATALOGUE[t.type as keyof typeof STEP_CATALOGUE].description);
      expect(t.secretSettings).toEqual([...STEP_CATALOGUE[t.type as keyof typeof STEP_CATALOGUE].secretSettings]);
    }
  });

  it("serves each type's settings schema: draft 2020-12, generated from the domain's", async () => {
    const { api } = await tenantWithApi("step-types", "VIEWER");
    const { stepTypes } = await api.data(STEP_TYPES_QUERY);
    for (const t of stepTypes) {
      expect(t.settingsSchema.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
      expect(t.settingsSchema).toEqual(settingsJsonSchema(t.type));
      expect(Object.keys(t.settingsSchema.properties)).toEqual(STEP_CATALOGUE[t.type as keyof typeof STEP_CATALOGUE].settingKeys);
    }
  });

  it("gives the defaults the domain fills in from {}: all of a type's settings when none is required", async () => {
    const { api } = await tenantWithApi("step-types", "VIEWER");
    const { stepTypes } = await api.data(STEP_TYPES_QUERY);
    for (const t of stepTypes) {
      const settings = STEP_CATALOGUE[t.type as keyof typeof STEP_CATALOGUE].settings;
      const required = REQUIRED[t.type] ?? {};
      expect(t.settingsSchema.required ?? []).toEqual(Object.keys(required));
      if (Object.keys(required).length === 0) {
        expect(t.defaults).toEqual(settings.parse({}));
      } else {
        // {} is refused for the required settings alone; with them, the domain fills in exactly `defaults`
        const refused = settings.safeParse({});
        expect(refused.success).toBe(false);
        expect(refused.error?.issues.map((issue) => issue.path.join("."))).toEqual(Object.keys(required));
        const { ...filled } = settings.parse(required);
        for (const key of Object.keys(required)) delete filled[key];
        expect(t.defaults).toEqual(filled);
        expect(settings.parse({ ...t.defaults, ...required })).toEqual(settings.parse(required));
      }
    }
  });

  it("is readable by every role", async () => {
    for (const role of ["VIEWER", "EDITOR", "PROMOTER", "ADMIN"] as const) {
      const { api } = await tenantWithApi("step-types", role);
      const response = await api.request(STEP_TYPES_QUERY);
      expect(response.errors).toBeUndefined();
      expect(response.data.stepTypes).toHaveLength(STEP_TYPES.length);
    }
  });
});
