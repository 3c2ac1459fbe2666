import type { IncomingMessage, ServerResponse } from "node:http";

/**
 * HTTP requests this server has begun and not yet finished: counted from their arrival until their
 * response closes (answered, or the connection gone). Live deliveries take shorter turns while any
 * are under way (DeliveryTurns, src/server/shared-events.ts). A request that accepts an event
 * stream (SSE) is not counted: it is a subscription, open as long as it listens, not a request
 * waiting for its answer.
 */
export class RequestsUnderWay {
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Counts `request` until its response closes, unless it accepts an event stream. */
  track(request: IncomingMessage, response: ServerResponse): void {
    if (request.headers.accept?.includes("text/event-stream")) return;
    this.count++;
    response.once("close", () => {
      this.count--;
    });
  }
}
