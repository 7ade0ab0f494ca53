import { HostFiles, parseKeyValues, parseList, type Unreadable } from './sysfs.js';

/** HMAT performance of a node from its nearest initiators (access0): ns and MB/s. */
export interface NodeHmat {
  read_latency?: number;
  write_latency?: number;
  read_bandwidth?: number;
  write_bandwidth?: number;
}

export interface InspectedNode {
  id: number;
  cpus: number[];
  /** MemTotal / MemFree of the node's meminfo, in KiB (null if unreadable). */
  mem_total_kib: number | null;
  mem_free_kib: number | null;
  /** SLIT distances to each node of `nodes`, in that order. */
  distances: number[] | null;
  hmat: NodeHmat | null;
  /** The memory_tierN the node is in, or null (no tiering sysfs, or a node without memory). */
  tier: number | null;
  /** The node's tiering and NUMA counters from nodeN/vmstat: pgdemote_*, pgpromote_*, numa_*. */
  vmstat: Record<string, number>;
}

export interface NumaBalancingKnobs {
  /** /proc/sys/kernel/numa_balancing: 0 off, bit 0 classic, bit 1 memory tiering. */
  mode: number | null;
  promote_rate_limit_MBps: number | null;
  /** debugfs sched/numa_balancing/: readable only with debugfs mounted and root. */
  hot_threshold_ms: number | null;
  scan_delay_ms: number | null;
  scan_period_min_ms: number | null;
  scan_period_max_ms: number | null;
  scan_size_mb: number | null;
}

export interface InspectedCgroup {
  path: string;
  /** Bytes. */
  memory_current: number | null;
  /** Bytes, or "max"; null if the file is absent (the root has none). */
  memory_max: number | 'max' | null;
  memory_high: number | 'max' | null;
  memory_low: number | null;
  memory_min: number | null;
  /** memory.numa_stat: per item (anon, file, …) bytes per node id. */
  numa_stat: Record<string, Record<number, number>> | null;
  /** Processes directly in the group (cgroup.procs). */
  procs: number[];
}

export interface InspectedProcess {
  pid: number;
  comm: string;
  cgroup: string | null;
  /** Resident bytes per node id, from numa_maps' N<id>= counts and page sizes. */
  node_bytes: Record<number, number>;
  vmas: number;
}

export interface InspectedHost {
  root: string;
  kernel: string | null;
  nodes: InspectedNode[];
  /** memory_tierN → nodes, ascending N (fastest first). */
  tiers: { tier: number; nodes: number[] }[];
  demotion_enabled: boolean | null;
  numa_balancing: NumaBalancingKnobs;
  /** The same counters host-wide, from /proc/vmstat. */
  vmstat: Record<string, number>;
  cgroup_version: 1 | 2 | null;
  cgroups: InspectedCgroup[];
  processes: InspectedProcess[];
  /** Processes whose numa_maps could not be read (other users' without privileges). */
  processes_unreadable: number;
  unreadable: Unreadable[];
}

/** Counters a tiering user looks at; the rest of vmstat is left out of the report. */
const TIERING_COUNTER = /^(pgdemote_|pgpromote_|numa_|pgmigrate_success|pgmigrate_fail|pgsteal_|pgscan_)/;

/** Bounds on what one inspection reads, so a huge host answers in a bounded time. */
export const MAX_INSPECTED_CGROUPS = 4096;
export const MAX_INSPECTED_PROCESSES = 4096;

const NODE_DIR = '/sys/devices/system/node';
const TIER_DIR = '/sys/devices/virtual/memory_tiering';
const CGROUP_ROOT = '/sys/fs/cgroup';
const NB_DEBUGFS = '/sys/kernel/debug/sched/numa_balancing';

function counters(text: string | null): Record<string, number> {
  if (text === null) return {};
  const all = parseKeyValues(text);
  return Object.fromEntries(Object.entries(all).filter(([k]) => TIERING_COUNTER.test(k)));
}

function nodeIdOf(name: string): number | null {
  const m = /^node(\d+)$/.exec(name);
  return m ? Number(m[1]) : null;
}

