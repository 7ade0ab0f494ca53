import type { Daemon } from '../../engine/simulation.js';
import type { Host } from '../../host/host.js';
import { TenantHints, type MadviseCall } from '../../host/madvise.js';
import { MR } from '../../host/migration-ledger.js';
import { TierRatio, type TierRatioSetting } from '../../host/tier-ratio.js';
import { InputError } from '../../util/errors.js';
import type { Rng } from '../../util/rng.js';
import { ChargeRetry } from './charge-retry.js';
import { FightDetector } from './fights.js';
import { Interleave } from './interleave.js';
import { RatioMonitor } from './monitor.js';
import { installPromotionGate } from './promotion-gate.js';
import { Rebalance } from './rebalance.js';
import { scheduleDaemon, type ScheduledRatio } from './schedule.js';
import {
  RATIO_DEFAULTS,
  RatioStats,
  type PromotionRule,
  type RatioContext,
  type RatioOptions,
  type RatioStrategy,
  type RatioStrategyFactory,
  type RatioStrategyName,
  type RatioVm,
} from './types.js';
import { Userspace } from './userspace.js';
import { WeightedRandom } from './weighted-random.js';

export {
  RATIO_STRATEGIES,
  PROMOTION_RULES,
  type RatioOptions,
  type RatioStrategyName,
  type PromotionRule,
} from './types.js';

/** Every enforcement strategy by its scenario name; a new strategy is a new file and a line here. */
export const RATIO_STRATEGY_FACTORIES: Readonly<Record<RatioStrategyName, RatioStrategyFactory>> = {
  'charge-retry': () => new ChargeRetry(),
  rebalance: () => new Rebalance(),
  'weighted-random': () => new WeightedRandom(),
  interleave: () => new Interleave(),
  userspace: () => new Userspace(),
};

/** The scenario's `ratio:` block, as validated by the schema. */
export interface RatioInput {
  strategy?: RatioStrategyName;
  promotion?: PromotionRule;
  warmup_ms?: number;
  rebalance?: { period_ms?: number };
  userspace?: { period_ms?: number; bandwidth_MBps?: number; scan_pages?: number };
}

/** Resolves `ratio:` with its defaults; a strategy's option block is refused under another strategy. */
export function resolveRatioOptions(input: RatioInput | undefined, durationMs: number): RatioOptions {
  const i = input ?? {};
  const strategy = i.strategy ?? RATIO_DEFAULTS.strategy;
  if (i.rebalance !== undefined && strategy !== 'rebalance') {
    throw new InputError(`ratio.rebalance: only used by strategy rebalance, not ${strategy}`);
  }
  if (i.userspace !== undefined && strategy !== 'userspace') {
    throw new InputError(`ratio.userspace: only used by strategy userspace, not ${strategy}`);
  }
  if (i.warmup_ms !== undefined && i.warmup_ms >= durationMs) {
    throw new InputError(
      `ratio.warmup_ms: ${i.warmup_ms} leaves no samples in a run of duration_ms ${durationMs}`,
    );
  }
  return {
    strategy,
    promotion: i.promotion ?? RATIO_DEFAULTS.promotion,
    warmupNs: (i.warmup_ms ?? durationMs * RATIO_DEFAULTS.warmupFraction) * 1e6,
    rebalance: { periodNs: (i.rebalance?.period_ms ?? RATIO_DEFAULTS.rebalancePeriodMs) * 1e6 },
    userspace: {
      periodNs: (i.userspace?.period_ms ?? RATIO_DEFAULTS.userspacePeriodMs) * 1e6,
      bandwidthMBps: i.userspace?.bandwidth_MBps ?? RATIO_DEFAULTS.userspaceBandwidthMBps,
      scanPages: i.userspace?.scan_pages ?? RATIO_DEFAULTS.userspaceScanPages,
    },
  };
}

