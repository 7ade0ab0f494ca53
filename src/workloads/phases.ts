import { checkFillArgs, type AccessStream } from './types.js';

export interface Phase {
  /** Shown as the stream's `phase` while this phase runs. */
  name: string;
  /** Accesses the phase lasts (≥ 1). */
  accesses: number;
  /** Its generator; its footprint must fit in the phases stream's footprint. */
  stream: AccessStream;
}

/**
 * Runs each phase's generator for its number of accesses, then the next; with `repeat`, starts
 * over after the last (each generator resumes where it stopped, it is not rewound). fill() stops
 * at a phase boundary so that `phase` and `computeNsPerAccess` describe every access it returned.
 */
export class PhasesStream implements AccessStream {
  readonly footprintPages: number;
  readonly repeat: boolean;
  private readonly phases: readonly Phase[];
  private index = 0;
  private left: number;
  private current: Phase;

  constructor(phases: readonly Phase[], repeat: boolean, footprintPages: number) {
    if (phases.length === 0) throw new RangeError('phases: at least one phase is needed');
    for (const p of phases) {
      if (!(Number.isSafeInteger(p.accesses) && p.accesses >= 1)) {
        throw new RangeError(`phase ${p.name}: accesses must be an integer >= 1, got ${p.accesses}`);
      }
      if (p.stream.footprintPages > footprintPages) {
        throw new RangeError(
          `phase ${p.name}: footprint ${p.stream.footprintPages} exceeds ${footprintPages} pages`,
        );
      }
    }
    this.phases = phases;
    this.repeat = repeat;
    this.footprintPages = footprintPages;
    this.current = phases[0];
    this.left = phases[0].accesses;
  }

  get phase(): string {
    return this.current.name;
  }

  get computeNsPerAccess(): number {
    return this.current.stream.computeNsPerAccess;
  }

  /** Index of the phase the next access belongs to (phases.length once the stream has ended). */
  get phaseIndex(): number {
    return this.index;
  }

  close(): void {
    for (const p of this.phases) p.stream.close();
  }

  fill(buf: Int32Array, maxCount: number): number {
    checkFillArgs(buf, maxCount);
    // A phase whose generator has ended is skipped; if every phase has ended, so has this stream.
    let ended = 0;
    while (this.index < this.phases.length && ended <= this.phases.length) {
      const p = this.phases[this.index];
      this.current = p;
      const got = p.stream.fill(buf, Math.min(maxCount, this.left));
      this.left -= got;
      if (got > 0) {
        if (this.left === 0) this.advance();
        return got;
      }
      ended++;
      this.advance();
    }
    return 0;
  }

  private advance(): void {
    this.index++;
    if (this.index === this.phases.length && this.repeat) this.index = 0;
    if (this.index < this.phases.length) this.left = this.phases[this.index].accesses;
  }
}
