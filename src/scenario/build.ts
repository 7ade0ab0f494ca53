import { KW } from '../host/kernel-work.js';
import { LatencyModel } from '../engine/cost-model.js';
import { Simulation, type Daemon, type HintFaultHandler, type TaskSpec } from '../engine/simulation.js';
import type { AddressSpaceSpec } from '../host/address-space.js';
import { Host } from '../host/host.js';
import type { HostTopology } from '../host/host-topology.js';
import type { Mempolicy } from '../host/mempolicy.js';
import { buildPlacement, restrictToCpuset } from '../host/mempolicy-placement.js';
import { DEMOTION_POLICIES } from '../policies/demotion/index.js';
import { PROMOTION_FILTERS } from '../policies/promotion/index.js';
import { rateLimitPages } from '../host/numa-balancing/constants.js';
import { NumaTiering } from '../host/numa-tiering.js';
import { KernelMemory } from '../host/slab.js';
import { KMEM_PLACEMENTS } from '../policies/kmem/index.js';
import { Rng } from '../util/rng.js';
import type { AccessStream } from '../workloads/types.js';
import { openStream } from '../workloads/open.js';
import { toHostTopology } from './host-topology.js';
import type { ResolvedScenario } from './load.js';
import { installTierControl, type TierControl } from '../policies/ratio/index.js';
import { MeasureWindow } from '../engine/measure-window.js';

/** Everything one run needs, wired from a resolved scenario: the model, the engine, the tasks. */
export interface BuiltRun {
  /** Per VM, its kernel memory (null when the VM declares none). */
  kernelMemory: (KernelMemory | null)[];
  scenario: ResolvedScenario;
  seed: number;
  topo: HostTopology;
  host: Host;
  lat: LatencyModel;
  sim: Simulation;
  /** Dense node index of each kernel node id. */
  dense: Map<number, number>;
  /** NUMA balancing (scanner + hint faults), when kernel.numa_balancing is not 0. */
  numa: NumaTiering | null;
  /** memory.tier_ratio enforcement and tenant hints (docs/ratios.md), or null when unused. */
  tierControl: TierControl | null;
  /** Closes the VMs' access streams (trace files); whoever builds a run calls it in a `finally`. */
  close(): void;
}

export interface BuildOptions {
  onSample?: (run: BuiltRun, now: number) => void;
  onProgress?: (fraction: number) => void;
  daemons?: Daemon[];
  hintFaults?: HintFaultHandler | null;
}

