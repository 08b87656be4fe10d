import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { randomInt } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * Ports for servers that cannot listen on port 0 (redis-server has no such option, and a cluster
 * node also opens its bus on port + 10000). They are drawn below Linux's ephemeral range (32768 and
 * up, where port-0 listeners and outgoing connections land), bus ports included, so only another
 * run of these tests can collide; a collision is seen at start and retried on other ports.
 */
const LOWEST = 12_000;
const HIGHEST_BUS = 32_000;

/** A random port whose bus port (port + 10000) also stays below the ephemeral range. */
export function candidatePort(): number {
  return randomInt(LOWEST, HIGHEST_BUS - 10_000);
}

/** Thrown when a server could not bind its port: the caller tries another. */
export class PortTakenError extends Error {}

export interface RedisProcess {
  readonly port: number;
  readonly process: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  /** Stops it (SIGTERM, or SIGKILL with `kill: true`) and waits for it to exit. */
  stop(options?: { kill?: boolean }): Promise<void>;
}

/**
 * Runs `redis-server` with `args` (which must include `--port port`, or a config file naming it)
 * and waits until it prints `ready` (a regular expression). Rejects with PortTakenError when the
 * port (or the cluster bus port) is in use.
 */
export function spawnRedis(port: number, args: string[], ready = /Ready to accept connections/): Promise<RedisProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const handle: RedisProcess = {
    port,
    process: child,
    output: () => output,
    async stop({ kill = false } = {}) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill(kill ? 'SIGKILL' : 'SIGTERM');
      await exited;
    },
  };
  return new Promise<RedisProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-server did not start on ${port} within 30 s:\n${output}`));
    }, 30_000);
    const onData = () => {
      if (ready.test(output)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve(handle);
      }
    };
    child.stdout?.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(
        new Error(`could not run redis-server (is it installed? apt-get install -y redis-server): ${error.message}`),
      );
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (/Address already in use/i.test(output)) reject(new PortTakenError(`port ${port} is taken`));
      else reject(new Error(`redis-server on ${port} exited with ${code}:\n${output}`));
    });
  });
}

/** Starts a server on a fresh candidate port, trying others while the port is taken. */
export async function spawnOnFreePort(
  start: (port: number) => Promise<RedisProcess>,
  attempts = 20,
): Promise<RedisProcess> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start(candidatePort());
    } catch (error) {
      if (!(error instanceof PortTakenError) || attempt >= attempts) throw error;
    }
  }
}

/** Runs `redis-cli` with `args` and resolves with its output; rejects when it exits non-zero. */
export function redisCli(args: string[]): Promise<string> {
  const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    child.once('error', (error) =>
      reject(new Error(`could not run redis-cli (apt-get install -y redis-tools): ${error.message}`)),
    );
    child.once('exit', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`redis-cli ${args.join(' ')} exited with ${code}:\n${output}`));
    });
  });
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Runs `run` on a fresh connection to the redis server on loopback `port`, without retries, then closes it. */
export async function askRedis<T>(port: number, run: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return await run(redis);
  } finally {
    redis.disconnect();
  }
}
