import { checkFillArgs, type AccessStream, type ComputeModel } from './types.js';

/** Ends `inner` after `total` accesses (the workload's `accesses` field). */
export class LimitStream implements AccessStream {
  readonly footprintPages: number;
  private readonly inner: AccessStream;
  private left: number;

  constructor(inner: AccessStream, total: number) {
    if (!(Number.isSafeInteger(total) && total >= 1)) {
      throw new RangeError(`accesses must be an integer >= 1, got ${total}`);
    }
    this.inner = inner;
    this.left = total;
    this.footprintPages = inner.footprintPages;
  }

  get phase(): string {
    return this.inner.phase;
  }

  get computeModel(): ComputeModel | undefined {
    return this.inner.computeModel;
  }

  get computeNsPerAccess(): number {
    return this.inner.computeNsPerAccess;
  }

  /** Accesses still to come. */
  get remaining(): number {
    return this.left;
  }

  close(): void {
    this.inner.close();
  }

  fill(buf: Int32Array, maxCount: number): number {
    checkFillArgs(buf, maxCount);
    if (this.left === 0) return 0;
    const got = this.inner.fill(buf, Math.min(maxCount, this.left));
    this.left -= got;
    return got;
  }
}
