import { describe, expect, it } from 'vitest';
import { rssCrests } from '../results.js';

/** A soak's RSS samples, one every 5 s from the end of warm-up, in MB. */
const samples = (mb: number[]) => mb.map((value, index) => ({ second: index * 5, rss: value * 2 ** 20 }));

describe('bench: how a soak judges memory growth', () => {
  it('passes a saw that repeats its crests, though its end sits far above the sample a third in', () => {
    // A fastify soak over 100,000 cookies: the old generation fills, a full collection empties it.
    const saw = samples([102, 105, 103, 108, 111, 116, 120, 124, 129, 104, 111, 121, 129]);
    const steady = saw.find((sample) => sample.second >= 20)?.rss ?? 0;
    expect((saw.at(-1)?.rss ?? 0) / steady - 1).toBeGreaterThan(0.05);
    expect(rssCrests(saw, 60).growth).toBeLessThanOrEqual(0.05);
  });

  it('fails a leak of a quarter of a megabyte a second, with a saw on top', () => {
    const leak = samples(Array.from({ length: 13 }, (_, at) => 100 + 1.25 * at + (at % 2) * 3));
    expect(rssCrests(leak, 60).growth).toBeGreaterThan(0.05);
  });

  it('passes a flat run', () => {
    expect(rssCrests(samples(Array.from({ length: 13 }, () => 102)), 60).growth).toBe(0);
  });
});
