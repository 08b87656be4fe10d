import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  /**
   * Where to connect: the path of the server's unix socket, which ioredis takes as it takes a URL
   * (`new Redis(server.url)`). A socket in a folder of its own needs no free port: nothing can take
   * it between finding it and using it, and a restart gets the same address back.
   */
  readonly url: string;
  /** Stops the server (SIGTERM, or SIGKILL with `kill: true`) and waits for it to exit. */
  stop(options?: { kill?: boolean }): Promise<void>;
  /** Starts it again at the same address, with the same data folder (persistence, if enabled). */
  start(): Promise<void>;
  /**
   * Freezes the process (SIGSTOP): connections stay open and no command is answered until `thaw()`.
   * A redis that hangs for exactly as long as the test wants, unlike a CLIENT PAUSE of fixed length.
   */
  freeze(): void;
  thaw(): void;
  /** Stops it and removes its data folder. */
  dispose(): Promise<void>;
}

/**
 * A real redis-server for tests, listening on a unix socket only (`--port 0` turns TCP off).
 * `persistence: true` turns on the append-only file, so data survives a stop and start.
 */
export async function startRedisServer(options: { persistence?: boolean } = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'csm-redis-'));
  const socket = join(dir, 'redis.sock');
  let child: ChildProcess | undefined;

  const start = () =>
    new Promise<void>((resolve, reject) => {
      const args = ['--port', '0', '--unixsocket', socket, '--unixsocketperm', '700', '--dir', dir, '--save', ''];
      args.push('--appendonly', options.persistence ? 'yes' : 'no', '--appendfsync', 'always');
      const proc = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child = proc;
      let output = '';
      proc.on('error', (error) => {
        reject(
          new Error(`could not run redis-server (is it installed? apt-get install -y redis-server): ${error.message}`),
        );
      });
      proc.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (/ready to accept connections/i.test(output)) resolve();
      });
      proc.on('exit', (code) => reject(new Error(`redis-server exited with ${code}:\n${output}`)));
    });

  const stop = async ({ kill = false } = {}) => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      // A frozen process would not act on SIGTERM until it is continued.
      proc.kill('SIGCONT');
      proc.kill(kill ? 'SIGKILL' : 'SIGTERM');
    });
  };

  await start();
  return {
    url: socket,
    stop,
    start,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    async dispose() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
