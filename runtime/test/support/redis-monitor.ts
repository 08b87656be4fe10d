import { randomUUID } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';

/**
 * A MONITOR connection on a plain socket. ioredis' own `monitor()` switches to monitor parsing only a
 * promise turn after MONITOR's OK, so a command line that arrives in the same chunk as the OK (another
 * client's INFO, say) meets an empty command queue and fails the connection ("Command queue state
 * error"). Here every line after the OK is a command. Arguments are read as ioredis reads them.
 */
async function openMonitor(url: string, onCommand: (args: string[], fromScript: boolean) => void): Promise<Socket> {
  const socket = url.startsWith('redis://') ? connect(Number(new URL(url).port), new URL(url).hostname) : connect(url);
  socket.setEncoding('utf8');
  let buffer = '';
  let started: () => void = () => {};
  const ok = new Promise<void>((resolve, reject) => {
    started = resolve;
    socket.once('error', reject);
  });
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
      const line = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      if (line === '+OK') started();
      else if (line.startsWith('+')) {
        const quoted = line.slice(line.indexOf('"') + 1, -1);
        // `+<time> [<db> lua] "GET" ...` for a command a script ran, `[<db> <client address>]` otherwise.
        const fromScript = line.slice(0, line.indexOf('"')).includes(' lua]');
        onCommand(
          quoted.split('" "').map((arg) => arg.replace(/\\"/g, '"')),
          fromScript,
        );
      }
    }
  });
  socket.write('MONITOR\r\n');
  await ok;
  return socket;
}

/**
 * The commands redis receives for keys under a prefix, seen through a MONITOR connection. MONITOR
 * delivers asynchronously; `settle` sends a marker and waits until MONITOR has seen it, so every
 * command sent before has been seen too (a barrier, never a sleep). With `everyCommand`, the
 * commands that name no key (TIME) are kept too: for a redis of the test file's own. A command a
 * script ran has its name prefixed `lua ` there, so that what a client sent stands apart.
 */
export async function watchRedis(url: string, prefix: string, { everyCommand = false } = {}) {
  const markerClient = new Redis(url);
  /** Every command that names a key under the prefix, in order, markers left out. */
  const seen: string[][] = [];
  const waiting = new Map<string, () => void>();
  const monitor = await openMonitor(url, (args, fromScript) => {
    const release = waiting.get(args[1] ?? '');
    if (release) release();
    else if (everyCommand) seen.push(fromScript ? [`lua ${args[0] ?? ''}`, ...args.slice(1)] : args);
    else if (args.some((arg) => arg.startsWith(prefix))) seen.push(args);
  });
  const settle = async (): Promise<void> => {
    const marker = `${prefix}marker:${randomUUID()}`;
    const markerSeen = new Promise<void>((resolve) => waiting.set(marker, resolve));
    await markerClient.exists(marker);
    await markerSeen;
    waiting.delete(marker);
  };
  return {
    seen,
    settle,
    /** The command names seen so far, for example ['EVAL', 'GET', 'PTTL', 'SET']. */
    commands: () => seen.map((args) => args[0]?.toUpperCase() ?? ''),
    clear: () => {
      seen.length = 0;
    },
    /** The commands `act` caused, each with its name upper-cased and its arguments. */
    async commandsOf(act: () => Promise<unknown>): Promise<string[][]> {
      await settle();
      const start = seen.length;
      await act();
      await settle();
      return seen.slice(start).map(([command = '', ...rest]) => [command.toUpperCase(), ...rest]);
    },
    close(): void {
      monitor.destroy();
      markerClient.disconnect();
    },
  };
}

export type RedisWatch = Awaited<ReturnType<typeof watchRedis>>;
