import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A TCP relay in front of the database server: to take "the database" away and bring it back
 * (`stop`, `start` again), and to count what the client writes (`writes`: each write after the
 * client waited for an answer is a round trip).
 */
export function relay(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  return {
    port: 0,
    /** The client's writes so far. */
    writes: 0,
    async start(port = 0) {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const s of [client, upstream]) {
          s.setNoDelay(true);
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => s.destroy());
        }
        client.on("data", () => this.writes++);
        client.pipe(upstream).pipe(client);
      });
      await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
      this.port = (server.address() as { port: number }).port;
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
    },
  };
}
