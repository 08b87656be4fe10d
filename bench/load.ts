import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { CookieJar } from '../runtime/test/support/cookie-jar.js';
import type { Contender } from './contenders.js';
import { watchCpu } from './system.js';

export type Route = '/counter' | '/peek';

export interface LoadSettings {
  connections: number;
  pipelining: number;
}

export interface Measurement {
  /** Mean requests per second over the measured seconds. */
  rps: number;
  /** 99th percentile latency, ms. */
  p99: number;
  requests: number;
  /** Connection errors, timeouts and non-2xx answers: any of them makes the figure void. */
  failures: number;
  /** Cores the server process(es) used: about 1 means the server, not the generator, was the limit. */
  serverCores: number | undefined;
  /** Cores everything else on the machine used meanwhile: above ~0.15 the figure is noisy. */
  otherCores: number | undefined;
  /**
   * Server CPU time per request, microseconds: what a request costs the server, which stays
   * meaningful when other work on the machine steals the server's core (req/s does not).
   */
  cpuUsPerRequest: number | undefined;
}

export interface Primed {
  /** The Cookie header of a session that has counted two visits. */
  cookie: string;
  /** Whether GET /peek answered with a Set-Cookie (a read-only request should not). */
  peekSetsCookie: boolean;
}

const visitText = (n: number) => `This is your ${n} visit`;

/**
 * Starts a session with one request and checks it works before anything is measured: the second
 * /counter request with the cookie must say "This is your 2 visit", and /peek must read 2 back.
 * Bare servers keep nothing, so they must answer 1 and 0 (same work, no session).
 */
export async function primeAndCheck(contender: Contender, url: string): Promise<Primed> {
  const jar = new CookieJar();
  const bare = contender.kind === 'bare';
  const expect = async (route: Route, visits: number) => {
    const answer = await jar.get(url + route);
    if (answer.status !== 200 || answer.body !== visitText(visits)) {
      throw new Error(
        `${contender.id} GET ${route} answered ${answer.status} ${JSON.stringify(answer.body)}; expected "${visitText(visits)}"`,
      );
    }
    return answer;
  };
  await expect('/counter', 1);
  if (!bare && jar.header() === undefined) throw new Error(`${contender.id} set no session cookie`);
  await expect('/counter', bare ? 1 : 2);
  const peek = await expect('/peek', bare ? 0 : 2);
  return { cookie: jar.header() ?? '', peekSetsCookie: peek.setCookies.length > 0 };
}

/** The visit count /peek reads back with `cookie`: after a /counter run it tells whether writes landed. */
export async function visitsNow(url: string, cookie: string): Promise<number | undefined> {
  const answer = await get(url, '/peek', cookie);
  const match = answer.body.match(/^This is your (\d+) visit$/);
  return match ? Number(match[1]) : undefined;
}

export interface PrimedSessions extends Primed {
  /** One Cookie header per session, each at visit 2 (bare servers: one empty header). */
  cookies: string[];
}

/** Sessions primed at once: enough to keep the server busy, few enough to leave the generator core idle. */
const PRIME_CONCURRENCY = 32;
const keepAlive = new Agent({ keepAlive: true, maxSockets: PRIME_CONCURRENCY });

interface Answer {
  status: number;
  body: string;
  setCookies: string[];
}

/** One GET on a kept-alive connection; lighter than fetch when thousands of sessions are primed. */
export function get(url: string, path: string, cookie: string | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const sent = request(`${url}${path}`, { agent: keepAlive, headers: cookie ? { cookie } : {} }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        body += chunk;
      });
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body, setCookies: response.headers['set-cookie'] ?? [] }),
      );
      response.on('error', reject);
    });
    sent.on('error', reject);
    sent.end();
  });
}

/**
 * `count` distinct sessions, each brought to visit 2 as a browser would (two /counter requests,
 * the second sending what the first set), each checked to say "2": a session that did not count
 * would be a fresh one on every request, and the load would measure the empty path. The first
 * session also goes through primeAndCheck's /peek checks. Bare servers keep nothing: one empty cookie.
 */
export async function primeSessions(contender: Contender, url: string, count: number): Promise<PrimedSessions> {
  const first = await primeAndCheck(contender, url);
  if (contender.kind === 'bare') return { ...first, cookies: [first.cookie] };
  const cookies = new Array<string>(count);
  cookies[0] = first.cookie;
  let next = 1;
  const primeOne = async (index: number) => {
    const jar = new CookieJar();
    for (const visits of [1, 2]) {
      const answer = await get(url, '/counter', jar.header());
      if (answer.status !== 200 || answer.body !== visitText(visits)) {
        throw new Error(
          `${contender.id}: session ${index + 1} of ${count}: /counter answered ${answer.status} ${JSON.stringify(answer.body)}; expected "${visitText(visits)}"`,
        );
      }
      jar.store(answer.setCookies);
    }
    cookies[index] = jar.header() ?? '';
  };
  const worker = async () => {
    while (next < count) await primeOne(next++);
  };
  await Promise.all(Array.from({ length: Math.min(PRIME_CONCURRENCY, count - 1) }, worker));
  return { ...first, cookies };
}

/** How long a load runs: for some seconds, or for an exact number of requests. */
export type Span = { seconds: number } | { requests: number };

/**
 * Runs autocannon against one route, each request sending the next of `cookies` in turn (all the
 * connections share the turn, so with thousands of sessions no two requests in flight carry the
 * same one). With a single cookie every request sends it: the same code path, so the generator's
 * own cost is the same whatever the number of sessions.
 */
export async function measure(
  url: string,
  route: Route,
  cookies: readonly string[],
  span: Span,
  settings: LoadSettings,
  serverPids: () => number[],
): Promise<Measurement> {
  const cpu = watchCpu(serverPids);
  let turn = 0;
  const result = await autocannon({
    url,
    connections: settings.connections,
    pipelining: settings.pipelining,
    ...('seconds' in span ? { duration: span.seconds } : { amount: span.requests }),
    requests: [
      {
        method: 'GET',
        path: route,
        setupRequest: (sent) => {
          const cookie = cookies[turn] as string;
          turn = turn + 1 === cookies.length ? 0 : turn + 1;
          if (cookie) sent.headers = { ...sent.headers, cookie };
          return sent;
        },
      },
    ],
  });
  const usage = cpu();
  return {
    rps: result.requests.average,
    p99: result.latency.p99,
    requests: result.requests.total,
    failures: result.errors + result.timeouts + result.non2xx,
    serverCores: usage?.serverCores,
    otherCores: usage?.otherCores,
    cpuUsPerRequest:
      usage && result.requests.total > 0 ? (usage.serverSeconds * 1e6) / result.requests.total : undefined,
  };
}
