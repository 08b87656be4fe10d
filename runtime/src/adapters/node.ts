import type { IncomingMessage, ServerResponse } from 'node:http';
import { runWithSession } from '../context.js';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';
import type { Session, SessionData } from '../types.js';
import { commitWithResponse, sendFailure } from './node-response.js';
import { type AdapterOptions, defaultOnError } from './respond.js';

export type { AdapterOptions } from './respond.js';

/**
 * A node:http handler with sessions. The handler gets the session as its third argument (and
 * through `session` from '@session-manager/runtime'); it may end the response itself or return
 * a string or Buffer to send as the body.
 *
 *   http.createServer(withSessions(manager, () => {
 *     session.counter = (session.counter ?? 0) + 1
 *     return `This is your ${session.counter} visit`
 *   }))
 */
export function withSessions<T extends object = SessionData>(
  manager: SessionManager<T>,
  handler: (req: IncomingMessage, res: ServerResponse, session: Session<T>) => unknown,
  options: AdapterOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const onError = options.onError ?? defaultOnError;
  return async (req, res) => {
    let state: SessionState<T>;
    try {
      const loading = manager.loadEager(req.headers.cookie);
      state = loading instanceof Promise ? await loading : loading;
    } catch (error) {
      sendFailure(res, error, onError);
      return;
    }
    commitWithResponse(res, manager, state, onError);
    try {
      const result = await runWithSession(state as SessionState<object>, () => handler(req, res, state.data));
      if (!res.writableEnded && (typeof result === 'string' || result instanceof Uint8Array)) {
        if (!res.hasHeader('Content-Type') && typeof result === 'string')
          res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end(result);
      }
    } catch (error) {
      // A failed handler keeps no session change (see README: failure behaviour).
      state.discarded = true;
      onError(error);
      if (!res.headersSent) {
        res.statusCode = 500;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.end('Internal Server Error');
      } else if (!res.writableEnded) {
        res.destroy(error instanceof Error ? error : undefined);
      }
    }
  };
}