export interface TierControlSpec {
  host: Host;
  vms: readonly RatioVm[];
  zonelists: readonly Int32Array[];
  rng: Rng;
  /** Initial memory.tier_ratio values. */
  ratios: readonly { memcg: number; setting: TierRatioSetting }[];
  /** Enforcement, or null when no group has (or will get) a ratio. */
  options: RatioOptions | null;
  schedule: readonly ScheduledRatio[];
  /** madvise calls per VM (index = address-space id). */
  madvise: readonly (readonly MadviseCall[])[];
  chargeTask(asId: number, ns: number): void;
}

/** The ratio machinery of one run: control files, enforcement, hints and their measurements. */
export interface TierControl {
  ratio: TierRatio;
  options: RatioOptions | null;
  strategy: RatioStrategy | null;
  stats: RatioStats;
  monitor: RatioMonitor | null;
  hints: TenantHints | null;
  fights: FightDetector;
  daemons: Daemon[];
}

/**
 * Wires memory.tier_ratio, the chosen strategy, the promotion rule, the schedule and the tenant
 * hints onto a host, in the precedence order of docs/ratios.md: the VMs' placements (policy and
 * cpuset) first, then the strategy's placement, then the hints on top.
 */
export function installTierControl(spec: TierControlSpec): TierControl | null {
  const hasHints = spec.madvise.some((l) => l.length > 0);
  if (spec.options === null && !hasHints) return null;
  const { host } = spec;
  const ratio = new TierRatio(host);
  for (const { memcg, setting } of spec.ratios) ratio.set(memcg, setting);
  markExempt(host, ratio, spec.vms);
  const stats = new RatioStats();
  const ctx: RatioContext = {
    host,
    ratio,
    vms: spec.vms,
    zonelists: spec.zonelists,
    rng: spec.rng,
    options: spec.options ?? { ...resolveRatioOptions(undefined, 1) },
    stats,
    chargeTask: spec.chargeTask,
  };
  let strategy: RatioStrategy | null = null;
  let hints: TenantHints | null = null;
  if (spec.options !== null) {
    strategy = RATIO_STRATEGY_FACTORIES[spec.options.strategy]();
    if (strategy instanceof Userspace) strategy.hintedRanges = (asId) => hints?.hintedRanges(asId) ?? [];
    strategy.install(ctx);
    installPromotionGate(ctx);
  }
  const fights = new FightDetector(host, host.ledger.pingpongWindowMs);
  if (hasHints) {
    hints = new TenantHints(host, {
      ratio,
      chargeTask: spec.chargeTask,
      onHint: (from, to) => fights.forget(from, to),
    });
    hints.install();
  }
  if (hints !== null) {
    const h = hints.hinted;
    fights.watched = (g) => h[g] !== 0;
  }
  const daemons: Daemon[] = [];
  if (strategy !== null) daemons.push(...strategy.daemons());
  if (spec.schedule.length > 0) daemons.push(scheduleDaemon(ratio, spec.schedule));
  if (hints !== null) daemons.push(hints.daemon(spec.madvise));
  const monitor = spec.options === null ? null : new RatioMonitor(host, ratio, spec.options.warmupNs);
  return { ratio, options: spec.options, strategy, stats, monitor, hints, fights, daemons };
}

/**
 * A group is exempt from the ratio at allocation when one of its VMs may only allocate on fast
 * nodes (a bind policy or a cpuset without slow nodes): the explicit placement wins (S7), and
 * refusing fast nodes would only OOM the VM.
 */
function markExempt(host: Host, ratio: TierRatio, vms: readonly RatioVm[]): void {
  for (const vm of vms) {
    for (let ilx = 0; ilx < 256; ilx++) {
      const c = vm.as.placement.candidates(ilx);
      const nodes = [...c.primary, ...(c.secondary ?? [])];
      if (!nodes.some((n) => host.toptier[n] === 0)) {
        ratio.exempt[vm.as.memcg] = 1;
        break;
      }
    }
  }
}

