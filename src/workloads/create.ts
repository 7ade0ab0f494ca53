import type { Rng } from '../util/rng.js';
import { LimitStream } from './limit.js';
import { WORKLOAD_PATTERNS } from './patterns.js';
import { RampUpStream } from './ramp-up.js';
import { COMMON_DEFAULTS as D, footprintPagesOf, parseWorkloadSpec, type WorkloadSpec } from './schema.js';
import type { AccessStream } from './types.js';

/**
 * Builds the access stream a workload spec describes, with the pattern's module. The spec is
 * validated first (InputError on bad input). All randomness comes from forks of `rng`: a leaf
 * pattern gets a fork named after it, a composite one (phases) forks its own per part.
 */
export function createAccessStream(spec: WorkloadSpec, rng: Rng): AccessStream {
  const w = parseWorkloadSpec(spec);
  const pages = footprintPagesOf(w);
  const m = WORKLOAD_PATTERNS.get(w.pattern);
  let stream = m.create(w, {
    pages,
    writeRatio: w.write_ratio ?? D.write_ratio,
    computeNs: w.compute_ns ?? D.compute_ns,
    rng: m.composite ? rng : rng.fork(w.pattern),
  });
  const ramp = w.ramp_up_accesses ?? D.ramp_up_accesses;
  if (ramp > 0) stream = new RampUpStream(stream, ramp);
  if (w.accesses !== undefined) stream = new LimitStream(stream, w.accesses);
  return stream;
}
