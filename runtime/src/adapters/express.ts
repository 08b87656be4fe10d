import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { SessionManager } from '../manager.js';
import type { SessionState } from '../state.js';
import type { Session, SessionData } from '../types.js';
import { type AdapterOptions, adapterKit } from './kit.js';
import { commitWithResponse, sendFailure } from './node-response.js';

export type { AdapterOptions } from './kit.js';

declare global {
  namespace Express {
    interface Request {
      /** The request's session, typed by your `SessionData` declaration. */
      session: Session<SessionData>;
    }
  }
}

/**
 * Express middleware: `app.use(sessions(manager))`. Routes after it get `req.session`, and
 * `session` from '@session-manager/runtime' works anywhere in their async call tree.
 * The session is committed as the response's headers go out (see node-response.ts).
 */
export function sessions<T extends object = SessionData>(
  manager: SessionManager<T>,
  options: AdapterOptions = {},
): RequestHandler {
  const kit = adapterKit(manager, options);
  const { onError, runInContext } = kit;
  // A function made once rather than closures for every request (a cookies-backend load needs none).
  const start = (req: Request, res: Response, next: NextFunction, state: SessionState<T>) => {
    commitWithResponse(res, manager, state, onError);
    req.session = state.data as Session<SessionData>;
    // The rest of the chain runs synchronously from next(), so it inherits the session context.
    runInContext(state as SessionState<object>, next as () => void);
  };
  return (req, res, next) => {
    let loading: SessionState<T> | Promise<SessionState<T>>;
    try {
      loading = manager.loadEager(req.headers.cookie);
    } catch (error) {
      return sendFailure(res, error, onError);
    }
    if (loading instanceof Promise) {
      loading.then(
        (state) => start(req, res, next, state),
        (error: unknown) => sendFailure(res, error, onError),
      );
    } else start(req, res, next, loading);
  };
}
