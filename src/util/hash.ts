import { createHash } from 'node:crypto';

/** MurmurHash3's 32-bit finaliser (Appleby, public domain): full avalanche of one word. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}

/**
 * JSON with every object's keys sorted (recursively), so that equal data prints equal text
 * whatever order its keys were written in. Keys holding undefined are left out, as
 * JSON.stringify does; ±Infinity and NaN, which it would print as null, print as strings.
 * Values no document holds (functions, Maps, typed arrays…) are refused rather than dropped.
 */
export function canonicalJson(x: unknown): string {
  if (x === null || typeof x === 'boolean' || typeof x === 'string') return JSON.stringify(x);
  if (typeof x === 'number') {
    return Number.isFinite(x) ? JSON.stringify(x) : JSON.stringify(String(x));
  }
  if (Array.isArray(x)) return `[${x.map(canonicalJson).join(',')}]`;
  const proto: unknown = typeof x === 'object' ? Object.getPrototypeOf(x) : undefined;
  if (proto === Object.prototype || proto === null) {
    const entries = Object.entries(x as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new Error(`canonicalJson: ${Object.prototype.toString.call(x)} is not plain data`);
}

/** sha256 of `x`'s canonical JSON, hex: a stable name for a document's content. */
export function contentHash(x: unknown): string {
  return createHash('sha256').update(canonicalJson(x)).digest('hex');
}
