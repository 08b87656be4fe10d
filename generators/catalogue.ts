/**
 * What the generator knows, as data: the frameworks and backends it can write for, and the
 * dependency ranges it pins. Adding a framework is a row here plus its templates in templates/src/
 * (`app.<framework>.ts` for a new app, `counter.<framework>.ts` for an existing one).
 */

export const FRAMEWORKS = {
  express: {
    label: 'Express 5',
    dependencies: { express: '^5.3.0' },
    devDependencies: { '@types/express': '^5.0.6' },
  },
  fastify: {
    label: 'Fastify 5',
    dependencies: { fastify: '^5.12.8' },
    devDependencies: {},
  },
  koa: {
    label: 'Koa 3',
    dependencies: { koa: '^3.3.0' },
    devDependencies: { '@types/koa': '^3.0.3' },
  },
  hono: {
    label: 'Hono 4 (on @hono/node-server)',
    dependencies: { hono: '^4.13.19', '@hono/node-server': '^2.1.9' },
    devDependencies: {},
  },
  node: {
    label: 'node:http (no framework)',
    dependencies: {},
    devDependencies: {},
  },
} as const satisfies Record<string, Stack>;

/**
 * The runtime's defaults (`DEFAULTS` in @session-manager/runtime) that the generated session file
 * spells out, so its reader sees every setting there is to change. A test checks that they are the
 * runtime's.
 */
export const SESSION_DEFAULTS = {
  expire: 3600,
  secure: false,
  sameSite: 'Lax',
  cookieName: 'emt_session',
  filenameTemplate: 'emt_%s.sess',
  directory: './sessions',
  prefix: 'emtsess:',
  commandTimeout: 2000,
  sweepInterval: 600,
} as const;

/**
 * The settings a generated app reads from its environment: the value `.env` gets (and the code
 * falls back to), and what `.env.example` says about it, a comment line each.
 */
export const ENV_VARIABLES = {
  PORT: { value: '3000', about: ['Port of the server (npm start).'] },
  SESSION_EXPIRE: { value: String(SESSION_DEFAULTS.expire), about: ['Seconds an unused session lives.'] },
  SESSION_SECRET: {
    // Left empty here: .env gets a fresh random secret instead.
    value: '',
    about: [
      'The key that seals the session cookies: 32 or more random characters. Make one with',
      `node -e "console.log(crypto.randomBytes(32).toString('base64url'))"`,
      'To rotate it, put the new secret first and keep the old one after a comma',
      '(SESSION_SECRET=new,old): cookies sealed with the old one still open and are re-sealed with',
      'the new one. Drop the old one once SESSION_EXPIRE seconds have passed.',
    ],
  },
  SESSION_DIR: {
    value: SESSION_DEFAULTS.directory,
    about: ['Folder of the session files, created when missing (relative to the working directory).'],
  },
  REDIS_URL: { value: 'redis://127.0.0.1:6379', about: ['The Redis server that keeps the sessions.'] },
} as const satisfies Record<string, { value: string; about: readonly string[] }>;

export type EnvVariable = keyof typeof ENV_VARIABLES;

/** The variables every generated app reads, whatever its backend (not written to `.env`). */
export const APP_ENV: readonly EnvVariable[] = ['PORT', 'SESSION_EXPIRE'];

export const BACKENDS = {
  cookies: {
    label: 'cookies: the session sealed (AES-256-GCM) in the cookie, no server storage',
    dependencies: {},
    // What .env must define for this backend; SESSION_SECRET gets a fresh random value.
    env: ['SESSION_SECRET'],
  },
  files: {
    label: 'files: one JSON file per session on the server',
    dependencies: {},
    env: ['SESSION_DIR'],
  },
  redis: {
    label: 'redis: sessions in Redis, shared by every app server',
    dependencies: { ioredis: '^6.0.0' },
    env: ['REDIS_URL'],
  },
} as const satisfies Record<string, Stack & { env: readonly EnvVariable[] }>;

/** Every generated project needs these to run (tsx) and check (typescript) its TypeScript. */
export const TOOLING = {
  devDependencies: { '@types/node': '^20.19.43', tsx: '^4.23.15', typescript: '^7.0.2' },
  scripts: {
    start: 'tsx src/server.ts',
    test: 'node --import tsx --test test/*.test.ts',
    typecheck: 'tsc --noEmit',
  },
  engines: { node: '>=20.12' },
} as const;

/**
 * The versions the generated code works with, by package: a range the user already has is kept when
 * it allows one of these (or only newer ones); one that is older is a conflict in a new app, and an
 * unsupported framework major stops an add run (versions.ts). The ranges above are what a run writes
 * when the package is missing.
 */
export const SUPPORTED: Record<string, string> = {
  express: '^4.0.0 || ^5.0.0',
  fastify: '^4.0.0 || ^5.0.0',
  koa: '^2.0.0 || ^3.0.0',
  hono: '^4.0.0',
  '@hono/node-server': '^1.13.0 || ^2.0.0',
  '@types/express': '^4.17.0 || ^5.0.0',
  '@types/koa': '^2.13.0 || ^3.0.0',
  ioredis: '^5.0.0 || ^6.0.0',
  typescript: '>=5.0.0',
  '@types/node': '>=20.0.0',
  tsx: '>=4.0.0',
};

/** The runtime's range when the generator runs from the npm package rather than a source checkout. */
export const RUNTIME_RANGE = '^0.1.0';
export const RUNTIME_PACKAGE = '@session-manager/runtime';

interface Stack {
  label: string;
  dependencies: Record<string, string>;
  devDependencies?: Record<string, string>;
}

export type Framework = keyof typeof FRAMEWORKS;
export type Backend = keyof typeof BACKENDS;

export const FRAMEWORK_NAMES = Object.keys(FRAMEWORKS) as Framework[];
export const BACKEND_NAMES = Object.keys(BACKENDS) as Backend[];

/** The defaults of `--yes`. */
export const DEFAULT_FRAMEWORK: Framework = 'express';
export const DEFAULT_BACKEND: Backend = 'cookies';

export const isFramework = (name: string): name is Framework => Object.hasOwn(FRAMEWORKS, name);
export const isBackend = (name: string): name is Backend => Object.hasOwn(BACKENDS, name);
