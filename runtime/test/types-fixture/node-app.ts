import { createServer } from 'node:http';
import { withSessions } from '@session-manager/runtime/node';
import { manager } from './manager.js';

createServer(
  withSessions(manager, (_req, _res, session) => {
    session.counter = (session.counter ?? 0) + 1;
    // @ts-expect-error a counter is a number
    session.counter = 'one';
    return `This is your ${session.counter} visit`;
  }),
);
