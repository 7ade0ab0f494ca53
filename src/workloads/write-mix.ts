/**
 * Read/write mix, shared by the generators. Each access takes one more 32-bit draw for its write
 * decision, whatever the ratio, so the pages a workload touches do not depend on its write ratio.
 * The access is a write iff (draw >>> 1) ≤ T with T = round(writeRatio · 2^31) - 1: probability
 * exactly round(writeRatio · 2^31) / 2^31, never for 0, always for 1, and inside a loop a
 * branch-free `((T - (r >>> 1)) >>> 31) ^ 1`.
 */
export function writeThreshold(writeRatio: number): number {
  if (!(writeRatio >= 0 && writeRatio <= 1))
    throw new RangeError(`writeRatio must be in [0, 1], got ${writeRatio}`);
  return Math.round(writeRatio * 2 ** 31) - 1;
}

/** The write bit (0 or 1) for draw r (uint32 or int32) under threshold T (reference for the loops). */
export function writeBit(r: number, threshold: number): number {
  return r >>> 1 <= threshold ? 1 : 0;
}
