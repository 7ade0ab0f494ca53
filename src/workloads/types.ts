/**
 * The stream of memory accesses a task replays. The engine pulls chunks with `fill()` into its own
 * Int32Array and walks them in a tight loop, so a generator's cost is paid once per chunk of calls,
 * never per access through an interface.
 */
export interface AccessStream {
  /** Virtual pages this stream may touch: [0, footprintPages). */
  readonly footprintPages: number;
  /**
   * Writes up to maxCount (≥ 1) encoded accesses into buf[0..): (vpn << 1) | (isWrite ? 1 : 0).
   * Returns how many were written; 0 means the stream has ended. May return fewer than maxCount
   * (e.g. at a phase boundary) so that computeNsPerAccess holds for everything returned by one call.
   */
  fill(buf: Int32Array, maxCount: number): number;
  /** Compute time (ns) the task spends between consecutive accesses, valid for the accesses returned by the latest fill(). */
  readonly computeNsPerAccess: number;
  /** Name of the current phase (for time series), e.g. "zipfian". */
  readonly phase: string;
  /** Where computeNsPerAccess comes from, for the summary; absent: the workload's compute_ns. */
  readonly computeModel?: ComputeModel;
  /**
   * Releases what the stream holds (a trace's open file); the stream then ends. Idempotent. Whoever
   * opens a stream closes it, in a `finally`, however the run ends.
   */
  close(): void;
}

/**
 * How a stream's compute time between accesses is derived (summary.json `vms[].compute_model`):
 * - 'compute_ns': the constant the scenario gave;
 * - 'trace instructions': a timed trace's instructions × cpi / cpu_ghz, per block of records;
 * - 'default per access': an untimed trace (format version 1) without compute_ns: the default constant.
 */
export type ComputeModel =
  | { source: 'compute_ns' | 'default per access'; compute_ns: number }
  | { source: 'trace instructions'; cpi: number; cpu_ghz: number; ns_per_instruction: number };

/** Largest footprint a stream may have: encoded accesses (vpn << 1 | w) must stay positive int32. */
export const MAX_FOOTPRINT_PAGES = 2 ** 30;

/** What every leaf generator (uniform, zipfian, hotset, sequential) is built from. */
export interface LeafOptions {
  /** Pages the generator spreads its accesses over: vpns in [0, pages). */
  pages: number;
  /** Fraction of accesses that are writes, in [0, 1]. */
  writeRatio: number;
  /** Compute time between consecutive accesses, ns. */
  computeNs: number;
}

/** Throws a RangeError unless fill()'s arguments are usable (once per chunk, not per access). */
export function checkFillArgs(buf: Int32Array, maxCount: number): void {
  if (!(maxCount >= 1 && maxCount <= buf.length && Number.isInteger(maxCount))) {
    throw new RangeError(`fill: maxCount must be an integer in [1, ${buf.length}], got ${maxCount}`);
  }
}

/** Throws a RangeError unless `opts` describe a usable leaf generator (programming errors, not user input). */
export function checkLeafOptions(opts: LeafOptions): void {
  const { pages, writeRatio, computeNs } = opts;
  if (!(Number.isInteger(pages) && pages >= 1 && pages <= MAX_FOOTPRINT_PAGES)) {
    throw new RangeError(`pages must be an integer in [1, 2^30], got ${pages}`);
  }
  if (!(writeRatio >= 0 && writeRatio <= 1))
    throw new RangeError(`writeRatio must be in [0, 1], got ${writeRatio}`);
  if (!(computeNs >= 0 && Number.isFinite(computeNs))) {
    throw new RangeError(`computeNs must be a finite number >= 0, got ${computeNs}`);
  }
}

/**
 * Runs a generator's loop over an empty range a few dozen times. V8 compiles a long loop while it
 * runs (on-stack replacement), before the code after the loop has ever executed with type
 * feedback — and a function only gets a feedback vector after several calls. Without feedback for
 * the state write-back after the loop, the compiled loop deoptimizes at every exit, and as that
 * code stays cached this happens on every chunk, costing more than the chunk itself (measured on
 * Node 20). Empty runs give every statement after the loop its feedback first.
 */
export function warmUp(run: () => unknown): void {
  for (let i = 0; i < 32; i++) run();
}
