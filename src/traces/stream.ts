import * as path from 'node:path';
import { InputError } from '../util/errors.js';
import {
  checkFillArgs,
  MAX_FOOTPRINT_PAGES,
  type AccessStream,
  type ComputeModel,
} from '../workloads/types.js';
import { PageIndex } from './page-index.js';
import { TraceReader } from './reader.js';

export interface TraceStreamOptions {
  /** Trace file (plain or gzip); relative paths are resolved against baseDir. */
  path: string;
  /** Start again from the first record when the trace ends (otherwise the stream ends). */
  loop: boolean;
  /** Virtual pages of the task; default: the trace's distinct pages. Smaller values fold (see below). */
  footprintPages?: number;
  /** Compute time between consecutive accesses, ns: a constant that overrides the trace's own time. */
  computeNs?: number;
  /** Timed traces: compute = instructions × cpi / cpuGhz (defaults below); excludes computeNs. */
  instructionModel?: { cpi?: number; cpuGhz?: number };
  /** The trace's own read/write bits are replayed; there is nothing to override. */
  writeRatioOverride?: never;
}

/**
 * Base cycles per instruction when a timed trace is replayed, memory stalls excluded (replay adds
 * them per miss). An assumption, not a measurement: docs/traces.md, "Compute time", says why 1.
 */
export const DEFAULT_CPI = 1;
/** Core clock, GHz: the engineering-sample Xeon Platinum 8260 (2.2 GHz) of the FAST'20 Optane study (docs/traces.md). */
export const DEFAULT_CPU_GHZ = 2.2;
/** Compute per access of an untimed trace given no compute_ns (what replay always charged). */
export const DEFAULT_COMPUTE_NS = 0;

/**
 * Replays a trace as an AccessStream.
 *
 * Address mapping: a trace holds a program's virtual addresses, spread over a 47-bit address space
 * with large holes; the simulated task has pages [0, footprint). A first streaming pass numbers
 * the trace's distinct pages (address / page size from the header) in order of first touch: the
 * first page the program touched becomes vpn 0, the second distinct one vpn 1, … so the default
 * footprint is exactly the number of distinct pages and no simulated page is never touched. A
 * footprint smaller than that folds: vpn = id mod footprint (pages first touched late share vpns
 * with early ones). A larger footprint leaves the pages above the distinct count untouched.
 *
 * Memory: the page numbering costs 24 bytes per distinct page (PageIndex); decoding holds one block.
 * Each pass re-reads the file, so a trace larger than memory replays in a loop without being held.
 */
export class TraceStream implements AccessStream {
  readonly footprintPages: number;
  /** Per block for the instruction model (its instructions × ns per instruction / its records). */
  computeNsPerAccess: number;
  readonly computeModel: ComputeModel;
  readonly phase = 'trace';
  /** Distinct pages in the trace. */
  readonly distinctPages: number;
  /** Records (accesses) in one pass over the trace. */
  readonly recordsPerPass: number;
  /** Completed passes (each time the end is reached). */
  passes = 0;

  private readonly reader: TraceReader;
  private readonly index: PageIndex;
  private readonly loop: boolean;
  private readonly unitsPerPage: number;
  /** The current block as encoded accesses, and how far fill() has got in it. */
  private enc = new Int32Array(0);
  private encLen = 0;
  private encPos = 0;
  private ended = false;
  /** ns per instruction of the instruction model; 0 for a constant. */
  private readonly nsPerInstruction: number;

