import { createTraceWorkload, type TraceWorkloadSpec } from '../traces/workload.js';
import type { Rng } from '../util/rng.js';
import { createAccessStream } from './create.js';
import type { WorkloadSpec } from './schema.js';
import type { AccessStream } from './types.js';

/**
 * Where a VM's accesses come from, as plain data (a resolved scenario holds it, so it can be
 * cloned or sent elsewhere): a synthetic workload spec, or a trace file with the directory its
 * relative path is resolved against.
 */
export type StreamSource =
  | { kind: 'synthetic'; spec: WorkloadSpec }
  | { kind: 'trace'; spec: TraceWorkloadSpec; baseDir: string; field: (string | number)[] };

/** Opens the stream of `source` for one run: a seeded generator, or the trace reopened. */
export function openStream(source: StreamSource, rng: Rng): AccessStream {
  return source.kind === 'trace'
    ? createTraceWorkload(source.spec, source.baseDir, source.field)
    : createAccessStream(source.spec, rng);
}