function readNodes(f: HostFiles): InspectedNode[] {
  const online = parseList(f.line(`${NODE_DIR}/online`) ?? '');
  const ids =
    online ??
    f
      .list(NODE_DIR)
      .map(nodeIdOf)
      .filter((n): n is number => n !== null)
      .sort((a, b) => a - b);
  return ids.map((id) => {
    const dir = `${NODE_DIR}/node${id}`;
    const meminfo = f.text(`${dir}/meminfo`) ?? '';
    const kib = (key: string): number | null => {
      const m = new RegExp(`^Node\\s+\\d+\\s+${key}:\\s+(\\d+)\\s+kB`, 'm').exec(meminfo);
      return m ? Number(m[1]) : null;
    };
    const dist = f.line(`${dir}/distance`);
    const distances = dist === null ? null : dist.split(/\s+/).filter(Boolean).map(Number);
    const hmat: NodeHmat = {};
    for (const k of ['read_latency', 'write_latency', 'read_bandwidth', 'write_bandwidth'] as const) {
      const v = f.int(`${dir}/access0/initiators/${k}`);
      if (v !== null && v > 0) hmat[k] = v;
    }
    return {
      id,
      cpus: parseList(f.line(`${dir}/cpulist`) ?? '') ?? [],
      mem_total_kib: kib('MemTotal'),
      mem_free_kib: kib('MemFree'),
      distances: distances !== null && distances.every(Number.isFinite) ? distances : null,
      hmat: Object.keys(hmat).length > 0 ? hmat : null,
      tier: null,
      vmstat: counters(f.text(`${dir}/vmstat`)),
    };
  });
}

/** memory_tierN directories with their nodelists, ascending N (fastest first). */
export function readTiers(f: HostFiles): { tier: number; nodes: number[] }[] {
  const out: { tier: number; nodes: number[] }[] = [];
  for (const name of f.list(TIER_DIR)) {
    const m = /^memory_tier(\d+)$/.exec(name);
    if (!m) continue;
    const nodes = parseList(f.line(`${TIER_DIR}/${name}/nodelist`) ?? '');
    if (nodes !== null) out.push({ tier: Number(m[1]), nodes });
  }
  return out.sort((a, b) => a.tier - b.tier);
}

function limit(text: string | null): number | 'max' | null {
  if (text === null) return null;
  if (text === 'max') return 'max';
  return /^\d+$/.test(text) ? Number(text) : null;
}

/** memory.numa_stat: "anon N0=4096 N1=0" lines. */
export function parseNumaStat(text: string): Record<string, Record<number, number>> {
  const out: Record<string, Record<number, number>> = {};
  for (const l of text.split('\n')) {
    const parts = l.trim().split(/\s+/);
    if (parts.length < 2) continue;
    const per: Record<number, number> = {};
    for (const p of parts.slice(1)) {
      const m = /^N(\d+)=(\d+)$/.exec(p);
      if (m) per[Number(m[1])] = Number(m[2]);
    }
    out[parts[0]] = per;
  }
  return out;
}

function readCgroups(f: HostFiles): { version: 1 | 2 | null; groups: InspectedCgroup[] } {
  if (!f.exists(`${CGROUP_ROOT}/cgroup.controllers`)) {
    return { version: f.isDir(`${CGROUP_ROOT}/memory`) ? 1 : null, groups: [] };
  }
  const groups: InspectedCgroup[] = [];
  // Breadth-first, names sorted: parents before children, the same order every time.
  const queue = ['/'];
  while (queue.length > 0 && groups.length < MAX_INSPECTED_CGROUPS) {
    const cg = queue.shift() as string;
    const dir = cg === '/' ? CGROUP_ROOT : `${CGROUP_ROOT}${cg}`;
    const numaStat = f.text(`${dir}/memory.numa_stat`);
    const procs = (f.text(`${dir}/cgroup.procs`) ?? '')
      .split('\n')
      .filter((l) => /^\d+$/.test(l.trim()))
      .map(Number);
    const lim = (file: string): number | null => {
      const v = limit(f.line(`${dir}/${file}`));
      return typeof v === 'number' ? v : null;
    };
    groups.push({
      path: cg,
      memory_current: f.int(`${dir}/memory.current`),
      memory_max: limit(f.line(`${dir}/memory.max`)),
      memory_high: limit(f.line(`${dir}/memory.high`)),
      memory_low: lim('memory.low'),
      memory_min: lim('memory.min'),
      numa_stat: numaStat === null ? null : parseNumaStat(numaStat),
      procs,
    });
    for (const e of f.subdirs(dir)) queue.push(cg === '/' ? `/${e}` : `${cg}/${e}`);
  }
  return { version: 2, groups };
}

