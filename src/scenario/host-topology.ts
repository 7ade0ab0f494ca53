import type { HostNode, HostTopology, NodePerf } from '../host/host-topology.js';
import { MEMTIER_ADISTANCE_DRAM } from '../topology/adistance.js';
import type { TopologyModel } from '../topology/model.js';

/**
 * Performance assumed for DRAM when a topology gives no HMAT attributes at all: ~101 ns
 * random read latency (Izraelevitz et al., "Basic Performance Measurements of the Intel Optane
 * DC Persistent Memory Module", 2019) and per-socket bandwidth of the same era's six-channel
 * DDR4 servers. See docs/cost-model.md.
 */
export const DEFAULT_DRAM_PERF: NodePerf = {
  readLatencyNs: 101,
  writeLatencyNs: 101,
  readBandwidthMBps: 100_000,
  writeBandwidthMBps: 60_000,
};

/**
 * A node without HMAT attributes gets performance derived from its abstract distance:
 * adistance ∝ latency × (1 / bandwidth) (mt_perf_to_adistance), so the model splits the ratio
 * to DRAM evenly: latency × √r, bandwidth ÷ √r, with r = adist / 576. Documented as a model
 * assumption, not kernel behaviour.
 */
export function perfFromAdistance(adist: number, dram: NodePerf): NodePerf {
  const k = Math.sqrt(adist / MEMTIER_ADISTANCE_DRAM);
  return {
    readLatencyNs: dram.readLatencyNs * k,
    writeLatencyNs: dram.writeLatencyNs * k,
    readBandwidthMBps: dram.readBandwidthMBps / k,
    writeBandwidthMBps: dram.writeBandwidthMBps / k,
  };
}

export function toHostTopology(model: TopologyModel): HostTopology {
  const ids = model.nodes.map((n) => n.id);
  const dense = new Map(ids.map((id, i) => [id, i]));
  const toDense = (xs: readonly number[]): number[] => xs.map((x) => dense.get(x) as number);
  const refNode = model.topology.nodes.find((n) => n.cpus.length > 0 && n.perf !== undefined);
  const dram: NodePerf = refNode?.perf
    ? {
        readLatencyNs: refNode.perf.read_latency,
        writeLatencyNs: refNode.perf.write_latency,
        readBandwidthMBps: refNode.perf.read_bandwidth,
        writeBandwidthMBps: refNode.perf.write_bandwidth,
      }
    : DEFAULT_DRAM_PERF;
  const nodes: HostNode[] = model.nodes.map((n, i) => {
    const spec = model.topology.nodes[i];
    const perf: NodePerf = spec.perf
      ? {
          readLatencyNs: spec.perf.read_latency,
          writeLatencyNs: spec.perf.write_latency,
          readBandwidthMBps: spec.perf.read_bandwidth,
          writeBandwidthMBps: spec.perf.write_bandwidth,
        }
      : perfFromAdistance(n.adistance, dram);
    const zonelist = toDense(model.zonelists.get(n.id) as readonly number[]);
    const fallbackSet = new Set(toDense(n.demotion.fallback));
    return {
      id: n.id,
      hasCpu: n.cpus.length > 0,
      cpus: n.cpus,
      capacityPages: n.capacityPages,
      movable: n.zone === 'movable',
      wmarkMin: n.watermarks.min,
      wmarkLow: n.watermarks.low,
      wmarkHigh: n.watermarks.high,
      wmarkPromo: n.watermarks.promo,
      adistance: n.adistance,
      tier: n.tier,
      toptier: n.toptier,
      demotionPreferred: toDense(n.demotion.preferred),
      demotionFallback: zonelist.filter((x) => fallbackSet.has(x)),
      zonelist,
      perf,
      ...(spec.memorySideCache
        ? {
            sideCache: {
              sizePages: Math.max(1, Math.floor(spec.memorySideCache.sizeBytes / 4096)),
              hitReadNs: spec.memorySideCache.readLatency,
              hitWriteNs: spec.memorySideCache.writeLatency,
            },
          }
        : {}),
    };
  });
  const distance = ids.map((from) => ids.map((to) => model.topology.distance.get(from)?.get(to) as number));
  return { name: model.topology.name ?? 'topology', nodes, distance };
}
