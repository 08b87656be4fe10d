import type { CommonOptions } from '../options.js';
import type { RevocationList } from './revocation.js';

export interface CookiesOptions extends CommonOptions {
  /**
   * Makes logout and regenerate final. A sealed cookie is valid on its own until it expires: without
   * a revocation list, a cookie copied before `destroy()` or `regenerate()` (by an attacker, or by the
   * browser's back-up) still opens the old session until its expiry (at most `expire` seconds after
   * its last write). With one, the retired session id is recorded for `expire` seconds, longer than
   * any copy of its cookie can live, and such a cookie reads as a fresh session. `new MemoryRevocationList()` suits a single process;
   * `new RedisRevocationList(redis)` is shared by every process and server. Default: none.
   */
  revocation?: RevocationList;
  /**
   * Emmett's `compression_level`: deflate the session before sealing it, at this level (1 fastest,
   * 9 smallest), whenever that makes the cookie smaller. Default 0: none, as in Emmett. Every manager
   * opens compressed and uncompressed cookies alike, so changing it ends no session. Compression lets
   * the cookie's length tell how well the session compresses: leave it off when a session holds a
   * secret (a CSRF token, say) beside text an attacker chooses and the attacker can see cookie sizes.
   */
  compression?: number;
}
