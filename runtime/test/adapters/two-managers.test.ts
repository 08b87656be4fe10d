import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { sessions } from '../../src/adapters/express.js';
import { SessionManager } from '../../src/manager.js';
import { tempDir } from '../support/harness.js';

/**
 * The node:http and express adapters commit through hooks on ServerResponse.prototype that find a
 * response's pending commits under a private symbol. Two session middlewares on one route (say a
 * sealed-cookie cart and a files-backed login) must both commit, and a response with no session
 * must pass through untouched.
 */
describe('two session middlewares on one express route', () => {
  const folder = tempDir('two-managers');
  const cart = SessionManager.cookies('cart-secret-0123456789-abcdefghijklmn', { cookieName: 'cart' });
  const login = SessionManager.files({ directory: folder.path, cookieName: 'login' });
  let server: Server;
  let url: string;

  beforeAll(async () => {
    const app = express();
    app.get('/plain', (_req, res) => {
      res.type('text/plain').send('no session here');
    });
    app.use(sessions(cart));
    app.use((req, _res, next) => {
      (req as unknown as { cart: Record<string, unknown> }).cart = req.session;
      next();
    });
    app.use(sessions(login));
    app.get('/both', (req, res) => {
      const cartSession = (req as unknown as { cart: Record<string, unknown> }).cart;
      cartSession.items = ((cartSession.items as number | undefined) ?? 0) + 1;
      (req.session as Record<string, unknown>).user = 'ada';
      res.type('text/plain').send(`items ${String(cartSession.items)}`);
    });
    server = createServer(app).listen(0, '127.0.0.1');
    await once(server, 'listening');
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.close();
    await login.close();
    folder.remove();
  });

  it('both sessions are committed: two cookies, and each reads back', async () => {
    const jar = new CookieJar();
    const first = await jar.get(`${url}/both`);
    expect(first.body).toBe('items 1');
    expect(first.setCookies.map((cookie) => cookie.split('=')[0]).sort()).toEqual(['cart', 'login']);
    const second = await jar.get(`${url}/both`);
    expect(second.body).toBe('items 2');
    const loginId = jar.cookies.get('login') as string;
    expect((await login.load(`login=${loginId}`)).record).toEqual({ user: 'ada' });
  });

  it('a route before the middlewares answers without any Set-Cookie', async () => {
    const answer = await new CookieJar().get(`${url}/plain`);
    expect(answer.body).toBe('no session here');
    expect(answer.setCookies).toEqual([]);
  });
});