/** Pages moved to hold the ratio: rebalancing, exchanges at promotion, the user-space controller. */
export function ratioMigrations(host: Host, asId: number): number {
  const L = host.ledger;
  return L.count(asId, MR.ratio_rebalance) + L.count(asId, MR.ratio_exchange) + L.count(asId, MR.userspace);
}

function round(x: number, digits = 6): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** The per-VM fields summary.json reports for the ratio (nulls when the VM has no target). */
export interface VmRatioFields {
  target_fast_ratio: number | null;
  /** Mean achieved fast share of the governing group over the samples after the warm-up. */
  achieved_fast_ratio: number | null;
  fast_ratio_abs_error_mean: number | null;
  fast_ratio_abs_error_max: number | null;
  ratio_migrations: number;
  /** Pages moved in opposite directions by two different mechanisms within the ping-pong window. */
  mechanism_fights: number;
  /** The same, on pages the tenant hinted fast. */
  hinted_range_fights: number;
}

export function vmRatioFields(tc: TierControl | null, host: Host, asId: number): VmRatioFields {
  const m = tc?.monitor ?? null;
  const target = m === null ? null : m.current(asId).target;
  const n = m === null ? 0 : m.samples[asId];
  return {
    target_fast_ratio: target === null ? null : round(target),
    achieved_fast_ratio: m === null || n === 0 ? null : round(m.achievedSum[asId] / n),
    fast_ratio_abs_error_mean: m === null || n === 0 ? null : round(m.errSum[asId] / n),
    fast_ratio_abs_error_max: m === null || n === 0 ? null : round(m.errMax[asId]),
    ratio_migrations: ratioMigrations(host, asId),
    mechanism_fights: tc?.fights.fights[asId] ?? 0,
    hinted_range_fights: tc?.fights.watchedFights[asId] ?? 0,
  };
}

export interface TierControlSummary {
  strategy: RatioStrategyName | null;
  promotion: PromotionRule | null;
  warmup_ms: number | null;
  tier_ratio: Record<string, string>;
  exchanges: number;
  refused_promotions: number;
  enforcement_runs: number;
  enforcement_charged_ms: number;
  userspace: {
    periods: number;
    scanned_pages: number;
    demoted_pages: number;
    promoted_pages: number;
    failed_pages: number;
  } | null;
  hints: {
    calls: number;
    promoted_pages: number;
    made_room_pages: number;
    deactivated_pages: number;
    paged_out_pages: number;
  } | null;
}

export function tierControlSummary(tc: TierControl | null, host: Host): TierControlSummary | null {
  if (tc === null) return null;
  const tierRatio: Record<string, string> = {};
  host.cgroups.paths.forEach((p, c) => {
    if (tc.ratio.ratio(c) !== null) tierRatio[p] = tc.ratio.read(c);
  });
  const u = tc.strategy instanceof Userspace ? tc.strategy.controller?.stats : undefined;
  const h = tc.hints?.stats;
  return {
    strategy: tc.options?.strategy ?? null,
    promotion: tc.options?.promotion ?? null,
    warmup_ms: tc.options === null ? null : tc.options.warmupNs / 1e6,
    tier_ratio: tierRatio,
    exchanges: tc.stats.exchanges,
    refused_promotions: tc.stats.refusedPromotions,
    enforcement_runs: tc.stats.runs + (u?.periods ?? 0),
    enforcement_charged_ms: round(tc.stats.chargedNs / 1e6),
    userspace:
      u === undefined
        ? null
        : {
            periods: u.periods,
            scanned_pages: u.scannedPages,
            demoted_pages: u.demotedPages,
            promoted_pages: u.promotedPages,
            failed_pages: u.failedPages,
          },
    hints:
      h === undefined
        ? null
        : {
            calls: h.calls,
            promoted_pages: h.promoted,
            made_room_pages: h.madeRoom,
            deactivated_pages: h.deactivated,
            paged_out_pages: h.pagedOut,
          },
  };
}
