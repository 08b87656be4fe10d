import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionManager } from '@session-manager/runtime';

/**
 * Figures measured in the orchestrator's own process with the runtime's public API, next to the
 * table: how large this project's cookie is, and how long the files backend's sweep of a large
 * folder can hold up the event loop.
 */

const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

export interface CookieSizes {
  /** Bytes of the Set-Cookie header's name=value for the counter session ({"counter":2}). */
  counter: number;
  /** The same for a session holding 1,024 characters of text. */
  oneKilobyte: number;
  /** The whole Set-Cookie header (attributes included) of the counter session. */
  counterHeader: number;
}

async function sealedSize(data: Record<string, unknown>): Promise<{ pair: number; header: number }> {
  const manager = SessionManager.cookies<Record<string, unknown>>(SECRET, { expire: 3600 });
  const state = await manager.load(undefined);
  Object.assign(state.data, data);
  const header = manager.commit(state).setCookies[0] ?? '';
  await manager.close();
  return { pair: Buffer.byteLength(header.split(';')[0] ?? ''), header: Buffer.byteLength(header) };
}

export async function cookieSizes(): Promise<CookieSizes> {
  const counter = await sealedSize({ counter: 2 });
  // Text of letters, not one repeated character, so nothing about it compresses or escapes.
  const letters = Array.from({ length: 1024 }, (_, index) => String.fromCharCode(97 + ((index * 7) % 26))).join('');
  const kilobyte = await sealedSize({ note: letters });
  return { counter: counter.pair, oneKilobyte: kilobyte.pair, counterHeader: counter.header };
}

export interface SweepStall {
  files: number;
  /** Seconds it took to write them through the files backend (in this process, no HTTP). */
  writeSeconds: number;
  /** Seconds the sweep took to delete them all. */
  sweepSeconds: number;
  /** The longest event-loop delay seen while the sweep ran, and the 99th percentile, ms. */
  maxStallMs: number;
  p99StallMs: number;
  /** Session files left after the sweep (0: it deleted every expired one). */
  left: number;
  /** The longest delay over as long a quiet spell right after (at most 5 s): what the machine alone causes. */
  quietMaxStallMs: number;
}

/**
 * Writes `files` sessions through the files backend, lets them expire, and has a second manager
 * on the folder (expire 1 s, sweep every second) delete them all while monitorEventLoopDelay
 * watches: the longest stall is what a request arriving during a sweep could wait. `close()` waits
 * for the sweep in flight, which is how the end is seen.
 */
export async function filesSweepStall(files: number): Promise<SweepStall> {
  const directory = mkdtempSync(join(tmpdir(), 'csm-bench-sweep-'));
  try {
    const writer = SessionManager.files<{ counter?: number }>({ directory, expire: 3600, sweepInterval: 0 });
    const writeStarted = performance.now();
    for (let index = 0; index < files; index++) {
      const state = await writer.load(undefined);
      state.data.counter = 1;
      await writer.commit(state).persist?.();
    }
    const writeSeconds = (performance.now() - writeStarted) / 1000;
    await writer.close();
    // Every file is now more than a second old: expired for a manager whose sessions last a second.
    await sleep(1100);
    const histogram = monitorEventLoopDelay({ resolution: 1 });
    const sweeper = SessionManager.files({ directory, expire: 1, sweepInterval: 1 });
    histogram.enable();
    const sweepStarted = performance.now();
    // The first sweep starts a second in; close() then waits for it to finish.
    await sleep(1500);
    await sweeper.close();
    histogram.disable();
    const sweepSeconds = (performance.now() - sweepStarted) / 1000 - 1;
    const quiet = monitorEventLoopDelay({ resolution: 1 });
    quiet.enable();
    await sleep(Math.min(5000, Math.max(1000, sweepSeconds * 1000)));
    quiet.disable();
    const left = readdirSync(directory).filter((name) => !name.startsWith('.')).length;
    return {
      files,
      writeSeconds,
      sweepSeconds,
      maxStallMs: histogram.max / 1e6,
      p99StallMs: histogram.percentile(99) / 1e6,
      left,
      quietMaxStallMs: quiet.max / 1e6,
    };
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}
