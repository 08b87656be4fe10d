import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { CookieJar } from './support/cookie-jar.js';
import { SessionConfigError } from '../src/errors.js';
import { SessionManager } from '../src/manager.js';
import { MAX_INFLATED_BYTES, Sealer } from '../src/seal.js';
import { type RunningApp, startApp } from './adapters/support/apps.js';
import { SECRET } from './support/harness.js';

declare module '../src/types.js' {
  interface SessionData {
    note: string;
  }
}

const NAME = 'emt_session';
/** A session that compresses well: the same record many times, as lists of items tend to. */
const REPETITIVE = JSON.stringify(
  Array.from({ length: 40 }, (_, index) => ({ id: index, name: 'item', tags: ['red', 'large'] })),
);

const apps: RunningApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function appWith(framework: 'express' | 'fastify', compression: number | undefined) {
  const manager = SessionManager.cookies(SECRET, compression === undefined ? {} : { compression });
  const app = await startApp(framework, manager);
  apps.push(app);
  return app;
}

/** Stores `note` through POST /note and returns the session cookies' total length. */
async function store(app: RunningApp, jar: CookieJar, note: string): Promise<number> {
  const response = await jar.fetch(`${app.url}/note`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ note }),
  });
  expect(response.status).toBe(200);
  return [...jar.cookies].reduce((sum, [name, value]) => sum + name.length + 1 + value.length, 0);
}

async function peek(app: RunningApp, jar: CookieJar): Promise<unknown> {
  return JSON.parse((await jar.get(`${app.url}/peek`)).body);
}

describe.each(['express', 'fastify'] as const)('compression on %s', (framework) => {
  it('round-trips a session and makes a repetitive one smaller', async () => {
    const plain = await appWith(framework, undefined);
    const compressed = await appWith(framework, 6);
    const plainJar = new CookieJar();
    const compressedJar = new CookieJar();
    const plainSize = await store(plain, plainJar, REPETITIVE);
    const compressedSize = await store(compressed, compressedJar, REPETITIVE);
    expect(await peek(compressed, compressedJar)).toEqual({ note: REPETITIVE });
    expect(compressedSize).toBeLessThan(plainSize / 3);
  });

  it('never makes a cookie larger: a small session stays as it is', async () => {
    const plainSize = await store(await appWith(framework, undefined), new CookieJar(), 'x');
    const app = await appWith(framework, 9);
    const jar = new CookieJar();
    expect(await store(app, jar, 'x')).toBeLessThanOrEqual(plainSize);
    expect(await peek(app, jar)).toEqual({ note: 'x' });
  });

  it('chunks a compressed session that is still larger than one cookie, and reads it back', async () => {
    const app = await appWith(framework, 9);
    const jar = new CookieJar();
    // Random text repeated twice: deflate halves it, which still needs two cookies.
    const half = randomBytes(3000).toString('base64url');
    await store(app, jar, half + half);
    expect([...jar.cookies.keys()].sort()).toEqual([NAME, `${NAME}.1`]);
    expect(await peek(app, jar)).toEqual({ note: half + half });
  });

  it('changing the option ends no session: each manager opens the other one’s cookies', async () => {
    const plain = await appWith(framework, undefined);
    const compressed = await appWith(framework, 6);
    const jar = new CookieJar();
    await store(compressed, jar, REPETITIVE);
    expect(await peek(plain, jar)).toEqual({ note: REPETITIVE });
    const other = new CookieJar();
    await store(plain, other, REPETITIVE);
    expect(await peek(compressed, other)).toEqual({ note: REPETITIVE });
  });
});

describe('compression, sealed', () => {
  it('a compressed cookie altered anywhere does not open', () => {
    const sealer = new Sealer(SECRET, NAME, 6);
    const sealed = sealer.seal(`1.id.${REPETITIVE}`);
    expect(new Sealer(SECRET, NAME, 6).open(sealed)?.plaintext).toBe(`1.id.${REPETITIVE}`);
    const body = sealed.slice(sealed.lastIndexOf('.') + 1);
    for (let at = 0; at < body.length; at += 7) {
      const flipped = body[at] === 'A' ? 'B' : 'A';
      const altered = sealed.slice(0, sealed.length - body.length + at) + flipped + body.slice(at + 1);
      expect(new Sealer(SECRET, NAME, 6).open(altered), `character ${at}`).toBeUndefined();
    }
  });

  it('seals a plaintext that deflate does not shrink as it is', () => {
    // No character repeats, so deflate has nothing to gain and adds its own framing.
    const plaintext = '1.id.{"k":"abcdefghijklmnopqrstuvwxyzABCDEFGH"}';
    expect(new Sealer(SECRET, NAME, 9).seal(plaintext).length).toBe(new Sealer(SECRET, NAME).seal(plaintext).length);
  });

  it('seals a plaintext over the inflate bound uncompressed, so it never becomes unreadable', () => {
    const huge = `1.id.${'a'.repeat(MAX_INFLATED_BYTES + 1)}`;
    const compressedSealer = new Sealer(SECRET, NAME, 9);
    const sealed = compressedSealer.seal(huge);
    expect(sealed.length).toBeGreaterThan(MAX_INFLATED_BYTES);
    expect(new Sealer(SECRET, NAME).open(sealed)?.plaintext).toBe(huge);
  });

  it.each([10, -1, 1.5, '6', Number.NaN])('refuses compression %s, naming the levels', (level) => {
    expect(() => SessionManager.cookies(SECRET, { compression: level as number })).toThrow(SessionConfigError);
    expect(() => SessionManager.cookies(SECRET, { compression: level as number })).toThrow(/from 1 .* to 9/);
  });
});
