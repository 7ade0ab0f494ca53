import { readTiers } from '../../inspect/read-host.js';
import { HostFiles } from '../../inspect/sysfs.js';
import type { AccessTracking, MemoryTierInfo } from '../interface.js';
import { KDAMONDS } from './damos.js';

/** What a host offers the controller, and whether it may start there. */
export interface HostCapabilities {
  /** Memory tiers with nodes, fastest first. */
  tiers: MemoryTierInfo[];
  /** /sys/fs/cgroup/cgroup.controllers exists (the unified hierarchy is mounted there). */
  cgroupV2: boolean;
  /** /sys/kernel/mm/page_idle/bitmap exists (CONFIG_IDLE_PAGE_TRACKING). */
  pageIdle: boolean;
  /**
   * /proc/self/clear_refs exists. The kernel shows no other sign of CONFIG_MEM_SOFT_DIRTY: without
   * it, writing 4 is accepted and pagemap bit 55 stays 0, which cannot be told from a tenant that
   * writes nothing.
   */
  softDirty: boolean;
  /** DAMON's sysfs interface; `ops` from the avail_operations of existing contexts ([] if none yet). */
  damon: { present: boolean; ops: string[] };
  /** CapEff has CAP_SYS_ADMIN (pagemap frame numbers, page_idle) and CAP_SYS_NICE (move_pages of others). */
  privileged: boolean;
  /** /proc/sys/kernel/numa_balancing (0 off, 1 classic, 2 memory tiering, 3 both), null if absent. */
  numaBalancing: number | null;
  /** /sys/kernel/mm/numa/demotion_enabled, null if absent. */
  demotionEnabled: boolean | null;
  /** The tracker the controller is to use: page_idle where the kernel has it, else soft-dirty. */
  tracking: AccessTracking | null;
  /** Reasons not to start, one line each (empty: it may start). */
  refusals: string[];
  warnings: string[];
}

const CAP_SYS_ADMIN = 21n;
const CAP_SYS_NICE = 23n;
/** NUMA_BALANCING_MEMORY_TIERING: the kernel's own hot-page promotion. */
const NUMA_BALANCING_MEMORY_TIERING = 2;

/** Probes the host whose filesystems are under `root` ('/' for this one). Reads only. */
export function probeHost(
  root: string,
  o: { needsTracking: boolean } = { needsTracking: true },
): HostCapabilities {
  const f = new HostFiles(root);
  const tiers = readTiers(f)
    .filter((t) => t.nodes.length > 0)
    .map((t) => ({ id: t.tier, nodes: t.nodes }));
  const cgroupV2 = f.exists('/sys/fs/cgroup/cgroup.controllers');
  const pageIdle = f.exists('/sys/kernel/mm/page_idle/bitmap');
  const softDirty = f.exists('/proc/self/clear_refs');
  const damon = { present: f.isDir(KDAMONDS), ops: damonOps(f) };
  const capEff = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(f.text('/proc/self/status') ?? '');
  const caps = capEff ? BigInt(`0x${capEff[1]}`) : 0n;
  const privileged = ((caps >> CAP_SYS_ADMIN) & 1n) === 1n && ((caps >> CAP_SYS_NICE) & 1n) === 1n;
  const numaBalancing = f.int('/proc/sys/kernel/numa_balancing');
  const demotion = f.line('/sys/kernel/mm/numa/demotion_enabled');
  const demotionEnabled = demotion === null ? null : demotion === 'true' || demotion === '1';
  const tracking: AccessTracking | null = pageIdle ? 'page_idle' : softDirty ? 'soft_dirty' : null;

  const refusals: string[] = [];
  if (tiers.length < 2)
    refusals.push(
      `one memory tier only (/sys/devices/virtual/memory_tiering lists ${tiers.length}): there is no slow memory to steer pages to`,
    );
  if (!cgroupV2)
    refusals.push(
      f.isDir('/sys/fs/cgroup/memory')
        ? 'cgroup v1 only: memory.numa_stat per cgroup needs cgroup v2 mounted at /sys/fs/cgroup'
        : 'no cgroup v2 at /sys/fs/cgroup (no cgroup.controllers)',
    );
  if (!privileged)
    refusals.push(
      'not privileged: CapEff lacks CAP_SYS_ADMIN (pagemap frame numbers, page_idle) or CAP_SYS_NICE (move_pages of other processes); run as root',
    );
  if (tracking === null && o.needsTracking)
    refusals.push(
      'no access tracking: neither /sys/kernel/mm/page_idle/bitmap (CONFIG_IDLE_PAGE_TRACKING) nor /proc/self/clear_refs',
    );

  const warnings: string[] = [];
  if (numaBalancing !== null && (numaBalancing & NUMA_BALANCING_MEMORY_TIERING) !== 0)
    warnings.push(
      `numa_balancing is ${numaBalancing} (memory tiering on): the kernel's own promotion of hot pages will fight the controller's ratio`,
    );
  if (tracking === 'soft_dirty' && o.needsTracking)
    warnings.push('no page_idle bitmap: tracking accesses by soft-dirty bits, which see writes only');
  for (const u of f.unreadable) warnings.push(`could not read ${u.path} (${u.why})`);
  // demotion_enabled false is no reason to warn: the controller moves pages itself.
  return {
    tiers,
    cgroupV2,
    pageIdle,
    softDirty,
    damon,
    privileged,
    numaBalancing,
    demotionEnabled,
    tracking,
    refusals,
    warnings,
  };
}

/** Operations sets DAMON offers, from any context that exists (they are listed per context). */
function damonOps(f: HostFiles): string[] {
  for (const k of f.subdirs(KDAMONDS))
    for (const c of f.subdirs(`${KDAMONDS}/${k}/contexts`)) {
      const t = f.line(`${KDAMONDS}/${k}/contexts/${c}/avail_operations`);
      if (t !== null && t !== '') return t.split(/\s+/).filter(Boolean);
    }
  return [];
}
