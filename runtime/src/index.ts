export type { CommitPlan } from './backends/backend.js';
export type { RedisClient } from './backends/redis.js';
export {
  destroySession,
  getSessionInfo,
  regenerateSession,
  runWithSession,
  type SessionInfo,
  session,
} from './context.js';
export {
  SessionConfigError,
  SessionContextError,
  SessionDataError,
  SessionError,
  SessionStoreError,
  SessionTooLargeError,
} from './errors.js';
export { SessionManager } from './manager.js';
export type { CommonOptions, CookieData, CookiesOptions, FilesOptions, RedisOptions, SameSite } from './options.js';
export { DEFAULTS } from './options.js';
export {
  MemoryRevocationList,
  RedisRevocationList,
  type RedisRevocationOptions,
  type RevocationList,
} from './revocation.js';
export type { SessionState } from './state.js';
export type { Session, SessionData } from './types.js';
