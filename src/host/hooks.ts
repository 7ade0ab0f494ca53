import type { AddressSpace, Placement } from './address-space.js';

/**
 * The host's hooks: the points where something outside the kernel model (a policy, the engine)
 * decides or observes. Each contributor declares the hooks it needs as data (a HostHookSet);
 * installHooks() composes every contribution once, at build time, in the precedence order below,
 * and the host reads the composed, frozen result on its hot paths. Hook functions are called
 * without `this` (declare them as arrow functions).
 */
export interface HostHookSet {
  /** May a page of `memcg` be placed on `node` now? Every contributor must allow it. */
  nodeAllowed?(memcg: number, node: number): boolean;
  /**
   * Reclaim asks for every page it would reclaim or demote: true keeps global virtual page `g`
   * on `node`. Any contributor may keep a page.
   */
  keepPage?(g: number, node: number): boolean;
  /**
   * NUMA-balancing promotion asks before moving page `p` of `memcg` up to `dst`; a gate may
   * make room first (an exchange). Every contributor must let it through, asked in order.
   */
  promotionGate?(memcg: number, p: number, dst: number): boolean;
  /** Told of every migration (src, dst: dense nodes). */
  onMigrate?(src: number, dst: number): void;
  /** Told when kswapd of `node` is woken (the engine schedules it). */
  wakeKswapd?(node: number): void;
  /** Told of every OOM kill. */
  oomKill?(as: AddressSpace, memcg: number, reason: 'memcg' | 'global'): void;
  /**
   * Wraps an address space's placement. A wrapper may only reorder or narrow what `inner`
   * offers, never add a node: that is how a lower level acts within the levels above it.
   */
  placement?(as: AddressSpace, inner: Placement): Placement;
}

/**
 * Precedence (docs/ratios.md, "Precedence"), highest first. Each level acts only within what
 * the levels above allow: its placement wraps theirs, and its gates are asked after theirs.
 *   cpuset     cpuset.mems, a hard wall: built into the address space's own placement
 *              (restrictToCpuset) and checked by demotion and move_pages.
 *   mempolicy  the VM's memory policy: the address space's own placement (buildPlacement).
 *   ratio      memory.tier_ratio: the strategy's hooks and the promotion gate.
 *   hints      the tenant's madvise hints: which pages spend the quota.
 *   kernel     the kernel's own migration and the engine that runs it: observers only.
 * cpuset and mempolicy contribute no hooks today: the placement the address space was built
 * with is theirs, and the chain starts from it.
 */
export const HOOK_PRECEDENCE = ['cpuset', 'mempolicy', 'ratio', 'hints', 'kernel'] as const;
export type HookLevel = (typeof HOOK_PRECEDENCE)[number];

export interface HookContribution {
  level: HookLevel;
  /** Who contributes, for error messages (e.g. "ratio strategy charge-retry"). */
  by: string;
  hooks: HostHookSet;
}

export interface HostEvents {
  wakeKswapd(node: number): void;
  oomKill(as: AddressSpace, memcg: number, reason: 'memcg' | 'global'): void;
}

/** The composed hooks, as the host holds them (null: nobody asks, so callers skip the call). */
export interface ComposedHooks {
  readonly nodeAllowed: (memcg: number, node: number) => boolean;
  readonly keepPage: ((g: number, node: number) => boolean) | null;
  readonly promotionGate: ((memcg: number, p: number, dst: number) => boolean) | null;
  readonly onMigrate: (src: number, dst: number) => void;
  readonly events: HostEvents;
}

const allowAll = (): boolean => true;
const ignore = (): void => {};

export const DEFAULT_HOOKS: ComposedHooks = Object.freeze({
  nodeAllowed: allowAll,
  keepPage: null,
  promotionGate: null,
  onMigrate: ignore,
  events: Object.freeze({ wakeKswapd: ignore, oomKill: ignore }),
});

