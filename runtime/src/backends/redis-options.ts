import type { CommonOptions } from '../options.js';

export interface RedisOptions extends CommonOptions {
  /** Prefix of every key. Default 'emtsess:'. */
  prefix?: string;
  /** Milliseconds after which a redis command counts as failed. Default 2000. */
  commandTimeout?: number;
  /**
   * Two requests of one session that overlap each keep their changes: a write applies only the
   * top-level keys its request changed onto the session as stored now; on a key both changed, the
   * last write wins. \`false\`: the last write replaces the whole session (one request's changes
   * to other keys are lost). Default true.
   */
  merge?: boolean;
  /**
   * Milliseconds to wait, after each write and each logout, for one replica to acknowledge it
   * (redis \`WAIT 1 <ms>\`), so that a master killed right after cannot take the write with it. A
   * write no replica acknowledged in time fails (a 503), though the master keeps it. Must be less
   * than \`commandTimeout\`. Default: none (replication is asynchronous).
   */
  waitForReplica?: number;
}

export const REDIS_DEFAULTS = {
  prefix: 'emtsess:',
  commandTimeout: 2000,
} as const;
