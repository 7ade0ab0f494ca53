import { InputError } from './errors.js';
import { fmix32 } from './hash.js';

/**
 * Seeded pseudo-random numbers for everything numatier randomises.
 *
 * Generator: xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number generators",
 * 2018/2021): 128 bits of state, period 2^128 - 1, 32-bit output, all in 32-bit integer math
 * (Math.imul, shifts, xor), so V8 keeps it in registers.
 *
 * Seeding: the seed (integer, bigint or string) is hashed into a 128-bit *key*; the generator
 * state is derived from the key with splitmix32-style finalisation (murmur3 fmix32). `fork(label)`
 * hashes the key with the label into a new key: the child's stream depends only on the parent's
 * seed and the label, never on how many numbers the parent has drawn, so adding a VM (a new label)
 * does not shift any other VM's stream.
 *
 * Hot loops (workload generators) copy `state` into four locals, inline the step below, and write
 * the locals back after each chunk; the step must stay identical to `nextU32()`:
 *
 *   m = Math.imul(s1, 5); r = Math.imul((m << 7) | (m >>> 25), 9);      // output, as int32
 *   t = s1 << 9; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
 *
 * (test/rng.test.ts checks `nextU32` against the published xoshiro128** reference values; the
 * workload tests check every inlined copy against `nextU32`.)
 */
export class Rng {
  /** xoshiro128** state s0..s3 as int32. Generators may read and write it between chunks. */
  readonly state: Int32Array = new Int32Array(4);
  /** The 128-bit key this stream was derived from; `fork` hashes it with a label. */
  private readonly key: Int32Array = new Int32Array(4);

  constructor(seed: number | bigint | string) {
    setKey(this.key, hashWords(seedWords(seed)));
    deriveState(this.key, this.state);
  }

  /** Builds a generator straight from a raw xoshiro128** state (tests, reference vectors). */
  static fromState(s0: number, s1: number, s2: number, s3: number): Rng {
    const r = new Rng(0);
    r.state[0] = s0;
    r.state[1] = s1;
    r.state[2] = s2;
    r.state[3] = s3;
    if ((s0 | s1 | s2 | s3) === 0) throw new RangeError('xoshiro128** state must not be all zero');
    return r;
  }

  /** Next 32 random bits as an unsigned integer in [0, 2^32). */
  nextU32(): number {
    const st = this.state;
    const s0 = st[0];
    const s1 = st[1];
    const m = Math.imul(s1, 5);
    const r = Math.imul((m << 7) | (m >>> 25), 9);
    const s2 = st[2] ^ s0;
    const s3 = st[3] ^ s1;
    st[0] = s0 ^ s3;
    st[1] = s1 ^ s2;
    st[2] = s2 ^ (s1 << 9);
    st[3] = (s3 << 11) | (s3 >>> 21);
    return r >>> 0;
  }

  /** A double in [0, 1) with 53 random bits (two draws). */
  nextFloat(): number {
    const hi = this.nextU32() >>> 5; // 27 bits
    const lo = this.nextU32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /**
   * A uniform integer in [0, n), n an integer in [1, 2^32]. Exactly unbiased: Lemire's
   * multiply-high method ("Fast random integer generation in an interval", 2019) rejects the
   * 2^32 mod n low products that would make some results more likely; the high 32 bits of the
   * 64-bit product are computed exactly from 16-bit halves (doubles are exact below 2^53).
   */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) {
      throw new RangeError(`Rng.nextInt: n must be an integer in [1, 2^32], got ${n}`);
    }
    if (n === 4294967296) return this.nextU32();
    const reject = 4294967296 % n;
    for (;;) {
      const r = this.nextU32();
      if (Math.imul(r, n) >>> 0 >= reject) return mulHigh32(r, n);
    }
  }

  /**
   * An independent stream named `label`, derived from this stream's seed (not its current
   * position). The same seed and label always give the same stream; forking again with the same
   * label gives the same stream again, so each purpose needs its own label.
   */
  fork(label: string): Rng {
    const words = [0x666f726b, this.key[0], this.key[1], this.key[2], this.key[3], ...stringWords(label)];
    const child = new Rng(0);
    setKey(child.key, hashWords(words));
    deriveState(child.key, child.state);
    return child;
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<A extends { length: number; [index: number]: unknown }>(items: A): A {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const t = items[i];
      items[i] = items[j];
      items[j] = t;
    }
    return items;
  }

  /** A uniformly chosen element of a non-empty list. */
  pick<T>(items: ArrayLike<T>): T {
    if (items.length === 0) throw new RangeError('Rng.pick: the list is empty');
    return items[this.nextInt(items.length)];
  }
}

