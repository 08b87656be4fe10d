import { SessionDataError } from './errors.js';
import { sharedSymbol } from './shared.js';

/**
 * Session data is JSON: what is stored is exactly what comes back. This module keeps it that way:
 * it refuses values JSON would silently change or drop, and keys that could pollute prototypes.
 */

export type SessionRecord = Record<string, unknown>;

const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return 'a BigInt';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'number') return String(value);
  if (value === undefined) return 'undefined';
  const name = (value as object).constructor?.name;
  return name ? `a ${name}` : 'an object without a plain prototype';
}

function refuse(path: string, value: unknown, hint: string): never {
  throw new SessionDataError(path, `Session value at "${path}" is ${describe(value)}, which JSON cannot store${hint}.`);
}

function childPath(path: string, key: string | number): string {
  return typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key;
}

/** Throws a SessionDataError naming the path of the first value that would not survive JSON. */
export function assertStorable(value: unknown, path: string, seen: unknown[] = []): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) refuse(path, value, ' (it would come back as null)');
      return;
    case 'object': {
      if (value === null) return;
      if (seen.includes(value)) {
        throw new SessionDataError(
          path,
          `Session value at "${path}" refers back to itself (a cycle), which JSON cannot store.`,
        );
      }
      seen.push(value);
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const item = value[i];
          if (item === undefined) refuse(childPath(path, i), item, ' (it would come back as null)');
          assertStorable(item, childPath(path, i), seen);
        }
      } else {
        const proto = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) {
          refuse(
            path,
            value,
            value instanceof Date ? ' (store date.toISOString() or date.getTime())' : ' (store a plain object)',
          );
        }
        for (const key of Object.keys(value)) {
          if (FORBIDDEN_KEYS.has(key)) refuseKey(childPath(path, key));
          const item = (value as SessionRecord)[key];
          // undefined members are dropped by JSON, which is what `delete` would do: allowed.
          if (item !== undefined) assertStorable(item, childPath(path, key), seen);
        }
      }
      seen.pop();
      return;
    }
    default:
      refuse(path, value, '');
  }
}

function refuseKey(path: string): never {
  throw new SessionDataError(path, `Session key "${path}" is refused: it could pollute object prototypes.`);
}

/**
 * A top-level key starting with NUL is where the session layer keeps its own members (meta.ts):
 * refused for data, so no key of yours can read or overwrite them.
 */
function refuseReservedKey(key: string): never {
  throw new SessionDataError(
    JSON.stringify(key),
    `Session key ${JSON.stringify(key)} is refused: keys starting with a NUL character are reserved for the session layer.`,
  );
}

/**
 * Serializes session data for storage. Every value is checked first, unless the guard saw every
 * value go in (`checked`: none was an object that code may have changed since).
 */
export function serialize(data: SessionRecord, checked = false): string {
  if (!checked) assertStorable(data, '');
  return JSON.stringify(data);
}

/**
 * Parses stored JSON. Keys that could pollute prototypes are removed (JSON.parse keeps `__proto__`
 * as an own key, harmless until someone merges it into another object). Returns undefined when the
 * text is not a JSON object: corrupt data is a missing session, never an exception.
 */
export function parseStored(text: string): SessionRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  // A substring test first: the walk is needed only for the rare text that names such a key, or
  // that has a \u escape, which could spell one (`"\u005f_proto__"` parses to `__proto__`).
  if (text.includes('__proto__') || text.includes('constructor') || text.includes('prototype') || text.includes('\\u'))
    stripForbidden(value);
  return value as SessionRecord;
}

function stripForbidden(value: unknown): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    for (const item of value) stripForbidden(item);
    return;
  }
  for (const key of Object.keys(value)) {
    if (FORBIDDEN_KEYS.has(key)) delete (value as SessionRecord)[key];
    else stripForbidden((value as SessionRecord)[key]);
  }
}

/**
 * Reads the owner a guarded object was made for. A symbol, so no session key can reach it; a
 * registered one, so the runtime's other build (ES module or CommonJS) finds the owner too.
 */
const OWNER = sharedSymbol('session owner');

