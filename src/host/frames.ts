/**
 * Every physical page frame of the host, in typed arrays indexed by a global page-frame
 * number (pfn). Frames of one node are contiguous. State per frame is 16 bytes:
 *   prev, next  Int32   LRU list links (the free list reuses `next`)
 *   rmap        Int32   owner: global virtual page number of the mapping, or the owning memcg
 *                      for unmovable kernel pages, or -1 when free
 *   stamp       Uint16  the kernel's folio last_cpupid field: the last NUMA hint-fault cpupid,
 *                      or, in memory-tiering mode on slow nodes, the scan time in ms (mod 2^16)
 *   flags       Uint8   PF_* bits below
 *   node        Uint8   dense node index
 * LRU lists are the kernel's per-lruvec (memcg × node) lists, doubly linked through the
 * frames as isaacs' lru-cache links entries through typed arrays.
 */

export const PF_YOUNG = 1; // PTE accessed bit: set by every access, cleared by LRU scans
export const PF_REFERENCED = 2; // PG_referenced
export const PF_ACTIVE = 4; // PG_active
export const PF_FILE = 8; // page-cache page (else swap-backed anon)
export const PF_DIRTY = 16; // written since it was last clean; PF_DIRTY === 1 << 4 is used by the hot path
export const PF_PROTNONE = 32; // PTE made PROT_NONE by the NUMA-balancing scanner
export const PF_UNEVICTABLE = 64; // mlocked or otherwise unevictable user page
export const PF_KERNEL = 128; // unmovable kernel allocation (slab); on no LRU list

export const LRU_INACTIVE_ANON = 0;
export const LRU_ACTIVE_ANON = 1;
export const LRU_INACTIVE_FILE = 2;
export const LRU_ACTIVE_FILE = 3;
export const LRU_UNEVICTABLE = 4;
export const NR_LRU_LISTS = 5;
export const LRU_NAMES = ['inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable'] as const;

export const BYTES_PER_FRAME = 4 + 4 + 4 + 2 + 1 + 1;

/** Which LRU list a user page's flags put it on. */
export function lruOfFlags(f: number): number {
  if ((f & PF_UNEVICTABLE) !== 0) return LRU_UNEVICTABLE;
  return ((f & PF_FILE) !== 0 ? 2 : 0) + ((f & PF_ACTIVE) !== 0 ? 1 : 0);
}

export class FrameTable {
  readonly nodes: number;
  readonly memcgs: number;
  readonly totalFrames: number;
  /** First pfn of each node, plus a sentinel at [nodes]. */
  readonly nodeStart: Int32Array;
  readonly prev: Int32Array;
  readonly next: Int32Array;
  readonly rmap: Int32Array;
  readonly stamp: Uint16Array;
  readonly flags: Uint8Array;
  readonly node: Uint8Array;

  readonly freeHead: Int32Array;
  readonly freeCount: Float64Array;

  /** Per LRU list (lruvec × lru): head (most recent), tail (oldest), size. */
  readonly lruHead: Int32Array;
  readonly lruTail: Int32Array;
  readonly lruSize: Int32Array;

  constructor(nodePages: readonly number[], memcgs: number) {
    if (nodePages.length > 255) throw new Error('at most 255 nodes');
    this.nodes = nodePages.length;
    this.memcgs = memcgs;
    this.nodeStart = new Int32Array(this.nodes + 1);
    let total = 0;
    for (let n = 0; n < this.nodes; n++) {
      this.nodeStart[n] = total;
      total += nodePages[n];
    }
    if (total >= 2 ** 31 - 1) throw new Error('host too large for 32-bit frame numbers');
    this.nodeStart[this.nodes] = total;
    this.totalFrames = total;
    this.prev = new Int32Array(total);
    this.next = new Int32Array(total);
    this.rmap = new Int32Array(total).fill(-1);
    this.stamp = new Uint16Array(total);
    this.flags = new Uint8Array(total);
    this.node = new Uint8Array(total);
    this.freeHead = new Int32Array(this.nodes).fill(-1);
    this.freeCount = new Float64Array(this.nodes);
    for (let n = 0; n < this.nodes; n++) {
      const start = this.nodeStart[n];
      const end = this.nodeStart[n + 1];
      this.node.fill(n, start, end);
      // Free list in ascending pfn order: allocation order is then easy to reason about.
      for (let p = start; p < end; p++) this.next[p] = p + 1 < end ? p + 1 : -1;
      this.freeHead[n] = end > start ? start : -1;
      this.freeCount[n] = end - start;
    }
    const lists = memcgs * this.nodes * NR_LRU_LISTS;
    this.lruHead = new Int32Array(lists).fill(-1);
    this.lruTail = new Int32Array(lists).fill(-1);
    this.lruSize = new Int32Array(lists);
  }

