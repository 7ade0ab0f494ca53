import type { Daemon } from '../../engine/simulation.js';
import type { RatioCounters } from '../../metrics/snapshot.js';
import type { HookContribution } from '../../host/hooks.js';
import type { Host } from '../../host/host.js';
import { MR } from '../../host/migration-ledger.js';
import { TierRatio, type TierRatioSetting } from '../../host/tier-ratio.js';
import { InputError } from '../../util/errors.js';
import type { Rng } from '../../util/rng.js';
import { TenantHints, type MadviseCall } from '../madvise.js';
import { FightDetector } from './fights.js';
import { RatioMonitor } from './monitor.js';
import { promotionGate } from './promotion-gate.js';
import { RATIO_STRATEGY_REGISTRY } from './registry.js';
import { scheduleDaemon, type ScheduledRatio } from './schedule.js';
import {
  RATIO_DEFAULTS,
  RatioStats,
  type PromotionRule,
  type RatioContext,
  type RatioOptions,
  type RatioStrategy,
  type RatioStrategyName,
  type RatioVm,
} from './types.js';

export { RATIO_STRATEGY_REGISTRY, RATIO_STRATEGIES, ratioOptionBlocks } from './registry.js';
export {
  PROMOTION_RULES,
  type RatioOptions,
  type RatioStrategyName,
  type PromotionRule,
  type RatioStrategyModule,
  type RatioContract,
} from './types.js';

/** The scenario's `ratio:` block, as validated by the schema (plus one block per strategy id). */
export interface RatioInput {
  strategy?: RatioStrategyName;
  promotion?: PromotionRule;
  warmup_ms?: number;
  [strategyBlock: string]: unknown;
}

const SHARED_KEYS = new Set(['strategy', 'promotion', 'warmup_ms']);

/** Resolves `ratio:` with its defaults; a strategy's option block is refused under another strategy. */
export function resolveRatioOptions(input: RatioInput | undefined, durationMs: number): RatioOptions {
  const i = input ?? {};
  const strategy = i.strategy ?? RATIO_DEFAULTS.strategy;
  const module = RATIO_STRATEGY_REGISTRY.get(strategy);
  for (const key of Object.keys(i)) {
    if (SHARED_KEYS.has(key) || i[key] === undefined || key === strategy) continue;
    throw new InputError(`ratio.${key}: only used by strategy ${key}, not ${strategy}`);
  }
  if (i.warmup_ms !== undefined && i.warmup_ms >= durationMs) {
    throw new InputError(
      `ratio.warmup_ms: ${i.warmup_ms} leaves no samples in a run of duration_ms ${durationMs}`,
    );
  }
  const parsed = module.params.safeParse(i[strategy] ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(`ratio.${[strategy, ...issue.path.map(String)].join('.')}: ${issue.message}`);
  }
  const params = parsed.data;
  return {
    strategy,
    promotion: i.promotion ?? RATIO_DEFAULTS.promotion,
    warmupNs: (i.warmup_ms ?? durationMs * RATIO_DEFAULTS.warmupFraction) * 1e6,
    params,
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
  /** The ratio's and the hints' host hooks, for installHooks() (host/hooks.ts). */
  hooks: HookContribution[];
}

/**
 * Builds memory.tier_ratio, the chosen strategy, the promotion rule, the schedule and the tenant
 * hints for a host. Their host hooks are returned as data (level "ratio" for the strategy and
 * the gate, "hints" for the hints), to be composed once with the engine's (host/hooks.ts, which
 * declares the precedence of docs/ratios.md).
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
  const hooks: HookContribution[] = [];
  let strategy: RatioStrategy | null = null;
  if (spec.options !== null) {
    const module = RATIO_STRATEGY_REGISTRY.get(spec.options.strategy);
    strategy = module.create(spec.options.params, ctx);
    if (strategy.hooks.promotionGate !== undefined)
      throw new Error(`ratio strategy ${module.id}: the promotion gate is shared (ratio.promotion)`);
    hooks.push({ level: 'ratio', by: `ratio strategy ${module.id}`, hooks: strategy.hooks });
    hooks.push({
      level: 'ratio',
      by: `ratio.promotion ${spec.options.promotion}`,
      hooks: { promotionGate: promotionGate(ctx) },
    });
  }
  const fights = new FightDetector(host, host.ledger.pingpongWindowMs);
  let hints: TenantHints | null = null;
  if (hasHints) {
    hints = new TenantHints(host, {
      ratio,
      chargeTask: spec.chargeTask,
      onHint: (from, to) => fights.forget(from, to),
    });
    hooks.push({ level: 'hints', by: 'madvise hints', hooks: hints.hooks() });
    strategy?.useHints?.(hints);
    const h = hints.hinted;
    fights.watched = (g) => h[g] !== 0;
  }
  const daemons: Daemon[] = [];
  if (strategy !== null) daemons.push(...strategy.daemons());
  if (spec.schedule.length > 0) daemons.push(scheduleDaemon(ratio, spec.schedule));
  if (hints !== null) daemons.push(hints.daemon(spec.madvise));
  const monitor = spec.options === null ? null : new RatioMonitor(host, ratio, spec.options.warmupNs);
  return { ratio, options: spec.options, strategy, stats, monitor, hints, fights, daemons, hooks };
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

/** A VM's ratio fields, from the run's final snapshot (`r`: its ratio counters, null without). */
export function vmRatioFields(
  tc: TierControl | null,
  r: RatioCounters | null,
  host: Host,
  asId: number,
): VmRatioFields {
  const monitored = tc?.monitor != null && r !== null;
  const n = monitored ? r.samples[asId] : 0;
  const target = monitored ? r.target[asId] : -1;
  return {
    target_fast_ratio: target < 0 ? null : round(target),
    achieved_fast_ratio: n === 0 || r === null ? null : round(r.achievedSum[asId] / n),
    fast_ratio_abs_error_mean: n === 0 || r === null ? null : round(r.errSum[asId] / n),
    fast_ratio_abs_error_max: n === 0 || r === null ? null : round(r.errMax[asId]),
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
  /**
   * The strategy's own counters (RatioStrategy.summary), or null. Named for the one strategy
   * that keeps any, the user-space controller: periods, scanned/demoted/promoted/failed pages.
   */
  userspace: Record<string, number> | null;
  hints: {
    calls: number;
    promoted_pages: number;
    made_room_pages: number;
    deactivated_pages: number;
    paged_out_pages: number;
  } | null;
}

export function tierControlSummary(
  tc: TierControl | null,
  r: RatioCounters | null,
  host: Host,
): TierControlSummary | null {
  if (tc === null || r === null) return null;
  const tierRatio: Record<string, string> = {};
  host.cgroups.paths.forEach((p, c) => {
    if (tc.ratio.ratio(c) !== null) tierRatio[p] = tc.ratio.read(c);
  });
  const own = tc.strategy?.summary?.() ?? null;
  const h = r.hints;
  return {
    strategy: tc.options?.strategy ?? null,
    promotion: tc.options?.promotion ?? null,
    warmup_ms: tc.options === null ? null : tc.options.warmupNs / 1e6,
    tier_ratio: tierRatio,
    exchanges: r.exchanges,
    refused_promotions: r.refusedPromotions,
    enforcement_runs: r.enforcementRuns,
    enforcement_charged_ms: round(r.enforcementChargedNs / 1e6),
    userspace: own,
    hints:
      h === null
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
