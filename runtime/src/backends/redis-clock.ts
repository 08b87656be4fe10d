/** How long a sample of redis' clock is trusted; older ones are forgotten, so a clock step is followed. */
const WINDOW_MS = 10_000;

/**
 * Redis' clock, as seen from this process, for deadlines the store's scripts check on the server.
 * Every write script's reply carries redis' TIME (a read's only when `needsSample()`); the moment the reply arrives here (a monotonic clock) is
 * later than the moment redis read its clock, so `redis time - arrival` never overstates how far
 * redis' clock is ahead of ours. The largest such sample of the last window or two is the estimate:
 * a deadline converted with it falls at or before the local moment it stands for, so the server
 * refuses a command no later than this process gives up on it, whatever the two clocks say.
 */
export class RedisClock {
  private current = Number.NEGATIVE_INFINITY;
  private previous = Number.NEGATIVE_INFINITY;
  private windowStart = Number.NEGATIVE_INFINITY;

  constructor(private readonly localNow: () => number = () => performance.now()) {}

  /** Records a TIME reply (seconds and microseconds, as redis sends them) that arrived just now. */
  observe(seconds: unknown, microseconds: unknown): void {
    const redisMs = Number(seconds) * 1000 + Math.floor(Number(microseconds) / 1000);
    if (!Number.isFinite(redisMs)) return;
    const now = this.localNow();
    this.roll(now);
    this.current = Math.max(this.current, redisMs - now);
  }

  /**
   * Whether the current window has no sample yet: a read then asks redis for its TIME, so that a
   * write always finds a recent one, and a busy store asks at most once a window (writes bring theirs).
   */
  needsSample(): boolean {
    this.roll(this.localNow());
    return this.current === Number.NEGATIVE_INFINITY;
  }

  /**
   * The redis time `delayMs` from now, or undefined when no recent sample exists (ask redis for
   * its TIME first).
   */
  deadlineIn(delayMs: number): number | undefined {
    const now = this.localNow();
    this.roll(now);
    const offset = Math.max(this.current, this.previous);
    return offset === Number.NEGATIVE_INFINITY ? undefined : Math.floor(now + delayMs + offset);
  }

  private roll(now: number): void {
    if (now - this.windowStart < WINDOW_MS) return;
    // A whole window without samples: the previous one is too old to trust either.
    this.previous = now - this.windowStart < 2 * WINDOW_MS ? this.current : Number.NEGATIVE_INFINITY;
    this.current = Number.NEGATIVE_INFINITY;
    this.windowStart = now;
  }
}
