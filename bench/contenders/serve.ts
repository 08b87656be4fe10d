import type { AddressInfo } from 'node:net';
import { Redis } from 'ioredis';
import { SessionManager } from '@session-manager/runtime';

/**
 * What every contender server shares: the two routes' answers, the secret, how it is told what to
 * run (argv: the variant; env: BENCH_REDIS_URL, BENCH_FILES_DIR) and how it tells the orchestrator
 * where it listens (one line on stdout: `listening <port>`).
 */

/** 32+ characters, as this project and @fastify/session require. */
export const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
/** Sessions live an hour everywhere, so no contender slides or expires during a run. */
export const EXPIRE_SECONDS = 3600;

export interface Visits {
  counter?: number;
}

/** GET /counter: read and write. */
export function countVisit(session: Visits): string {
  session.counter = (session.counter ?? 0) + 1;
  return `This is your ${session.counter} visit`;
}

/** GET /peek: read only. */
export function peekVisit(session: Visits): string {
  return `This is your ${session.counter ?? 0} visit`;
}

/** The variant asked for on the command line, checked against the ones this server knows. */
export function variant<V extends string>(known: readonly V[]): V {
  const asked = process.argv[2];
  if (!known.includes(asked as V)) {
    console.error(`unknown variant ${String(asked)}; known: ${known.join(', ')}`);
    process.exit(2);
  }
  return asked as V;
}

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (the orchestrator sets it)`);
  return value;
}

/** Announces the port, and exits cleanly on SIGTERM so that `--cpu-prof` can write its profile. */
export function announce(address: AddressInfo | string | null, close: () => Promise<unknown> | unknown): void {
  const port = typeof address === 'object' && address !== null ? address.port : undefined;
  if (port === undefined) throw new Error(`cannot tell the port from ${String(address)}`);
  process.once('SIGTERM', () => {
    Promise.resolve()
      .then(close)
      .finally(() => process.exit(0));
  });
  process.stdout.write(`listening ${port}\n`);
}

export type OurBackend = 'cookies' | 'files' | 'redis';

/** This project's manager for a backend, with what must be closed when the server stops. */
export function ourManager(backend: OurBackend): { manager: SessionManager<Visits>; close: () => Promise<void> } {
  const options = { expire: EXPIRE_SECONDS };
  if (backend === 'cookies') {
    const manager = SessionManager.cookies<Visits>(SECRET, options);
    return { manager, close: () => manager.close() };
  }
  if (backend === 'files') {
    const manager = SessionManager.files<Visits>({ ...options, directory: requireEnv('BENCH_FILES_DIR') });
    return { manager, close: () => manager.close() };
  }
  const client = new Redis(requireEnv('BENCH_REDIS_URL'));
  const manager = SessionManager.redis<Visits>(client, { ...options, prefix: 'bench-ours:' });
  return {
    manager,
    close: async () => {
      await manager.close();
      client.disconnect();
    },
  };
}

/**
 * A peer library, loaded by a name TS does not follow: several peers declare `req.session` (or
 * fastify's `request.session`) globally with types that clash with each other and with this
 * project's adapters, so the bench describes the little it uses of each one itself.
 */
export async function loadPeer<T>(name: string): Promise<T> {
  const module = (await import(name)) as { default?: T };
  return (module.default ?? module) as T;
}

/** The same, for a peer whose ES module has named exports only. */
export async function loadPeerModule<T>(name: string): Promise<T> {
  return (await import(name)) as T;
}
