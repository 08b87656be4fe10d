import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * The commands redis receives for keys under a prefix, seen through a MONITOR connection. MONITOR
 * delivers asynchronously; `settle` sends a marker and waits until MONITOR has seen it, so every
 * command sent before has been seen too (a barrier, never a sleep).
 */
export async function watchRedis(url: string, prefix: string) {
  const monitorClient = new Redis(url);
  const markerClient = new Redis(url);
  const monitor = await monitorClient.monitor();
  /** Every command that names a key under the prefix, in order, markers left out. */
  const seen: string[][] = [];
  const waiting = new Map<string, () => void>();
  monitor.on('monitor', (_time: string, args: string[]) => {
    const release = waiting.get(args[1] ?? '');
    if (release) release();
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
      monitor.disconnect();
      monitorClient.disconnect();
      markerClient.disconnect();
    },
  };
}

export type RedisWatch = Awaited<ReturnType<typeof watchRedis>>;
