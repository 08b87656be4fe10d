import { session } from '@session-manager/runtime';
import { sessions } from '@session-manager/runtime/express';
import express from 'express';
import { manager } from './manager.js';

const app = express();
app.use(sessions(manager));
app.get('/', (req, res) => {
  // @ts-expect-error every key may be missing: it reads as possibly undefined
  const roles: string[] = req.session.user.roles;
  const counter: number | undefined = req.session.counter;
  req.session.counter = (counter ?? 0) + 1;
  req.session.user = { id: 'u1', roles: ['admin'] };
  // @ts-expect-error a counter is a number
  req.session.counter = 'one';
  // @ts-expect-error no such key in SessionData
  req.session.missing = true;
  // @ts-expect-error the runtime's `session` is typed the same way
  session.counter = 'two';
  res.send(String(roles));
});
