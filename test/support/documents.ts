import { operation } from "./fixtures.js";

/**
 * GraphQL documents that several test files send, parsed and validated once when this module loads.
 * A document used by one file stays in that file, next to the tests that read its answer.
 */

export const APPLICATION = operation(`
  query Application($id: ID!, $environmentId: ID!, $key: String!) {
    node(id: $id) {
      __typename id
      ... on Application {
        name
        clients { id environment { key } }
        client(environmentId: $environmentId) { id environment { key } }
        journeys { id key }
        journey(key: $key) { id key name type application { id } }
      }
    }
  }
`);

export const VERSION_FIELDS = `
  fragment VersionFields on JourneyVersion {
    version hash start document origin savedAt savedBy comment
    steps { key type name enabled settings transitions { outcome to } }
  }
`;

export const CONFIGURATIONS = operation(`
  query Configurations($id: ID!, $development: ID!, $staging: ID!, $production: ID!) {
    node(id: $id) {
      ... on Journey {
        key
        development: configuration(environmentId: $development) { ...VersionFields }
        staging: configuration(environmentId: $staging) { ...VersionFields }
        production: configuration(environmentId: $production) { ...VersionFields }
      }
    }
  }
  ${VERSION_FIELDS}
`);

/** Saves one step of a draft; the new draft revision is what the next save must name. */
export const SAVE_STEP = operation(`
  mutation SaveStep($input: SaveJourneyStepInput!) {
    saveJourneyStep(input: $input) { __typename ... on SaveJourneyStepSuccess { draft { revision } } ... on Error { code message } }
  }
`);

/** Saves the reviewed draft as the next version. */
export const SAVE = operation(`
  mutation Save($input: SaveJourneyInput!) {
    saveJourney(input: $input) { __typename ... on SaveJourneySuccess { version { version } } ... on Error { code message } }
  }
`);

/** Promotes every change between two environments. */
export const PROMOTE_NOW = operation(`
  mutation PromoteNow($input: PromoteNowInput!) {
    promoteNow(input: $input) { __typename ... on PromoteNowSuccess { propagation { id } } ... on Error { code message } }
  }
`);

/** Changes a client. */
export const UPDATE_CLIENT = operation(`
  mutation UpdateClient($input: UpdateClientInput!) {
    updateClient(input: $input) { __typename ... on Error { code message } }
  }
`);

/** The login journey's password step (of the demo document) with a given minimum length: the edit tests make. */
export const passwordStep = (minLength: number) => ({
  key: "password",
  type: "PASSWORD",
  name: "Password",
  enabled: true,
  settings: { minLength },
  transitions: [
    { outcome: "success", to: "email-otp" },
    { outcome: "failure", to: "DENY" },
  ],
});
