import { InputError } from '../util/errors.js';

/** --seed: a non-negative integer. */
export function parseSeed(v: string): number {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new InputError(`--seed: expected a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return Number(v);
}
