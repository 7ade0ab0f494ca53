import { InputError } from '../util/errors.js';
import { bytesToPages } from '../util/units.js';
import { type AdistanceSource, type DramPerfReference, computeAdistances } from './adistance.js';
import { type DemotionTargets, establishDemotionTargets } from './demotion.js';
import { type MemoryTier, buildMemoryTiers, computeTopTierAdistance, nodeIsToptier } from './memory-tiers.js';
import type { MemoryClass, Topology, ZoneKind } from './types.js';
import { type ZoneWatermarks, computeWatermarks } from './watermarks.js';
import { type NodeLoadMode, buildAllZonelists } from './zonelist.js';

/** Everything the kernel derives from a topology, computed once: the model the simulator starts from. */

export interface TopologyOptions {
  /** vm.min_free_kbytes set by the user; default: computed as at boot. */
  readonly minFreeKbytes?: number;
  /** vm.watermark_scale_factor; default 10. */
  readonly watermarkScaleFactor?: number;
  /** node_load[] used by find_next_best_node(); default 'kernel'. */
  readonly nodeLoad?: NodeLoadMode;
}

export interface NodeModel {
  readonly id: number;
  readonly cpus: readonly number[];
  readonly memoryClass: MemoryClass;
  readonly zone: ZoneKind;
  readonly sizeBytes: number;
  /** Managed pages of the node's zone (= present pages; reserved memory is not modelled). */
  readonly capacityPages: number;
  readonly adistance: number;
  readonly adistanceSource: AdistanceSource;
  /** sysfs id of the node's memory tier. */
  readonly tier: number;
  /** node_is_toptier(): NUMA-balancing promotion only moves pages off non-top-tier nodes. */
  readonly toptier: boolean;
  readonly watermarks: ZoneWatermarks;
  readonly demotion: DemotionTargets;
}

export interface TopologyModel {
  readonly topology: Topology;
  /** Ascending node id. */
  readonly nodes: readonly NodeModel[];
  /** Fastest first. */
  readonly tiers: readonly MemoryTier[];
  readonly demotion: ReadonlyMap<number, DemotionTargets>;
  readonly topTierAdistance: number;
  readonly minFreeKbytes: number;
  readonly watermarkScaleFactor: number;
  readonly dramPerf: DramPerfReference;
  readonly nodeLoadMode: NodeLoadMode;
  /** Allocation fallback order per node, local first. */
  readonly zonelists: ReadonlyMap<number, readonly number[]>;
}

export function buildTopologyModel(topo: Topology, opts: TopologyOptions = {}): TopologyModel {
  const mode = opts.nodeLoad ?? 'kernel';
  if (mode !== 'kernel' && mode !== 'zero') {
    throw new InputError(`node_load: expected "kernel" or "zero", got ${JSON.stringify(mode)}`);
  }
  const { adistances, dramPerf } = computeAdistances(topo);
  const tiers = buildMemoryTiers(new Map([...adistances].map(([id, a]) => [id, a.adistance])));
  const topTierAdistance = computeTopTierAdistance(topo, tiers);
  const zonelists = buildAllZonelists(topo, mode);
  const demotion = establishDemotionTargets(topo, tiers, zonelists.nodeLoad);
  const wm = computeWatermarks(topo, {
    ...(opts.minFreeKbytes !== undefined ? { minFreeKbytes: opts.minFreeKbytes } : {}),
    ...(opts.watermarkScaleFactor !== undefined ? { watermarkScaleFactor: opts.watermarkScaleFactor } : {}),
  });

  const tierOf = new Map<number, MemoryTier>();
  for (const t of tiers) for (const n of t.nodes) tierOf.set(n, t);

  const nodes: NodeModel[] = topo.nodes.map((n) => {
    const a = adistances.get(n.id)!;
    const tier = tierOf.get(n.id)!;
    return {
      id: n.id,
      cpus: n.cpus,
      memoryClass: n.memoryClass,
      zone: n.zone,
      sizeBytes: n.sizeBytes,
      capacityPages: bytesToPages(n.sizeBytes),
      adistance: a.adistance,
      adistanceSource: a.source,
      tier: tier.id,
      toptier: nodeIsToptier(tier, topTierAdistance),
      watermarks: wm.perNode.get(n.id)!,
      demotion: demotion.get(n.id)!,
    };
  });

  return {
    topology: topo,
    nodes,
    tiers,
    demotion,
    topTierAdistance,
    minFreeKbytes: wm.minFreeKbytes,
    watermarkScaleFactor: wm.watermarkScaleFactor,
    dramPerf,
    nodeLoadMode: mode,
    zonelists: zonelists.order,
  };
}

/**
 * The `numatier topology --json` document. Keys use the kernel's snake_case names; maps keyed by
 * node id use string keys, in ascending id order.
 */
export function topologyModelToJSON(model: TopologyModel): Record<string, unknown> {
  const ids = model.nodes.map((n) => n.id);
  const byId = <T>(f: (id: number) => T): Record<string, T> =>
    Object.fromEntries(ids.map((id) => [String(id), f(id)]));
  return {
    ...(model.topology.name !== undefined ? { name: model.topology.name } : {}),
    nodes: model.nodes.map((n) => ({
      id: n.id,
      cpus: [...n.cpus],
      class: n.memoryClass,
      zone: n.zone,
      size_bytes: n.sizeBytes,
      capacity_pages: n.capacityPages,
      adistance: n.adistance,
      adistance_source: n.adistanceSource,
      tier: n.tier,
      toptier: n.toptier,
      watermarks: { ...n.watermarks },
    })),
    tiers: model.tiers.map((t) => ({ id: t.id, adistance_start: t.adistanceStart, nodes: [...t.nodes] })),
    demotion: byId((id) => {
      const d = model.demotion.get(id)!;
      return { preferred: [...d.preferred], fallback: [...d.fallback] };
    }),
    top_tier_adistance: model.topTierAdistance,
    min_free_kbytes: model.minFreeKbytes,
    watermark_scale_factor: model.watermarkScaleFactor,
    distance: ids.map((from) => ids.map((to) => model.topology.distance.get(from)!.get(to)!)),
    zonelists: byId((id) => [...model.zonelists.get(id)!]),
    node_load: model.nodeLoadMode,
    dram_perf: {
      reference_node: model.dramPerf.referenceNode,
      perf: model.dramPerf.perf ? { ...model.dramPerf.perf } : null,
      mismatch_node: model.dramPerf.mismatchNode,
      perf_adistance_enabled: model.dramPerf.usable,
    },
  };
}
