/**
 * Ports of local Workers: finding a free one, and telling whether a requested
 * one is free before workerd tries (and fails) to listen on it.
 *
 * @module
 */
import net from "node:net";

/** The address every local Worker listens on. */
export const LOCAL_HOST = "127.0.0.1";

/**
 * Whether a process could listen on `LOCAL_HOST:port` now.
 *
 * @example
 * if (!(await isPortFree(8787))) console.error("8787 is taken");
 */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE" || error.code === "EACCES") resolve(false);
      else reject(error);
    });
    server.listen({ host: LOCAL_HOST, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A port the system reports free on `LOCAL_HOST`, not one of `taken` (ports
 * this process has promised to a Worker but not yet bound).
 *
 * @example
 * const port = await findFreePort(new Set([8787]));
 */
export async function findFreePort(taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const server = net.createServer();
      server.once("error", reject);
      server.listen({ host: LOCAL_HOST, port: 0, exclusive: true }, () => {
        const address = server.address() as net.AddressInfo;
        server.close(() => resolve(address.port));
      });
    });
    if (!taken.has(port)) return port;
  }
}
