import { createServer, type RequestListener } from 'node:http';
import { withSessions } from '@session-manager/runtime/node';
import { announce, countVisit, ourManager, peekVisit, variant } from './serve.js';

/** node:http contenders: bare (no session) and this project's three backends through `withSessions`. */
const which = variant(['bare', 'cookies', 'files', 'redis'] as const);

const notFound = (res: Parameters<RequestListener>[1]) => {
  res.statusCode = 404;
  res.end();
};

let handler: RequestListener;
let close: () => Promise<void> = async () => {};
if (which === 'bare') {
  // The same work minus the session: a counter that is never stored.
  handler = (req, res) => {
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    if (req.url === '/counter') res.end(countVisit({}));
    else if (req.url === '/peek') res.end(peekVisit({}));
    else notFound(res);
  };
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
  announce(server.address(), async () => {
    server.close();
    await close();
  });
});
