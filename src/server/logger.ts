import pino from "pino";

export type Logger = pino.Logger;

/** JSON logs. Authorization headers and connection params never reach them. */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: "journey-promotion-api" },
      redact: { paths: ["*.authorization", "*.headers.authorization", "*.connectionParams"], censor: "[redacted]" },
    },
    destination,
  );
}