/** floor(r * n / 2^32) exactly, for r in [0, 2^32) and n in [1, 2^32). */
export function mulHigh32(r: number, n: number): number {
  const rh = r >>> 16;
  const rl = r & 0xffff;
  return Math.floor((rh * n + Math.floor((rl * n) / 65536)) / 65536);
}

// Per-lane starting values and multipliers: four independently mixed 32-bit lanes make the key.
const LANE_INIT = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344];
const LANE_MUL = [0x9e3779b1, 0x85ebca77, 0xc2b2ae3d, 0x27d4eb2f];

/** Hashes a word sequence into 128 bits (four lanes), length-terminated. */
function hashWords(words: readonly number[]): Int32Array {
  const h = Int32Array.from(LANE_INIT);
  for (const w of words) {
    for (let j = 0; j < 4; j++) {
      let x = h[j] ^ Math.imul(w, LANE_MUL[j]);
      x = (x << 13) | (x >>> 19);
      h[j] = (Math.imul(x, 5) + 0xe6546b64) | 0;
    }
  }
  for (let j = 0; j < 4; j++) h[j] = fmix32(h[j] ^ words.length ^ Math.imul(j + 1, 0x9e3779b9));
  // Cross-lane mixing so every lane depends on all four.
  const [a, b, c, d] = h;
  h[0] = fmix32(a + b + c + d);
  h[1] = fmix32(b ^ h[0]);
  h[2] = fmix32(c + h[1]);
  h[3] = fmix32(d ^ h[2]);
  return h;
}

function setKey(dst: Int32Array, src: Int32Array): void {
  dst.set(src);
}

/** splitmix32-style expansion of the key into a non-zero xoshiro128** state. */
function deriveState(key: Int32Array, state: Int32Array): void {
  let z = 0;
  for (let j = 0; j < 4; j++) {
    z = (z + 0x9e3779b9 + key[j]) | 0;
    state[j] = fmix32(z);
  }
  if ((state[0] | state[1] | state[2] | state[3]) === 0) state[0] = 1;
}

function stringWords(s: string): number[] {
  const out = [s.length];
  for (let i = 0; i < s.length; i += 2) {
    out.push(s.charCodeAt(i) | ((i + 1 < s.length ? s.charCodeAt(i + 1) : 0) << 16));
  }
  return out;
}

/** Words identifying a seed; a number and the equal bigint give the same stream. */
function seedWords(seed: number | bigint | string): number[] {
  if (typeof seed === 'string') return [0x73747200, ...stringWords(seed)];
  let v: bigint;
  if (typeof seed === 'bigint') v = seed;
  else if (typeof seed === 'number' && Number.isSafeInteger(seed)) v = BigInt(seed);
  else {
    throw new InputError(
      `seed: expected an integer (or a bigint or a string), got ${typeof seed === 'number' ? String(seed) : typeof seed}`,
    );
  }
  const words = [0x696e7400, v < 0n ? 1 : 0];
  let m = v < 0n ? -v : v;
  do {
    words.push(Number(m & 0xffffffffn) | 0);
    m >>= 32n;
  } while (m > 0n);
  return words;
}
