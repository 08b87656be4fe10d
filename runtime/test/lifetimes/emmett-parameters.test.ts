import { describe, expect, it } from 'vitest';
import { SessionConfigError } from '../../src/errors.js';
import { SessionManager } from '../../src/manager.js';
import type { CookieData, SameSite } from '../../src/options.js';
import { CookieJar, cookieAttribute, exchange, SECRET } from '../support/harness.js';

/** Emmett users write `samesite='lax'` and pass cookie attributes in `cookie_data`: the same here. */
async function setCookieFor(options: Parameters<typeof SessionManager.cookies>[1]): Promise<string> {
  const manager = SessionManager.cookies<Record<string, unknown>>(SECRET, options);
  const { plan } = await exchange(manager, new CookieJar(), (state) => {
    state.data.user = 'ada';
  });
  return plan.setCookies[0] as string;
}

function configError(make: () => unknown): SessionConfigError {
  try {
    make();
  } catch (error) {
    expect(error).toBeInstanceOf(SessionConfigError);
    return error as SessionConfigError;
  }
  throw new Error('expected a SessionConfigError');
}

describe("Emmett's parameters as Emmett users write them", () => {
  it('sameSite in any case is normalised', async () => {
    for (const [given, written] of [
      ['lax', 'Lax'],
      ['LAX', 'Lax'],
      ['strict', 'Strict'],
      ['sTrIcT', 'Strict'],
    ] as const) {
      const manager = SessionManager.cookies(SECRET, { sameSite: given as SameSite });
      expect(manager.options.sameSite).toBe(written);
      expect(cookieAttribute(await setCookieFor({ sameSite: given as SameSite }), 'SameSite')).toBe(written);
    }
    expect(SessionManager.cookies(SECRET, { sameSite: 'none', secure: true }).options.sameSite).toBe('None');
    expect(configError(() => SessionManager.cookies(SECRET, { sameSite: 'none' })).message).toContain('secure');
    expect(configError(() => SessionManager.cookies(SECRET, { sameSite: 'bogus' as SameSite })).message).toContain(
      'Lax, Strict, None',
    );
  });

  it('priority in any case is normalised', async () => {
    const line = await setCookieFor({ cookieData: { priority: 'high' as CookieData['priority'] } });
    expect(cookieAttribute(line, 'Priority')).toBe('High');
  });

  it('maxAge and expires in cookieData are refused with a message that says to use expire', () => {
    for (const cookieData of [{ maxAge: 60 }, { expires: new Date() }, { 'max-age': 60 }]) {
      const error = configError(() => SessionManager.cookies(SECRET, { cookieData: cookieData as CookieData }));
      expect(error.message).toContain('expire');
    }
  });

  it('attributes the manager owns, and unknown ones, are refused naming the right option', () => {
    expect(
      configError(() => SessionManager.cookies(SECRET, { cookieData: { domain: 'a.com' } as CookieData })).message,
    ).toContain('domain');
    expect(
      configError(() => SessionManager.cookies(SECRET, { cookieData: { secure: true } as CookieData })).message,
    ).toContain('secure');
    expect(
      configError(() => SessionManager.cookies(SECRET, { cookieData: { colour: 'red' } as CookieData })).message,
    ).toContain('colour');
  });

  it("values are checked with the cookie package's rules", () => {
    // Each of these passes a hand-written "no ; and printable" check but not the cookie package's.
    configError(() => SessionManager.cookies(SECRET, { domain: '-bad-.example' }));
    configError(() => SessionManager.cookies(SECRET, { domain: '' }));
    configError(() => SessionManager.cookies(SECRET, { cookieData: { path: '/a;b' } }));
    configError(() => SessionManager.cookies(SECRET, { cookieData: { httpOnly: 'yes' as unknown as boolean } }));
    configError(() => SessionManager.cookies(SECRET, { cookieData: { priority: 'urgent' as CookieData['priority'] } }));
    expect(SessionManager.cookies(SECRET, { domain: '.example.com' }).options.domain).toBe('.example.com');
  });
});
