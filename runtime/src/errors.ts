import { sharedSymbol } from './shared.js';

/** Marks the errors of every build of the runtime (ES module and CommonJS). */
const BRAND = sharedSymbol('SessionError');

/**
 * Every error the runtime raises on purpose is a SessionError, with a stable `code`, so that
 * adapters and applications can tell a store outage from a programming mistake without parsing text.
 */
export class SessionError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }

  /**
   * `error instanceof SessionStoreError` is also true for an error of the runtime's other build, as
   * when an app's CommonJS code and an ES module dependency both load the runtime: the error classes
   * are then two copies, told apart by name along the error's prototype chain.
   */
  static override [Symbol.hasInstance]<T>(this: abstract new (...args: never[]) => T, value: unknown): value is T {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class on the right of instanceof, a subclass too.
    if (Function.prototype[Symbol.hasInstance].call(this, value)) return true;
    if (typeof value !== 'object' || value === null || !(BRAND in value)) return false;
    for (let proto = Object.getPrototypeOf(value); proto !== null; proto = Object.getPrototypeOf(proto)) {
      // biome-ignore lint/complexity/noThisInStatic: as above.
      if (Object.hasOwn(proto, BRAND) && proto.constructor.name === this.name) return true;
    }
    return false;
  }
}

/** A configuration mistake found when a manager is created (bad secret, option, template...). */
export class SessionConfigError extends SessionError {
  constructor(message: string) {
    super('SESSION_CONFIG', message);
  }
}

/** A value that JSON cannot carry faithfully (a function, a BigInt, a cycle...) was put in a session. */
export class SessionDataError extends SessionError {
  /** The path of the offending value inside the session, for example `user.friends[2]`. */
  readonly key: string;
  constructor(key: string, message: string) {
    super('SESSION_DATA', message);
    this.key = key;
  }
}

/** The session store (redis, the file system) failed or did not answer in time. Adapters answer 503. */
export class SessionStoreError extends SessionError {
  readonly backend: 'files' | 'redis';
  readonly operation: string;
  constructor(backend: 'files' | 'redis', operation: string, message: string, cause?: unknown) {
    super('SESSION_STORE', message, cause === undefined ? undefined : { cause });
    this.backend = backend;
    this.operation = operation;
  }
}

/** The sealed session would not fit in the cookies a browser keeps. */
export class SessionTooLargeError extends SessionError {
  /** Bytes of the sealed session, before it is split into cookies. */
  readonly size: number;
  readonly limit: number;
  constructor(size: number, limit: number) {
    super(
      'SESSION_TOO_LARGE',
      `The session is ${size} bytes once sealed, over the ${limit} bytes the cookies backend can carry ` +
        '(browsers keep 4096 bytes per cookie and Node accepts 16 KB of request headers). ' +
        'Store less in the session, or use the files or redis backend.',
    );
    this.size = size;
    this.limit = limit;
  }
}

/** `session` (or destroySession/regenerateSession) was used where no request's session is active. */
export class SessionContextError extends SessionError {
  constructor(what: string) {
    super(
      'SESSION_CONTEXT',
      `${what} was used outside a request handled by a session middleware, or in one whose ` +
        'middleware was given `context: false`. Install the adapter for your framework (for example ' +
        '@session-manager/runtime/express) and use it inside the handler, or pass the session object ' +
        'explicitly (req.session, ctx.session...).',
    );
  }
}

for (const type of [
  SessionError,
  SessionConfigError,
  SessionDataError,
  SessionStoreError,
  SessionTooLargeError,
  SessionContextError,
]) {
  Object.defineProperty(type.prototype, BRAND, { value: true });
}
