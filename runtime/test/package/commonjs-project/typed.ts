// A CommonJS TypeScript file (package.json has no "type"): the runtime's types through `require`.
import { getSessionInfo, SessionManager, SessionStoreError, session } from '@session-manager/runtime';
import { sessions } from '@session-manager/runtime/express';
import { withSessions } from '@session-manager/runtime/node';
import express = require('express');

declare module '@session-manager/runtime' {
  interface SessionData {
    counter: number;
  }
}

const manager = SessionManager.cookies('a-commonjs-secret-of-at-least-32-characters');
const app = express();
app.use(sessions(manager));
app.get('/counter', (req, res) => {
  const counter: number | undefined = req.session.counter;
  req.session.counter = (counter ?? 0) + 1;
  // @ts-expect-error a counter is a number
  req.session.counter = 'one';
  // @ts-expect-error no such key in SessionData
  req.session.missing = true;
  // @ts-expect-error the imported accessor is typed the same way
  session.counter = 'two';
  res.send(`${getSessionInfo(req.session).expiresAt.toISOString()} ${counter}`);
});

export const handler = withSessions(manager, (_req, res, data) => {
  data.counter = (data.counter ?? 0) + 1;
  res.end(String(data.counter));
});
export const isOutage = (error: unknown): boolean => error instanceof SessionStoreError && error.backend === 'redis';
