import type { Rng } from '../util/rng.js';
import { HotsetStream } from './hotset.js';
import { LimitStream } from './limit.js';
import { NormalStream } from './normal.js';
import { PhasesStream, type Phase } from './phases.js';
import { RampUpStream } from './ramp-up.js';
import {
  WORKLOAD_DEFAULTS as D,
  footprintPagesOf,
  parseWorkloadSpec,
  type LeafPattern,
  type PhaseSpec,
  type WorkloadSpec,
} from './schema.js';
import { SequentialStream } from './sequential.js';
import type { AccessStream } from './types.js';
import { UniformStream } from './uniform.js';
import { ZipfianStream } from './zipfian.js';

type LeafFields = Omit<PhaseSpec, 'accesses' | 'pattern' | 'name' | 'footprint'> & { pattern: LeafPattern };

/**
 * Builds the access stream a workload spec describes. The spec is validated first (InputError on
 * bad input). All randomness comes from forks of `rng`: each phase gets its own fork, so editing
 * one phase does not change the others' accesses.
 */
export function createAccessStream(spec: WorkloadSpec, rng: Rng): AccessStream {
  const w = parseWorkloadSpec(spec);
  const pages = footprintPagesOf(w);
  const writeRatio = w.write_ratio ?? D.write_ratio;
  const computeNs = w.compute_ns ?? D.compute_ns;
  let stream: AccessStream;
  if (w.pattern === 'phases') {
    const phases: Phase[] = (w.phases ?? []).map((p, i) => ({
      name: p.name ?? p.pattern,
      accesses: p.accesses,
      stream: createLeaf(
        p,
        p.footprint === undefined
          ? pages
          : footprintPagesOf({ footprint: p.footprint }, `workload.phases[${i}].footprint`),
        p.write_ratio ?? writeRatio,
        p.compute_ns ?? computeNs,
        rng.fork(`phase:${i}`),
      ),
    }));
    stream = new PhasesStream(phases, w.repeat ?? D.repeat, pages);
  } else {
    stream = createLeaf({ ...w, pattern: w.pattern }, pages, writeRatio, computeNs, rng.fork(w.pattern));
  }
  const ramp = w.ramp_up_accesses ?? D.ramp_up_accesses;
  if (ramp > 0) stream = new RampUpStream(stream, ramp);
  if (w.accesses !== undefined) stream = new LimitStream(stream, w.accesses);
  return stream;
}

function createLeaf(
  f: LeafFields,
  pages: number,
  writeRatio: number,
  computeNs: number,
  rng: Rng,
): AccessStream {
  const base = { pages, writeRatio, computeNs };
  switch (f.pattern) {
    case 'uniform':
      return new UniformStream(base, rng);
    case 'zipfian':
      return new ZipfianStream({ ...base, theta: f.theta ?? D.theta, scatter: f.scatter ?? D.scatter }, rng);
    case 'hotset': {
      const hotFraction = f.hot_fraction ?? D.hot_fraction;
      const hotPages = Math.min(pages, Math.max(1, Math.round(hotFraction * pages)));
      return new HotsetStream(
        {
          ...base,
          hotFraction,
          hotAccessShare: f.hot_access_share ?? D.hot_access_share,
          shiftEveryAccesses: f.shift_every_accesses ?? D.shift_every_accesses,
          shiftPages: f.shift_pages ?? hotPages,
        },
        rng,
      );
    }
    case 'sequential':
      return new SequentialStream({ ...base, stridePages: f.stride_pages ?? D.stride_pages }, rng);
    case 'normal':
      return new NormalStream({ ...base, sigmaFraction: f.sigma ?? D.sigma }, rng);
  }
}
