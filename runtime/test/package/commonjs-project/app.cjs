'use strict';
// A CommonJS app as a user writes it: every subpath of the runtime loads with require, and sessions
// work over real HTTP through the express adapter and the node:http adapter. Prints what it saw as JSON.
const { once } = require('node:events');
const { createServer } = require('node:http');
const express = require('express');
const runtime = require('@session-manager/runtime');
const { sessions } = require('@session-manager/runtime/express');
const { withSessions } = require('@session-manager/runtime/node');

const SUBPATHS = ['node', 'express', 'fastify', 'koa', 'hono'];
const SECRET = 'a-commonjs-secret-of-at-least-32-characters';

/** Visits `url` three times with the cookies it is given back, as a browser would. */
async function visitThreeTimes(url) {
  let cookie = '';
  const bodies = [];
  for (let visit = 0; visit < 3; visit++) {
    const response = await fetch(url, { headers: { cookie } });
    bodies.push(`${response.status} ${await response.text()}`);
    const sent = response.headers.getSetCookie().map((line) => line.split(';')[0]);
    if (sent.length > 0) cookie = sent.join('; ');
  }
  return bodies;
}

async function listen(server) {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${server.address().port}`;
}

async function main() {
  const manager = runtime.SessionManager.cookies(SECRET);

  const app = express();
  app.use(sessions(manager));
  app.get('/counter', (req, res) => {
    req.session.counter = (req.session.counter ?? 0) + 1;
    res.send(`This is your ${req.session.counter} visit`);
  });
  // The imported accessor: the request context works from CommonJS too.
  app.get('/accessor', (_req, res) => {
    runtime.session.counter = (runtime.session.counter ?? 0) + 1;
    res.send(`accessor ${runtime.session.counter}`);
  });
  const expressServer = createServer(app);
  const expressUrl = await listen(expressServer);

  const nodeServer = createServer(
    withSessions(manager, (_req, res, session) => {
      session.counter = (session.counter ?? 0) + 1;
      res.end(`node ${session.counter}`);
    }),
  );
  const nodeUrl = await listen(nodeServer);

  const result = {
    node: process.version,
    main: typeof require.main === 'object' && require.main === module,
    root: Object.keys(runtime).sort(),
    subpaths: Object.fromEntries(
      SUBPATHS.map((name) => [name, Object.keys(require(`@session-manager/runtime/${name}`))]),
    ),
    express: await visitThreeTimes(`${expressUrl}/counter`),
    accessor: await visitThreeTimes(`${expressUrl}/accessor`),
    nodeHttp: await visitThreeTimes(`${nodeUrl}/`),
  };
  expressServer.close();
  nodeServer.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
