import autocannon from 'autocannon';
import { CookieJar } from '../test/support/cookie-jar.js';
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
  const answer = await fetch(`${url}/peek`, { headers: { cookie } });
  const match = (await answer.text()).match(/^This is your (\d+) visit$/);
  return match ? Number(match[1]) : undefined;
}

/** Runs autocannon against one route for `seconds`, sending the primed cookie with every request. */
export async function measure(
  url: string,
  route: Route,
  cookie: string,
  seconds: number,
  settings: LoadSettings,
  serverPids: () => number[],
): Promise<Measurement> {
  const cpu = watchCpu(serverPids);
  const result = await autocannon({
    url: url + route,
    connections: settings.connections,
    pipelining: settings.pipelining,
    duration: seconds,
    headers: cookie ? { cookie } : {},
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
