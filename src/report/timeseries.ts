import { VMSTAT_ITEMS } from '../host/vmstat.js';
import type { MetricsListener } from '../metrics/listeners.js';
import { diffVm, vmstatGlobal, type Snapshot } from '../metrics/snapshot.js';
import type { BuiltRun } from '../scenario/build.js';
import { memcgPagesByNode } from './stats.js';

/**
 * The periodic time series of a run: per-node free pages, per-VM resident pages, fast share,
 * accesses and interval AMAT, per-cgroup usage per node, and every vmstat counter (cumulative).
 * Columnar in memory, written as CSV. It listens to the run's snapshots: each row is one
 * snapshot, and the interval AMAT the diff from the previous one.
 */
export class TimeSeries implements MetricsListener {
  readonly columns: string[] = [];
  readonly rows: number[][] = [];
  private prev: Snapshot | null = null;

  snapshot(snap: Snapshot, run: BuiltRun): void {
    const { host, topo } = run;
    const ids = topo.nodes.map((n) => n.id);
    const first = this.columns.length === 0;
    const row: number[] = [];
    const col = (name: string, v: number): void => {
      if (first) this.columns.push(name);
      row.push(v);
    };
    col('time_ms', Math.round((snap.atNs / 1e6) * 1e6) / 1e6);
    for (let n = 0; n < host.nodes; n++) col(`node${ids[n]}_free_pages`, snap.freePages[n]);
    const prev = this.prev;
    snap.vms.forEach((v, i) => {
      const as = run.sim.tasks[i].as;
      const name = as.name;
      let fast = 0;
      let rss = 0;
      for (let n = 0; n < host.nodes; n++) {
        if (host.toptier[n]) fast += v.rssByNode[n];
        rss += v.rssByNode[n];
      }
      col(`vm_${name}_rss_pages`, rss);
      col(`vm_${name}_fast_share`, rss > 0 ? Math.round((fast / rss) * 1e6) / 1e6 : 0);
      const monitor = run.tierControl?.monitor;
      if (monitor) {
        // Target (1 when the VM's groups set no ratio) vs the governing group's achieved share.
        const r = monitor.current(as.id);
        col(`vm_${name}_target_fast_ratio`, r.target ?? 1);
        col(`vm_${name}_achieved_fast_ratio`, Math.round(r.achieved * 1e6) / 1e6);
      }
      col(`vm_${name}_accesses`, v.accesses);
      // The interval since the previous sample (the first: since the start).
      const d = prev === null ? v : diffVm(prev.vms[i], v);
      col(`vm_${name}_amat_ns`, d.accesses > 0 ? Math.round((d.latencyNs / d.accesses) * 1000) / 1000 : 0);
    });
    host.cgroups.paths.forEach((path, c) => {
      const byNode = memcgPagesByNode(host, c, snap.memcgNodePages);
      col(`cg${path}_pages`, snap.memcgUsage[c]);
      for (let n = 0; n < host.nodes; n++) col(`cg${path}_N${ids[n]}_pages`, byNode[n]);
    });
    for (const i of VMSTAT_ITEMS.keys()) col(VMSTAT_ITEMS[i], vmstatGlobal(snap, i));
    this.prev = snap;
    // A final sample at the same instant as the last periodic one replaces it.
    const last = this.rows[this.rows.length - 1];
    if (last !== undefined && last[0] === row[0]) this.rows[this.rows.length - 1] = row;
    else this.rows.push(row);
  }

  toCSV(): string {
    return seriesCSV(this.columns, this.rows);
  }
}

/** A time series (as TimeSeries holds it, or as it crossed a thread) as CSV text. */
export function seriesCSV(columns: readonly string[], rows: readonly (readonly number[])[]): string {
  return [columns.map(csvField).join(','), ...rows.map((r) => r.join(','))].join('\n') + '\n';
}

/** One CSV field: quoted when it holds a quote, comma or newline (RFC 4180). */
export function csvField(x: string | number | boolean): string {
  const s = String(x);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
