import { InputError } from './errors.js';

/**
 * The text of the memory.tier_ratio control file (docs/ratios.md): its name and its values, as
 * the kernel model (host/tier-ratio.ts) accepts them and the user-space controller reads them
 * back, so both sides of the file share one parser.
 */
export const TIER_RATIO_FILE = 'memory.tier_ratio';

export interface TierRatioSetting {
  /** The fast share in [0, 1], or null for "max". */
  fraction: number | null;
  /** The value as the file reads back: "max", "0.25" or "1:3". */
  text: string;
}

export const TIER_RATIO_MAX: TierRatioSetting = Object.freeze({ fraction: null, text: 'max' });

const FRACTION_RE = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*$/;
export const PAIR_RE = /^\s*(\d+)\s*:\s*(\d+)\s*$/;

function expected(field: string, value: unknown, why: string): InputError {
  return new InputError(
    `${field}: ${why}; expected a fast share between 0 and 1 ("0.25"), a fast:slow pair of integers ("1:3") or "max", got ${JSON.stringify(value)}`,
  );
}

/** Parses a memory.tier_ratio value (a YAML number is taken as the fraction). */
export function parseTierRatio(value: unknown, field: string): TierRatioSetting {
  if (typeof value === 'number') value = String(value);
  if (typeof value !== 'string') throw expected(field, value, 'not a ratio');
  if (value.trim() === 'max') return TIER_RATIO_MAX;
  const pair = PAIR_RE.exec(value);
  if (pair) {
    const fast = Number(pair[1]);
    const slow = Number(pair[2]);
    // "1:0" reads as "no slow memory at all": that is either "1" or "max", and a slow part of
    // zero is more likely a typo than a choice, so it is refused rather than guessed.
    if (slow === 0)
      throw expected(
        field,
        value,
        'the slow part of a fast:slow pair must be at least 1 (for no constraint write "max")',
      );
    if (!Number.isSafeInteger(fast) || !Number.isSafeInteger(slow))
      throw expected(field, value, 'the pair is too large');
    return { fraction: fast / (fast + slow), text: `${fast}:${slow}` };
  }
  const m = FRACTION_RE.exec(value);
  if (!m) throw expected(field, value, 'not a ratio');
  const f = Number(m[1]);
  if (!(f >= 0 && f <= 1)) throw expected(field, value, 'a fraction must be between 0 and 1');
  return { fraction: f, text: String(f) };
}
