import type { Host } from './host.js';
import { lruOfFlags } from './frames.js';
import { NUMA_BALANCING_MEMORY_TIERING } from './numa-balancing/constants.js';
import { DEFAULT_CPUPID_LAYOUT } from './numa-balancing/cpupid.js';
import { PTE_DIRTY } from './pte.js';

/** Page migration (mm/migrate.c): one user page moved to a frame of another node. */

/**
 * Moves user page `p` to a free frame of `dst` (chosen by the caller with pickNode or its own
 * rule), keeping its owner, charge and flags; the new page goes to the head of its LRU list,
 * as folio_putback_lru does. `keepFlags` masks which PF_ bits survive, `keepPte` which PTE
 * bits. Returns the new pfn.
 */
export function migratePage(
  host: Host,
  p: number,
  dst: number,
  keepFlags: number,
  reason: number,
  keepPte = PTE_DIRTY,
): number {
  const fr = host.frames;
  const g = fr.rmapOf(p);
  const as = host.spaceOf(g);
  const src = fr.nodeOf(p);
  const f = fr.flagsOf(p) & keepFlags;
  // folio_migrate_flags(): last_cpupid moves with the page, except in memory-tiering mode
  // between a top-tier and a slow node, where it is reset: on the slow side it holds a scan time.
  const crossesTiers = host.toptier[src] !== host.toptier[dst];
  const stamp =
    crossesTiers && (host.numaBalancing & NUMA_BALANCING_MEMORY_TIERING) !== 0
      ? DEFAULT_CPUPID_LAYOUT.CPUPID_UNSET
      : fr.stampOf(p);
  fr.remove(fr.listId(as.memcg, src, lruOfFlags(fr.flagsOf(p))), p);
  const q = fr.takeFree(dst);
  fr.setFlags(q, f);
  fr.setRmap(q, g);
  fr.setStamp(q, stamp);
  fr.addHead(fr.listId(as.memcg, dst, lruOfFlags(f)), q);
  host.pt[g] = q | (host.pt[g] & keepPte);
  as.rssByNode[src]--;
  as.rssByNode[dst]++;
  const cg = host.cgroups.nodePages;
  cg[as.memcg * host.nodes + src]--;
  cg[as.memcg * host.nodes + dst]++;
  fr.setRmap(p, -1);
  fr.putFree(p);
  host.ledger.record(
    as.id,
    g,
    src,
    dst,
    host.topo.nodes[src].tier,
    host.topo.nodes[dst].tier,
    reason,
    Math.floor(host.now / 1e6),
  );
  host.onMigrate(src, dst);
  return q;
}
