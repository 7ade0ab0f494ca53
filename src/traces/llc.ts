/**
 * The last-level cache filter, the same model as the Valgrind tool's (native/valgrind-tool/nt_llc.h)
 * so that a trace filtered here and one filtered in the recorder agree record for record:
 * set-associative, exact LRU, 64-byte lines, write-back with write-allocate. What leaves it is what
 * memory sees: a write record for each dirty line evicted, then a read record for the line filled,
 * on every miss; flush() writes back every line still dirty (in set, then recency order) when the
 * program ends.
 */
export class LlcFilter {
  readonly sets: number;
  readonly ways: number;
  /** line * 2 + dirty, or -1 for an empty way; each set's ways in recency order (0 = most recent). */
  private readonly entries: Float64Array;
  private readonly emit: (line: number, isWrite: boolean) => void;

  constructor(sizeBytes: number, ways: number, emit: (line: number, isWrite: boolean) => void) {
    if (!(Number.isInteger(ways) && ways >= 1 && ways <= 1024))
      throw new RangeError(`ways must be an integer in [1, 1024], got ${ways}`);
    if (!(Number.isSafeInteger(sizeBytes) && sizeBytes > 0 && sizeBytes % (64 * ways) === 0)) {
      throw new RangeError(
        `cache size must be a positive multiple of 64 * ways (${64 * ways}), got ${sizeBytes}`,
      );
    }
    this.sets = sizeBytes / (64 * ways);
    this.ways = ways;
    this.entries = new Float64Array(this.sets * ways).fill(-1);
    this.emit = emit;
  }

  /** One access to a 64-byte line (line = address >> 6, below 2^50). */
  access(line: number, isWrite: boolean): void {
    const ways = this.ways;
    const base = (line % this.sets) * ways;
    const e = this.entries;
    const key = line * 2;
    const w = isWrite ? 1 : 0;
    for (let i = 0; i < ways; i++) {
      const v = e[base + i];
      if (v === key || v === key + 1) {
        const nv = v === key + 1 ? v : key + w;
        for (let j = i; j > 0; j--) e[base + j] = e[base + j - 1];
        e[base] = nv;
        return;
      }
    }
    const victim = e[base + ways - 1];
    if (victim !== -1 && victim % 2 === 1) this.emit((victim - 1) / 2, true);
    for (let j = ways - 1; j > 0; j--) e[base + j] = e[base + j - 1];
    e[base] = key + w;
    this.emit(line, false);
  }

  /** Writes back every dirty line (the program has ended). */
  flush(): void {
    const e = this.entries;
    for (let i = 0; i < e.length; i++) {
      const v = e[i];
      if (v !== -1 && v % 2 === 1) {
        this.emit((v - 1) / 2, true);
        e[i] = v - 1;
      }
    }
  }
}
