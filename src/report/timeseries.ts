import { VMSTAT_ITEMS } from '../host/vmstat.js';
import type { BuiltRun } from '../scenario/build.js';
import { memcgPagesByNode } from './stats.js';

/**
 * The periodic time series of a run: per-node free pages, per-VM resident pages, fast share,
 * accesses and interval AMAT, per-cgroup usage per node, and every vmstat counter (cumulative).
 * Columnar in memory, written as CSV.
 */
export class TimeSeries {
  readonly columns: string[] = [];
  readonly rows: number[][] = [];
  private prevLatency: Float64Array | null = null;
  private prevAccesses: Float64Array | null = null;

  sample(run: BuiltRun, now: number): void {
    const { host, sim, topo } = run;
    const ids = topo.nodes.map((n) => n.id);
    const first = this.columns.length === 0;
    const row: number[] = [];
    const col = (name: string, v: number): void => {
      if (first) this.columns.push(name);
      row.push(v);
    };
    col('time_ms', Math.round((now / 1e6) * 1e6) / 1e6);
    for (let n = 0; n < host.nodes; n++) col(`node${ids[n]}_free_pages`, host.frames.freeCount[n]);
    if (this.prevLatency === null) {
      this.prevLatency = new Float64Array(sim.tasks.length);
      this.prevAccesses = new Float64Array(sim.tasks.length);
    }
    sim.tasks.forEach((t, i) => {
      const name = t.as.name;
      let fast = 0;
      for (let n = 0; n < host.nodes; n++) if (host.toptier[n]) fast += t.as.rssByNode[n];
      const rss = t.as.rss();
      col(`vm_${name}_rss_pages`, rss);
      col(`vm_${name}_fast_share`, rss > 0 ? Math.round((fast / rss) * 1e6) / 1e6 : 0);
      const monitor = run.tierControl?.monitor;
      if (monitor) {
        // Target (1 when the VM's groups set no ratio) vs the governing group's achieved share.
        const r = monitor.current(t.as.id);
        col(`vm_${name}_target_fast_ratio`, r.target ?? 1);
        col(`vm_${name}_achieved_fast_ratio`, Math.round(r.achieved * 1e6) / 1e6);
      }
      col(`vm_${name}_accesses`, t.stats.accesses);
      const dA = t.stats.accesses - (this.prevAccesses as Float64Array)[i];
      const dL = t.stats.latencyNs - (this.prevLatency as Float64Array)[i];
      col(`vm_${name}_amat_ns`, dA > 0 ? Math.round((dL / dA) * 1000) / 1000 : 0);
      (this.prevAccesses as Float64Array)[i] = t.stats.accesses;
      (this.prevLatency as Float64Array)[i] = t.stats.latencyNs;
    });
    host.cgroups.paths.forEach((path, c) => {
      const byNode = memcgPagesByNode(host, c);
      col(`cg${path}_pages`, host.cgroups.usage[c]);
      for (let n = 0; n < host.nodes; n++) col(`cg${path}_N${ids[n]}_pages`, byNode[n]);
    });
    for (const [i, name] of VMSTAT_ITEMS.entries()) col(name, host.vmstat.global(i));
    // A final sample at the same instant as the last periodic one replaces it.
    const last = this.rows[this.rows.length - 1];
    if (last !== undefined && last[0] === row[0]) this.rows[this.rows.length - 1] = row;
    else this.rows.push(row);
  }

  toCSV(): string {
    const esc = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
    return [this.columns.map(esc).join(','), ...this.rows.map((r) => r.join(','))].join('\n') + '\n';
  }
}
