import { STEP_CATALOGUE, STEP_TYPES, type StepTypeDefinition, settingsDefaults, settingsJsonSchema } from "../../domain/step-catalogue.js";
import { builder } from "../builder.js";
import { LIST_SIZES, listCost } from "../cost.js";

const StepTypeRef = builder.objectRef<StepTypeDefinition>("StepType").implement({
  description:
    "A kind of journey step (the step catalogue) and what its settings accept, so a client can build a step form: " +
    "`settingsSchema` validates what `JourneyStep.settings` accepts for this `type`.",
  fields: (t) => ({
    type: t.exposeString("type", { description: "The step type, as in `JourneyStep.type` (e.g. `EMAIL_OTP`)." }),
    label: t.exposeString("label", { description: 'Human name of the type (e.g. "Email code"), as change summaries show it.' }),
    description: t.exposeString("description", { description: "What a step of this type does." }),
    settingsSchema: t.field({
      type: "JSON",
      description:
        "JSON Schema (draft 2020-12) of the settings a client sends, generated from the schema the server validates with: " +
        "settings with a default are optional and carry it as `default`, unknown settings are refused " +
        "(`additionalProperties: false`), each property has a `title`. A value it refuses, the server refuses too; the server " +
        "also checks what JSON Schema cannot say (listed in the property's `description`, e.g. a webhook URL's host).",
      resolve: (definition) => settingsJsonSchema(definition.type),
    }),
    defaults: t.field({
      type: "JSON",
      description:
        "The settings a new step of this type starts with: every setting that has a default, with that value (what the " +
        "server fills in from `{}`). Required settings without a default (those in `settingsSchema.required`, e.g. " +
        "`SOCIAL_LOGIN.providers`, `WEBHOOK.url`) are absent, so for such a type the step needs them besides these.",
      resolve: (definition) => settingsDefaults(definition.type),
    }),
    secretSettings: t.exposeStringList("secretSettings", {
      description:
        "Settings that hold credentials: each takes only a whole reference to a SECRET variable (e.g. `&{webhook.signing-secret}`), never a value.",
    }),
  }),
});

builder.queryField("stepTypes", (t) =>
  t.field({
    type: [StepTypeRef],
    complexity: listCost(LIST_SIZES.stepTypes),
    description: "The step catalogue: every step type a journey may use, in catalogue order. Readable by every role.",
    resolve: () => STEP_TYPES.map((type) => STEP_CATALOGUE[type]),
  }),
);
