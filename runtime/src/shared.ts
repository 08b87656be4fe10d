/**
 * Process-wide state of the runtime. The package ships an ES module build and a CommonJS build, and
 * an app can load both (its own `require` and a dependency's `import`): each build then has its own
 * copy of every module. What must be one per process (the request context behind `session`, the
 * ServerResponse hooks, the keys that find a session's state) lives on globalThis under a registered
 * symbol, so both copies use the same. The key carries a version: a later, incompatible runtime
 * loaded beside this one keeps its own.
 */
const KEY = Symbol.for('@session-manager/runtime@1');

type Registry = Record<string, unknown>;

/** The process's one value for `name`, made by the first copy of the runtime that asks. */
export function shared<T>(name: string, create: () => T): T {
  const holder = globalThis as { [KEY]?: Registry };
  holder[KEY] ??= Object.create(null) as Registry;
  const registry = holder[KEY];
  if (!(name in registry)) registry[name] = create();
  return registry[name] as T;
}

/** A symbol both builds agree on, for a property only the runtime reads. */
export function sharedSymbol(name: string): symbol {
  return Symbol.for(`@session-manager/runtime@1/${name}`);
}
