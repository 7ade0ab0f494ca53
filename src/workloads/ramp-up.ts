import { checkFillArgs, type AccessStream } from './types.js';

/** The reach grows in this many equal steps (it is constant within a step). */
export const RAMP_STEPS = 1024;

/**
 * Footprint ramp-up: a process that allocates as it starts. During the first R accesses only the
 * pages [0, reach) exist; an access the inner generator aims at vpn ≥ reach goes to vpn mod reach.
 * reach starts at max(1, ⌈N / 100⌉) and grows linearly to N: for the step of accesses
 * [j·L, (j+1)·L), L = ⌈R / RAMP_STEPS⌉, reach = start + ⌊(N - start) · j·L / R⌋ — never more than
 * the linear value at any access of the step. fill() stops at step boundaries, so the result does
 * not depend on the chunk sizes the caller asks for.
 */
export class RampUpStream implements AccessStream {
  readonly footprintPages: number;
  readonly rampAccesses: number;
  readonly startPages: number;
  private readonly inner: AccessStream;
  private readonly stepLen: number;
  private done = 0;
  private reach: number;

  constructor(inner: AccessStream, rampAccesses: number) {
    if (!(Number.isSafeInteger(rampAccesses) && rampAccesses >= 1)) {
      throw new RangeError(`ramp_up_accesses must be an integer >= 1, got ${rampAccesses}`);
    }
    this.inner = inner;
    this.footprintPages = inner.footprintPages;
    this.rampAccesses = rampAccesses;
    this.startPages = Math.max(1, Math.ceil(this.footprintPages / 100));
    this.stepLen = Math.ceil(rampAccesses / RAMP_STEPS);
    this.reach = this.startPages;
  }

  get phase(): string {
    return this.inner.phase;
  }

  get computeNsPerAccess(): number {
    return this.inner.computeNsPerAccess;
  }

  /** Pages reachable by the accesses returned by the latest fill() (the footprint once ramped up). */
  get reachPages(): number {
    return this.reach;
  }

  /** The reach in force at 0-based access index k. */
  reachAt(k: number): number {
    if (k >= this.rampAccesses) return this.footprintPages;
    const stepStart = Math.floor(k / this.stepLen) * this.stepLen;
    // Exact integer arithmetic: the product may pass 2^53. Runs once per fill, not per access.
    const grow = BigInt(this.footprintPages - this.startPages);
    return this.startPages + Number((grow * BigInt(stepStart)) / BigInt(this.rampAccesses));
  }

  close(): void {
    this.inner.close();
  }

  fill(buf: Int32Array, maxCount: number): number {
    checkFillArgs(buf, maxCount);
    if (this.done >= this.rampAccesses) {
      this.reach = this.footprintPages;
      return this.inner.fill(buf, maxCount);
    }
    const stepEnd = Math.min(this.rampAccesses, (Math.floor(this.done / this.stepLen) + 1) * this.stepLen);
    const reach = this.reachAt(this.done);
    const got = this.inner.fill(buf, Math.min(maxCount, stepEnd - this.done));
    remap(buf, got, reach);
    this.done += got;
    this.reach = reach;
    return got;
  }
}

/** vpn → vpn mod reach for the accesses in buf[0..count), keeping the write bits. */
function remap(buf: Int32Array, count: number, reach: number): void {
  for (let i = 0; i < count; i++) {
    const e = buf[i];
    const v = e >>> 1;
    if (v >= reach) buf[i] = ((v % reach) << 1) | (e & 1);
  }
}
