import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { isSessionId } from '../../src/ids.js';
import { SessionManager } from '../../src/manager.js';
import { FRAMEWORKS, type RunningApp, startApp } from '../adapters/support/apps.js';
import { type RawResponse, rawGet } from './support/raw-http.js';
import { SECRET } from '../support/harness.js';

/**
 * Hostile Cookie headers against every framework adapter and every backend, over raw sockets so that
 * any byte a client may send reaches the server. Every one must give a fresh session and a 200:
 * never a 5xx, never an error report, never a stack trace, never someone else's session.
 */
const NAME = 'emt_session';
const RUNS_PER_APP = 40;
const BACKENDS = ['cookies', 'files', 'redis'] as const;
type Backend = (typeof BACKENDS)[number];
const B64URL = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'];

let redis: Redis;
let root: string;
const prefix = `faults-hostile:${randomUUID()}:`;
let tried = 0;

beforeAll(() => {
  redis = new Redis(inject('redisUrl'));
  root = mkdtempSync(join(tmpdir(), 'csm-hostile-'));
});

afterAll(async () => {
  const keys = await redis.keys(`faults-hostile*${prefix.slice('faults-hostile'.length)}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
  rmSync(root, { recursive: true, force: true });
  console.info(`[faults] hostile requests: ${tried} tried, each checked for a fresh session and a 200`);
});

function managerFor(backend: Backend, variant: { other?: boolean; cookieName?: string } = {}): SessionManager {
  const cookieName = variant.cookieName ?? NAME;
  switch (backend) {
    case 'cookies':
      return SessionManager.cookies(variant.other ? `${SECRET}-other` : SECRET, { cookieName });
    case 'files':
      return SessionManager.files({
        directory: join(root, variant.other ? 'other' : 'app'),
        sweepInterval: 0,
        cookieName,
      });
    case 'redis':
      return SessionManager.redis(redis, {
        prefix: variant.other ? `faults-hostile-other${prefix}` : prefix,
        cookieName,
      });
  }
}

/** The cookie value of a live session, made by `manager` directly (no HTTP). */
async function liveCookieValue(manager: SessionManager, now = Date.now()): Promise<string> {
  const state = await manager.load(undefined);
  state.data.counter = 41;
  const plan = manager.commit(state, now);
  await plan.persist?.();
  const line = plan.setCookies[0] as string;
  return line.slice(line.indexOf('=') + 1, line.indexOf(';'));
}

// ---- generators -------------------------------------------------------------------------------

/** Bytes a client can put in a header value: tab, printable ASCII, and any byte >= 0x80 (never UTF-8-checked). */
const headerBytes = (maxLength: number) =>
  fc
    .array(fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.integer({ min: 0x80, max: 0xff }), fc.constant(0x09)), {
      maxLength,
    })
    .map((bytes) => Buffer.from(bytes));

const b64 = (minLength: number, maxLength: number) =>
  fc.string({ unit: fc.constantFrom(...B64URL), minLength, maxLength });

/** Session ids of every wrong shape, and well-shaped ids no store holds. */
const wrongId = fc.oneof(
  b64(0, 42),
  b64(44, 90),
  fc
    .tuple(
      b64(42, 42),
      fc.constantFrom('.', '/', '\\', '%', '+', '=', ' ', '"', ',', '~', '\u00e9', '\u00ff', '\u0080'),
    )
    .chain(([id, bad]) => fc.nat(42).map((at) => id.slice(0, at) + bad + id.slice(at))),
  fc.constantFrom(
    '../../../../etc/passwd',
    '..%2F..%2F..%2Fetc%2Fpasswd',
    '/etc/passwd',
    'C:\\Windows\\win.ini',
    '....//....//etc/passwd',
    '*',
    '%00',
    '{"$gt":""}',
    'emtsess:*',
    `${'A'.repeat(42)}\u00c3`,
  ),
  b64(43, 43),
);

/** Values shaped like sealed cookies or chunk headers, none of them genuine. */
const fakeSealed = fc.oneof(
  fc.tuple(b64(0, 10), b64(0, 300)).map(([keyId, body]) => `v1.${keyId}.${body}`),
  fc.tuple(fc.integer({ min: 0, max: 12 }), b64(0, 200)).map(([count, rest]) => `${count}~v1.${rest}`),
  fc.constantFrom('v1', 'v1.', 'v1..', 'v2.abc.def', '2~', '3~v1', '9~', '"v1.a.b"', '""', '"'),
);

const cookieName = fc.constantFrom(
  NAME,
  NAME,
  `${NAME}.1`,
  `${NAME}.2`,
  `${NAME}.0`,
  `${NAME}.99`,
  `${NAME}.-1`,
  `${NAME}.1e1`,
  'EMT_SESSION',
  ` ${NAME}`,
  `${NAME} `,
  'other',
  '',
);

const pair = fc.oneof(
  fc.tuple(cookieName, fc.oneof(wrongId, fakeSealed)).map(([name, value]) => Buffer.from(`${name}=${value}`, 'latin1')),
  fc.tuple(cookieName, headerBytes(120)).map(([name, value]) => Buffer.concat([Buffer.from(`${name}=`), value])),
  headerBytes(60),
);

const separator = fc.constantFrom('; ', ';', ';;', ', ', ' ', ';\t', '=', '; ;');

const cookieHeader = fc.tuple(fc.array(pair, { minLength: 1, maxLength: 6 }), separator).map(([pairs, sep]) => {
  const parts: Buffer[] = [];
  pairs.forEach((part, index) => {
    if (index > 0) parts.push(Buffer.from(sep, 'latin1'));
    parts.push(part);
  });
  return Buffer.concat(parts);
});

/**
 * One Cookie line or several (HTTP allows it; node joins them), sometimes with 8 KB more in the first:
 * the session cookie hidden behind, or followed by, a large one. (Past node's 16 KB of headers the
 * request never reaches the app: node answers 431 itself.)
 */
const cookieLines = fc
  .tuple(fc.array(cookieHeader, { minLength: 1, maxLength: 3 }), fc.constantFrom('none', 'before', 'after'))
  .map(([lines, pad]) => {
    const large = Buffer.from(`pad=${'x'.repeat(8 * 1024)}`);
    const [first = Buffer.alloc(0), ...rest] = lines;
    if (pad === 'before') return [Buffer.concat([large, Buffer.from('; '), first]), ...rest];
    if (pad === 'after') return [Buffer.concat([first, Buffer.from('; '), large]), ...rest];
    return lines;
  });

// ---- the checks -------------------------------------------------------------------------------

function expectFresh(response: RawResponse, sent: Buffer[], backend: Backend): void {
  const context = `${JSON.stringify(Buffer.concat(sent).toString('latin1').slice(0, 100))} -> ${response.status} ${JSON.stringify(response.body.slice(0, 100))} ${JSON.stringify(response.headers.filter(([n]) => n === 'set-cookie'))}`;
  expect(response.status, context).toBe(200);
  expect(response.body, context).toBe('This is your 1 visit');
  expect(response.body).not.toMatch(/Error|\n\s+at /);
  const set = response.headers
    .filter(([name, value]) => name === 'set-cookie' && value.startsWith(`${NAME}=`) && !/max-age=0/i.test(value))
    .map(([, value]) => value.slice(NAME.length + 1, value.indexOf(';')));
  expect(set.length, context).toBe(1);
  const value = set[0] as string;
  expect(Buffer.concat(sent).toString('latin1').includes(value), context).toBe(false);
  if (backend !== 'cookies') expect(isSessionId(value), context).toBe(true);
}

describe.each(BACKENDS)('hostile Cookie headers, %s backend', (backend) => {
  describe.each(FRAMEWORKS)('%s adapter', (framework) => {
    let app: RunningApp;
    let port: number;
    let manager: SessionManager;
    const errors: unknown[] = [];
    const foreign: Array<[string, Buffer[]]> = [];

    beforeAll(async () => {
      manager = managerFor(backend);
      app = await startApp(framework, manager, { onError: (error) => errors.push(error) });
      port = Number(new URL(app.url).port);

      // Real session cookies that belong to someone else: another cookie name, secret, folder or
      // prefix; and the app's own cookie sent under a name that is not its own.
      const otherName = managerFor(backend, { cookieName: 'other_session' });
      const otherStore = managerFor(backend, { other: true });
      const jar = new CookieJar();
      await jar.get(`${app.url}/counter`);
      const own = jar.cookies.get(NAME) as string;
      const line = (text: string) => [Buffer.from(text, 'latin1')];
      foreign.push(
        ['a session of another secret, folder or prefix', line(`${NAME}=${await liveCookieValue(otherStore)}`)],
        ['the own cookie under an upper-case name', line(`EMT_SESSION=${own}`)],
        ['the own cookie as a chunk only', line(`${NAME}.1=${own}`)],
        ['the own cookie behind a garbage duplicate', line(`${NAME}=garbage; ${NAME}=${own}`)],
        [
          'the own cookie in a second Cookie line after a garbage one',
          [...line(`${NAME}=x`), ...line(`${NAME}=${own}`)],
        ],
        ['the own cookie with a byte appended', line(`${NAME}=${own}\u00ff`)],
        ['the own cookie with a byte removed', line(`${NAME}=${own.slice(0, -1)}`)],
        ['an 8 KB value under the session name', line(`${NAME}=${'A'.repeat(8 * 1024)}`)],
        [
          'overlong UTF-8 and lone continuation bytes',
          [Buffer.from([...Buffer.from(`${NAME}=`), 0xc0, 0xaf, 0x80, 0xfe])],
        ],
        ['a name made of invalid UTF-8', [Buffer.from([0xc3, 0x28, 0x3d, 0x31, 0x3b, 0x20, 0xff, 0x3d, 0x32])]],
        ['an empty Cookie header', [Buffer.alloc(0)]],
        ['only separators', line(';;;; ;=;=')],
        ['a name without a value', line(NAME)],
        ['an empty value', line(`${NAME}=`)],
        ['an unterminated quote', line(`${NAME}="abc`)],
      );
      if (backend === 'cookies') {
        // Sealed cookies are bound to their name. (A store backend's id is a key into the store,
        // whatever the cookie's name: a foreign store is the case that matters there, covered above.)
        foreign.push(['a session of another cookieName', line(`${NAME}=${await liveCookieValue(otherName)}`)]);
        const expired = await liveCookieValue(manager, Date.now() - 2 * 3600 * 1000);
        foreign.push(['an expired cookie of this app', line(`${NAME}=${expired}`)]);
      }
      await otherName.close();
      await otherStore.close();
    });

    afterAll(async () => {
      await app.close();
      await manager.close();
    });

    it('gives a fresh session and a 200 for each crafted case', async () => {
      for (const [label, lines] of foreign) {
        tried++;
        const response = await rawGet(port, '/counter', lines);
        expect(response.status, label).toBe(200);
        expectFresh(response, lines, backend);
      }
      expect(errors).toEqual([]);
    });

    it(`gives a fresh session and a 200 for ${RUNS_PER_APP} generated hostile headers`, async () => {
      await fc.assert(
        fc.asyncProperty(cookieLines, async (lines) => {
          tried++;
          expectFresh(await rawGet(port, '/counter', lines), lines, backend);
        }),
        { numRuns: RUNS_PER_APP },
      );
      expect(errors).toEqual([]);
    });
  });
});
