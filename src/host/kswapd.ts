import type { Host } from './host.js';
import { DEF_PRIORITY, MAX_RECLAIM_RETRIES, SWAP_CLUSTER_MAX } from './mm-constants.js';
import { RECLAIM_KSWAPD } from './pte.js';
import { shrinkNode, type ReclaimRequest } from './reclaim.js';

/** The shortest pause between two kswapd passes, in ns, however little a pass cost. */
const KSWAPD_MIN_PASS_NS = 1000;

/**
 * kswapd, one per node (mm/vmscan.c): its wake-up (wakeup_kswapd), its sleep condition
 * (pgdat_balanced), its priority passes (balance_pgdat) and its failure count. The engine only
 * queues its events; what a pass does and when kswapd sleeps is decided here.
 */
export class Kswapd {
  /** Whether kswapd of a node has been woken and not yet gone back to sleep. */
  readonly awake: Uint8Array;
  /**
   * numatier's own count of kswapd wake-ups per node (wake() calls that woke it). The
   * kernel has no such /proc/vmstat counter, only the mm_vmscan_wakeup_kswapd tracepoint.
   */
  readonly wakeups: Float64Array;
  /** Consecutive kswapd runs without progress (kswapd_failures). */
  readonly failures: Uint8Array;
  /** kswapd's current scan priority per node (DEF_PRIORITY down to 1). */
  readonly priority: Uint8Array;
  /** balance_pgdat()'s scan_control, one per host and reused: kswapd never recurses. */
  private readonly sc: ReclaimRequest = {
    reclaimer: RECLAIM_KSWAPD,
    targetMemcg: -1,
    // balance_pgdat() never sets memcg_low_reclaim: kswapd leaves groups within their
    // memory.low alone even when nothing else is left, fails, and leaves the rest to direct
    // reclaim.
    memcgLowReclaim: false,
    noDemotion: false,
    costNs: 0,
  };

  constructor(private readonly host: Host) {
    const nodes = host.nodes;
    this.awake = new Uint8Array(nodes);
    this.wakeups = new Float64Array(nodes);
    this.failures = new Uint8Array(nodes);
    this.priority = new Uint8Array(nodes).fill(DEF_PRIORITY);
  }

  /** pgdat_balanced(): kswapd may sleep once free exceeds HIGH, or PROMO in tiering mode. */
  balanced(node: number): boolean {
    const host = this.host;
    return host.frames.freeCount[node] > this.mark(node);
  }

  private mark(node: number): number {
    const host = this.host;
    return (host.numaBalancing & 2) !== 0 ? host.wmarkPromo[node] : host.wmarkHigh[node];
  }

  /** wakeup_kswapd(): wakes the node's kswapd unless it is awake, not needed, or hopeless. */
  wake(node: number): void {
    if (this.awake[node] !== 0 || this.balanced(node)) return;
    if (this.failures[node] >= MAX_RECLAIM_RETRIES) return; // the node is considered hopeless
    this.awake[node] = 1;
    this.wakeups[node]++;
    this.host.events.wakeKswapd(node);
  }

  /**
   * Progress by anyone revives a kswapd that gave up on the node (shrink_node(): "a successful
   * direct reclaim run will revive a dormant kswapd").
   */
  progress(node: number): void {
    this.failures[node] = 0;
  }

  /**
   * One priority pass of balance_pgdat() on `node`, toward the HIGH (PROMO in tiering mode)
   * watermark. The engine runs one pass per kswapd event and lets the pass's cost elapse
   * before the next, so tasks keep touching pages while kswapd scans — the second chance of a
   * page depends on that. Priority stays while a pass makes progress and drops when it does
   * not (as `if (!nr_reclaimed) sc.priority--`). Returns the pass's cost in ns; `reclaimed`,
   * if given, gets the pages reclaimed at [0], or -1 when a whole run from DEF_PRIORITY down
   * to 1 reclaimed nothing (a kswapd failure).
   */
  step(node: number, reclaimed?: Float64Array): number {
    const host = this.host;
    const prio = this.priority[node];
    const want = Math.max(SWAP_CLUSTER_MAX, this.mark(node) + 1 - host.frames.freeCount[node]);
    const sc = this.sc;
    sc.costNs = 0;
    const r = shrinkNode(host, node, want, prio, sc);
    let result = r;
    if (r === 0) {
      if (prio > 1) this.priority[node] = prio - 1;
      else {
        this.priority[node] = DEF_PRIORITY;
        result = -1;
      }
    }
    if (reclaimed !== undefined) reclaimed[0] = result;
    return sc.costNs;
  }

  private readonly stepResult = new Float64Array(1);

  /**
   * One kswapd event of the engine on `node`: goes to sleep if the node is balanced, else runs
   * a pass and adds its cost to `busyNs[node]`. After MAX_RECLAIM_RETRIES whole runs without
   * progress the node is hopeless until some reclaim on it makes progress (progress()).
   * Returns the delay in ns until the next pass, or -1 when kswapd stops (asleep or hopeless).
   */
  run(node: number, busyNs: Float64Array): number {
    if (this.balanced(node)) {
      this.sleep(node);
      return -1;
    }
    const cost = this.step(node, this.stepResult);
    busyNs[node] += cost;
    if (this.stepResult[0] < 0 && ++this.failures[node] >= MAX_RECLAIM_RETRIES) {
      this.awake[node] = 0;
      return -1;
    }
    if (this.balanced(node)) {
      this.sleep(node);
      return -1;
    }
    return Math.max(cost, KSWAPD_MIN_PASS_NS);
  }

  private sleep(node: number): void {
    this.awake[node] = 0;
    this.failures[node] = 0;
    this.priority[node] = DEF_PRIORITY;
  }
}

/**
 * One balance_pgdat() pass of `node`'s kswapd (Kswapd.step). Returns pages reclaimed, or -1 on a
 * kswapd failure; the cost is dropped (tests and callers that only drive reclaim).
 */
export function kswapdStep(host: Host, node: number): number {
  const out = new Float64Array(1);
  host.kswapd.step(node, out);
  return out[0];
}
