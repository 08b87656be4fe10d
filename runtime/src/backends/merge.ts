import { parseStored, type SessionRecord } from '../data.js';

/**
 * Two requests of one session that ran at the same time: the one committing second loaded `baseline`,
 * wants to store `next`, and finds `current` stored (the first one's write). The result is `current`
 * with the top-level keys this request changed (set, replaced or deleted, compared by their JSON) put
 * over it, so both requests' changes are kept; on a key both changed, this (the last) write wins.
 * Undefined when a stored text does not parse: the caller keeps `next` as it is.
 */
export function mergeChanges(current: string, baseline: string, next: string): string | undefined {
  const stored = parseStored(current);
  const before = parseStored(baseline);
  const after = parseStored(next);
  if (stored === undefined || before === undefined || after === undefined) return undefined;
  const merged: SessionRecord = { ...stored };
  for (const key of Object.keys(before)) {
    if (!Object.hasOwn(after, key)) delete merged[key];
  }
  for (const key of Object.keys(after)) {
    const value = after[key];
    if (!Object.hasOwn(before, key) || JSON.stringify(before[key]) !== JSON.stringify(value)) merged[key] = value;
  }
  return JSON.stringify(merged);
}

/**
 * The top-level members `next` changed from `baseline`, for the redis write script's 'merge': raw
 * key and raw value JSON in turn, an empty value for a deleted key. Undefined when a text does not parse.
 */
export function changedMembers(baseline: string, next: string): string[] | undefined {
  const before = parseStored(baseline);
  const after = parseStored(next);
  if (before === undefined || after === undefined) return undefined;
  const changes: string[] = [];
  for (const key of Object.keys(before)) {
    if (!Object.hasOwn(after, key)) changes.push(JSON.stringify(key), '');
  }
  for (const key of Object.keys(after)) {
    const value = JSON.stringify(after[key]);
    if (!Object.hasOwn(before, key) || JSON.stringify(before[key]) !== value) changes.push(JSON.stringify(key), value);
  }
  return changes;
}
