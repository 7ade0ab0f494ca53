import { parseList } from '../../../src/inspect/sysfs.js';
import { printSections } from '../harness/sections.js';
import type { DiffTopology } from './topologies.js';

/**
 * The guest side of the differential suite: the shell command a guest runs for one topology,
 * and parsers for what it prints. Every figure is printed in a `==> name <==` section.
 */

/** One placement case: a mapping of PAGES pages under a memory policy, touched in order. */
export interface PlacementCase {
  id: string;
  mode: string;
  nodes: number[];
  /** set_mempolicy(2) (the task's policy) instead of mbind(2) on the range. */
  task?: boolean;
  /** weighted_interleave/nodeN weights, written before the case (and kept: the table is global). */
  weights?: Record<number, number>;
  /** The CPU the task runs on (default 0): a default policy allocates on its node. */
  cpu?: number;
}

/** Placement cases per guest: every mode, on each kind of node, with and without weights. */
export const PLACEMENT_CASES: Readonly<Record<string, readonly PlacementCase[]>> = {
  'dram+cxl': [
    { id: 'default', mode: 'default', nodes: [] },
    { id: 'bind-1', mode: 'bind', nodes: [1] },
    { id: 'interleave-0,1', mode: 'interleave', nodes: [0, 1] },
  ],
  'dram+cxl+pmem': [
    { id: 'default', mode: 'default', nodes: [] },
    { id: 'bind-2', mode: 'bind', nodes: [2] },
    { id: 'bind-1,2', mode: 'bind', nodes: [1, 2] },
    { id: 'preferred-1', mode: 'preferred', nodes: [1] },
    { id: 'preferred_many-1,2', mode: 'preferred_many', nodes: [1, 2] },
    { id: 'interleave-0,1,2', mode: 'interleave', nodes: [0, 1, 2] },
    { id: 'task-interleave-1,2', mode: 'interleave', nodes: [1, 2], task: true },
    {
      id: 'weighted_interleave-3:2:1',
      mode: 'weighted_interleave',
      nodes: [0, 1, 2],
      weights: { 0: 3, 1: 2, 2: 1 },
    },
  ],
  '2-socket+cxl': [
    { id: 'default-cpu0', mode: 'default', nodes: [], cpu: 0 },
    { id: 'default-cpu1', mode: 'default', nodes: [], cpu: 1 },
    { id: 'bind-2,3-cpu1', mode: 'bind', nodes: [2, 3], cpu: 1 },
    { id: 'interleave-0,1,2,3', mode: 'interleave', nodes: [0, 1, 2, 3] },
    {
      id: 'weighted_interleave-4:4:1:1',
      mode: 'weighted_interleave',
      nodes: [0, 1, 2, 3],
      weights: { 0: 4, 1: 4, 2: 1, 3: 1 },
    },
  ],
};

export const PLACEMENT_PAGES = 1000;
/** The reclaim cases' mapping: 64 MiB, and memory.reclaim of a quarter of it. */
export const RECLAIM_PAGES = 16384;
export const RECLAIM_REQUEST = '16M';
export const RECLAIM_REQUEST_PAGES = 4096;
export const RECLAIM_MAX = '32M';
/** The promotion case: a 32 MiB buffer first placed on the slow node, then touched in a loop. */
export const PROMOTION_PAGES = 8192;
export const PROMOTION_LOOP_MS = 10_000;
/** Swap for the reclaim cases, on the guest's NVMe disk. */
export const SWAP_MIB = 256;

export interface ReclaimCase {
  id: string;
  title: string;
  demotion: boolean;
  /** memory.reclaim written by the shell (outside the group), or by the process itself. */
  reclaim: 'outside' | 'inside' | 'none';
  memoryMax?: string;
  cpusetMems?: number[];
}

