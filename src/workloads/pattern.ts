import type { z } from 'zod';
import type { PolicyModule, Registry } from '../policies/registry.js';
import type { Rng } from '../util/rng.js';
import type { AccessStream, LeafOptions } from './types.js';

/** What a pattern's stream is built from: the footprint, the read/write mix, and its own rng. */
export interface PatternContext extends LeafOptions {
  rng: Rng;
}

/**
 * A workload pattern as a module of the pattern registry: its fields (zod params, at the top
 * level of a workload or a phase), their defaults, and the stream factory. `refine` adds
 * checks with a path inside the workload (e.g. a required field).
 */
export interface PatternModule<P = object> extends PolicyModule<P, PatternContext, AccessStream> {
  /** Defaults of its fields, as the docs state them. */
  readonly defaults: Readonly<Record<string, unknown>>;
  /**
   * A pattern made of other patterns: its stream gets the workload's rng itself and forks one
   * per part (a leaf gets a fork named after its pattern).
   */
  readonly composite?: true;
  /** Fields a workload of this pattern needs (the conformance suite's example), if any. */
  readonly example?: Readonly<Record<string, unknown>>;
  refine?(spec: Record<string, unknown>, ctx: z.RefinementCtx): void;
}

/**
 * Refuses, in a workload or phase object, a field that belongs to another pattern than
 * `pattern`, with a message naming the pattern(s) it belongs to.
 */
export function refuseOtherPatternFields(
  obj: Record<string, unknown>,
  pattern: string,
  patterns: Registry<PatternModule>,
  ctx: z.RefinementCtx,
): void {
  for (const key of Object.keys(patterns.paramShape())) {
    if (obj[key] === undefined) continue;
    const owners = patterns.ownersOf(key);
    if (owners.includes(pattern)) continue;
    ctx.addIssue({
      code: 'custom',
      path: [key],
      message: `only used with pattern ${owners.join(' or ')}, but the pattern is ${JSON.stringify(pattern)}`,
      input: obj[key],
    });
  }
}
