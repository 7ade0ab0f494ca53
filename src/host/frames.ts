import { MAX_FRAMES } from './pte.js';

/**
 * Every physical page frame of the host, indexed by a global page-frame number (pfn). A frame's
 * state is one 16-byte record of four int32 words in a single typed array, so that reclaim,
 * which visits frames in LRU order (random pfns), pays one cache miss per frame and not one
 * per field:
 *   prev, next  LRU list links (the free list reuses `next`)
 *   rmap        owner: global virtual page number of the mapping, or the owning memcg for
 *               unmovable kernel pages, or -1 when free
 *   meta        bits 0-7: PF_* flags below (the accessed, dirty and PROT_NONE bits live in the
 *               PTE); bits 8-31: `stamp`, the kernel's folio last_cpupid field (24 bits here,
 *               room for its 21): the last NUMA hint-fault cpupid or, in memory-tiering mode
 *               on slow nodes, the scan time in ms (mod 2^21)
 * Each node's frames start on a 2^16-frame boundary, so a frame's node is one shift and one
 * lookup in a table of a few bytes (`nodeOfChunk`); the frames between a node's end and the
 * next boundary are holes that are never allocated.
 * LRU lists are the kernel's per-lruvec (memcg × node) lists, doubly linked through the
 * frames as isaacs' lru-cache links entries through typed arrays.
 */

export const PF_REFERENCED = 2; // PG_referenced
export const PF_ACTIVE = 4; // PG_active
export const PF_FILE = 8; // page-cache page (else swap-backed anon)
export const PF_UNEVICTABLE = 64; // mlocked or otherwise unevictable user page
export const PF_KERNEL = 128; // unmovable kernel allocation (slab); on no LRU list

export const LRU_INACTIVE_ANON = 0;
export const LRU_ACTIVE_ANON = 1;
export const LRU_INACTIVE_FILE = 2;
export const LRU_ACTIVE_FILE = 3;
export const LRU_UNEVICTABLE = 4;
export const NR_LRU_LISTS = 5;
export const LRU_NAMES = [
  'inactive_anon',
  'active_anon',
  'inactive_file',
  'active_file',
  'unevictable',
] as const;

