import { sessions } from '@session-manager/runtime/fastify';
import Fastify from 'fastify';
import { manager } from './manager.js';

const app = Fastify();
await app.register(sessions, { manager });
// @ts-expect-error the plugin needs a manager
await app.register(sessions, {});
app.get('/', async (request) => {
  request.session.counter = (request.session.counter ?? 0) + 1;
  // @ts-expect-error a counter is a number
  request.session.counter = 'one';
  // @ts-expect-error no such key in SessionData
  request.session.missing = true;
  const id: string | undefined = request.session.user?.id;
  return id;
});
