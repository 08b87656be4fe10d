import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { withSessions } from '../../../src/adapters/node.js';
import type { SessionManager } from '../../../src/manager.js';
import type { Session } from '../../../src/types.js';

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  /** Errors the adapter reported through onError, in order. */
  readonly errors: unknown[];
  close(): Promise<void>;
}

/** Listens on a free loopback port; resolves once it accepts connections. */
export function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): Promise<{ url: string; port: number; close: () => Promise<void> }> {
  const server = createServer((req, res) => void handler(req, res));
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

/** A node:http server running `handler` through the node adapter (`withSessions`). */
export async function startNodeApp<T extends object>(
  manager: SessionManager<T>,
  handler: (req: IncomingMessage, res: ServerResponse, session: Session<T>) => unknown,
): Promise<RunningServer> {
  const errors: unknown[] = [];
  const server = await listen(withSessions(manager, handler, { onError: (error) => errors.push(error) }));
  return { ...server, errors };
}
