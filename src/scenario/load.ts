import { basename, dirname, extname, resolve } from 'node:path';
import { DEFAULT_KERNEL_COSTS, type KernelCosts } from '../host/costs.js';
import { MAX_HOST_NODES, NODE_CHUNK_SHIFT } from '../host/frames.js';
import { checkHostBounds, checkVmBounds } from './limits.js';
import type { MeasureRule } from '../engine/measure-window.js';
import { parseMempolicy, type Mempolicy } from '../host/mempolicy.js';
import type { CgroupSpec } from '../host/cgroups.js';
import { DEFAULT_LATENCY_MODEL, type LatencyModelOptions } from '../engine/cost-model.js';
import { loadTopologyFile, normalizeTopology } from '../topology/load.js';
import { buildTopologyModel, type TopologyModel } from '../topology/model.js';
import type { Topology } from '../topology/types.js';
import { InputError } from '../util/errors.js';
import { bytesToPages, parseSize } from '../util/units.js';
import { parseWith } from '../util/validate.js';
import {
  FORBIDDEN_KEYS,
  MAX_DOCUMENT_DEPTH,
  checkDocument,
  forbiddenKeyMessage,
  parseYaml,
  readDocumentFile,
  quoteForMessage,
  tooDeep,
} from '../util/document.js';
import { footprintPagesOf, type WorkloadSpec } from '../workloads/schema.js';
import type { StreamSource } from '../workloads/open.js';
import { createTraceWorkload, type TraceWorkloadSpec } from '../traces/workload.js';
import { DOTTED_KEYS, scenarioSchema, type ScenarioInput, type VmInput } from './schema.js';
import { NUMA_BALANCING_DEFAULTS, type NumaBalancingTunables } from '../host/numa-balancing/constants.js';
import { DEMOTION_POLICIES } from '../policies/demotion/index.js';
import { PROMOTION_FILTERS } from '../policies/promotion/index.js';
import { parseTierRatio, type TierRatioSetting } from '../host/tier-ratio.js';
import { resolveMadvise, type MadviseCall } from '../policies/madvise.js';
import { resolveRatioOptions, type RatioOptions } from '../policies/ratio/index.js';
import { resolveSchedule, type ScheduledRatio } from '../policies/ratio/schedule.js';

/** A module of a hook's registry, chosen by id, with its checked parameters (scenario keys). */
export interface ModuleChoice {
  id: string;
  params: Record<string, unknown>;
}

export interface ResolvedTiering {
  /** The demotion policy (DEMOTION_POLICIES); node ids in its params are kernel ids. */
  demotion: ModuleChoice;
  /** The promotion filter (PROMOTION_FILTERS). */
  promotion: ModuleChoice;
  pingpongWindowMs: number;
  tunables: NumaBalancingTunables;
}

function isTraceWorkload(w: VmInput['workload']): w is TraceWorkloadSpec {
  return w.pattern === 'trace';
}

/**
 * A scenario with every size, time, name and node resolved and cross-checked: plain data (no
 * closures, no Maps), so that it survives structuredClone() and a JSON round trip.
 */
export interface ResolvedVm {
  name: string;
  cgroup: string;
  /** Kernel node id of the CPU node running the VM. */
  cpuNode: number;
  mempolicy: Mempolicy;
  cpusetMems: number[] | null;
  footprintPages: number;
  filePages: number;
  mlp: number;
  startNs: number;
  workload: WorkloadSpec | Record<string, unknown>;
  /** Where its accesses come from; workloads/open.ts openStream() opens it for one run. */
  source: StreamSource;
  /** Tenant hints (madvise calls), in pages of the footprint. */
  madvise: MadviseCall[];
  /** Unmovable kernel memory of the VM (idea S13), or null. */
  kernelMemory: {
    pages: number;
    accessShare: number;
    /** A module of KMEM_PLACEMENTS. */
    placement: string;
    growMs: number;
  } | null;
}

