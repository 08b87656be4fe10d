export type { CommitPlan } from './backends/backend.js';
export type { RedisClient } from './backends/redis.js';
export {
  bindSessionToUser,
  destroySession,
  flash,
  getSessionInfo,
  regenerateSession,
  runWithSession,
  type SessionInfo,
  session,
  setSessionExpiry,
  takeFlashes,
  touchSession,
} from './context.js';
export {
  SessionConfigError,
  SessionContextError,
  SessionDataError,
  SessionError,
  SessionStoreError,
  SessionTooLargeError,
} from './errors.js';
export { SessionManager, type UserSession } from './manager.js';
export type { Flash } from './meta.js';
export type { CookiesOptions } from './backends/cookies-options.js';
export type { FilesOptions } from './backends/files-options.js';
export type { RedisOptions } from './backends/redis-options.js';
export {
  MemoryRevocationList,
  RedisRevocationList,
  type RedisRevocationOptions,
  type RevocationList,
} from './backends/revocation.js';
export { DEFAULTS } from './defaults.js';
export type { CommonOptions, CookieData, SameSite } from './options.js';
export type { SessionState } from './state.js';
export type { Session, SessionData } from './types.js';
