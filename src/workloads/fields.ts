import { z } from 'zod';
import { InputError } from '../util/errors.js';
import { bytesToPages, parseSize } from '../util/units.js';
import { describeValue } from '../util/validate.js';
import { MAX_FOOTPRINT_PAGES } from './types.js';

/** Building blocks of the workload fields, shared by the patterns' parameter schemas. */

/** A number field whose refusal says what was expected and what was given. */
export function num(pred: (v: number) => boolean, expected: string): z.ZodNumber {
  // refine (not a custom type) so the schema still converts to JSON Schema.
  return z.number().refine(pred, { error: (iss) => `expected ${expected}, got ${describeValue(iss.input)}` });
}

export const isInt = (v: number): boolean => Number.isSafeInteger(v);

/** Pages of a footprint string, or a message saying what is wrong with it. */
export function footprintPages(v: string): number | string {
  let bytes: number;
  try {
    bytes = parseSize(v, 'footprint');
  } catch (e) {
    return e instanceof InputError ? e.message.replace(/^footprint: /, '') : String(e);
  }
  const pages = bytesToPages(bytes);
  if (pages < 1) return `expected at least one 4KiB page, got ${JSON.stringify(v)}`;
  if (pages > MAX_FOOTPRINT_PAGES)
    return `expected at most 4TiB (2^30 pages of 4KiB), got ${JSON.stringify(v)}`;
  return pages;
}

export const footprintSchema = z
  .string()
  .refine((v) => typeof footprintPages(v) === 'number', {
    error: (iss) => {
      const r = typeof iss.input === 'string' ? footprintPages(iss.input) : 'expected a size such as "4GiB"';
      return typeof r === 'string' ? r : 'invalid size';
    },
  })
  .describe('memory the task touches, a size with a unit ("4GiB"); pages of 4KiB');

/** Pages (4 KiB) of a footprint, or an InputError naming `field`. */
export function footprintPagesOf(spec: { footprint: string }, field = 'workload.footprint'): number {
  const r = footprintPages(spec.footprint);
  if (typeof r === 'string') throw new InputError(`${field}: ${r}`);
  return r;
}

/** Fields every pattern takes (a phase's default to the workload's own). */
export const commonFields = {
  write_ratio: num((v) => v >= 0 && v <= 1, 'a number in [0, 1]')
    .optional()
    .describe('fraction of accesses that are writes (default 0)'),
  compute_ns: num((v) => v >= 0 && Number.isFinite(v), 'a number ≥ 0')
    .optional()
    .describe('compute time between consecutive accesses, ns (default 0)'),
};
