/**
 * A local npm registry for the published-path test: verdaccio, storing in the folder given as the
 * first argument, listening on a loopback port the OS picks. It prints `listening <url>` once it
 * accepts requests and stops on SIGTERM.
 *
 * This project's packages (@session-manager/*, create-session-manager) are served only from here:
 * published by the test, never looked up elsewhere, so a package of the same name on the public
 * registry can never stand in for them. Every other package (express, ioredis, typescript...) is
 * proxied to the public npm registry, as a company registry does: a user's `npx` and `npm install`
 * then talk to one registry, and the generated app installs from it like any other.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { runServer } from 'verdaccio';

const storage = process.argv[2];
if (storage === undefined) throw new Error('usage: registry-server.ts <storage folder>');

const ours = { access: '$all', publish: '$all', unpublish: '$all' };
const server = (await runServer({
  storage,
  self_path: storage,
  auth: { htpasswd: { file: join(storage, 'htpasswd'), max_users: -1 } },
  uplinks: { npmjs: { url: 'https://registry.npmjs.org/', timeout: '60s', max_fails: 5 } },
  packages: {
    '@session-manager/*': ours,
    'create-session-manager': ours,
    '**': { access: '$all', proxy: 'npmjs' },
  },
  web: { enable: false },
  log: { type: 'stdout', format: 'pretty', level: 'error' },
  // biome-ignore lint/suspicious/noExplicitAny: verdaccio's configuration type is not exported from its entry point.
} as any)) as Server;

server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`listening http://127.0.0.1:${port}/\n`);
});
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
