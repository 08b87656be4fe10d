import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * What the bench reads about the machine: CPU pinning, and from /proc (Linux) a process's RSS
 * and CPU time, and the whole machine's busy time, so a figure taken while something else ran
 * can be flagged as noisy. Off Linux the readings are undefined and the report says so.
 */

/** The load generator runs on this core, every server process (and redis) on SERVER_CORE. */
export const GENERATOR_CORE = 0;
export const SERVER_CORE = 1;

export const canPin: boolean =
  process.platform === 'linux' &&
  availableParallelism() >= 2 &&
  spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status === 0;

/** The command prefix that runs a program on `core`, or nothing when pinning is unavailable. */
export function pinnedTo(core: number): string[] {
  return canPin ? ['taskset', '-c', String(core)] : [];
}

/** Moves a running process (all its threads) to `core`. */
export function pinProcess(pid: number, core: number): void {
  if (canPin) spawnSync('taskset', ['-a', '-p', '-c', String(core), String(pid)], { stdio: 'ignore' });
}

function readProc(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Resident set size in bytes. */
export function rssOf(pid: number): number | undefined {
  const match = readProc(`/proc/${pid}/status`)?.match(/^VmRSS:\s+(\d+) kB/m);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** User + system CPU time of a process, in clock ticks (1/100 s on Linux). */
export function cpuTicksOf(pid: number): number | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  // Fields after the command name, which may itself contain spaces, closed by the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

/** Busy (not idle, not waiting for I/O) clock ticks of the whole machine since boot. */
export function machineBusyTicks(): number | undefined {
  const line = readProc('/proc/stat')?.split('\n', 1)[0];
  if (!line?.startsWith('cpu ')) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = line.slice(4).trim().split(/\s+/).map(Number);
  return (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
}

export const TICKS_PER_SECOND = 100;

/**
 * Watches CPU use over a measurement: how busy the server's core was (saturated means the figure
 * is the server's limit, not the generator's) and how much CPU everything else on the machine took.
 */
export function watchCpu(
  serverPids: () => number[],
): () => { serverCores: number; serverSeconds: number; otherCores: number } | undefined {
  const ownTicks = () => {
    const { user, system } = process.cpuUsage();
    return ((user + system) / 1e6) * TICKS_PER_SECOND;
  };
  const serverTicks = () => serverPids().reduce((sum, pid) => sum + (cpuTicksOf(pid) ?? 0), 0);
  const start = { at: performance.now(), busy: machineBusyTicks(), server: serverTicks(), own: ownTicks() };
  return () => {
    const busy = machineBusyTicks();
    if (busy === undefined || start.busy === undefined) return undefined;
    const seconds = (performance.now() - start.at) / 1000;
    const server = serverTicks() - start.server;
    const own = ownTicks() - start.own;
    const other = busy - start.busy - server - own;
    return {
      serverCores: server / TICKS_PER_SECOND / seconds,
      serverSeconds: server / TICKS_PER_SECOND,
      otherCores: Math.max(0, other) / TICKS_PER_SECOND / seconds,
    };
  };
}
