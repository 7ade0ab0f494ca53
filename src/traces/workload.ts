import { z } from 'zod';
import { InputError, fieldPath } from '../util/errors.js';
import { bytesToPages, parseSize } from '../util/units.js';
import { describeValue, parseWith } from '../util/validate.js';
import { LimitStream } from '../workloads/limit.js';
import { MAX_FOOTPRINT_PAGES, type AccessStream } from '../workloads/types.js';
import { createTraceStream } from './stream.js';

/**
 * The scenario form of a trace workload, for the workload union:
 *
 *   workload: { pattern: trace, trace: traces/redis.ntrace.gz, loop: true, cpi: 0.8 }
 *
 * Compute between accesses: a timed trace (format version 2) is charged its own instructions ×
 * cpi / cpu_ghz; compute_ns instead charges a constant per access (and excludes cpi/cpu_ghz); an
 * untimed trace without compute_ns is charged the default constant, 0 ns.
 * write_ratio is not accepted (the trace's own read/write bits are replayed), nor are the other
 * patterns' fields. footprint is optional: by default the task's footprint is the trace's distinct
 * pages; a smaller size folds the trace onto it (docs/traces.md, "Address mapping").
 */
const got = (v: unknown): string => describeValue(v);

function footprintProblem(v: string): string | null {
  try {
    const pages = bytesToPages(parseSize(v, 'footprint'));
    if (pages < 1) return `expected at least one 4KiB page, got ${JSON.stringify(v)}`;
    if (pages > MAX_FOOTPRINT_PAGES)
      return `expected at most 4TiB (2^30 pages of 4KiB), got ${JSON.stringify(v)}`;
    return null;
  } catch (e) {
    return e instanceof InputError ? e.message.replace(/^footprint: /, '') : String(e);
  }
}

export const traceWorkloadSchema = z.strictObject({
  pattern: z.literal('trace').describe('replay a recorded memory-access trace'),
  trace: z
    .string()
    .min(1, { error: 'expected the path of a trace file' })
    .describe(
      'trace file (numatier trace format, optionally gzip-compressed), relative to the scenario file',
    ),
  loop: z
    .boolean()
    .optional()
    .describe('start again from the first access when the trace ends (default false: the task ends)'),
  compute_ns: z
    .number()
    .refine((v) => v >= 0 && Number.isFinite(v), {
      error: (iss) => `expected a number ≥ 0, got ${got(iss.input)}`,
    })
    .optional()
    .describe(
      'compute time between consecutive accesses, ns, a constant; excludes cpi and cpu_ghz. Default: a timed trace (format 2) is charged its instructions, an untimed one 0',
    ),
  cpi: z
    .number()
    .refine((v) => v > 0 && Number.isFinite(v), {
      error: (iss) => `expected a number > 0, got ${got(iss.input)}`,
    })
    .optional()
    .describe(
      "timed traces: base cycles per instruction, memory stalls excluded; compute between misses = the trace's instructions × cpi / cpu_ghz (default 1)",
    ),
  cpu_ghz: z
    .number()
    .refine((v) => v > 0 && Number.isFinite(v), {
      error: (iss) => `expected a number > 0, got ${got(iss.input)}`,
    })
    .optional()
    .describe('timed traces: core clock in GHz for the instruction model (default 2.2)'),
  footprint: z
    .string()
    .refine((v) => footprintProblem(v) === null, {
      error: (iss) =>
        typeof iss.input === 'string'
          ? (footprintProblem(iss.input) ?? 'invalid size')
          : 'expected a size such as "4GiB"',
    })
    .optional()
    .describe(
      "task's footprint, a size with a unit; default: the trace's distinct pages. Smaller folds the trace",
    ),
  accesses: z
    .number()
    .refine((v) => Number.isSafeInteger(v) && v >= 1, {
      error: (iss) => `expected an integer ≥ 1, got ${got(iss.input)}`,
    })
    .optional()
    .describe('the task ends after this many accesses (default: when the trace ends, or never with loop)'),
});

export type TraceWorkloadSpec = z.infer<typeof traceWorkloadSchema>;

/**
 * Builds the access stream of a trace workload spec (validated here; InputError naming the field
 * on bad input). `baseDir` is the directory relative trace paths are resolved against — the
 * scenario file's directory.
 */
export function createTraceWorkload(
  spec: unknown,
  baseDir: string,
  field: readonly PropertyKey[] = ['workload'],
): AccessStream {
  const w = parseWith(traceWorkloadSchema, spec, field);
  if (w.compute_ns !== undefined && (w.cpi !== undefined || w.cpu_ghz !== undefined)) {
    throw new InputError(
      `${fieldPath([...field, 'compute_ns'])}: compute_ns (a constant per access) and ${w.cpi !== undefined ? 'cpi' : 'cpu_ghz'} (time from the trace's instructions) exclude each other; give one`,
    );
  }
  let stream: AccessStream;
  try {
    stream = createTraceStream(
      {
        path: w.trace,
        loop: w.loop ?? false,
        ...(w.compute_ns !== undefined ? { computeNs: w.compute_ns } : {}),
        ...(w.cpi !== undefined || w.cpu_ghz !== undefined
          ? {
              instructionModel: {
                ...(w.cpi !== undefined ? { cpi: w.cpi } : {}),
                ...(w.cpu_ghz !== undefined ? { cpuGhz: w.cpu_ghz } : {}),
              },
            }
          : {}),
        ...(w.footprint !== undefined
          ? { footprintPages: bytesToPages(parseSize(w.footprint, 'footprint')) }
          : {}),
      },
      baseDir,
    );
  } catch (e) {
    if (e instanceof InputError)
      throw new InputError(`${fieldPath([...field, 'trace'])}: ${e.message}`, e.exitCode);
    throw e;
  }
  return w.accesses !== undefined ? new LimitStream(stream, w.accesses) : stream;
}