export const RECLAIM_CASES: readonly ReclaimCase[] = [
  { id: 'reclaim-demote', title: 'memory.reclaim 16M, demotion on', demotion: true, reclaim: 'outside' },
  { id: 'reclaim-swap', title: 'memory.reclaim 16M, demotion off', demotion: false, reclaim: 'outside' },
  {
    id: 'max-pressure',
    title: 'memory.max 32M, 64 MiB touched, demotion on',
    demotion: true,
    reclaim: 'none',
    memoryMax: RECLAIM_MAX,
  },
  {
    id: 'cpuset-demote',
    title: 'memory.reclaim 16M, demotion on, cpuset.mems 0',
    demotion: true,
    reclaim: 'outside',
    cpusetMems: [0],
  },
  {
    id: 'cpuset-writer',
    title: 'as cpuset-demote, memory.reclaim written by the group’s own task',
    demotion: true,
    reclaim: 'inside',
    cpusetMems: [0],
  },
];

const STEPS = '/e2e/mm-steps';
const VMSTAT_KEYS = [
  'pgdemote_direct',
  'pgsteal_direct',
  'pgscan_direct',
  'pgsteal_anon',
  'pswpout',
  'pgpromote_success',
  'numa_hint_faults',
];
const vmstatGrep = `grep -E '^(${VMSTAT_KEYS.join('|')}) ' /proc/vmstat`;
const zoneinfoGrep = `grep -E '^Node|^ +(min|low|high|promo|managed) ' /proc/zoneinfo`;

export interface GuestPlan {
  placements: readonly PlacementCase[];
  reclaim: boolean;
}

/** The guest's command for a topology: what the kernel made at boot, then each case. */
export function guestCommand(t: DiffTopology, plan: GuestPlan): string {
  const files: Record<string, string> = {
    'boot-min-free': '/tmp/boot-min-free',
    'boot-zoneinfo': '/tmp/boot-zoneinfo',
    tiers: '/tmp/tiers',
    demotion: '/tmp/demotion',
    'has-cpu': '/sys/devices/system/node/has_cpu',
    'has-memory': '/sys/devices/system/node/has_memory',
    'thp-never-min-free': '/tmp/thp-never-min-free',
    'thp-never-zoneinfo': '/tmp/thp-never-zoneinfo',
    'mfk-zoneinfo': '/tmp/mfk-zoneinfo',
    'wsf-zoneinfo': '/tmp/wsf-zoneinfo',
  };
  const lines = [
    // Boot state first, before anything below changes it.
    'cat /proc/sys/vm/min_free_kbytes > /tmp/boot-min-free',
    `${zoneinfoGrep} > /tmp/boot-zoneinfo`,
    'for d in /sys/devices/virtual/memory_tiering/memory_tier*; do echo "${d##*/} $(cat $d/nodelist)"; done > /tmp/tiers',
    "dmesg | grep 'Demotion targets for Node' > /tmp/demotion || true",
    // Switching THP off makes the kernel recompute min_free_kbytes from the zones it has now.
    'echo never > /sys/kernel/mm/transparent_hugepage/enabled',
    'cat /proc/sys/vm/min_free_kbytes > /tmp/thp-never-min-free',
    `${zoneinfoGrep} > /tmp/thp-never-zoneinfo`,
    'echo 8192 > /proc/sys/vm/min_free_kbytes',
    `${zoneinfoGrep} > /tmp/mfk-zoneinfo`,
    'echo 200 > /proc/sys/vm/watermark_scale_factor',
    `${zoneinfoGrep} > /tmp/wsf-zoneinfo`,
    'echo 10 > /proc/sys/vm/watermark_scale_factor',
  ];
  for (const p of plan.placements) {
    for (const [node, w] of Object.entries(p.weights ?? {}))
      lines.push(`echo ${w} > /sys/kernel/mm/mempolicy/weighted_interleave/node${node}`);
    const call = p.task ? 'policy' : 'mbind';
    const nodes = p.nodes.length === 0 ? '-' : p.nodes.join(',');
    lines.push(
      `${STEPS} cpu ${p.cpu ?? 0} map ${PLACEMENT_PAGES} ${call} ${p.mode} ${nodes} touch query > /tmp/place-${p.id}`,
    );
    files[`place-${p.id}`] = `/tmp/place-${p.id}`;
  }
  if (plan.reclaim) {
    lines.push(...reclaimLines());
    for (const c of RECLAIM_CASES) files[c.id] = `/tmp/${c.id}`;
    files.promotion = '/tmp/promotion';
  }
  return `${lines.join('\n')}\n${printSections(files)}\n`;
}

