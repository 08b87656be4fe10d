import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { CookieJar } from '../support/cookie-jar.js';
import { sessions } from '../../src/adapters/fastify.js';
import { session } from '../../src/context.js';
import { SessionManager } from '../../src/manager.js';
import { SECRET } from './support/backends.js';

/** Fastify's encapsulation: the plugin serves the context it is registered in, and its children. */
describe('the fastify plugin', () => {
  const manager = SessionManager.cookies(SECRET);
  let close: () => Promise<void> = async () => {};
  afterEach(() => close());

  it('registered inside a plugin, serves that plugin only', async () => {
    const app = Fastify();
    close = () => app.close();
    app.get('/outside', async (request) => `session: ${String(request.session)}`);
    await app.register(
      async (child) => {
        await child.register(sessions, { manager });
        child.get('/counter', async (request) => {
          request.session.counter = (request.session.counter ?? 0) + 1;
          return `This is your ${session.counter} visit`;
        });
      },
      { prefix: '/inside' },
    );
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const jar = new CookieJar();

    expect((await jar.get(`${url}/inside/counter`)).body).toBe('This is your 1 visit');
    expect((await jar.get(`${url}/inside/counter`)).body).toBe('This is your 2 visit');
    const outside = await jar.get(`${url}/outside`);
    expect(outside.body).toBe('session: undefined');
    expect(outside.setCookies).toEqual([]);
  });

  it('registered at the root, serves routes of every child plugin', async () => {
    const app = Fastify();
    close = () => app.close();
    await app.register(sessions, { manager });
    await app.register(async (child) => {
      child.get('/child', async (request) => {
        request.session.counter = (request.session.counter ?? 0) + 1;
        return `This is your ${request.session.counter} visit`;
      });
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const jar = new CookieJar();
    expect((await jar.get(`${url}/child`)).body).toBe('This is your 1 visit');
    expect((await jar.get(`${url}/child`)).body).toBe('This is your 2 visit');
  });

  it('gives `session` to hooks that run after it, before the handler', async () => {
    const app = Fastify();
    close = () => app.close();
    await app.register(sessions, { manager });
    app.addHook('preValidation', async () => {
      session.counter = (session.counter ?? 0) + 10;
    });
    app.post('/counter', async (request) => `counter ${request.session.counter}, body ${JSON.stringify(request.body)}`);
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    const jar = new CookieJar();
    const post = () =>
      jar.get(`${url}/counter`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
    expect((await post()).body).toBe('counter 10, body {"a":1}');
    expect((await post()).body).toBe('counter 20, body {"a":1}');
  });
});