export interface ResolvedScenario {
  name: string;
  seed: number;
  description: string;
  model: TopologyModel;
  durationNs: number;
  sampleIntervalNs: number;
  demotionEnabled: boolean;
  numaBalancing: number;
  swappiness: number;
  /** The cgroup2 mount option memory_recursiveprot. */
  memoryRecursiveProt: boolean;
  swapPages: number;
  weightedInterleave: Record<number, number>;
  costs: KernelCosts;
  latency: LatencyModelOptions;
  cgroups: CgroupSpec[];
  vms: ResolvedVm[];
  tiering: ResolvedTiering;
  /** memory.tier_ratio of the groups that set one (docs/ratios.md). */
  tierRatios: { path: string; setting: TierRatioSetting }[];
  /** Ratio enforcement; null when no group has or gets a ratio and there is no `ratio:` block. */
  ratio: RatioOptions | null;
  /** Administrator writes to control files at simulated times. */
  schedule: ScheduledRatio[];
  /** When each VM's measured window opens. */
  measure: MeasureRule;
  /** The validated input, after --set overrides, for the record. */
  input: ScenarioInput;
}

export function readScenarioFile(path: string): unknown {
  return readDocumentFile(path, 'scenario file');
}

/**
 * `--set key=value` overrides: a dotted path (`kernel.swappiness`, `vms.0.workload.theta`,
 * `vms[0].mlp`, `cgroups[1].memory.low`: a cgroup control file keeps its dot) and a YAML
 * scalar or flow value. Missing maps on the way are created, so any field can be set; the
 * result is validated like a file.
 */
export function applyOverrides(raw: unknown, sets: readonly string[]): unknown {
  const root = structuredClone(raw) as Record<string, unknown>;
  for (const s of sets) {
    const eq = s.indexOf('=');
    if (eq <= 0)
      throw new InputError(`--set ${JSON.stringify(s)}: expected key=value, e.g. kernel.swappiness=10`);
    const key = s.slice(0, eq);
    const shownKey = quoteForMessage(key).slice(1, -1);
    const text = s.slice(eq + 1);
    let value: unknown;
    try {
      value = parseYaml(text);
    } catch (e) {
      if (tooDeep(e))
        throw new InputError(`--set ${shownKey}: value nested more than ${MAX_DOCUMENT_DEPTH} levels deep`);
      throw new InputError(`--set ${shownKey}: value ${quoteForMessage(text)} is not a valid YAML value`);
    }
    const segs: string[] = [];
    for (const part of key.replace(/\[(\d+)\]/g, '.$1').split('.')) {
      if (part === '') continue;
      if (FORBIDDEN_KEYS.has(part)) throw new InputError(`--set ${shownKey}: ${forbiddenKeyMessage(part)}`);
      const joined = `${segs[segs.length - 1]}.${part}`;
      if (segs.length > 0 && DOTTED_KEYS.has(joined)) segs[segs.length - 1] = joined;
      else segs.push(part);
    }
    if (segs.length > MAX_DOCUMENT_DEPTH)
      throw new InputError(`--set ${shownKey}: more than ${MAX_DOCUMENT_DEPTH} levels deep`);
    checkDocument(value, `--set ${shownKey}`);
    let obj: Record<string, unknown> | unknown[] = root;
    for (let i = 0; i < segs.length; i++) {
      const seg = segs[i];
      const last = i === segs.length - 1;
      if (Array.isArray(obj)) {
        const idx = Number(seg);
        if (!Number.isInteger(idx) || idx < 0 || idx >= obj.length) {
          throw new InputError(
            `--set ${shownKey}: ${quoteForMessage(seg)} is not an index of a list of ${obj.length}`,
          );
        }
        if (last) obj[idx] = value;
        else obj = descend(obj, idx, segs.slice(0, i + 1), shownKey);
      } else {
        if (last) obj[seg] = value;
        else obj = descend(obj, seg, segs.slice(0, i + 1), shownKey);
      }
    }
  }
  return root;
}

/**
 * The map or list at `parent[seg]` for a --set path to go through, created when missing. A
 * value already there that is neither (a number, a string) is not replaced by a map: the user
 * meant something else, e.g. a field of a topology that is a file name.
 */
