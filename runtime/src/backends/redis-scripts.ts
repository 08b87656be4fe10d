import { createHash } from 'node:crypto';

/**
 * The two Lua scripts the redis store runs: each request is one script call, sent as EVALSHA (the
 * script's hash) and as EVAL only when the server does not know the script yet (NOSCRIPT: a new or
 * restarted server, or a SCRIPT FLUSH). Each touches one key, so they run on a Cluster too.
 *
 * Every reply ends with redis' TIME (seconds, microseconds), from which the store learns redis'
 * clock (see RedisClock): writes carry a deadline on that clock.
 */
export interface RedisScript {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): RedisScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * A session's value and its remaining time to live, in one round trip: `{value | nil, pttl, seconds,
 * microseconds}`. A value starting with `!` is a retired id's tombstone, which reads as missing.
 */
export const READ_SCRIPT = script(`local t = redis.call('TIME')
return {redis.call('GET', KEYS[1]), redis.call('PTTL', KEYS[1]), t[1], t[2]}`);

/** What a retired id's key holds until its tombstone expires. Session values are JSON objects: `{...`. */
export const TOMBSTONE = '!retired';

/**
 * Every change to a session key, in one script so that the checks and the change are atomic.
 *   KEYS[1]  the session's key
 *   ARGV[1]  'create': a new id, stored as it is
 *            'update': the JSON of a session the request loaded, stored only if its key still holds
 *                      a session (not a tombstone, not gone: retired, expired or deleted meanwhile)
 *            'touch':  the same check, then only the expiry slides
 *            'retire': the key becomes a tombstone, which 'update' and 'touch' never overwrite
 *   ARGV[2]  the deadline, in ms on redis' clock: a command that runs later changes nothing, so a
 *            request told that the store timed out is never contradicted by a write landing after
 *   ARGV[3]  time to live, ms
 *   ARGV[4]  the session's JSON ('create', 'update')
 * Replies `{outcome, seconds, microseconds}`, outcome 'stored', 'refused' or 'late'. New checks (a
 * merge, more fields) belong before the final write, inside this one script.
 */
export const WRITE_SCRIPT = script(`local t = redis.call('TIME')
local reply = {'late', t[1], t[2]}
if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[2]) then return reply end
local mode = ARGV[1]
reply[1] = 'stored'
if mode == 'retire' then
  redis.call('SET', KEYS[1], '${TOMBSTONE}', 'PX', ARGV[3])
  return reply
end
if mode ~= 'create' then
  local head = redis.call('GETRANGE', KEYS[1], 0, 0)
  if head == '!' or head == '' then
    reply[1] = 'refused'
    return reply
  end
end
if mode == 'touch' then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
else
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[3])
end
return reply`);

/** The script calls a client must answer (ioredis `Redis` and `Cluster` do). */
export interface ScriptClient {
  eval(script: string, numberOfKeys: number, ...args: Array<string | number>): Promise<unknown>;
  evalsha(sha: string, numberOfKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

/** Runs a script on one key by its hash, and by its source once if redis does not know it. */
export function runScript(
  client: ScriptClient,
  { source, sha }: RedisScript,
  key: string,
  ...args: Array<string | number>
): Promise<unknown> {
  // A plain promise chain, not an async function: this runs on every request.
  return client
    .evalsha(sha, 1, key, ...args)
    .catch((error: unknown) =>
      error instanceof Error && error.message.startsWith('NOSCRIPT')
        ? client.eval(source, 1, key, ...args)
        : Promise.reject(error),
    );
}