/** int32 words per frame: prev, next, rmap, meta (flags | stamp << 8). */
const FRAME_WORDS = 4;
export const BYTES_PER_FRAME = FRAME_WORDS * 4;
export const NODE_CHUNK_SHIFT = 16;
/** Nodes a simulated host may have: a frame's node is one byte (`nodeOfChunk`). */
export const MAX_HOST_NODES = 255;

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
  /** One past the last pfn of each node (nodeStart[n] + its pages). */
  readonly nodeEnd: Int32Array;
  /** Node of each 2^NODE_CHUNK_SHIFT-frame chunk. */
  readonly nodeOfChunk: Uint8Array;
  /** The frame records: word[4p + 0..3] = prev, next, rmap, meta of pfn p. */
  private readonly word: Int32Array;

  readonly freeHead: Int32Array;
  readonly freeCount: Float64Array;

  /** Per LRU list (lruvec × lru): head (most recent), tail (oldest), size. */
  readonly lruHead: Int32Array;
  readonly lruTail: Int32Array;
  readonly lruSize: Int32Array;

  constructor(nodePages: readonly number[], memcgs: number) {
    if (nodePages.length > MAX_HOST_NODES) throw new Error(`at most ${MAX_HOST_NODES} nodes`);
    this.nodes = nodePages.length;
    this.memcgs = memcgs;
    this.nodeStart = new Int32Array(this.nodes + 1);
    this.nodeEnd = new Int32Array(this.nodes);
    const chunk = 2 ** NODE_CHUNK_SHIFT;
    let total = 0;
    for (let n = 0; n < this.nodes; n++) {
      this.nodeStart[n] = total;
      this.nodeEnd[n] = total + nodePages[n];
      total += Math.ceil(nodePages[n] / chunk) * chunk;
    }
    if (total > MAX_FRAMES)
      throw new Error(`host too large: at most ${MAX_FRAMES} frames (1 TiB of 4 KiB pages)`);
    this.nodeStart[this.nodes] = total;
    this.totalFrames = total;
    this.nodeOfChunk = new Uint8Array(Math.max(1, total / chunk));
    for (let n = 0; n < this.nodes; n++)
      this.nodeOfChunk.fill(n, this.nodeStart[n] / chunk, this.nodeStart[n + 1] / chunk);
    this.word = new Int32Array(total * FRAME_WORDS);
    for (let p = 0; p < total; p++) this.word[p * FRAME_WORDS + 2] = -1; // rmap: free
    this.freeHead = new Int32Array(this.nodes).fill(-1);
    this.freeCount = new Float64Array(this.nodes);
    for (let n = 0; n < this.nodes; n++) {
      const start = this.nodeStart[n];
      const end = this.nodeEnd[n];
      // Free list in ascending pfn order: allocation order is then easy to reason about.
      for (let p = start; p < end; p++) this.setNext(p, p + 1 < end ? p + 1 : -1);
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
    return this.nodeEnd[n] - this.nodeStart[n];
  }

  /** The node a frame belongs to. */
  nodeOf(p: number): number {
    return this.nodeOfChunk[p >>> NODE_CHUNK_SHIFT];
  }

  // Field accessors. p < 2^28 (MAX_FRAMES), so 4p stays a positive int32.

  private prevOf(p: number): number {
    return this.word[p << 2];
  }

  private setPrev(p: number, v: number): void {
    this.word[p << 2] = v;
  }

  private nextOf(p: number): number {
    return this.word[(p << 2) | 1];
  }

  private setNext(p: number, v: number): void {
    this.word[(p << 2) | 1] = v;
  }

  /** Owner of frame p: global virtual page, owning memcg (kernel page) or -1 (free). */
  rmapOf(p: number): number {
    return this.word[(p << 2) | 2];
  }

  setRmap(p: number, g: number): void {
    this.word[(p << 2) | 2] = g;
  }

  /** PF_* flags of frame p. */
  flagsOf(p: number): number {
    return this.word[(p << 2) | 3] & 0xff;
  }

  setFlags(p: number, f: number): void {
    const i = (p << 2) | 3;
    this.word[i] = (this.word[i] & ~0xff) | f;
  }

  /** The last_cpupid field of frame p (24 bits). */
  stampOf(p: number): number {
    return this.word[(p << 2) | 3] >>> 8;
  }

  /** Sets the last_cpupid field of frame p; s < 2^24. */
  setStamp(p: number, s: number): void {
    const i = (p << 2) | 3;
    this.word[i] = (this.word[i] & 0xff) | (s << 8);
  }

  listId(memcg: number, node: number, lru: number): number {
    return (memcg * this.nodes + node) * NR_LRU_LISTS + lru;
  }

  /** Takes a free frame from a node; -1 if none. The caller sets rmap/flags. */
  takeFree(n: number): number {
    const p = this.freeHead[n];
    if (p < 0) return -1;
    this.freeHead[n] = this.nextOf(p);
    this.freeCount[n]--;
    this.setNext(p, -1);
    this.setPrev(p, -1);
    return p;
  }

  putFree(p: number): void {
    const n = this.nodeOfChunk[p >>> NODE_CHUNK_SHIFT];
    const i = p << 2;
    this.word[i] = -1; // prev
    this.word[i | 1] = this.freeHead[n]; // next
    this.word[i | 2] = -1; // rmap
    this.word[i | 3] = 0; // flags and stamp
    this.freeHead[n] = p;
    this.freeCount[n]++;
  }

  /** Adds at the head (the young end), as lru_cache_add does. */
  addHead(list: number, p: number): void {
    const h = this.lruHead[list];
    this.setPrev(p, -1);
    this.setNext(p, h);
    if (h >= 0) this.setPrev(h, p);
    else this.lruTail[list] = p;
    this.lruHead[list] = p;
    this.lruSize[list]++;
  }

  remove(list: number, p: number): void {
    const pr = this.prevOf(p);
    const nx = this.nextOf(p);
    if (pr >= 0) this.setNext(pr, nx);
    else this.lruHead[list] = nx;
    if (nx >= 0) this.setPrev(nx, pr);
    else this.lruTail[list] = pr;
    this.setPrev(p, -1);
    this.setNext(p, -1);
    this.lruSize[list]--;
  }

  /** The record word of frame p that holds its flags and stamp, for callers that prefetch. */
  metaWord(p: number): number {
    return this.word[(p << 2) | 3];
  }

  /**
   * The owners (rmap) of up to n pages from the tail of `list`, oldest first, into `out`;
   * returns how many. Changes nothing: reclaim reads them before it isolates those pages, to
   * load what it will need for each (PTE, ledger entry) while the loads can still overlap.
   */
  tailOwners(list: number, n: number, out: Int32Array): number {
    let k = 0;
    for (let p = this.lruTail[list]; k < n && p >= 0; p = this.prevOf(p)) out[k++] = this.rmapOf(p);
    return k;
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
      for (let p = this.freeHead[n]; p >= 0; p = this.nextOf(p)) {
        if (seen[p]) return `pfn ${p} is on the free list twice or on two lists`;
        seen[p] = 1;
        if (this.nodeOf(p) !== n || p >= this.nodeEnd[n])
          return `pfn ${p} of node ${this.nodeOf(p)} on node ${n}'s free list`;
        if (this.rmapOf(p) !== -1) return `free pfn ${p} has an owner`;
        count++;
        if (count > this.totalFrames) return `free list of node ${n} loops`;
      }
      if (count !== this.freeCount[n]) return `node ${n} free count ${this.freeCount[n]} != ${count} on list`;
    }
    for (let list = 0; list < this.lruHead.length; list++) {
      let count = 0;
      let prev = -1;
      for (let p = this.lruHead[list]; p >= 0; p = this.nextOf(p)) {
        if (seen[p]) return `pfn ${p} is on two lists (second: list ${list})`;
        seen[p] = 1;
        if (this.prevOf(p) !== prev) return `pfn ${p} has a broken prev link on list ${list}`;
        const f = this.flagsOf(p);
        if ((f & PF_KERNEL) !== 0) return `kernel pfn ${p} on LRU list ${list}`;
        const want = this.listId(memcgOfUserPage(p), this.nodeOf(p), lruOfFlags(f));
        if (want !== list) return `pfn ${p} is on list ${list} but its flags/node/memcg say ${want}`;
        prev = p;
        count++;
      }
      if (this.lruTail[list] !== prev) return `list ${list} tail mismatch`;
      if (count !== this.lruSize[list]) return `list ${list} size ${this.lruSize[list]} != ${count}`;
    }
    for (let n = 0; n < this.nodes; n++) {
      for (let p = this.nodeStart[n]; p < this.nodeEnd[n]; p++) {
        if (seen[p]) continue;
        if ((this.flagsOf(p) & PF_KERNEL) === 0)
          return `pfn ${p} is neither free, on an LRU list, nor kernel memory`;
      }
      for (let p = this.nodeEnd[n]; p < this.nodeStart[n + 1]; p++) {
        if (seen[p] || this.rmapOf(p) !== -1) return `pfn ${p} is in the hole after node ${n} but in use`;
      }
    }
    return null;
  }
}
