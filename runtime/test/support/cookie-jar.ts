/**
 * A minimal browser-like cookie jar for tests: keeps what Set-Cookie says (Max-Age=0 deletes),
 * sends it back as one Cookie header.
 */
export class CookieJar {
  readonly cookies = new Map<string, string>();

  /** The Cookie header to send, or undefined when the jar is empty. */
  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  store(setCookies: string[]): void {
    for (const line of setCookies) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const removed = attributes.some((a) => /^\s*max-age\s*=\s*0\s*$/i.test(a));
      if (removed) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  /** fetch with this jar's cookies; stores the response's Set-Cookie headers. */
  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    const cookie = this.header();
    if (cookie !== undefined && !headers.has('cookie')) headers.set('cookie', cookie);
    const response = await fetch(url, { ...init, headers });
    this.store(response.headers.getSetCookie());
    return response;
  }

  /** GET a URL and return its status and body text. */
  async get(url: string, init: RequestInit = {}): Promise<{ status: number; body: string; setCookies: string[] }> {
    const response = await this.fetch(url, init);
    return { status: response.status, body: await response.text(), setCookies: response.headers.getSetCookie() };
  }
}
