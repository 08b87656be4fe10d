import { createHash } from 'node:crypto';

/**
 * The two Lua scripts the redis store runs: each request is one script call, sent as EVALSHA (the
 * script's hash) and as EVAL only when the server does not know the script yet (NOSCRIPT: a new or
 * restarted server, or a SCRIPT FLUSH). Each touches one key, so they run on a Cluster too.
 *
 * Every write's reply ends with redis' TIME (seconds, microseconds), from which the store learns
 * redis' clock (see RedisClock): writes carry a deadline on that clock. A read asks for it only when
 * the store has no recent sample.
 */
export interface RedisScript {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): RedisScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/**
 * A session's value and its remaining time to live, in one round trip: `{value | nil, pttl}`, and
 * redis' TIME after them (`seconds, microseconds`) when ARGV[1] is given. A value starting with `!`
 * is a retired id's tombstone, which reads as missing: neither it nor a missing key needs its PTTL.
 */
export const READ_SCRIPT = script(`local value = redis.call('GET', KEYS[1])
local reply = {value, -2}
if value and string.sub(value, 1, 1) ~= '!' then reply[2] = redis.call('PTTL', KEYS[1]) end
if ARGV[1] then
  local t = redis.call('TIME')
  reply[3], reply[4] = t[1], t[2]
end
return reply`);

/** What a retired id's key holds until its tombstone expires. Session values are JSON objects: `{...`. */
export const TOMBSTONE = '!retired';

/**
 * Lua that splits a JSON object into its top-level members, each as its raw key text (quotes
 * included) and raw value text, without decoding values: Redis' cjson would rewrite numbers (14
 * significant digits) and turn empty arrays into objects. Returns nil for anything that is not a
 * well-formed object. Used by the write script's 'merge'.
 */
const MEMBERS_LUA = String.raw`local function stringEnd(s, i)
  local j = i + 1
  while true do
    local q = string.find(s, '["\\]', j)
    if not q then return nil end
    if string.sub(s, q, q) == '\\' then j = q + 2 else return q + 1 end
  end
end
local function valueEnd(s, i)
  local c = string.sub(s, i, i)
  if c == '"' then return stringEnd(s, i) end
  if c == '{' or c == '[' then
    local depth, j = 0, i
    while true do
      local q = string.find(s, '[%[%]{}"]', j)
      if not q then return nil end
      local d = string.sub(s, q, q)
      if d == '"' then
        j = stringEnd(s, q)
        if not j then return nil end
      else
        if d == '{' or d == '[' then depth = depth + 1 else depth = depth - 1 end
        j = q + 1
        if depth == 0 then return j end
      end
    end
  end
  return string.find(s, '[,}%]%s]', i)
end
local function members(s)
  local list = {}
  local i = string.find(s, '%S')
  if not i or string.sub(s, i, i) ~= '{' then return nil end
  i = string.find(s, '%S', i + 1)
  if not i then return nil end
  if string.sub(s, i, i) == '}' then return list end
  while true do
    if string.sub(s, i, i) ~= '"' then return nil end
    local keyEnd = stringEnd(s, i)
    if not keyEnd then return nil end
    local colon = string.find(s, '%S', keyEnd)
    if not colon or string.sub(s, colon, colon) ~= ':' then return nil end
    local v = string.find(s, '%S', colon + 1)
    if not v then return nil end
    local e = valueEnd(s, v)
    if not e then return nil end
    list[#list + 1] = {string.sub(s, i, keyEnd - 1), string.sub(s, v, e - 1)}
    local after = string.find(s, '%S', e)
    if not after then return nil end
    local c = string.sub(s, after, after)
    if c == '}' then return list end
    if c ~= ',' then return nil end
    i = string.find(s, '%S', after + 1)
    if not i then return nil end
  end
end
`;

