/**
 * The weighted-interleave weight table behind /sys/kernel/mm/mempolicy/weighted_interleave/
 * (nodeN files, and the 6.16+ `auto` file that derives weights from node bandwidth).
 *
 * Kernel source: torvalds/linux mm/mempolicy.c get_il_weight(), reduce_interleave_weights(),
 * mempolicy_set_node_perf(), node_store(), node_show(), weighted_interleave_auto_store/show()
 * (6.16+, "auto-tune weighted interleave"), lib/kstrtox.c kstrtou8() and kstrtobool().
 */
import { InputError } from '../util/errors.js';

/** mm/mempolicy.c: weights derived from bandwidth are scaled to [1, weightiness]. */
export const WEIGHTINESS = 32;
export const WEIGHTED_INTERLEAVE_SYSFS_DIR = '/sys/kernel/mm/mempolicy/weighted_interleave';

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/**
 * reduce_interleave_weights(): weights from per-node bandwidth (min of read and write
 * bandwidth). `bandwidths[i]` belongs to `memoryNodes[i]` (the N_MEMORY nodes). Each weight is
 * ⌊32·bw/Σbw⌋ (integer division) when bw ≠ 0 and Σbw < 32·bw, else 1; then all are divided by
 * their gcd ("1:2 is strictly better than 16:32"). 32·bw is computed in 32-bit unsigned
 * arithmetic as in the kernel (bw is an unsigned int); that only matters beyond 134 217 727.
 */
export function reduceInterleaveWeights(bandwidths: readonly number[]): number[] {
  let sum = 0;
  for (const bw of bandwidths) {
    if (!Number.isInteger(bw) || bw < 0 || bw > 0xffffffff) {
      throw new RangeError(`bandwidth must be an unsigned 32-bit integer, got ${bw}`);
    }
    sum += bw;
  }
  const out = new Array<number>(bandwidths.length);
  let g = 0;
  for (let i = 0; i < bandwidths.length; i++) {
    const bw = bandwidths[i];
    const scaling = Math.imul(WEIGHTINESS, bw) >>> 0;
    out[i] = bw && sum < scaling ? Math.floor(scaling / sum) : 1;
    g = g ? gcd(g, out[i]) : out[i];
  }
  for (let i = 0; i < out.length; i++) out[i] /= g;
  return out;
}

/**
 * kstrtou8(buf, 0, &v): optional '+', base from the prefix ("0x" hex, leading "0" octal, else
 * decimal), digits, one optional trailing newline, nothing else. Returns null when the kernel
 * would return -EINVAL or -ERANGE.
 */
export function kstrtou8(buf: string): number | null {
  let s = buf.startsWith('+') ? buf.slice(1) : buf;
  let base = 10;
  if (s[0] === '0') {
    if ((s[1] === 'x' || s[1] === 'X') && /^[0-9a-fA-F]$/.test(s[2] ?? '')) {
      base = 16;
      s = s.slice(2);
    } else {
      base = 8;
    }
  }
  const digits = base === 16 ? /^[0-9a-fA-F]+/ : base === 8 ? /^[0-7]+/ : /^[0-9]+/;
  const m = digits.exec(s);
  if (!m) return null;
  const rest = s.slice(m[0].length);
  if (rest !== '' && rest !== '\n') return null;
  const v = parseInt(m[0], base);
  return v > 255 ? null : v;
}

/** kstrtobool(): y/Y/t/T/1 → true, n/N/f/F/0 → false, on/off by the first two characters. */
export function kstrtobool(buf: string): boolean | null {
  const c = buf[0];
  if (c === 'y' || c === 'Y' || c === 't' || c === 'T' || c === '1') return true;
  if (c === 'n' || c === 'N' || c === 'f' || c === 'F' || c === '0') return false;
  if (c === 'o' || c === 'O') {
    const d = buf[1];
    if (d === 'n' || d === 'N') return true;
    if (d === 'f' || d === 'F') return false;
  }
  return null;
}

/**
 * The system-wide weight table (6.16+ semantics). Starts in auto mode with every weight 1, as a
 * kernel without bandwidth data does. `table` is indexed by node id and is what the interleave
 * functions read; it is replaced (not mutated) on every change, so a holder of the old table
 * keeps a consistent snapshot, as RCU readers do.
 */