function descend(
  parent: Record<string, unknown> | unknown[],
  seg: string | number,
  path: readonly string[],
  shownKey: string,
): Record<string, unknown> | unknown[] {
  const rec = parent as Record<string | number, unknown>;
  const v = rec[seg];
  if (v === undefined || v === null) {
    rec[seg] = {};
    return rec[seg] as Record<string, unknown>;
  }
  if (typeof v === 'object') return v as Record<string, unknown>;
  const where = path.join('.').replace(/\.(\d+)(?=\.|$)/g, '[$1]');
  if (where === 'topology' && typeof v === 'string') {
    throw new InputError(
      `--set ${shownKey}: the scenario's topology is the file ${quoteForMessage(v)}, so its fields cannot be set one by one; ` +
        `point to another file (--set topology=OTHER.yaml) or copy the file and edit it`,
    );
  }
  throw new InputError(
    `--set ${shownKey}: ${where} is ${typeof v === 'string' ? quoteForMessage(v) : String(v)}, not a map or list to set a field in`,
  );
}

/**
 * A scenario's `topology` field: a file name (relative to the scenario's directory) or an
 * inline topology, whose field errors are named from the scenario's top (`topology.nodes[0]`).
 */
export function scenarioTopology(field: unknown, baseDir: string): Topology {
  if (typeof field === 'string') return loadTopologyFile(resolve(baseDir, field));
  try {
    return normalizeTopology(field);
  } catch (e) {
    if (e instanceof InputError) {
      const m = e.message;
      throw new InputError(
        m.startsWith('(top level)') ? `topology${m.slice('(top level)'.length)}` : `topology.${m}`,
      );
    }
    throw e;
  }
}

/** Control files the kernel creates only in non-root groups. */
const ROOT_LESS_FILES = ['memory.max', 'memory.high', 'memory.low', 'memory.min', 'memory.swap.max'] as const;

function resolveCgroupLimits(c: NonNullable<ScenarioInput['cgroups']>[number], f: string): CgroupSpec {
  return {
    path: c.path,
    memoryMax: limitPages(c['memory.max'], `${f}.memory.max`, Infinity),
    memoryHigh: limitPages(c['memory.high'], `${f}.memory.high`, Infinity),
    memoryLow:
      c['memory.low'] === undefined ? 0 : bytesToPages(parseSize(c['memory.low'], `${f}.memory.low`)),
    memoryMin:
      c['memory.min'] === undefined ? 0 : bytesToPages(parseSize(c['memory.min'], `${f}.memory.min`)),
    swapMax: limitPages(c['memory.swap.max'], `${f}.memory.swap.max`, Infinity),
  };
}

function limitPages(v: string | undefined, field: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (v === 'max') return Infinity;
  return bytesToPages(parseSize(v, field));
}

/**
 * Validates a scenario document and resolves it. `baseDir` resolves a topology path;
 * `defaultName` names a scenario that has no `name`.
 */