  constructor(
    file: string,
    opts: {
      loop: boolean;
      footprintPages?: number;
      computeNs?: number;
      instructionModel?: { cpi?: number; cpuGhz?: number };
    },
  ) {
    const { computeNs, instructionModel } = opts;
    if (computeNs !== undefined && !(computeNs >= 0 && Number.isFinite(computeNs))) {
      throw new RangeError(`computeNs must be a finite number >= 0, got ${computeNs}`);
    }
    if (computeNs !== undefined && instructionModel !== undefined)
      throw new RangeError('computeNs and instructionModel exclude each other');
    const cpi = instructionModel?.cpi ?? DEFAULT_CPI;
    const ghz = instructionModel?.cpuGhz ?? DEFAULT_CPU_GHZ;
    if (!(cpi > 0 && Number.isFinite(cpi)))
      throw new RangeError(`cpi must be a finite number > 0, got ${cpi}`);
    if (!(ghz > 0 && Number.isFinite(ghz)))
      throw new RangeError(`cpuGhz must be a finite number > 0, got ${ghz}`);
    this.reader = TraceReader.open(file);
    if (computeNs !== undefined) {
      this.computeModel = { source: 'compute_ns', compute_ns: computeNs };
    } else if (this.reader.header.timed) {
      this.computeModel = { source: 'trace instructions', cpi, cpu_ghz: ghz, ns_per_instruction: cpi / ghz };
    } else {
      if (instructionModel !== undefined) {
        this.reader.close();
        throw new InputError(
          `${file}: the trace has no instruction counts (format version ${this.reader.header.version}), so cpi and cpu_ghz cannot apply; give compute_ns, or record it again`,
        );
      }
      this.computeModel = { source: 'default per access', compute_ns: DEFAULT_COMPUTE_NS };
    }
    const m = this.computeModel;
    this.nsPerInstruction = m.source === 'trace instructions' ? m.ns_per_instruction : 0;
    this.computeNsPerAccess = m.source === 'trace instructions' ? 0 : m.compute_ns;
    try {
      this.unitsPerPage = this.reader.unitsPerPage;
      this.index = new PageIndex();
      // First pass: number the pages in order of first touch.
      let lastPage = -1;
      while (this.reader.next() > 0) {
        const units = this.reader.units;
        for (let i = 0, n = this.reader.count; i < n; i++) {
          const page = Math.floor(units[i] / this.unitsPerPage);
          if (page !== lastPage) {
            this.index.insert(page);
            lastPage = page;
          }
        }
      }
      this.recordsPerPass = this.reader.recordsRead;
      this.distinctPages = this.index.size;
      if (this.recordsPerPass === 0) throw new InputError(`${file}: the trace has no records`);
      if (opts.footprintPages === undefined) {
        if (this.distinctPages > MAX_FOOTPRINT_PAGES) {
          throw new InputError(
            `${file}: the trace touches ${this.distinctPages} distinct pages, more than 2^30; set a footprint to fold them`,
          );
        }
        this.footprintPages = this.distinctPages;
      } else {
        const fp = opts.footprintPages;
        if (!(Number.isInteger(fp) && fp >= 1 && fp <= MAX_FOOTPRINT_PAGES)) {
          throw new RangeError(`footprintPages must be an integer in [1, 2^30], got ${fp}`);
        }
        this.footprintPages = fp;
      }
      this.reader.rewind();
    } catch (e) {
      this.reader.close();
      throw e;
    }
    this.loop = opts.loop;
  }

  fill(buf: Int32Array, maxCount: number): number {
    checkFillArgs(buf, maxCount);
    if (this.encPos === this.encLen && !this.loadBlock()) return 0;
    const n = Math.min(maxCount, this.encLen - this.encPos);
    buf.set(this.enc.subarray(this.encPos, this.encPos + n));
    this.encPos += n;
    return n;
  }

  /** Closes the file (and the in-process decompressor of a .gz trace); the stream then ends. */
  close(): void {
    this.ended = true;
    this.encLen = this.encPos = 0;
    this.reader.close();
  }

  /** Decodes the next block into `enc`; false when the stream has ended. */
  private loadBlock(): boolean {
    if (this.ended) return false;
    let n = this.reader.next();
    if (n === 0) {
      this.passes++;
      if (this.reader.recordsRead !== this.recordsPerPass) {
        throw new InputError(`${this.reader.name}: the trace changed while it was being replayed`);
      }
      if (!this.loop) {
        this.ended = true;
        return false;
      }
      this.reader.rewind();
      n = this.reader.next();
      if (n === 0) throw new InputError(`${this.reader.name}: the trace changed while it was being replayed`);
    }
    if (this.enc.length < n) this.enc = new Int32Array(n);
    const units = this.reader.units;
    const writes = this.reader.writes;
    const enc = this.enc;
    const upp = this.unitsPerPage;
    const fp = this.footprintPages;
    let lastPage = -1;
    let lastVpn = 0;
    for (let i = 0; i < n; i++) {
      const page = Math.floor(units[i] / upp);
      if (page !== lastPage) {
        const id = this.index.get(page);
        if (id < 0)
          throw new InputError(`${this.reader.name}: the trace changed while it was being replayed`);
        lastVpn = id < fp ? id : id % fp;
        lastPage = page;
      }
      enc[i] = (lastVpn << 1) | writes[i];
    }
    this.encLen = n;
    this.encPos = 0;
    // fill() never crosses a block, so one value holds for every access it returns.
    if (this.nsPerInstruction > 0)
      this.computeNsPerAccess = (this.reader.instructions * this.nsPerInstruction) / n;
    return true;
  }
}

/**
 * Builds the AccessStream of a trace workload. `opts.path` is resolved against `baseDir` (the
 * scenario file's directory) unless absolute. InputError if the trace is missing, damaged or empty.
 */
export function createTraceStream(opts: TraceStreamOptions, baseDir: string): TraceStream {
  const file = path.isAbsolute(opts.path) ? opts.path : path.resolve(baseDir, opts.path);
  return new TraceStream(file, {
    loop: opts.loop,
    ...(opts.computeNs !== undefined ? { computeNs: opts.computeNs } : {}),
    ...(opts.instructionModel !== undefined ? { instructionModel: opts.instructionModel } : {}),
    ...(opts.footprintPages !== undefined ? { footprintPages: opts.footprintPages } : {}),
  });
}
