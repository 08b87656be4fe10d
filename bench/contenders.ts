/**
 * Every server the bench measures, as data. Each row is started as its own process:
 * `node bench/contenders/<framework file, compiled to JS> <variant>`.
 *
 * - `bare`: the framework with the same two routes and no session, the base of the ratios.
 * - `ours`: this project's runtime through its adapter for the framework; `peer` names the library it
 *   is compared with on the same framework (when one exists).
 * - `floor`: the bare framework plus the least a sealed-cookie session must do (seal the new count
 *   into a Set-Cookie; decrypt a cookie it did not seal itself) and nothing else: how far a cookies
 *   target can be reached at all. Its `seal-floor-context` twin also runs each request inside an
 *   AsyncLocalStorage, as an importable `session` needs: the least a library that offers one can do.
 *   `seal-floor-session` (express, fastify) is that twin carrying what a session cookie must: its
 *   expiry, checked by the server, its id (for revocation) and its data as JSON, sealed with the
 *   cookie name as associated data.
 *   `file-floor` is the same for files: one session file read, and on a change written to a temp
 *   file renamed over it, with nothing else.
 * - `needs`: a redis-server or a fresh temp folder the orchestrator provides.
 */

export type Framework = 'node' | 'express' | 'fastify' | 'koa';
export type Kind = 'bare' | 'ours' | 'peer' | 'floor';

export interface Contender {
  /** `<framework>/<variant>`: what `--only` matches and the JSON is keyed by. */
  id: string;
  label: string;
  framework: Framework;
  kind: Kind;
  variant: string;
  /** For `ours`: the id of the peer on the same framework, for the "x peer" column. */
  peer?: string;
  needs?: 'redis' | 'files';
  /** Where the session lives, as the table shows it. */
  storage: string;
}

export const SERVER_SCRIPTS: Record<Framework, string> = {
  node: 'bench/contenders/node-http.ts',
  express: 'bench/contenders/express.ts',
  fastify: 'bench/contenders/fastify.ts',
  koa: 'bench/contenders/koa.ts',
};

const row = (framework: Framework, variant: string, rest: Omit<Contender, 'id' | 'framework' | 'variant'>) => ({
  id: `${framework}/${variant}`,
  framework,
  variant,
  ...rest,
});

