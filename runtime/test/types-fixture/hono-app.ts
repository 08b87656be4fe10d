import { serve } from '@hono/node-server';
import { sessions } from '@session-manager/runtime/hono';
import { Hono } from 'hono';
import { manager } from './manager.js';

const app = new Hono();
app.use(sessions(manager)).get('/', (c) => {
  const s = c.get('session');
  s.counter = (s.counter ?? 0) + 1;
  // @ts-expect-error a counter is a number
  s.counter = 'one';
  // @ts-expect-error no such key in SessionData
  s.missing = true;
  return c.text(String(s.counter));
});

// Typed from the manager's own type parameter, without declaration merging.
const cart = new Hono().use(sessions(manager.forCart)).get('/cart', (c) => {
  const items: string[] | undefined = c.get('session').items;
  // @ts-expect-error items are strings
  c.get('session').items = [1];
  return c.text(String(items));
});

serve({ fetch: app.fetch, port: 0 });
serve({ fetch: cart.fetch, port: 0 });

// The usual style, middleware and routes in separate statements: typed through ContextVariableMap.
const plain = new Hono();
plain.use(sessions(manager));
plain.get('/', (c) => {
  c.get('session').counter = 1;
  // @ts-expect-error a counter is a number
  c.get('session').counter = 'one';
  return c.text('ok');
});
serve({ fetch: plain.fetch, port: 0 });
