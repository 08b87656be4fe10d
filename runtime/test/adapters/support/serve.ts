/**
 * One app server in its own process, for the scale-out test:
 *   FRAMEWORK=koa BACKEND=redis REDIS_URL=... PREFIX=... node --import tsx serve.ts
 * Prints `listening <url>` once it accepts requests; exits on SIGTERM.
 */
import { Redis } from 'ioredis';
import { SessionManager } from '../../../src/manager.js';
import { type Framework, startApp } from './apps.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};

const backend = env('BACKEND');
const redis = backend === 'redis' ? new Redis(env('REDIS_URL')) : undefined;
const manager =
  backend === 'cookies'
    ? SessionManager.cookies(env('SESSION_SECRET'))
    : backend === 'files'
      ? SessionManager.files({ directory: env('DIRECTORY') })
      : SessionManager.redis(redis as Redis, { prefix: env('PREFIX') });

const app = await startApp(env('FRAMEWORK') as Framework, manager);
process.stdout.write(`listening ${app.url}\n`);

process.once('SIGTERM', async () => {
  await app.close();
  await manager.close();
  redis?.disconnect();
  process.exit(0);
});
