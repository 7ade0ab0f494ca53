import type { Host } from './host.js';
import { PF_FILE, PF_KERNEL } from './frames.js';
import { PTE_PFN_MASK, PTE_SWAP } from './pte.js';

/**
 * Tests and diagnostics: a full consistency check of a host's frames, page tables and
 * counters, each recounted from scratch. Returns the first disagreement, or null.
 */
export function verifyHost(host: Host): string | null {
  const fr = host.frames;
  const bad = fr.verify((p) => host.spaceOf(fr.rmapOf(p)).memcg);
  if (bad) return bad;
  const nodePages = new Float64Array(host.cgroups.count * host.nodes);
  const rss = host.spaces.map(() => new Float64Array(host.nodes));
  let swap = 0;
  const swapOwn = new Float64Array(host.cgroups.count);
  for (const as of host.spaces) {
    for (let v = 0; v < as.pages; v++) {
      const e = host.pt[as.base + v];
      const pte = e & PTE_PFN_MASK;
      if (e >= 0) {
        if (fr.rmapOf(pte) !== as.base + v)
          return `pte of ${as.name}:${v} -> pfn ${pte} whose rmap is ${fr.rmapOf(pte)}`;
        if (!as.alive) return `killed ${as.name} still maps pfn ${pte}`;
        rss[as.id][fr.nodeOf(pte)]++;
        nodePages[as.memcg * host.nodes + fr.nodeOf(pte)]++;
        const isFile = v >= as.anonPages;
        if (((fr.flagsOf(pte) & PF_FILE) !== 0) !== isFile)
          return `pfn ${pte} file flag disagrees with its mapping`;
      } else if (e === PTE_SWAP) {
        swap++;
        swapOwn[as.memcg]++;
      }
    }
  }
  for (let p = 0; p < fr.totalFrames; p++) {
    if ((fr.flagsOf(p) & PF_KERNEL) !== 0) nodePages[fr.rmapOf(p) * host.nodes + fr.nodeOf(p)]++;
    else if (
      fr.rmapOf(p) >= 0 &&
      (host.pt[fr.rmapOf(p)] < 0 || (host.pt[fr.rmapOf(p)] & PTE_PFN_MASK) !== p)
    ) {
      return `pfn ${p} rmap ${fr.rmapOf(p)} not mapped back`;
    }
  }
  if (swap !== host.swapUsed) return `swapUsed ${host.swapUsed} != ${swap} swap PTEs`;
  if (host.swapUsed > host.swapPages) return `swap overcommitted`;
  for (const as of host.spaces) {
    for (let n = 0; n < host.nodes; n++) {
      if (rss[as.id][n] !== as.rssByNode[n])
        return `${as.name} rss on node ${n}: ${as.rssByNode[n]} != ${rss[as.id][n]}`;
    }
  }
  for (let i = 0; i < nodePages.length; i++) {
    if (nodePages[i] !== host.cgroups.nodePages[i])
      return `memcg/node pages [${i}] ${host.cgroups.nodePages[i]} != ${nodePages[i]}`;
  }
  // memory.current is hierarchical: own pages plus every descendant's.
  for (let c = host.cgroups.count - 1; c >= 0; c--) {
    let own = 0;
    for (let n = 0; n < host.nodes; n++) own += nodePages[c * host.nodes + n];
    let sub = own;
    for (const ch of host.cgroups.children[c]) sub += host.cgroups.usage[ch];
    if (sub !== host.cgroups.usage[c])
      return `memory.current of ${host.cgroups.paths[c]} ${host.cgroups.usage[c]} != ${sub}`;
    let swapSub = swapOwn[c];
    for (const ch of host.cgroups.children[c]) swapSub += host.cgroups.swapUsage[ch];
    if (swapSub !== host.cgroups.swapUsage[c])
      return `memory.swap.current of ${host.cgroups.paths[c]} ${host.cgroups.swapUsage[c]} != ${swapSub}`;
    if (host.cgroups.swapUsage[c] > host.cgroups.swapMax[c])
      return `memory.swap.max of ${host.cgroups.paths[c]} exceeded`;
    if (host.cgroups.peak[c] < host.cgroups.usage[c] || host.cgroups.swapPeak[c] < host.cgroups.swapUsage[c])
      return `memory.peak of ${host.cgroups.paths[c]} below its current usage`;
    let minSum = 0;
    let lowSum = 0;
    for (const ch of host.cgroups.children[c]) {
      minSum += Math.min(host.cgroups.usage[ch], host.cgroups.memoryMin[ch]);
      lowSum += Math.min(host.cgroups.usage[ch], host.cgroups.memoryLow[ch]);
    }
    if (minSum !== host.cgroups.childrenMinUsage[c] || lowSum !== host.cgroups.childrenLowUsage[c])
      return `children's protected usage of ${host.cgroups.paths[c]} disagrees with a recount`;
  }
  return null;
}
