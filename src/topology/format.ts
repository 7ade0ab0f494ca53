import { dumpDemotionTargets } from './demotion.js';
import type { TopologyModel } from './model.js';
import { formatNodelist } from './nodemask.js';
import type { Topology } from './types.js';

/** Human-readable `numatier topology` report, using the kernel's and numactl's own line formats. */

/** printf("% 4d ", v): a space-flagged, width-4 decimal. */
const col4 = (v: number): string => (v < 0 ? String(v) : ` ${v}`).padStart(4);

/**
 * `numactl --hardware` in the format of current numactl (numactl.c hardware(), print_node_cpus(),
 * print_distances()). "free" equals "size": the simulated host starts empty.
 */
export function formatNumactlHardware(topo: Topology): string[] {
  const ids = topo.nodes.map((n) => n.id);
  const lines = [`available: ${ids.length} nodes (${formatNodelist(ids)})`];
  for (const n of topo.nodes) {
    const mb = Math.floor(n.sizeBytes / 2 ** 20);
    lines.push(`node ${n.id} cpus:${n.cpus.map((c) => ` ${c}`).join('')}`);
    lines.push(`node ${n.id} size: ${mb} MB`);
    lines.push(`node ${n.id} free: ${mb} MB`);
  }
  lines.push('node distances:');
  lines.push(`node  ${ids.map((id) => `${col4(id)} `).join('')}`);
  for (const from of ids) {
    lines.push(`${col4(from)}: ${ids.map((to) => `${col4(topo.distance.get(from)!.get(to)!)} `).join('')}`);
  }
  return lines;
}

function table(header: string[], rows: Array<Array<string | number>>): string[] {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, c) => Math.max(...cells.map((r) => r[c].length)));
  const numeric = header.map((_, c) => rows.every((r) => typeof r[c] === 'number'));
  return cells.map((r) =>
    r
      .map((v, c) => (numeric[c] ? v.padStart(widths[c]) : v.padEnd(widths[c])))
      .join('  ')
      .trimEnd(),
  );
}

export function formatTopologyReport(model: TopologyModel): string {
  const out: string[] = [];
  if (model.topology.name !== undefined) out.push(`topology: ${model.topology.name}`, '');
  out.push(...formatNumactlHardware(model.topology), '');

  out.push('memory tiers (fastest first):');
  for (const t of model.tiers) out.push(`memory_tier${t.id} nodelist: ${formatNodelist(t.nodes)}`);
  out.push('');
  out.push(
    ...table(
      ['node', 'class', 'zone', 'adistance', 'source', 'memory_tier', 'toptier'],
      model.nodes.map((n) => [
        n.id,
        n.memoryClass,
        n.zone,
        n.adistance,
        n.adistanceSource,
        n.tier,
        n.toptier ? 'yes' : 'no',
      ]),
    ),
  );
  out.push(`top_tier_adistance: ${model.topTierAdistance}`);
  const dp = model.dramPerf;
  if (dp.mismatchNode !== null) {
    out.push(
      `note: the performance of DRAM node ${dp.mismatchNode} mismatches that of the reference DRAM node ${dp.referenceNode}; performance-based abstract distance is disabled`,
    );
  } else if (dp.referenceNode !== null) {
    out.push(`reference DRAM performance: node ${dp.referenceNode}`);
  }
  out.push('');

  out.push(...dumpDemotionTargets(model.topology, model.demotion), '');

  // build_zonelists() logs each list with pr_cont("%d ", node), hence the trailing space.
  for (const n of model.nodes) {
    out.push(
      `Fallback order for Node ${n.id}: ${model.zonelists
        .get(n.id)!
        .map((x) => `${x} `)
        .join('')}`,
    );
  }
  out.push('');

  out.push(
    `watermarks (pages; min_free_kbytes ${model.minFreeKbytes}, watermark_scale_factor ${model.watermarkScaleFactor}):`,
  );
  out.push(
    ...table(
      ['node', 'zone', 'managed', 'min', 'low', 'high', 'promo'],
      model.nodes.map((n) => [
        n.id,
        n.zone,
        n.capacityPages,
        n.watermarks.min,
        n.watermarks.low,
        n.watermarks.high,
        n.watermarks.promo,
      ]),
    ),
  );
  return out.join('\n') + '\n';
}
