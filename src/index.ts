/** numatier library entry: the public API, one block per area. */

// topology: nodes, distances, memory tiers, demotion targets, watermarks
export type { AccessCoordinate, MemoryClass, NodeSpec, Topology, ZoneKind } from './topology/types.js';
export { nodeById, nodeDistance, nodeHasCpus } from './topology/types.js';
export {
  DEFAULT_NODE_SIZE,
  LOCAL_DISTANCE,
  SYNTHETIC_CPUS_PER_NODE,
  loadTopologyFile,
  normalizeTopology,
  parseTopologyText,
} from './topology/load.js';
export type { AdistanceSource, DramPerfReference, NodeAdistance } from './topology/adistance.js';
export {
  MEMTIER_ADISTANCE_DRAM,
  MEMTIER_CHUNK_BITS,
  MEMTIER_CHUNK_SIZE,
  MEMTIER_DEFAULT_DAX_ADISTANCE,
  classDefaultAdistance,
  collectDefaultDramPerf,
  computeAdistances,
  mtPerfToAdistance,
} from './topology/adistance.js';
export type { MemoryTier } from './topology/memory-tiers.js';
export {
  adistanceStart,
  buildMemoryTiers,
  computeTopTierAdistance,
  nodeIsToptier,
  tierIdOf,
} from './topology/memory-tiers.js';
export type { DemotionTargets } from './topology/demotion.js';
export { dumpDemotionTargets, establishDemotionTargets } from './topology/demotion.js';
export type { NodeLoad, NodeLoadMode, Zonelists } from './topology/zonelist.js';
export {
  MAX_NUMNODES,
  NUMA_NO_NODE,
  PENALTY_FOR_NODE_WITH_CPUS,
  buildAllZonelists,
  findNextBestNode,
  zonelistOrder,
} from './topology/zonelist.js';
export type {
  HostWatermarks,
  WatermarkOptions,
  WatermarkZone,
  ZoneWatermarks,
} from './topology/watermarks.js';
export {
  DEFAULT_WATERMARK_SCALE_FACTOR,
  calculateMinFreeKbytes,
  computeWatermarks,
  intSqrt,
  setupPerZoneWmarks,
} from './topology/watermarks.js';
export type { NodeModel, TopologyModel, TopologyOptions } from './topology/model.js';
export { buildTopologyModel, topologyModelToJSON } from './topology/model.js';
export { formatNodelist } from './topology/nodemask.js';
export { formatNumactlHardware, formatTopologyReport } from './topology/format.js';
