import { parseArgs } from 'node:util';

/**
 * The bench's settings: flags first, then BENCH_* environment variables, then defaults sized so
 * that a full `npm run bench` takes under ten minutes on two cores.
 */
export interface BenchOptions {
  /** Seconds measured per route. */
  duration: number;
  /** Seconds of load per route before measuring, not counted. */
  warmup: number;
  connections: number;
  pipelining: number;
  /** Substrings of contender ids (`express/`, `cookies`, `fastify/secure-session`); empty: all. */
  only: string[];
  /** Timed runs of each scaffolder; 0 skips the generator benchmark. */
  generatorRuns: number;
  /** Memory run instead of the throughput table: `soakSeconds` of /counter per contender. */
  soak: boolean;
  soakSeconds: number;
  /** Write a CPU profile of each server to bench/results/profiles/. */
  profile: boolean;
  quick: boolean;
  /** Rounds over all contenders; each figure is the median of its rounds. */
  repeat: number;
  /**
   * How many distinct sessions the load is spread over, one run of every contender for each: the
   * requests send the primed sessions' cookies in turn, as many users would.
   */
  sessions: number[];
  /**
   * Session files in the folder for one more run of this project's files contender on express at
   * the largest number of sessions (the sessions beyond those the load sends are made first, one
   * request each), and for the sweep probe. 0 skips both.
   */
  folderFiles: number;
}

export const USAGE = `Usage: npm run bench -- [options]

  --quick               smoke run: 2 s per route, 1 s warm-up, 1 and 1,000 sessions, no folder run,
                        3 generator runs, 10 s soak
  --sessions <n,m>      distinct sessions the load is spread over, a run for each (BENCH_SESSIONS,
                        default 1,10000; the soak's default is 10000)
  --folder-files <n>    one more run of express + ours files with n session files in the folder,
                        and the sweep of n files (BENCH_FOLDER_FILES, default 100000; 0 skips)
  --duration <s>        seconds measured per route (BENCH_DURATION, default 5)
  --warmup <s>          seconds of warm-up per route (BENCH_WARMUP, default 2)
  --connections <n>     autocannon connections (BENCH_CONNECTIONS, default 16)
  --pipelining <n>      requests in flight per connection (BENCH_PIPELINING, default 4)
  --only <a,b>          only contenders whose id contains one of these (plus their bases)
  --generator-runs <n>  timed runs of each scaffolder (BENCH_GENERATOR_RUNS, default 7; 0 skips)
  --soak                memory run: /counter for --soak-seconds on this project's contenders
  --soak-seconds <s>    (BENCH_SOAK_SECONDS, default 60)
  --repeat <n>          rounds over all contenders, figures are medians (BENCH_REPEAT, default 1)
  --profile             write a CPU profile of each server to bench/results/profiles/
  --help`;

function positive(name: string, value: string | undefined, fallback: number, allowZero = false): number {
  if (value === undefined || value === '') return fallback;
  const number = Number(value);
  if (!Number.isFinite(number) || number < 0 || (!allowZero && number === 0)) {
    throw new Error(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number, got ${value}`);
  }
  return number;
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      quick: { type: 'boolean' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      pipelining: { type: 'string' },
      only: { type: 'string' },
      'generator-runs': { type: 'string' },
      soak: { type: 'boolean' },
      'soak-seconds': { type: 'string' },
      profile: { type: 'boolean' },
      repeat: { type: 'string' },
      sessions: { type: 'string' },
      'folder-files': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  const quick = values.quick === true;
  const soak = values.soak === true;
  const sessionsText = values.sessions ?? env.BENCH_SESSIONS ?? (soak ? '10000' : quick ? '1,1000' : '1,10000');
  const sessions = [
    ...new Set(
      sessionsText
        .split(',')
        .map((item) => Math.round(positive('--sessions', item.trim().replace(/_/g, ''), 1)))
        .sort((a, b) => a - b),
    ),
  ];
  return {
    quick,
    duration: positive('--duration', values.duration ?? env.BENCH_DURATION, quick ? 2 : 5),
    warmup: positive('--warmup', values.warmup ?? env.BENCH_WARMUP, quick ? 1 : 2, true),
    connections: positive('--connections', values.connections ?? env.BENCH_CONNECTIONS, 16),
    pipelining: positive('--pipelining', values.pipelining ?? env.BENCH_PIPELINING, 4),
    only: (values.only ?? env.BENCH_ONLY ?? '')
      .split(',')
      .map((filter) => filter.trim())
      .filter(Boolean),
    generatorRuns: positive(
      '--generator-runs',
      values['generator-runs'] ?? env.BENCH_GENERATOR_RUNS,
      quick ? 3 : 7,
      true,
    ),
    soak,
    sessions,
    folderFiles: Math.round(
      positive('--folder-files', values['folder-files'] ?? env.BENCH_FOLDER_FILES, quick ? 0 : 100_000, true),
    ),
    soakSeconds: positive('--soak-seconds', values['soak-seconds'] ?? env.BENCH_SOAK_SECONDS, quick ? 10 : 60),
    profile: values.profile === true,
    repeat: Math.round(positive('--repeat', values.repeat ?? env.BENCH_REPEAT, 1)),
  };
}