export const CONTENDERS: readonly Contender[] = [
  row('node', 'bare', { label: 'node:http (no session)', kind: 'bare', storage: '-' }),
  row('node', 'cookies', { label: 'node:http + ours cookies', kind: 'ours', storage: 'sealed cookie' }),
  row('node', 'files', { label: 'node:http + ours files', kind: 'ours', storage: 'files', needs: 'files' }),
  row('node', 'redis', { label: 'node:http + ours redis', kind: 'ours', storage: 'redis', needs: 'redis' }),
  row('node', 'seal-floor', { label: 'node:http + bare AES-GCM cookie', kind: 'floor', storage: 'sealed cookie' }),
  row('node', 'seal-floor-context', {
    label: 'node:http + bare AES-GCM cookie + context',
    kind: 'floor',
    storage: 'sealed cookie',
  }),

  row('express', 'bare', { label: 'express (no session)', kind: 'bare', storage: '-' }),
  row('express', 'cookies', {
    label: 'express + ours cookies',
    kind: 'ours',
    storage: 'sealed cookie',
    peer: 'express/iron-session',
  }),
  row('express', 'files', {
    label: 'express + ours files',
    kind: 'ours',
    storage: 'files',
    needs: 'files',
    peer: 'express/express-session-files',
  }),
  row('express', 'redis', {
    label: 'express + ours redis',
    kind: 'ours',
    storage: 'redis',
    needs: 'redis',
    peer: 'express/express-session-redis',
  }),
  row('express', 'redis-autopipelining', {
    label: 'express + ours redis, autopipelining',
    kind: 'ours',
    storage: 'redis',
    needs: 'redis',
    peer: 'express/express-session-redis',
  }),
  row('express', 'express-session-memory', {
    label: 'express-session + MemoryStore',
    kind: 'peer',
    storage: 'memory',
  }),
  row('express', 'express-session-redis', {
    label: 'express-session + connect-redis',
    kind: 'peer',
    storage: 'redis',
    needs: 'redis',
  }),
  row('express', 'express-session-files', {
    label: 'express-session + session-file-store',
    kind: 'peer',
    storage: 'files',
    needs: 'files',
  }),
  row('express', 'cookie-session', { label: 'cookie-session', kind: 'peer', storage: 'signed cookie' }),
  row('express', 'iron-session', { label: 'iron-session (on express)', kind: 'peer', storage: 'sealed cookie' }),
  row('express', 'seal-floor', { label: 'express + bare AES-GCM cookie', kind: 'floor', storage: 'sealed cookie' }),
  row('express', 'seal-floor-context', {
    label: 'express + bare AES-GCM cookie + context',
    kind: 'floor',
    storage: 'sealed cookie',
  }),
  row('express', 'seal-floor-session', {
    label: 'express + AES-GCM session cookie + context',
    kind: 'floor',
    storage: 'sealed cookie',
  }),
  row('express', 'file-floor', {
    label: 'express + bare atomic session file',
    kind: 'floor',
    storage: 'files',
    needs: 'files',
  }),

  row('fastify', 'bare', { label: 'fastify (no session)', kind: 'bare', storage: '-' }),
  row('fastify', 'cookies', {
    label: 'fastify + ours cookies',
    kind: 'ours',
    storage: 'sealed cookie',
    peer: 'fastify/secure-session',
  }),
  row('fastify', 'files', { label: 'fastify + ours files', kind: 'ours', storage: 'files', needs: 'files' }),
  row('fastify', 'redis', {
    label: 'fastify + ours redis',
    kind: 'ours',
    storage: 'redis',
    needs: 'redis',
    peer: 'fastify/fastify-session',
  }),
  row('fastify', 'secure-session', { label: '@fastify/secure-session', kind: 'peer', storage: 'sealed cookie' }),
  row('fastify', 'fastify-session', {
    label: '@fastify/session (MemoryStore)',
    kind: 'peer',
    storage: 'memory',
  }),
  row('fastify', 'seal-floor', { label: 'fastify + bare AES-GCM cookie', kind: 'floor', storage: 'sealed cookie' }),
  row('fastify', 'seal-floor-context', {
    label: 'fastify + bare AES-GCM cookie + context',
    kind: 'floor',
    storage: 'sealed cookie',
  }),
  row('fastify', 'seal-floor-session', {
    label: 'fastify + AES-GCM session cookie + context',
    kind: 'floor',
    storage: 'sealed cookie',
  }),

  row('koa', 'bare', { label: 'koa (no session)', kind: 'bare', storage: '-' }),
  row('koa', 'cookies', {
    label: 'koa + ours cookies',
    kind: 'ours',
    storage: 'sealed cookie',
    peer: 'koa/koa-session',
  }),
  row('koa', 'koa-session', { label: 'koa-session', kind: 'peer', storage: 'signed cookie' }),
  row('koa', 'seal-floor', { label: 'koa + bare AES-GCM cookie', kind: 'floor', storage: 'sealed cookie' }),
  row('koa', 'seal-floor-context', {
    label: 'koa + bare AES-GCM cookie + context',
    kind: 'floor',
    storage: 'sealed cookie',
  }),
];

export function bareOf(contender: Contender): string {
  return `${contender.framework}/bare`;
}

/**
 * The floor rows a contender's targets are read next to: for cookies, the framework's sealed-cookie
 * floors (without and with a request context); for files, the bare atomic session file (express only).
 */
export function floorsOf(contender: Contender): string[] {
  if (contender.variant === 'cookies') {
    const session = `${contender.framework}/seal-floor-session`;
    return [
      `${contender.framework}/seal-floor`,
      `${contender.framework}/seal-floor-context`,
      ...(CONTENDERS.some((row) => row.id === session) ? [session] : []),
    ];
  }
  if (contender.variant === 'files')
    return CONTENDERS.some((row) => row.id === `${contender.framework}/file-floor`)
      ? [`${contender.framework}/file-floor`]
      : [];
  return [];
}

/**
 * The contenders whose id contains one of the filters, plus the rows their ratios are computed
 * against (the framework's bare row, the compared peer, the floor for cookies), in table order.
 */
export function selectContenders(filters: readonly string[]): Contender[] {
  if (filters.length === 0) return [...CONTENDERS];
  const wanted = new Set<string>();
  for (const contender of CONTENDERS) {
    if (!filters.some((filter) => contender.id.includes(filter))) continue;
    wanted.add(contender.id);
    wanted.add(bareOf(contender));
    if (contender.peer) wanted.add(contender.peer);
    // A cookies or files target is read next to its framework's floor.
    for (const floor of floorsOf(contender)) wanted.add(floor);
  }
  return CONTENDERS.filter((contender) => wanted.has(contender.id));
}