/** The contributions in precedence order (stable within a level). */
export function byPrecedence(list: readonly HookContribution[]): HookContribution[] {
  return list
    .map((c, i) => ({ c, i }))
    .sort((a, b) => HOOK_PRECEDENCE.indexOf(a.c.level) - HOOK_PRECEDENCE.indexOf(b.c.level) || a.i - b.i)
    .map(({ c }) => c);
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Fn = (...args: any[]) => any;

/** The contributors' functions for one hook, in precedence order. */
function collect<K extends keyof HostHookSet>(list: readonly HookContribution[], key: K): Fn[] {
  const out: Fn[] = [];
  for (const c of list) {
    const f = c.hooks[key];
    if (f !== undefined) out.push(f as Fn);
  }
  return out;
}

/**
 * One contributor's function is used as it is (no wrapper on the hot path); several are
 * combined: all must agree (`every`), any may (`some`), or all are told (`each`).
 */
function every<F extends Fn>(fs: Fn[]): F | null {
  if (fs.length === 0) return null;
  if (fs.length === 1) return fs[0] as F;
  return ((...a: unknown[]) => {
    for (const f of fs) if (!f(...a)) return false;
    return true;
  }) as F;
}

function some<F extends Fn>(fs: Fn[]): F | null {
  if (fs.length === 0) return null;
  if (fs.length === 1) return fs[0] as F;
  return ((...a: unknown[]) => {
    for (const f of fs) if (f(...a)) return true;
    return false;
  }) as F;
}

function each<F extends Fn>(fs: Fn[]): F {
  if (fs.length === 0) return ignore as F;
  if (fs.length === 1) return fs[0] as F;
  return ((...a: unknown[]) => {
    for (const f of fs) f(...a);
  }) as F;
}

/** Composes the contributions into the host's hooks (placements are applied by installHooks). */
export function composeHooks(contributions: readonly HookContribution[]): ComposedHooks {
  const list = byPrecedence(contributions);
  return Object.freeze({
    nodeAllowed: every<ComposedHooks['nodeAllowed']>(collect(list, 'nodeAllowed')) ?? allowAll,
    keepPage: some<NonNullable<ComposedHooks['keepPage']>>(collect(list, 'keepPage')),
    promotionGate: every<NonNullable<ComposedHooks['promotionGate']>>(collect(list, 'promotionGate')),
    onMigrate: each<ComposedHooks['onMigrate']>(collect(list, 'onMigrate')),
    events: Object.freeze({
      wakeKswapd: each<HostEvents['wakeKswapd']>(collect(list, 'wakeKswapd')),
      oomKill: each<HostEvents['oomKill']>(collect(list, 'oomKill')),
    }),
  });
}

/** What installHooks() needs of the host: its hook slots and its address spaces. */
export interface HookedHost extends ComposedHooks {
  readonly spaces: readonly AddressSpace[];
  hooksInstalled: boolean;
}

/**
 * Composes the contributions and installs them on the host, once: a second call is a wiring
 * error (the last writer would silently win). Each address space's placement becomes its own
 * placement wrapped by every contributor's placement hook, highest precedence innermost.
 */
export function installHooks(host: HookedHost, contributions: readonly HookContribution[]): ComposedHooks {
  if (host.hooksInstalled) throw new Error('host hooks are composed once, and they already were');
  const composed = composeHooks(contributions);
  const wrappers = byPrecedence(contributions).filter((c) => c.hooks.placement !== undefined);
  for (const as of host.spaces) {
    let p = as.placement;
    for (const c of wrappers) p = (c.hooks.placement as NonNullable<HostHookSet['placement']>)(as, p);
    // Stored only when wrapped: a field never written after construction stays const to V8.
    if (p !== as.placement) as.placement = p;
  }
  // The host's slots are readonly to everything else; this is their only writer.
  Object.assign(host, composed, { hooksInstalled: true });
  return composed;
}
