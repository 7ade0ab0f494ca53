import { fmix32 } from '../util/hash.js';

/**
 * Dense numbering of page numbers: the first page inserted gets 0, the next new one 1, and so on
 * (order of first touch). Page numbers are integers below 2^50 held in doubles, which a JS Map
 * could key too, but a Map stops at 2^24 entries and costs ~80 bytes per entry; this open-addressing
 * table (linear probing, load ≤ 1/2) costs 24 bytes per page and has no such cap below 2^30 pages.
 */
export class PageIndex {
  private keys: Float64Array;
  private ids: Int32Array;
  private mask: number;
  private used = 0;

  constructor(initialCapacity = 1 << 16) {
    let cap = 16;
    while (cap < initialCapacity * 2) cap *= 2;
    this.keys = new Float64Array(cap).fill(-1);
    this.ids = new Int32Array(cap);
    this.mask = cap - 1;
  }

  /** Distinct pages inserted. */
  get size(): number {
    return this.used;
  }

  /** The page's id, or -1 if it was never inserted. */
  get(page: number): number {
    const keys = this.keys;
    let i = slot(page) & this.mask;
    for (;;) {
      const k = keys[i];
      if (k === page) return this.ids[i];
      if (k === -1) return -1;
      i = (i + 1) & this.mask;
    }
  }

  /** The page's id, giving it the next id if it is new. */
  insert(page: number): number {
    const keys = this.keys;
    let i = slot(page) & this.mask;
    for (;;) {
      const k = keys[i];
      if (k === page) return this.ids[i];
      if (k === -1) break;
      i = (i + 1) & this.mask;
    }
    const id = this.used++;
    keys[i] = page;
    this.ids[i] = id;
    if (this.used * 2 > keys.length) this.grow();
    return id;
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldIds = this.ids;
    const cap = oldKeys.length * 2;
    this.keys = new Float64Array(cap).fill(-1);
    this.ids = new Int32Array(cap);
    this.mask = cap - 1;
    for (let j = 0; j < oldKeys.length; j++) {
      const k = oldKeys[j];
      if (k === -1) continue;
      let i = slot(k) & this.mask;
      while (this.keys[i] !== -1) i = (i + 1) & this.mask;
      this.keys[i] = k;
      this.ids[i] = oldIds[j];
    }
  }
}

/** Hash of a non-negative integer below 2^53: the two 32-bit halves combined, then murmur3's fmix32 finaliser. */
function slot(page: number): number {
  const lo = page >>> 0;
  const hi = (page / 4294967296) >>> 0;
  return fmix32(lo ^ Math.imul(hi, 0x9e3779b1));
}
