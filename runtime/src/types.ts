/**
 * The shape of your session data. Declare your keys once and every `session`, `req.session`,
 * `ctx.session` and `c.get('session')` is typed:
 *
 *   declare module '@session-manager/runtime' {
 *     interface SessionData { counter: number; userId: string }
 *   }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by declaration merging.
export interface SessionData {}

/** A session as handlers see it: every key may be missing, so every key reads as optional. */
export type Session<T extends object = SessionData> = Partial<T>;
