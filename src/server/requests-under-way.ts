import type { ServerResponse } from "node:http";

/**
 * HTTP requests this server has begun and not yet finished: counted from their arrival until their
 * response closes (answered, or the connection gone). Live deliveries take shorter turns while any
 * are under way (DeliveryTurns, src/server/shared-events.ts).
 */
export class RequestsUnderWay {
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Counts the request of `response` until the response closes. */
  track(response: ServerResponse): void {
    this.count++;
    response.once("close", () => {
      this.count--;
    });
  }
}