/**
 * Every change to a session key, in one script so that the checks and the change are atomic.
 *   KEYS[1]  the session's key
 *   ARGV[1]  'create': a new id, stored as it is
 *            'tied':   a new id of a session tied to a user, stored unless the key holds a tombstone
 *            'update': the JSON of a session the request loaded, stored only if its key still holds
 *                      a session (not a tombstone, not gone: retired, expired or deleted meanwhile)
 *                      and, when ARGV[5] is given, only if it still holds exactly that JSON (the
 *                      one the request loaded); else nothing is written and the outcome is 'changed'
 *            'merge':  after a 'changed': the same check for a session, then the top-level members
 *                      this request changed (ARGV[5], ARGV[6], ... as raw key, raw value pairs, an
 *                      empty value for a deleted key) replace, join or leave what the key holds now;
 *                      members other requests changed stay. Not a JSON object: ARGV[4] is stored.
 *                      The expiry is the later of the two requests' (a lifetime one of them set).
 *            'touch':  the check for a session, then only the expiry slides
 *            'retire': the key becomes a tombstone, which 'update', 'merge' and 'touch' never overwrite
 *   ARGV[2]  the deadline, in ms on redis' clock: a command that runs later changes nothing, so a
 *            request told that the store timed out is never contradicted by a write landing after
 *   ARGV[3]  time to live, ms
 *   ARGV[4]  the session's JSON ('create', 'update', 'merge')
 * Replies `{outcome, seconds, microseconds}`, outcome 'stored', 'refused', 'changed' or 'late'. New
 * checks belong before the final write, inside this one script.
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
if (mode == 'update' and ARGV[5]) or mode == 'merge' then
  local current = redis.call('GET', KEYS[1])
  if not current or string.sub(current, 1, 1) == '!' then
    reply[1] = 'refused'
    return reply
  end
  if mode == 'merge' then
    -- Defined here, not at the top: the other modes, every request's, need not build these functions.
${MEMBERS_LUA}    local list = members(current)
    local text = ARGV[4]
    if list then
      local changes, applied, parts = {}, {}, {}
      for j = 5, #ARGV, 2 do changes[ARGV[j]] = ARGV[j + 1] end
      for _, member in ipairs(list) do
        local key = member[1]
        local change = changes[key]
        if change == nil then
          parts[#parts + 1] = key .. ':' .. member[2]
        elseif not applied[key] then
          applied[key] = true
          if change ~= '' then parts[#parts + 1] = key .. ':' .. change end
        end
      end
      for j = 5, #ARGV, 2 do
        local key = ARGV[j]
        if not applied[key] and ARGV[j + 1] ~= '' then
          applied[key] = true
          parts[#parts + 1] = key .. ':' .. ARGV[j + 1]
        end
      end
      text = '{' .. table.concat(parts, ',') .. '}'
    end
    local ttl = tonumber(ARGV[3])
    local left = redis.call('PTTL', KEYS[1])
    if left > ttl then ttl = left end
    redis.call('SET', KEYS[1], text, 'PX', ttl)
    return reply
  end
  if current ~= ARGV[5] then
    reply[1] = 'changed'
    return reply
  end
elseif mode == 'tied' then
  -- A new id holds a tombstone only if revokeUser() retired it while its request ran.
  if redis.call('GETRANGE', KEYS[1], 0, 0) == '!' then
    reply[1] = 'refused'
    return reply
  end
elseif mode ~= 'create' then
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

/**
 * Adds a session id to its user's index (a set) and makes the index live at least as long as that
 * session: every write of a session tied to a user sends it, so the index outlives its sessions.
 * Replies with the time of the user's last revokeUser(), or nil, read in the same step: a session
 * tied before it is then not created (its id is in the index, so a revokeUser() running now finds it).
 *   KEYS[1] the index, KEYS[2] the user's revocation time (same hash slot: both `{<user hash>}`)
 *   ARGV[1] the session id, ARGV[2] the session's time to live, ms
 */
export const INDEX_SCRIPT = script(`redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[2]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return redis.call('GET', KEYS[2])`);

/**
 * Records a revokeUser(): the user's revocation time, never moved back, kept at least ARGV[2] ms.
 *   KEYS[1] the user's revocation time, ARGV[1] the time (ms since the epoch), ARGV[2] ms to keep it
 */
export const REVOKE_USER_SCRIPT = script(`local current = redis.call('GET', KEYS[1])
local at = ARGV[1]
if current and tonumber(current) and tonumber(current) > tonumber(at) then at = current end
local ttl = tonumber(ARGV[2])
local left = redis.call('PTTL', KEYS[1])
if left > ttl then ttl = left end
redis.call('SET', KEYS[1], at, 'PX', ttl)
return 1`);

/** The script calls a client must answer (ioredis `Redis` and `Cluster` do). */
export interface ScriptClient {
  eval(script: string, numberOfKeys: number, ...args: Array<string | number>): Promise<unknown>;
  evalsha(sha: string, numberOfKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

/** Runs a script on keys of one hash slot, by its hash, and by its source once if redis does not know it. */
export function runScriptOnKeys(
  client: ScriptClient,
  { source, sha }: RedisScript,
  keys: readonly string[],
  ...args: Array<string | number>
): Promise<unknown> {
  return client
    .evalsha(sha, keys.length, ...keys, ...args)
    .catch((error: unknown) =>
      error instanceof Error && error.message.startsWith('NOSCRIPT')
        ? client.eval(source, keys.length, ...keys, ...args)
        : Promise.reject(error),
    );
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