export function buildRun(sc: ResolvedScenario, seed: number, opts: BuildOptions = {}): BuiltRun {
  const topo = toHostTopology(sc.model);
  const dense = new Map(topo.nodes.map((n, i) => [n.id, i]));
  const toDense = (xs: readonly number[]): number[] => xs.map((x) => dense.get(x) as number);
  const zonelists = topo.nodes.map((n) => Int32Array.from(n.zonelist));
  const weights = new Uint8Array(topo.nodes.length).fill(1);
  for (const [id, w] of Object.entries(sc.weightedInterleave)) weights[dense.get(Number(id)) as number] = w;
  const rng = new Rng(seed);
  const cgPaths = ['/', ...sc.cgroups.map((c) => c.path)];

  const spaces: AddressSpaceSpec[] = sc.vms.map((vm) => {
    const cpuNode = dense.get(vm.cpuNode) as number;
    const pol: Mempolicy = { ...vm.mempolicy, nodes: toDense(vm.mempolicy.nodes) };
    let placement = buildPlacement(pol, cpuNode, zonelists, weights);
    if (vm.cpusetMems !== null) placement = restrictToCpuset(placement, toDense(vm.cpusetMems));
    return {
      name: vm.name,
      memcg: cgPaths.indexOf(vm.cgroup),
      cpuNode,
      pages: vm.footprintPages,
      filePages: vm.filePages,
      placement,
      cpuset: vm.cpusetMems === null ? null : toDense(vm.cpusetMems),
    };
  });
  const tier = sc.tiering;
  const demotion = DEMOTION_POLICIES.get(tier.demotion.id).create(tier.demotion.params, { topo, dense });
  const host = new Host({
    topology: topo,
    cgroups: sc.cgroups,
    addressSpaces: spaces,
    swapPages: sc.swapPages,
    swappiness: sc.swappiness,
    demotionEnabled: sc.demotionEnabled,
    demotion,
    numaBalancing: sc.numaBalancing,
    costs: sc.costs,
    rng: rng.fork('host'),
    pingpongWindowMs: tier.pingpongWindowMs,
    memoryRecursiveProt: sc.memoryRecursiveProt,
  });
  let numa: NumaTiering | null = null;
  if (sc.numaBalancing !== 0) {
    const states = NumaTiering.nodeStates(topo.nodes.length);
    const filter = PROMOTION_FILTERS.get(tier.promotion.id).create(tier.promotion.params, {
      states,
      rateLimitPages: rateLimitPages(tier.tunables.promote_rate_limit),
      hotThresholdMs: tier.tunables.hot_threshold,
      scanPeriodMaxMs: tier.tunables.scan_period_max,
    });
    numa = new NumaTiering(host, {
      mode: sc.numaBalancing,
      tunables: tier.tunables,
      filter,
      states,
      policies: spaces.map((_, i) => sc.vms[i].mempolicy),
      scanPteNs: sc.costs.numaScanPteNs,
    });
  }
  const lat = new LatencyModel(topo, sc.latency);
  // From the first stream opened on, a failure must not leave the streams open.
  const streams: AccessStream[] = [];
  const closeStreams = (): void => {
    for (const st of streams.splice(0)) st.close();
  };
  try {
    const tasks: TaskSpec[] = sc.vms.map((vm, i) => {
      const stream = openStream(vm.source, rng.fork(`vm:${vm.name}`));
      streams.push(stream);
      return { as: host.spaces[i], stream, mlp: vm.mlp, startNs: vm.startNs };
    });
    const run = { scenario: sc, seed, topo, host, lat, dense, numa, close: closeStreams } as BuiltRun;
    const daemons: Daemon[] = [...(opts.daemons ?? [])];
    run.tierControl = installTierControl({
      host,
      vms: sc.vms.map((vm, i) => ({
        as: host.spaces[i],
        policy: { ...vm.mempolicy, nodes: toDense(vm.mempolicy.nodes) },
        cpuset: vm.cpusetMems === null ? null : toDense(vm.cpusetMems),
      })),
      zonelists,
      rng: rng.fork('ratio'),
      ratios: sc.tierRatios.map((t) => ({ memcg: cgPaths.indexOf(t.path), setting: t.setting })),
      options: sc.ratio,
      schedule: sc.schedule,
      madvise: sc.vms.map((vm) => vm.madvise),
      chargeTask: (asId, ns) => {
        const t = run.sim.tasks[asId];
        t.clockNs += ns;
        t.stats.kernelNs += ns;
        t.as.kernelNsBy[KW.tier_control] += ns;
      },
    });
    if (run.tierControl !== null) daemons.push(...run.tierControl.daemons);
    run.sim = new Simulation(host, lat, tasks, {
      durationNs: sc.durationNs,
      sampleIntervalNs: sc.sampleIntervalNs,
      epochNs: 1e6,
      daemons,
      hooks: run.tierControl?.hooks ?? [],
      hintFaults: opts.hintFaults ?? numa,
      onSample: (_s, now) => {
        run.tierControl?.monitor?.sample(now);
        opts.onSample?.(run, now);
      },
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    run.sim.measure = new MeasureWindow(sc.measure, run.sim);
    if (numa !== null) daemons.push(...numa.scanners(run.sim));
    run.kernelMemory = sc.vms.map((vm, i) => {
      if (vm.kernelMemory === null) return null;
      const task = run.sim.tasks[i];
      const km = new KernelMemory(host, lat, task, {
        pages: vm.kernelMemory.pages,
        accessShare: vm.kernelMemory.accessShare,
        growMs: vm.kernelMemory.growMs,
        order: KMEM_PLACEMENTS.get(vm.kernelMemory.placement).create({}, { topo, cpuNode: task.as.cpuNode }),
      });
      daemons.push(km);
      return km;
    });
    return run;
  } catch (e) {
    closeStreams();
    throw e;
  }
}