  stateBytes(): number {
    return this.totalFrames * BYTES_PER_FRAME;
  }

  nodePages(n: number): number {
    return this.nodeStart[n + 1] - this.nodeStart[n];
  }

  listId(memcg: number, node: number, lru: number): number {
    return (memcg * this.nodes + node) * NR_LRU_LISTS + lru;
  }

  /** Takes a free frame from a node; -1 if none. The caller sets rmap/flags. */
  takeFree(n: number): number {
    const p = this.freeHead[n];
    if (p < 0) return -1;
    this.freeHead[n] = this.next[p];
    this.freeCount[n]--;
    this.next[p] = -1;
    this.prev[p] = -1;
    return p;
  }

  putFree(p: number): void {
    const n = this.node[p];
    this.rmap[p] = -1;
    this.flags[p] = 0;
    this.stamp[p] = 0;
    this.prev[p] = -1;
    this.next[p] = this.freeHead[n];
    this.freeHead[n] = p;
    this.freeCount[n]++;
  }

  /** Adds at the head (the young end), as lru_cache_add does. */
  addHead(list: number, p: number): void {
    const h = this.lruHead[list];
    this.prev[p] = -1;
    this.next[p] = h;
    if (h >= 0) this.prev[h] = p;
    else this.lruTail[list] = p;
    this.lruHead[list] = p;
    this.lruSize[list]++;
  }

  remove(list: number, p: number): void {
    const pr = this.prev[p];
    const nx = this.next[p];
    if (pr >= 0) this.next[pr] = nx;
    else this.lruHead[list] = nx;
    if (nx >= 0) this.prev[nx] = pr;
    else this.lruTail[list] = pr;
    this.prev[p] = -1;
    this.next[p] = -1;
    this.lruSize[list]--;
  }

  /**
   * Integrity check for tests (as lru-cache's verify): every frame is either free (on its node's
   * free list), a kernel page (on no list), or a user page on exactly the list its flags, node
   * and memcg say; list sizes and links agree. Returns a description of the first problem.
   */
  verify(memcgOfUserPage: (p: number) => number): string | null {
    const seen = new Uint8Array(this.totalFrames);
    for (let n = 0; n < this.nodes; n++) {
      let count = 0;
      for (let p = this.freeHead[n]; p >= 0; p = this.next[p]) {
        if (seen[p]) return `pfn ${p} is on the free list twice or on two lists`;
        seen[p] = 1;
        if (this.node[p] !== n) return `pfn ${p} of node ${this.node[p]} on node ${n}'s free list`;
        if (this.rmap[p] !== -1) return `free pfn ${p} has an owner`;
        count++;
        if (count > this.totalFrames) return `free list of node ${n} loops`;
      }
      if (count !== this.freeCount[n]) return `node ${n} free count ${this.freeCount[n]} != ${count} on list`;
    }
    for (let list = 0; list < this.lruHead.length; list++) {
      let count = 0;
      let prev = -1;
      for (let p = this.lruHead[list]; p >= 0; p = this.next[p]) {
        if (seen[p]) return `pfn ${p} is on two lists (second: list ${list})`;
        seen[p] = 1;
        if (this.prev[p] !== prev) return `pfn ${p} has a broken prev link on list ${list}`;
        const f = this.flags[p];
        if ((f & PF_KERNEL) !== 0) return `kernel pfn ${p} on LRU list ${list}`;
        const want = this.listId(memcgOfUserPage(p), this.node[p], lruOfFlags(f));
        if (want !== list) return `pfn ${p} is on list ${list} but its flags/node/memcg say ${want}`;
        prev = p;
        count++;
      }
      if (this.lruTail[list] !== prev) return `list ${list} tail mismatch`;
      if (count !== this.lruSize[list]) return `list ${list} size ${this.lruSize[list]} != ${count}`;
    }
    for (let p = 0; p < this.totalFrames; p++) {
      if (seen[p]) continue;
      if ((this.flags[p] & PF_KERNEL) === 0) return `pfn ${p} is neither free, on an LRU list, nor kernel memory`;
    }
    return null;
  }
}
