import { createServer, type RequestListener } from 'node:http';
import { withSessions } from '@session-manager/runtime/node';
import {
  announce,
  countVisit,
  inRequestContext,
  ourManager,
  peekVisit,
  sealedCounter,
  type Visits,
  variant,
} from './serve.js';

/**
 * node:http contenders: bare (no session), this project's three backends through `withSessions`,
 * and the sealed-cookie floor, without and with a request context.
 */
const which = variant(['bare', 'cookies', 'files', 'redis', 'seal-floor', 'seal-floor-context'] as const);

const notFound = (res: Parameters<RequestListener>[1]) => {
  res.statusCode = 404;
  res.end();
};

/** The routes without a session library; `session` gives the request's counter. */
const plainHandler =
  (session: (req: Parameters<RequestListener>[0], res: Parameters<RequestListener>[1]) => Visits): RequestListener =>
  (req, res) => {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    if (req.url === '/counter') res.end(countVisit(session(req, res)));
    else if (req.url === '/peek') res.end(peekVisit(session(req, res)));
    else notFound(res);
  };
const floorSession = (req: Parameters<RequestListener>[0], res: Parameters<RequestListener>[1]) =>
  sealedCounter(req.headers.cookie, (cookie) => res.setHeader('set-cookie', cookie));

let handler: RequestListener;
let close: () => Promise<void> = async () => {};
if (which === 'bare') {
  // The same work minus the session: a counter that is never stored.
  handler = plainHandler(() => ({}));
} else if (which === 'seal-floor') {
  handler = plainHandler(floorSession);
} else if (which === 'seal-floor-context') {
  const floor = plainHandler(floorSession);
  handler = (req, res) => inRequestContext(req, () => floor(req, res));
} else {
  const ours = ourManager(which);
  close = ours.close;
  handler = withSessions(ours.manager, (req, res, session) => {
    if (req.url === '/counter') return countVisit(session);
    if (req.url === '/peek') return peekVisit(session);
    notFound(res);
  });
}

const server = createServer(handler);
server.listen(0, '127.0.0.1', () => {
  announce(server, async () => {
    server.close();
    await close();
  });
});
