import type { Server } from "node:http";
import type { AddressInfo } from "node:net";

export type Listening = { url: string; port: number; server: Server; close: () => Promise<void> };

/**
 * Starts a local test origin on 127.0.0.1 (port 0 picks a free one); `close` also drops open
 * keep-alive connections, so a test run ends at once. Shared by the demo, LLM and bench origins.
 */
export function listenLocal(server: Server, port: number): Promise<Listening> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      const actual = (server.address() as AddressInfo).port;
      resolve({
        url: `http://127.0.0.1:${actual}`,
        port: actual,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