export function resolveScenario(raw: unknown, baseDir: string, defaultName: string): ResolvedScenario {
  const input = parseWith(scenarioSchema, raw);
  const k = input.kernel ?? {};
  const topo = scenarioTopology(input.topology, baseDir);
  const model = buildTopologyModel(topo, {
    ...(k.min_free_kbytes !== undefined ? { minFreeKbytes: k.min_free_kbytes } : {}),
    ...(k.watermark_scale_factor !== undefined ? { watermarkScaleFactor: k.watermark_scale_factor } : {}),
  });
  if (model.nodes.length > MAX_HOST_NODES) {
    throw new InputError(
      `topology.nodes: a simulated host has at most ${MAX_HOST_NODES} nodes, got ${model.nodes.length}`,
    );
  }
  const durationNs = input.duration_ms * 1e6;
  const sampleIntervalNs = (input.sample_interval_ms ?? Math.max(1, input.duration_ms / 200)) * 1e6;
  if (sampleIntervalNs > durationNs) {
    throw new InputError(
      `sample_interval_ms: ${input.sample_interval_ms} is longer than duration_ms ${input.duration_ms}`,
    );
  }
  checkHostBounds({
    durationMs: input.duration_ms,
    sampleIntervalMs: sampleIntervalNs / 1e6,
    nodePages: model.nodes.map((n) => n.capacityPages),
    chunkPages: 2 ** NODE_CHUNK_SHIFT,
  });
  const nodeIds = model.nodes.map((n) => n.id);
  const idList = nodeIds.join(', ');
  const cpuNodes = model.nodes.filter((n) => n.cpus.length > 0).map((n) => n.id);
  if (cpuNodes.length === 0)
    throw new InputError(`topology.nodes: no node has CPUs; VMs need a CPU node to run on`);

  // cgroups: parents before children; the root always exists.
  const cgroups: CgroupSpec[] = [];
  const tierRatios: { path: string; setting: TierRatioSetting }[] = [];
  const seen = new Set<string>(['/']);
  let rootListed = false;
  // Listed in any order: resolved by depth ("/" is depth 0, "/vms" 1, "/vms/web" 2).
  const depth = (path: string): number => (path === '/' ? 0 : path.split('/').length - 1);
  const cgInputs = [...(input.cgroups ?? [])].sort((a, b) => depth(a.path) - depth(b.path));
  for (const c of cgInputs) {
    const i = (input.cgroups ?? []).indexOf(c);
    const f = `cgroups[${i}]`;
    if (!/^\/([A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*)?$/.test(c.path)) {
      throw new InputError(
        `${f}.path: expected an absolute cgroup path such as /vms/web, got ${JSON.stringify(c.path)}`,
      );
    }
    if (seen.has(c.path) && (c.path !== '/' || rootListed))
      throw new InputError(`${f}.path: ${c.path} is listed twice`);
    const parent = c.path === '/' ? null : c.path.slice(0, c.path.lastIndexOf('/')) || '/';
    if (parent !== null && !seen.has(parent)) {
      throw new InputError(`${f}.path: parent cgroup ${parent} of ${c.path} is not listed`);
    }
    if (c.path === '/') {
      rootListed = true;
      // The root group always exists; the kernel gives it no memory.max, .high, .low, .min or
      // .swap.max file (Documentation/admin-guide/cgroup-v2.rst: "exists on non-root cgroups").
      const file = ROOT_LESS_FILES.find((k) => c[k] !== undefined);
      if (file !== undefined)
        throw new InputError(`${f}.${file}: the root cgroup / has no ${file} file; set it on a child group`);
    } else {
      seen.add(c.path);
      cgroups.push(resolveCgroupLimits(c, f));
    }
    if (c['memory.tier_ratio'] !== undefined) {
      tierRatios.push({
        path: c.path,
        setting: parseTierRatio(c['memory.tier_ratio'], `${f}.memory.tier_ratio`),
      });
    }
  }
  const cgPaths = ['/', ...cgroups.map((c) => c.path)];

  const vmNames = new Set<string>();
  const vms: ResolvedVm[] = input.vms.map((v, i) => {
    const f = `vms[${i}]`;
    if (vmNames.has(v.name))
      throw new InputError(`${f}.name: VM name ${JSON.stringify(v.name)} is used twice`);
    vmNames.add(v.name);
    const cgroup = v.cgroup ?? '/';
    if (!cgPaths.includes(cgroup)) {
      throw new InputError(
        `${f}.cgroup: no cgroup ${JSON.stringify(cgroup)}; defined: ${cgPaths.join(', ')}`,
      );
    }
    const cpuNode = v.cpu_node ?? cpuNodes[0];
    if (!nodeIds.includes(cpuNode))
      throw new InputError(`${f}.cpu_node: node ${cpuNode} does not exist; nodes are ${idList}`);
    if (!cpuNodes.includes(cpuNode)) {
      throw new InputError(
        `${f}.cpu_node: node ${cpuNode} has no CPUs; nodes with CPUs: ${cpuNodes.join(', ')}`,
      );
    }
    const pol = v.mempolicy ?? { mode: 'default' as const };
    const mempolicy = parseMempolicy(
      {
        mode: pol.mode,
        nodes: pol.nodes ?? [],
        ...(pol.numa_balancing !== undefined ? { numaBalancing: pol.numa_balancing } : {}),
      },
      ['vms', i, 'mempolicy'],
      { nodeIds },
    );
    let cpusetMems: number[] | null = null;
    if (v.cpuset_mems !== undefined) {
      for (const [j, n] of v.cpuset_mems.entries()) {
        if (!nodeIds.includes(n))
          throw new InputError(`${f}.cpuset_mems[${j}]: node ${n} does not exist; nodes are ${idList}`);
      }
      if (v.cpuset_mems.length === 0) throw new InputError(`${f}.cpuset_mems: must name at least one node`);
      cpusetMems = [...new Set(v.cpuset_mems)].sort((a, b) => a - b);
    }
    let footprintPages: number;
    let source: StreamSource;
    if (isTraceWorkload(v.workload)) {
      // A trace's footprint is its distinct pages, known after a first pass over it.
      const field = ['vms', i, 'workload'];
      const probe = createTraceWorkload(v.workload, baseDir, field);
      footprintPages = probe.footprintPages;
      probe.close();
      source = { kind: 'trace', spec: v.workload, baseDir, field };
    } else {
      footprintPages = footprintPagesOf(v.workload);
      source = { kind: 'synthetic', spec: v.workload };
    }
    const filePages =
      v.file_backed === undefined ? 0 : bytesToPages(parseSize(v.file_backed, `${f}.file_backed`));
    if (filePages > footprintPages) {
      throw new InputError(
        `${f}.file_backed: ${v.file_backed} is larger than the workload footprint (${footprintPages} pages)`,
      );
    }
    return {
      name: v.name,
      cgroup,
      cpuNode,
      mempolicy,
      cpusetMems,
      footprintPages,
      filePages,
      mlp: v.mlp ?? 1,
      startNs: (v.start_ms ?? 0) * 1e6,
      workload: v.workload,
      source,
      madvise: resolveMadvise(v.madvise, footprintPages, `${f}.madvise`),
      kernelMemory: v.kernel_memory
        ? {
            pages: bytesToPages(parseSize(v.kernel_memory.size, `${f}.kernel_memory.size`)),
            accessShare: v.kernel_memory.access_share,
            placement: v.kernel_memory.placement ?? 'local',
            growMs: v.kernel_memory.grow_ms ?? 0,
          }
        : null,
    };
  });
  const schedule = resolveSchedule(input.schedule, cgPaths);
  const wantsRatio =
    input.ratio !== undefined || schedule.length > 0 || tierRatios.some((t) => t.setting.fraction !== null);
  const ratio = wantsRatio ? resolveRatioOptions(input.ratio, input.duration_ms) : null;

  const weightedInterleave: Record<number, number> = {};
  for (const [key, w] of Object.entries(k.weighted_interleave ?? {})) {
    const id = Number(key);
    if (!Number.isInteger(id) || !nodeIds.includes(id)) {
      throw new InputError(
        `kernel.weighted_interleave.${key}: node ${key} does not exist; nodes are ${idList}`,
      );
    }
    weightedInterleave[id] = w;
  }

  const c = k.costs ?? {};
  const costs: KernelCosts = {
    minorFaultNs: c.minor_fault_ns ?? DEFAULT_KERNEL_COSTS.minorFaultNs,
    swapInNs: c.swap_in_ns ?? DEFAULT_KERNEL_COSTS.swapInNs,
    swapOutNs: c.swap_out_ns ?? DEFAULT_KERNEL_COSTS.swapOutNs,
    fileReadNs: c.file_read_ns ?? DEFAULT_KERNEL_COSTS.fileReadNs,
    fileWritebackNs: c.file_writeback_ns ?? DEFAULT_KERNEL_COSTS.fileWritebackNs,
    migratePageNs: c.migrate_page_ns ?? DEFAULT_KERNEL_COSTS.migratePageNs,
    demotePageNs: c.demote_page_ns ?? DEFAULT_KERNEL_COSTS.demotePageNs,
    scanPageNs: c.scan_page_ns ?? DEFAULT_KERNEL_COSTS.scanPageNs,
    hintFaultNs: c.hint_fault_ns ?? DEFAULT_KERNEL_COSTS.hintFaultNs,
    numaScanPteNs: c.numa_scan_pte_ns ?? DEFAULT_KERNEL_COSTS.numaScanPteNs,
  };
  const latency: LatencyModelOptions = {
    ...DEFAULT_LATENCY_MODEL,
    ...(c.remote_ns_per_distance !== undefined ? { remoteNsPerDistance: c.remote_ns_per_distance } : {}),
    ...(c.max_utilisation !== undefined ? { maxUtilisation: c.max_utilisation } : {}),
  };

  const tiering = resolveTiering(input, nodeIds);

  const swap = k.swap ?? '16GiB';
  const swapPages = swap === 'none' ? 0 : bytesToPages(parseSize(swap, 'kernel.swap'));
  checkVmBounds(vms.map((v) => v.footprintPages));
  const measure = resolveMeasure(input.measure);
  return {
    name: input.name ?? defaultName,
    seed: input.seed ?? 1,
    description: input.description ?? '',
    model,
    durationNs,
    sampleIntervalNs,
    demotionEnabled: k.demotion_enabled ?? false,
    numaBalancing: k.numa_balancing ?? 0,
    swappiness: k.swappiness ?? 60,
    memoryRecursiveProt: k.memory_recursiveprot ?? false,
    swapPages,
    weightedInterleave,
    costs,
    latency,
    cgroups,
    vms,
    tiering,
    tierRatios,
    ratio,
    schedule,
    measure,
    input,
  };
}

function resolveMeasure(m: ScenarioInput['measure']): MeasureRule {
  if (m === undefined) return { kind: 'whole-run' };
  const given = Object.keys(m).filter((k) => (m as Record<string, unknown>)[k] !== undefined);
  if (given.length !== 1) {
    throw new InputError(
      `measure: give exactly one of warmup_ms, warmup_accesses, after_first_pass${given.length > 1 ? `, not ${given.join(' and ')}` : ''}`,
    );
  }
  if (m.warmup_ms !== undefined) return { kind: 'warmup-ms', ms: m.warmup_ms };
  if (m.warmup_accesses !== undefined) return { kind: 'warmup-accesses', accesses: m.warmup_accesses };
  return { kind: 'after-first-pass' };
}

function resolveTiering(input: ScenarioInput, nodeIds: number[]): ResolvedTiering {
  const t: Record<string, unknown> = input.tiering ?? {};
  const k = input.kernel ?? {};
  const demotionId = input.tiering?.demotion_policy ?? DEMOTION_POLICIES.defaultId;
  const demotion = {
    id: demotionId,
    params: DEMOTION_POLICIES.params(demotionId, t, 'tiering', { nodeIds }) as Record<string, unknown>,
  };
  // Without the MEMORY_TIERING bit the kernel judges slow-tier hint faults by the classic rule;
  // the default filter then is the two-reference variant of it (idea S21, see
  // docs/numa-balancing.md for how it differs). The hot threshold exists only in tiering mode.
  const numaBalancing = k.numa_balancing ?? 0;
  const tieringMode = (numaBalancing & 2) !== 0;
  const promotionId =
    input.tiering?.promotion_filter ?? (tieringMode ? PROMOTION_FILTERS.defaultId : 'two-reference');
  const promotion = {
    id: promotionId,
    params: PROMOTION_FILTERS.params(promotionId, t, 'tiering', { numaBalancing }) as Record<string, unknown>,
  };
  const d = NUMA_BALANCING_DEFAULTS;
  return {
    demotion,
    promotion,
    pingpongWindowMs: input.tiering?.pingpong_window_ms ?? 10_000,
    tunables: {
      scan_delay: k.numa_balancing_scan_delay_ms ?? d.scan_delay,
      scan_period_min: k.numa_balancing_scan_period_min_ms ?? d.scan_period_min,
      scan_period_max: k.numa_balancing_scan_period_max_ms ?? d.scan_period_max,
      scan_size: k.numa_balancing_scan_size_mb ?? d.scan_size,
      hot_threshold: k.numa_balancing_hot_threshold_ms ?? d.hot_threshold,
      promote_rate_limit: k.numa_balancing_promote_rate_limit_MBps ?? d.promote_rate_limit,
    },
  };
}

/** Reads a scenario file, applies overrides and resolves it. */
export function loadScenario(path: string, sets: readonly string[] = []): ResolvedScenario {
  const raw = applyOverrides(readScenarioFile(path), sets);
  return resolveScenario(raw, dirname(resolve(path)), basename(path, extname(path)));
}
