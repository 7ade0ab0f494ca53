import { quoteForMessage } from './document.js';
import { InputError } from './errors.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

const BINARY: Record<string, number> = {
  B: 1,
  KiB: 2 ** 10,
  MiB: 2 ** 20,
  GiB: 2 ** 30,
  TiB: 2 ** 40,
  PiB: 2 ** 50,
  // The kernel's memparse() reads K/M/G/T as binary multiples; accept that spelling too.
  K: 2 ** 10,
  M: 2 ** 20,
  G: 2 ** 30,
  T: 2 ** 40,
};
const DECIMAL: Record<string, number> = { kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 };

const SIZE_RE = /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*$/;

/**
 * Parses a byte size that must carry a unit ("64GiB", "512 MiB", "4096B", "1.5TiB").
 * A bare number is refused: the unit is what makes a size unambiguous.
 */
export function parseSize(value: unknown, field: string): number {
  if (typeof value !== 'string') {
    throw new InputError(
      `${field}: expected a size with a unit such as "64GiB" or "512MiB", got ${typeof value === 'number' || value === undefined ? String(value) : JSON.stringify(value)?.slice(0, 60)}`,
    );
  }
  const m = SIZE_RE.exec(value);
  if (!m) {
    const hint = /^\s*-/.test(value) ? 'a size cannot be negative' : 'expected a number followed by a unit';
    throw new InputError(
      `${field}: ${hint} (B, KiB, MiB, GiB, TiB, kB, MB, GB, TB), got ${quoteForMessage(value)}`,
    );
  }
  const unit = m[2];
  const mult = BINARY[unit] ?? DECIMAL[unit];
  if (mult === undefined) {
    throw new InputError(
      `${field}: unknown unit ${quoteForMessage(unit)} in ${quoteForMessage(value)}; allowed: B, KiB, MiB, GiB, TiB, kB, MB, GB, TB`,
    );
  }
  const bytes = Number(m[1]) * mult;
  if (!Number.isFinite(bytes) || bytes <= 0) {
    throw new InputError(`${field}: size must be greater than zero, got ${quoteForMessage(value)}`);
  }
  return Math.floor(bytes);
}

/** Pages (4 KiB) in a byte size, rounded down as the kernel rounds memory.max writes. */
export function bytesToPages(bytes: number): number {
  return Math.floor(bytes / PAGE_SIZE);
}

export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1 && v % 1024 === 0) {
    v /= 1024;
    i++;
  }
  return `${v}${units[i]}`;
}