/**
 * The reclaim and promotion cases, each in a new cgroup with the helper as its only task.
 * MGLRU is switched off: numatier models the active/inactive LRU (Debian's 6.12 enables
 * CONFIG_LRU_GEN_ENABLED).
 */
function reclaimLines(): string[] {
  const lines = [
    'echo n > /sys/kernel/mm/lru_gen/enabled',
    'mkswap /dev/nvme0n1 > /dev/null',
    'swapon /dev/nvme0n1',
    // Each case's figures: global counters and free memory before, the helper's steps, counters after.
    'snap() { ' + vmstatGrep + ' | tr "\\n" " "; echo; }',
    'free_kib() { for n in /sys/devices/system/node/node[0-9]*; do grep MemFree $n/meminfo | tr -s " " | cut -d" " -f4; done | tr "\\n" " "; echo; }',
  ];
  for (const c of RECLAIM_CASES) {
    const cg = `/sys/fs/cgroup/${c.id}`;
    lines.push(`mkdir ${cg}`);
    if (c.memoryMax !== undefined) lines.push(`echo ${c.memoryMax} > ${cg}/memory.max`);
    if (c.cpusetMems !== undefined) lines.push(`echo ${c.cpusetMems.join(',')} > ${cg}/cpuset.mems`);
    lines.push(`echo ${c.demotion ? 1 : 0} > /sys/kernel/mm/numa/demotion_enabled`);
    const out = `/tmp/${c.id}`;
    lines.push(`{ echo "free $(free_kib)"; echo "before $(snap)"; } > ${out}`);
    const head = `${STEPS} cpu 0 join ${cg} map ${RECLAIM_PAGES} touch`;
    const tail = `query read ${cg}/memory.stat read ${cg}/memory.numa_stat`;
    if (c.reclaim === 'outside') {
      lines.push(`${head} write /tmp/${c.id}.touched 1 wait /tmp/${c.id}.go ${tail} >> ${out} &`);
      lines.push(`while [ ! -e /tmp/${c.id}.touched ]; do usleep 20000; done`);
      lines.push(`echo ${RECLAIM_REQUEST} > ${cg}/memory.reclaim`);
      lines.push(`touch /tmp/${c.id}.go`);
      lines.push('wait');
    } else if (c.reclaim === 'inside') {
      lines.push(`${head} write ${cg}/memory.reclaim ${RECLAIM_REQUEST} ${tail} >> ${out}`);
    } else {
      lines.push(`${head} ${tail} >> ${out}`);
    }
    lines.push(`echo "after $(snap)" >> ${out}`);
  }
  // NUMA-balancing promotion: the buffer placed on node 1 (preferred), the policy reset to
  // default (the pages stay), then touched over and over by a task on node 0's CPUs.
  lines.push('echo 0 > /sys/kernel/mm/numa/demotion_enabled');
  lines.push('echo 2 > /proc/sys/kernel/numa_balancing');
  lines.push('mkdir /sys/fs/cgroup/promotion');
  lines.push(`echo "before $(snap)" > /tmp/promotion`);
  lines.push(
    `${STEPS} cpu 0 join /sys/fs/cgroup/promotion map ${PROMOTION_PAGES} mbind preferred 1 touch query ` +
      `mbind default - loop ${PROMOTION_LOOP_MS} query >> /tmp/promotion`,
  );
  lines.push(`echo "after $(snap)" >> /tmp/promotion`);
  return lines;
}

// ---- parsing what the guest printed ----

export interface GuestZone {
  node: number;
  name: string;
  managed: number;
  min: number;
  low: number;
  high: number;
  promo: number | null;
}

