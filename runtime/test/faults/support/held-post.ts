import { once } from 'node:events';
import { connect } from 'node:net';
import type { SessionManager } from '../../../src/manager.js';

/**
 * Lets a test wait until a manager has loaded the session of a request it cannot see into (a
 * request held open on a raw socket). The real load runs; this only observes when it is done.
 */
export function watchLoads(manager: SessionManager): (cookie: string) => Promise<void> {
  const waiting = new Map<string, () => void>();
  const original = manager.loadEager.bind(manager);
  manager.loadEager = (header, now) => {
    const loading = original(header, now);
    const release = header === undefined ? undefined : waiting.get(header);
    if (release) void Promise.resolve(loading).then(release, release);
    return loading;
  };
  return (cookie) => new Promise<void>((resolve) => waiting.set(cookie, resolve));
}

/**
 * A POST /note (JSON body `{"note": ...}`) whose body is held back after its first bytes: the
 * server has the headers (and loads the session) but waits for the rest. `finish` sends the rest
 * and reads the whole response.
 */
export async function heldPost(url: string, cookie: string, note: string) {
  const body = JSON.stringify({ note });
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  await once(socket, 'connect');
  const received: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  const ended = once(socket, 'end');
  socket.write(
    `POST /note HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body.slice(0, 5)}`,
  );
  return {
    async finish(): Promise<{ status: number; raw: string }> {
      socket.write(body.slice(5));
      await ended;
      socket.destroy();
      const raw = Buffer.concat(received).toString('latin1');
      return { status: Number(raw.split(' ')[1]), raw };
    },
  };
}