/** numa_maps: per VMA "ADDR POLICY key=value… N0=pages N1=pages kernelpagesize_kB=4". */
export function parseNumaMaps(text: string): { node_bytes: Record<number, number>; vmas: number } {
  const bytes: Record<number, number> = {};
  let vmas = 0;
  for (const l of text.split('\n')) {
    if (l.trim() === '') continue;
    vmas++;
    const ps = /kernelpagesize_kB=(\d+)/.exec(l);
    const pageBytes = (ps ? Number(ps[1]) : 4) * 1024;
    for (const m of l.matchAll(/\bN(\d+)=(\d+)/g)) {
      const n = Number(m[1]);
      bytes[n] = (bytes[n] ?? 0) + Number(m[2]) * pageBytes;
    }
  }
  return { node_bytes: bytes, vmas };
}

function readProcesses(f: HostFiles): { processes: InspectedProcess[]; unreadable: number } {
  const pids = f
    .list('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .sort((a, b) => a - b)
    .slice(0, MAX_INSPECTED_PROCESSES);
  const processes: InspectedProcess[] = [];
  let unreadable = 0;
  // Other users' numa_maps are unreadable without privileges: counted, not listed one by one.
  const probe = new HostFiles(f.root);
  for (const pid of pids) {
    const maps = probe.text(`/proc/${pid}/numa_maps`);
    if (maps === null) {
      if (probe.unreadable.length > 0) unreadable++;
      probe.unreadable.length = 0;
      continue;
    }
    const { node_bytes, vmas } = parseNumaMaps(maps);
    if (vmas === 0) continue; // kernel threads
    const cgLine = (probe.text(`/proc/${pid}/cgroup`) ?? '').split('\n').find((l) => l.startsWith('0::'));
    probe.unreadable.length = 0;
    processes.push({
      pid,
      comm: f.line(`/proc/${pid}/comm`) ?? '?',
      cgroup: cgLine === undefined ? null : cgLine.slice(3).trim(),
      node_bytes,
      vmas,
    });
  }
  return { processes, unreadable };
}

/** Everything `numatier inspect` reports about the host whose filesystems are under `root`. */
export function inspectHost(root: string): InspectedHost {
  const f = new HostFiles(root);
  const nodes = readNodes(f);
  const tiers = readTiers(f);
  for (const t of tiers)
    for (const id of t.nodes) {
      const n = nodes.find((x) => x.id === id);
      if (n !== undefined) n.tier = t.tier;
    }
  const demotion = f.line('/sys/kernel/mm/numa/demotion_enabled');
  const nb: NumaBalancingKnobs = {
    mode: f.int('/proc/sys/kernel/numa_balancing'),
    promote_rate_limit_MBps: f.int('/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps'),
    hot_threshold_ms: f.int(`${NB_DEBUGFS}/hot_threshold_ms`),
    scan_delay_ms: f.int(`${NB_DEBUGFS}/scan_delay_ms`),
    scan_period_min_ms: f.int(`${NB_DEBUGFS}/scan_period_min_ms`),
    scan_period_max_ms: f.int(`${NB_DEBUGFS}/scan_period_max_ms`),
    scan_size_mb: f.int(`${NB_DEBUGFS}/scan_size_mb`),
  };
  const cg = readCgroups(f);
  const procs = readProcesses(f);
  return {
    root,
    kernel: f.line('/proc/sys/kernel/osrelease'),
    nodes,
    tiers,
    demotion_enabled: demotion === null ? null : demotion === 'true' || demotion === '1',
    numa_balancing: nb,
    vmstat: counters(f.text('/proc/vmstat')),
    cgroup_version: cg.version,
    cgroups: cg.groups,
    processes: procs.processes,
    processes_unreadable: procs.unreadable,
    unreadable: f.unreadable,
  };
}
