'use strict';
// Both builds of the runtime in one process, as when an app's CommonJS code requires it and an ES
// module dependency imports it: the two copies must share the request context, find each other's
// sessions, recognise each other's errors and wrap ServerResponse once. Prints what it saw as JSON.
const { once } = require('node:events');
const { mkdtempSync, rmSync, writeFileSync } = require('node:fs');
const { createServer, ServerResponse } = require('node:http');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const express = require('express');
const cjs = require('@session-manager/runtime');
const cjsExpress = require('@session-manager/runtime/express');

const SECRET = 'a-commonjs-secret-of-at-least-32-characters';

async function listen(app) {
  const server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${server.address().port}` };
}

const cookiesOf = (response) =>
  response.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');

async function main() {
  const esm = await import('@session-manager/runtime');
  const esmExpress = await import('@session-manager/runtime/express');
  const separateBuilds = esm.SessionManager !== cjs.SessionManager && esmExpress.sessions !== cjsExpress.sessions;

  // An ES module manager behind the CommonJS adapter; the handler uses the ES module accessor and
  // control functions, and the CommonJS ones.
  const app = express();
  app.use(cjsExpress.sessions(esm.SessionManager.cookies(SECRET)));
  app.get('/counter', (_req, res) => {
    esm.session.counter = (esm.session.counter ?? 0) + 1;
    res.send(`esm ${esm.session.counter} cjs ${cjs.session.counter}`);
  });
  app.get('/login', (req, res) => {
    // The session's state was made by the ES module manager; the CommonJS functions find it.
    const before = cjs.getSessionInfo(req.session).id;
    cjs.regenerateSession(req.session);
    res.send(String(before !== esm.getSessionInfo().id && esm.getSessionInfo().id === cjs.getSessionInfo().id));
  });
  const first = await listen(app);
  const original = ServerResponse.prototype.end;

  const counted = await fetch(`${first.url}/counter`);
  const counter1 = await counted.text();
  // The first response through an adapter wrapped these; the other build's adapter must not again.
  const hooks = { end: ServerResponse.prototype.end, writeHead: ServerResponse.prototype.writeHead };
  const counter2 = await (await fetch(`${first.url}/counter`, { headers: { cookie: cookiesOf(counted) } })).text();
  const login = await (await fetch(`${first.url}/login`, { headers: { cookie: cookiesOf(counted) } })).text();

  // A CommonJS manager whose store fails behind the ES module adapter: the store error is still
  // recognised as one (a 503), and the ES module adapter did not wrap ServerResponse a second time.
  const directory = mkdtempSync(join(tmpdir(), 'dual-package-'));
  const failing = cjs.SessionManager.files({ directory, sweepInterval: 0 });
  rmSync(directory, { recursive: true });
  writeFileSync(directory, 'not a folder');
  const errors = [];
  const outage = express();
  outage.use(esmExpress.sessions(failing, { onError: (error) => errors.push(error) }));
  outage.get('/counter', (req, res) => {
    req.session.counter = 1;
    res.send('stored?');
  });
  const second = await listen(outage);
  const failed = await fetch(`${second.url}/counter`);
  rmSync(directory, { force: true });

  const result = {
    separateBuilds,
    counter: [counter1, counter2],
    login,
    outage: `${failed.status} ${await failed.text()}`,
    storeErrorBothWays:
      errors.length === 1 && errors[0] instanceof cjs.SessionStoreError && errors[0] instanceof esm.SessionStoreError,
    notDataError: errors[0] instanceof esm.SessionDataError,
    wrappedOnce:
      hooks.end !== original &&
      ServerResponse.prototype.end === hooks.end &&
      ServerResponse.prototype.writeHead === hooks.writeHead,
  };
  first.server.close();
  second.server.close();
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
