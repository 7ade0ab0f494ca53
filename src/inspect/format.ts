import type { InspectedHost } from './read-host.js';

const MiB = 1 << 20;

function mb(bytes: number): string {
  return `${Math.round(bytes / MiB)} MB`;
}

function table(header: string[], rows: string[][]): string[] {
  const w = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (r: string[]): string =>
    r
      // Numbers right-aligned, names left-aligned, as numastat does.
      .map((c, i) => (i > 0 && /^[-\d.]+$/.test(c) ? c.padStart(w[i]) : c.padEnd(w[i])))
      .join('  ')
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

/** What the host's tiering can do, in one line: the first thing an operator needs to know. */
export function tieringVerdict(h: InspectedHost): string {
  const withMemory = h.nodes.filter((n) => (n.mem_total_kib ?? 0) > 0);
  if (h.nodes.length <= 1) return 'one NUMA node: no memory tiers, nothing to demote to or promote from';
  if (h.tiers.length === 0) return 'no memory_tiering in sysfs (kernel before 6.1?): tiers unknown';
  if (h.tiers.length === 1)
    return `${withMemory.length} nodes, all in one memory tier (memory_tier${h.tiers[0].tier}): the kernel demotes nothing; HMAT or a memory driver would put slow nodes in a lower tier`;
  return `${h.tiers.length} memory tiers: ${h.tiers.map((t) => `memory_tier${t.tier} [${t.nodes.join(',')}]`).join(' > ')}`;
}

/** numactl --hardware / numastat-like text of an inspection. */
export function formatInspection(h: InspectedHost): string {
  const out: string[] = [];
  out.push(`host: ${h.root === '/' ? 'this machine' : h.root}${h.kernel ? `, kernel ${h.kernel}` : ''}`);
  out.push(tieringVerdict(h));
  out.push('');
  out.push(`available: ${h.nodes.length} nodes (${h.nodes.map((n) => n.id).join(',')})`);
  for (const n of h.nodes) {
    out.push(`node ${n.id} cpus:${n.cpus.map((c) => ` ${c}`).join('')}`);
    if (n.mem_total_kib !== null) out.push(`node ${n.id} size: ${mb(n.mem_total_kib * 1024)}`);
    if (n.mem_free_kib !== null) out.push(`node ${n.id} free: ${mb(n.mem_free_kib * 1024)}`);
  }
  if (h.nodes.some((n) => n.distances !== null)) {
    out.push('node distances:');
    out.push(
      ...table(
        ['node', ...h.nodes.map((n) => String(n.id))],
        h.nodes.map((n) => [`${n.id}:`, ...(n.distances ?? []).map(String)]),
      ),
    );
  }
  const hmat = h.nodes.filter((n) => n.hmat !== null);
  if (hmat.length > 0) {
    out.push('');
    out.push('HMAT (access0, from the nearest initiators):');
    out.push(
      ...table(
        ['node', 'read ns', 'write ns', 'read MB/s', 'write MB/s'],
        hmat.map((n) => [
          String(n.id),
          String(n.hmat?.read_latency ?? '-'),
          String(n.hmat?.write_latency ?? '-'),
          String(n.hmat?.read_bandwidth ?? '-'),
          String(n.hmat?.write_bandwidth ?? '-'),
        ]),
      ),
    );
  }
  out.push('');
  const nb = h.numa_balancing;
  const mode =
    nb.mode === null
      ? 'unknown'
      : `${nb.mode} (${nb.mode === 0 ? 'off' : [nb.mode & 1 ? 'classic' : '', nb.mode & 2 ? 'memory tiering' : ''].filter(Boolean).join(' + ')})`;
  out.push(`demotion_enabled: ${h.demotion_enabled ?? 'unknown'}`);
  out.push(`numa_balancing: ${mode}`);
  const knobs = Object.entries(nb).filter(([k, v]) => k !== 'mode' && v !== null);
  if (knobs.length > 0) out.push(`  ${knobs.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  const names = [...new Set(h.nodes.flatMap((n) => Object.keys(n.vmstat)))].filter(
    (k) => k.startsWith('pgdemote_') || k.startsWith('pgpromote_') || k.startsWith('numa_'),
  );
  if (names.length > 0) {
    out.push('');
    out.push('per-node vmstat:');
    out.push(
      ...table(
        ['counter', ...h.nodes.map((n) => `node${n.id}`)],
        names.map((k) => [k, ...h.nodes.map((n) => String(n.vmstat[k] ?? '-'))]),
      ),
    );
  }
  out.push('');
  if (h.cgroup_version === 2) {
    const ids = h.nodes.map((n) => n.id);
    out.push('cgroups (memory.current; anon + file of memory.numa_stat per node, MB):');
    out.push(
      ...table(
        ['cgroup', 'current', ...ids.map((i) => `N${i}`), 'procs'],
        h.cgroups.map((g) => [
          g.path,
          g.memory_current === null ? '-' : String(Math.round(g.memory_current / MiB)),
          ...ids.map((i) =>
            g.numa_stat === null
              ? '-'
              : String(Math.round(((g.numa_stat.anon?.[i] ?? 0) + (g.numa_stat.file?.[i] ?? 0)) / MiB)),
          ),
          String(g.procs.length),
        ]),
      ),
    );
  } else {
    out.push(h.cgroup_version === 1 ? 'cgroups: v1 (numatier needs cgroup v2)' : 'cgroups: not mounted');
  }
  if (h.processes.length > 0) {
    const ids = h.nodes.map((n) => n.id);
    const total = (p: (typeof h.processes)[number]): number =>
      Object.values(p.node_bytes).reduce((a, b) => a + b, 0);
    const top = [...h.processes].sort((a, b) => total(b) - total(a) || a.pid - b.pid).slice(0, 10);
    out.push('');
    out.push(`processes (numa_maps, the ${top.length} largest of ${h.processes.length}, MB):`);
    out.push(
      ...table(
        ['pid', 'comm', ...ids.map((i) => `N${i}`), 'cgroup'],
        top.map((p) => [
          String(p.pid),
          p.comm,
          ...ids.map((i) => String(Math.round((p.node_bytes[i] ?? 0) / MiB))),
          p.cgroup ?? '-',
        ]),
      ),
    );
  }
  if (h.unreadable.length > 0 || h.processes_unreadable > 0) {
    out.push('');
    out.push('could not read:');
    for (const u of h.unreadable.slice(0, 20)) out.push(`  ${u.path} (${u.why})`);
    if (h.unreadable.length > 20) out.push(`  … and ${h.unreadable.length - 20} more`);
    if (h.processes_unreadable > 0)
      out.push(
        `  numa_maps of ${h.processes_unreadable} process${h.processes_unreadable === 1 ? '' : 'es'} (other users'; run as root to see them)`,
      );
  }
  return `${out.join('\n')}\n`;
}