export class WeightedInterleaveWeights {
  /** Node weights, 1..255, indexed by node id (nr_node_ids entries). */
  table: Uint8Array;
  private modeAuto = true;
  private bandwidth: Uint32Array | null = null;
  private readonly memoryNodes: readonly number[];

  /**
   * @param nrNodeIds number of possible node ids (one nodeN file each)
   * @param memoryNodes the N_MEMORY nodes, ascending
   */
  constructor(nrNodeIds: number, memoryNodes: readonly number[]) {
    if (!Number.isInteger(nrNodeIds) || nrNodeIds < 1) throw new RangeError(`nrNodeIds must be >= 1`);
    this.table = new Uint8Array(nrNodeIds).fill(1);
    this.memoryNodes = [...memoryNodes];
  }

  /** get_il_weight(nid). */
  get(nid: number): number {
    return this.table[nid] || 1;
  }

  get auto(): boolean {
    return this.modeAuto;
  }

  /**
   * mempolicy_set_node_perf(): HMAT/CXL reports a node's bandwidth. The bandwidth is always
   * recorded; in auto mode the whole table is recomputed from all recorded bandwidths.
   */
  setNodeBandwidth(nid: number, readBandwidth: number, writeBandwidth: number): void {
    this.checkNode(nid);
    const bw = new Uint32Array(this.table.length);
    if (this.bandwidth) bw.set(this.bandwidth);
    bw[nid] = Math.min(readBandwidth, writeBandwidth);
    this.bandwidth = bw;
    if (this.modeAuto) this.table = this.autoTable(bw);
  }

  /** node_show(): the content of weighted_interleave/nodeN. */
  readNode(nid: number): string {
    this.checkNode(nid);
    return `${this.get(nid)}\n`;
  }

  /**
   * node_store(): a write to weighted_interleave/nodeN. Accepts what kstrtou8 accepts with a
   * value 1..255; an empty write or 0 is refused (-EINVAL, 6.16+; before 6.16, 0 meant "reset to
   * 1"). Any successful write switches the table to manual mode.
   */
  writeNode(nid: number, text: string): void {
    this.checkNode(nid);
    const v = text === '' || text === '\n' ? null : kstrtou8(text);
    if (v === null || v === 0) {
      throw new InputError(
        `${WEIGHTED_INTERLEAVE_SYSFS_DIR}/node${nid}: expected a weight 1..255, got ${JSON.stringify(text)} (EINVAL)`,
      );
    }
    const t = this.table.slice();
    t[nid] = v;
    this.table = t;
    this.modeAuto = false;
  }

  /** weighted_interleave_auto_show(). */
  readAuto(): string {
    return this.modeAuto ? 'true\n' : 'false\n';
  }

  /**
   * weighted_interleave_auto_store(): `false` keeps the current weights and switches to manual
   * mode; `true` recomputes every weight from the recorded bandwidths, or fails with -ENODEV
   * when no bandwidth was ever reported.
   */
  writeAuto(text: string): void {
    const v = kstrtobool(text);
    const file = `${WEIGHTED_INTERLEAVE_SYSFS_DIR}/auto`;
    if (v === null)
      throw new InputError(`${file}: expected true or false, got ${JSON.stringify(text)} (EINVAL)`);
    if (!v) {
      this.modeAuto = false;
      return;
    }
    if (!this.bandwidth)
      throw new InputError(`${file}: no node bandwidth is known, cannot derive weights (ENODEV)`);
    this.table = this.autoTable(this.bandwidth);
    this.modeAuto = true;
  }

  private autoTable(bw: Uint32Array): Uint8Array {
    const t = new Uint8Array(this.table.length).fill(1);
    const w = reduceInterleaveWeights(this.memoryNodes.map((n) => bw[n]));
    this.memoryNodes.forEach((n, i) => (t[n] = w[i]));
    return t;
  }

  private checkNode(nid: number): void {
    if (!Number.isInteger(nid) || nid < 0 || nid >= this.table.length) {
      throw new InputError(
        `${WEIGHTED_INTERLEAVE_SYSFS_DIR}/node${nid}: no such file; nodes are 0-${this.table.length - 1}`,
      );
    }
  }
}
