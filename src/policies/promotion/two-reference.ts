import {
  type ClassicFaultInput,
  shouldNumaMigrateMemoryClassicAt,
} from '../../host/numa-balancing/classic.js';
import { NUMA_BALANCING_DISABLED } from '../../host/numa-balancing/constants.js';
import { cpupidPidUnset } from '../../host/numa-balancing/cpupid.js';
import { rateLimited } from './rate-limit.js';
import { z } from 'zod';
import {
  NOT_HOT,
  type PromotionFilter,
  type PromotionFilterConfig,
  type PromotionFilterModule,
} from './types.js';

/** A numa_scan_seq past should_numa_migrate_memory()'s "early in the task's life" (<= 4). */
const PAST_EARLY_SCAN_SEQ = 5;

/**
 * The two-reference rule of classic NUMA balancing applied to promotion (idea S21): a page
 * moves toward a node only if its previous hint fault also came from that node, so a page
 * touched once per scan period is promoted with probability ≈ p² rather than p.
 *
 * It runs the kernel's rule itself, shouldNumaMigrateMemoryClassicAt(), on the page's
 * last_cpupid field in the kernel's cpupid encoding (the scanner records no scan time for this
 * filter). It differs from what the kernel does for that page in three ways, on purpose, to
 * measure the two-reference test on its own:
 * - no first-scans exception: the task is treated as past its first four scan sequences with a
 *   preferred node set, so rule 3 (a first or private fault migrates at once) never fires;
 * - a first reference (pid unset in the old cpupid: a freshly faulted page, or one just
 *   migrated between tiers in tiering mode) is refused; the kernel refuses it only through
 *   rule 2 (tiering off, slow-tier page, cpu field ≥ nr_cpu_ids, which the all-ones reset value
 *   has on any machine with fewer than 2^NR_CPUS_BITS CPUs), and otherwise migrates it;
 * - a page that passes still goes through the promotion rate limiter, which the kernel applies
 *   only in tiering mode, to slow-tier pages judged by the hot threshold.
 * In tiering mode the kernel would judge these slow-tier pages by the hot threshold instead.
 * Tasks have no numa_group (one task per address space), as in the kernel's rule 6 case.
 */
export function twoReferenceFilter(config: PromotionFilterConfig): PromotionFilter {
  const input: ClassicFaultInput = {
    numaBalancingMode: NUMA_BALANCING_DISABLED,
    srcNid: 0,
    srcIsToptier: false,
    dstNid: 0,
    dstHasMemory: true,
    lastCpupid: 0,
    nrCpuIds: 0,
    cpuToNode: [],
    pid: 0,
    numaPreferredNid: 0,
    numaScanSeq: PAST_EARLY_SCAN_SEQ,
    group: null,
  };
  return {
    name: 'two-reference',
    recordsScanTime: false,
    decide(f) {
      const host = f.host;
      input.numaBalancingMode = host.numaBalancing;
      input.srcNid = f.src;
      input.srcIsToptier = host.toptier[f.src] !== 0;
      input.dstNid = f.dst;
      input.dstHasMemory = host.frames.nodePages(f.dst) > 0;
      input.nrCpuIds = host.nrCpuIds;
      input.cpuToNode = host.cpuToNode;
      input.pid = f.task;
      input.numaPreferredNid = f.dst;
      const pass = shouldNumaMigrateMemoryClassicAt(host.frames, f.p, f.cpupid, input);
      if (!pass || cpupidPidUnset(input.lastCpupid)) return NOT_HOT;
      return rateLimited(config, f);
    },
  };
}

export const twoReference: PromotionFilterModule = {
  id: 'two-reference',
  summary:
    "classic NUMA balancing's two-reference rule: promote when the page's previous hint fault came from the same node",
  params: z.strictObject({}),
  create: (_p, ctx) => twoReferenceFilter(ctx),
};
