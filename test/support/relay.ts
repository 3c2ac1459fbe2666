import { connect, createServer, type Server, type Socket } from "node:net";
import { type Database, openDatabase } from "../../src/db/client.js";

/**
 * A TCP relay in front of the database server: to take "the database" away and bring it back
 * (`stop`, `start` again), to count what the client writes (`writes`: each write after the client
 * waited for an answer is a round trip), and to lose the answer to one message (`loseAnswerTo`).
 */
export function relay(target: { host: string; port: number }) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  /** The client writes to lose the answer to: the first that matches is passed on, and the connection lost before its answer. */
  let losing: ((chunk: Buffer, connection: Record<string, unknown>) => boolean) | undefined;
  return {
    port: 0,
    /** The client's writes so far. */
    writes: 0,
    /**
     * The next client write that `match`es goes on to the database, and its connection to the
     * client is closed when the database answers it, the answer not passed on: the database did
     * what it was asked, the client never hears it (a COMMIT whose answer is lost). `match` sees
     * every client write after the connection's first (its startup message) until it matches one,
     * with an object of its own per connection to keep what it learns there (the names of prepared
     * statements): given before the client connects, it learns from the start.
     */
    loseAnswerTo(match: (chunk: Buffer, connection: Record<string, unknown>) => boolean) {
      losing = match;
    },
    async start(port = 0) {
      server = createServer((client) => {
        const upstream = connect(target.port, target.host);
        for (const s of [client, upstream]) {
          s.setNoDelay(true);
          sockets.add(s);
          s.on("close", () => sockets.delete(s));
          s.on("error", () => s.destroy());
        }
        let answerLost = false;
        let started = false;
        const learned: Record<string, unknown> = {};
        client.on("data", (chunk: Buffer) => {
          this.writes++;
          if (started && losing?.(chunk, learned)) {
            losing = undefined;
            answerLost = true;
          }
          started = true;
          if (!upstream.write(chunk)) client.pause();
        });
        upstream.on("drain", () => client.resume());
        upstream.on("data", (chunk: Buffer) => {
          if (answerLost) {
            client.destroy();
            upstream.end();
            return;
          }
          if (!client.write(chunk)) upstream.pause();
        });
        client.on("drain", () => upstream.resume());
        client.on("close", () => upstream.end());
        upstream.on("close", () => client.destroy());
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

/**
 * Whether a client write holds a COMMIT, however postgres.js sends it: as a simple query, as a
 * statement parsed and run, or run again by the name it was prepared under on that connection
 * (what it learns of `connection`: give it every write from the connection's second on). Reads the
 * write as frontend messages (type, length, body).
 */
export function isCommit(chunk: Buffer, connection: Record<string, unknown>): boolean {
  const names = (connection.commitStatements ??= new Set<string>()) as Set<string>;
  let found = false;
  for (let at = 0; at + 5 <= chunk.length; ) {
    const type = String.fromCharCode(chunk[at]);
    const length = chunk.readInt32BE(at + 1);
    const body = chunk.subarray(at + 5, at + 1 + length);
    const strings = body.toString("latin1").split("\u0000");
    if (type === "Q" && /^commit$/i.test(strings[0])) found = true;
    if (type === "P" && /^commit$/i.test(strings[1])) {
      names.add(strings[0]);
      found = true;
    }
    if (type === "B" && strings[1] !== "" && names.has(strings[1])) found = true;
    at += 1 + length;
  }
  return found;
}

/**
 * A relay in front of the database server `url` names, and the application's database opened through
 * it with `poolSize` connections; `configure` sees the relay before anything connects.
 */
export async function databaseThroughRelay(
  url: string,
  poolSize: number,
  configure: (proxy: ReturnType<typeof relay>) => void = () => {},
): Promise<{ proxy: ReturnType<typeof relay>; database: Database }> {
  const target = new URL(url);
  const proxy = relay({ host: target.hostname, port: Number(target.port || 5432) });
  await proxy.start();
  configure(proxy);
  const relayed = new URL(url);
  relayed.hostname = "127.0.0.1";
  relayed.port = String(proxy.port);
  return { proxy, database: await openDatabase({ url: relayed.toString(), poolSize }) };
}