/** The filtered /proc/zoneinfo lines: one record per zone, in the kernel's order. */
export function parseZoneinfo(text: string): GuestZone[] {
  const zones: GuestZone[] = [];
  let z: GuestZone | null = null;
  for (const line of text.split('\n')) {
    const head = /^Node (\d+), zone\s+(\S+)/.exec(line);
    if (head) {
      z = { node: Number(head[1]), name: head[2], managed: NaN, min: NaN, low: NaN, high: NaN, promo: null };
      zones.push(z);
      continue;
    }
    const kv = /^\s+(min|low|high|promo|managed)\s+(\d+)/.exec(line);
    if (kv && z) z[kv[1] as 'min'] = Number(kv[2]);
  }
  return zones;
}

/** `memory_tierN nodelist` lines → tier id → nodes. */
export function parseTiers(text: string): { tier: number; nodes: number[] }[] {
  const out: { tier: number; nodes: number[] }[] = [];
  for (const m of text.matchAll(/^memory_tier(\d+) (\S+)$/gm))
    out.push({ tier: Number(m[1]), nodes: parseList(m[2]) ?? [] });
  return out.sort((a, b) => a.tier - b.tier);
}

export interface HelperOutput {
  steps: Record<string, unknown>[];
  /** Each `query`: runs of [node, pages]; node < 0 is -errno (-ENOENT: not present, swapped out). */
  queries: [number, number][][];
  startPfn: number;
  /** Files the helper read, by path (the last read wins). */
  reads: Map<string, string>;
  /** `name counter counter…` lines the shell added ("before", "after", "free"). */
  lines: Map<string, string>;
}

export function parseHelper(text: string): HelperOutput {
  const steps: Record<string, unknown>[] = [];
  const lines = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('{')) steps.push(JSON.parse(line) as Record<string, unknown>);
    else {
      const m = /^(\w+) (.*)$/.exec(line);
      if (m) lines.set(m[1], m[2]);
    }
  }
  const failed = steps.find((s) => 'error' in s);
  if (failed) throw new Error(`mm-steps failed in the guest: ${JSON.stringify(failed)}`);
  const map = steps.find((s) => s.step === 'map');
  return {
    steps,
    queries: steps.filter((s) => s.step === 'query').map((s) => s.runs as [number, number][]),
    startPfn: Number(map?.start_pfn ?? NaN),
    reads: new Map(steps.filter((s) => s.step === 'read').map((s) => [s.file as string, s.text as string])),
    lines,
  };
}

/** "key value key value …" (the shell's one-line /proc/vmstat extract) → map. */
export function parseCounters(line: string | undefined): Map<string, number> {
  const out = new Map<string, number>();
  const words = (line ?? '').trim().split(/\s+/);
  for (let i = 0; i + 1 < words.length; i += 2) out.set(words[i], Number(words[i + 1]));
  return out;
}

/** "key N0=bytes N1=bytes" lines of memory.numa_stat → key → pages per node. */
export function parseNumaStat(text: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const line of text.split('\n')) {
    const [key, ...cols] = line.trim().split(/\s+/);
    if (!key || cols.length === 0) continue;
    const v: number[] = [];
    for (const c of cols) {
      const m = /^N(\d+)=(\d+)$/.exec(c);
      if (m) v[Number(m[1])] = Number(m[2]) / 4096;
    }
    out.set(key, v);
  }
  return out;
}

/** "key value" lines of memory.stat. */
export function parseFlat(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of text.matchAll(/^(\w+) (\d+)$/gm)) out.set(m[1], Number(m[2]));
  return out;
}

/** Pages per node from a query's runs; key -1 gathers the pages not present (swapped out). */
export function pagesPerNode(runs: readonly [number, number][]): Map<number, number> {
  const out = new Map<number, number>();
  for (const [node, n] of runs) {
    const k = node < 0 ? -1 : node;
    out.set(k, (out.get(k) ?? 0) + n);
  }
  return out;
}