/** What a guard reports to: whether the data may have changed since it was loaded, and how. */
export interface GuardOwner {
  touched: boolean;
  /**
   * An object value was stored or handed out. Code may still hold it and change it in place, so
   * only a check of the whole record at commit can tell it is storable. Without one, every value in
   * the record was either parsed from JSON or checked as it was assigned.
   */
  objectsShared: boolean;
}

const isObject = (value: unknown): boolean => typeof value === 'object' && value !== null;

/**
 * One guard per session object, holding its owner (the SessionState), so that the control
 * functions find the state from the data object without a WeakMap: a WeakMap entry per request
 * costs more garbage collection work (ephemerons) than the rest of loading a session. Every way
 * the data can change passes through here (a set, a delete, or an object value handed out, which
 * may be changed in place), and marks the owner touched.
 */
class DataGuard implements ProxyHandler<SessionRecord> {
  constructor(private readonly owner: GuardOwner | undefined) {}

  // Missing keys, and anything inherited such as `toString`, read as undefined.
  get(target: SessionRecord, key: string | symbol): unknown {
    if (typeof key !== 'string') return key === OWNER ? this.owner : undefined;
    if (!Object.hasOwn(target, key)) return undefined;
    const value = target[key];
    if (this.owner !== undefined && isObject(value)) this.share();
    return value;
  }
  set(target: SessionRecord, key: string | symbol, value: unknown): boolean {
    if (typeof key !== 'string') throw new SessionDataError(String(key), 'Session keys must be strings.');
    if (FORBIDDEN_KEYS.has(key)) refuseKey(key);
    if (key.charCodeAt(0) === 0) refuseReservedKey(key);
    if (this.owner !== undefined) this.owner.touched = true;
    if (value === undefined) {
      delete target[key];
      return true;
    }
    assertStorable(value, key);
    if (this.owner !== undefined && isObject(value)) this.owner.objectsShared = true;
    target[key] = value;
    return true;
  }
  deleteProperty(target: SessionRecord, key: string | symbol): boolean {
    if (this.owner !== undefined) this.owner.touched = true;
    return Reflect.deleteProperty(target, key);
  }
  defineProperty(target: SessionRecord, key: string | symbol, descriptor: PropertyDescriptor): boolean {
    if (typeof key !== 'string') throw new SessionDataError(String(key), 'Session keys must be strings.');
    if (FORBIDDEN_KEYS.has(key)) refuseKey(key);
    if (key.charCodeAt(0) === 0) refuseReservedKey(key);
    if (!('value' in descriptor)) throw new SessionDataError(key, `Session key "${key}" cannot be an accessor.`);
    assertStorable(descriptor.value, key);
    if (this.owner !== undefined) {
      this.owner.touched = true;
      if (isObject(descriptor.value)) this.owner.objectsShared = true;
    }
    target[key] = descriptor.value;
    return true;
  }
  getOwnPropertyDescriptor(target: SessionRecord, key: string | symbol): PropertyDescriptor | undefined {
    const descriptor = Reflect.getOwnPropertyDescriptor(target, key);
    // `{ ...session }`, Object.values and Object.entries hand nested objects out this way.
    if (this.owner !== undefined && isObject(descriptor?.value)) this.share();
    return descriptor;
  }
  has(target: SessionRecord, key: string | symbol): boolean {
    return typeof key === 'string' && Object.hasOwn(target, key);
  }
  setPrototypeOf(): boolean {
    throw new SessionDataError('__proto__', 'The prototype of a session cannot be changed.');
  }
  /** An object value handed out may be changed in place, out of the guard's sight. */
  private share(): void {
    const owner = this.owner as GuardOwner;
    owner.touched = true;
    owner.objectsShared = true;
  }
}

/**
 * The object user code sees: the plain record behind a guard that checks every assignment.
 * `owner` is what ownerOf gives back for it.
 */
export function guardData(record: SessionRecord, owner?: GuardOwner): SessionRecord {
  return new Proxy(record, new DataGuard(owner));
}

/** The owner passed to guardData, or undefined for any object guardData did not make. */
export function ownerOf(data: object): GuardOwner | undefined {
  return (data as { [OWNER]?: GuardOwner })[OWNER];
}
