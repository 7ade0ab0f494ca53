/**
 * NUMA memory policies: the policy value, its validation and its numa_maps text.
 *
 * Kernel source: torvalds/linux mm/mempolicy.c (mpol_new, sanitize_mpol_flags, mpol_to_str,
 * vma_policy_mof) and include/uapi/linux/mempolicy.h. Placement (which nodes an allocation
 * walks) lives in mempolicy-placement.ts, interleave arithmetic in mempolicy-interleave.ts and the
 * weighted-interleave weight table in mempolicy-weights.ts.
 */
import { InputError, fieldPath } from '../util/errors.js';

/** include/uapi/linux/mempolicy.h: enum { MPOL_DEFAULT, ... }. */
export const MPOL_DEFAULT = 0;
export const MPOL_PREFERRED = 1;
export const MPOL_BIND = 2;
export const MPOL_INTERLEAVE = 3;
export const MPOL_LOCAL = 4;
export const MPOL_PREFERRED_MANY = 5;
export const MPOL_WEIGHTED_INTERLEAVE = 6;
export const MPOL_MAX = 7;

/** Mode flags OR'ed into the mode argument of set_mempolicy(2)/mbind(2). */
export const MPOL_F_STATIC_NODES = 1 << 15;
export const MPOL_F_RELATIVE_NODES = 1 << 14;
export const MPOL_F_NUMA_BALANCING = 1 << 13;
export const MPOL_MODE_FLAGS = MPOL_F_STATIC_NODES | MPOL_F_RELATIVE_NODES | MPOL_F_NUMA_BALANCING;
/** Internal flags: "migrate on fault" and "migrate on protnone reference node". */
export const MPOL_F_MOF = 1 << 3;
export const MPOL_F_MORON = 1 << 4;

/** include/linux/numa.h with CONFIG_NODES_SHIFT=10 (x86-64 distribution kernels). */
export const MAX_NUMNODES = 1024;
export const NUMA_NO_NODE = -1;

export type MempolicyMode =
  'default' | 'local' | 'preferred' | 'preferred_many' | 'bind' | 'interleave' | 'weighted_interleave';

export const MEMPOLICY_MODES: readonly MempolicyMode[] = [
  'default',
  'local',
  'preferred',
  'preferred_many',
  'bind',
  'interleave',
  'weighted_interleave',
];

/** Kernel numeric value (MPOL_*) of each mode. */
export const MPOL_VALUE: Readonly<Record<MempolicyMode, number>> = {
  default: MPOL_DEFAULT,
  preferred: MPOL_PREFERRED,
  bind: MPOL_BIND,
  interleave: MPOL_INTERLEAVE,
  local: MPOL_LOCAL,
  preferred_many: MPOL_PREFERRED_MANY,
  weighted_interleave: MPOL_WEIGHTED_INTERLEAVE,
};

/** mm/mempolicy.c policy_modes[]: the names numa_maps and tmpfs mpol= use. */
export const POLICY_MODE_NAMES: Readonly<Record<MempolicyMode, string>> = {
  default: 'default',
  preferred: 'prefer',
  bind: 'bind',
  interleave: 'interleave',
  weighted_interleave: 'weighted interleave',
  local: 'local',
  preferred_many: 'prefer (many)',
};

/**
 * A memory policy as the kernel stores it. `nodes` is a nodemask: ascending, no duplicates.
 * `numaBalancing` is MPOL_F_NUMA_BALANCING (bind and preferred_many only); `staticNodes` is
 * MPOL_F_STATIC_NODES, which only changes how the policy follows a cpuset change and how
 * numa_maps prints it. MPOL_F_RELATIVE_NODES is not modelled.
 */
export interface Mempolicy {
  mode: MempolicyMode;
  nodes: readonly number[];
  numaBalancing?: boolean;
  staticNodes?: boolean;
}

/** Which nodes exist and which of them have memory (N_MEMORY); both ascending. */
export interface MempolicyNodeInfo {
  readonly nodeIds: readonly number[];
  /** When given, a policy naming a memory-less node is refused. */
  readonly memoryNodeIds?: readonly number[];
}

/** The default policy (no task or VMA policy): local allocation plus NUMA-balancing migration. */
export const DEFAULT_MEMPOLICY: Readonly<Mempolicy> = Object.freeze({ mode: 'default', nodes: [] });

const ALLOWED_KEYS = new Set(['mode', 'nodes', 'numaBalancing', 'staticNodes']);

function needsNodes(mode: MempolicyMode): boolean {
  return mode !== 'default' && mode !== 'local';
}

/**
 * Validates a policy read from a scenario and returns it in the kernel's canonical form
 * (nodes ascending; `preferred` keeps only its first node as mpol_new_preferred() does;
 * `preferred` with no nodes becomes `local` as mpol_new() does).
 *
 * Refusals follow mpol_new() and sanitize_mpol_flags(): nodes on default/local, no nodes on
 * preferred_many/bind/interleave/weighted_interleave, numaBalancing outside bind and
 * preferred_many, staticNodes on default/local. Two refusals are stricter than the kernel, which
 * silently ignores or drops them: flags on `default`, and (when memoryNodeIds is given) nodes
 * without memory.
 */
export function parseMempolicy(
  value: unknown,
  path: ReadonlyArray<string | number>,
  info: MempolicyNodeInfo,
): Mempolicy {
  const where = fieldPath(path);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InputError(`${where}: expected an object such as {mode: bind, nodes: [0]}`);
  }
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!ALLOWED_KEYS.has(key)) {
      throw new InputError(
        `${fieldPath([...path, key])}: unknown field; allowed: mode, nodes, numaBalancing, staticNodes`,
      );
    }
  }
  const mode = obj.mode;
  if (typeof mode !== 'string' || !(MEMPOLICY_MODES as readonly string[]).includes(mode)) {
    throw new InputError(
      `${fieldPath([...path, 'mode'])}: expected one of ${MEMPOLICY_MODES.join(', ')}, got ${JSON.stringify(mode)}`,
    );
  }
  const m = mode as MempolicyMode;
  const nodes = parseNodeList(obj.nodes, [...path, 'nodes'], info);

  const numaBalancing = parseFlag(obj.numaBalancing, [...path, 'numaBalancing']);
  const staticNodes = parseFlag(obj.staticNodes, [...path, 'staticNodes']);
  if (numaBalancing && m !== 'bind' && m !== 'preferred_many') {
    // sanitize_mpol_flags(): MPOL_F_NUMA_BALANCING is -EINVAL except with BIND/PREFERRED_MANY.
    throw new InputError(
      `${fieldPath([...path, 'numaBalancing'])}: only allowed with mode bind or preferred_many, not ${m}`,
    );
  }
  if (staticNodes && (m === 'default' || m === 'local')) {
    throw new InputError(`${fieldPath([...path, 'staticNodes'])}: not allowed with mode ${m}`);
  }

  if (!needsNodes(m)) {
    if (nodes.length > 0) {
      throw new InputError(
        `${fieldPath([...path, 'nodes'])}: mode ${m} takes no nodes, got [${nodes.join(', ')}]`,
      );
    }
    return { mode: m, nodes: [] };
  }
  if (nodes.length === 0) {
    if (m === 'preferred' && !staticNodes) return { mode: 'local', nodes: [] };
    throw new InputError(`${fieldPath([...path, 'nodes'])}: mode ${m} needs at least one node`);
  }
  const out: Mempolicy = { mode: m, nodes: m === 'preferred' ? [nodes[0]] : nodes };
  if (numaBalancing) out.numaBalancing = true;
  if (staticNodes) out.staticNodes = true;
  return out;
}

function parseFlag(value: unknown, path: ReadonlyArray<string | number>): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') {
    throw new InputError(`${fieldPath(path)}: expected true or false, got ${JSON.stringify(value)}`);
  }
  return value;
}

function parseNodeList(
  value: unknown,
  path: ReadonlyArray<string | number>,
  info: MempolicyNodeInfo,
): number[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new InputError(`${fieldPath(path)}: expected a list of node ids such as [0, 2]`);
  }
  const existing = new Set(info.nodeIds);
  const memory = info.memoryNodeIds ? new Set(info.memoryNodeIds) : null;
  const seen = new Set<number>();
  value.forEach((n: unknown, i) => {
    const p = fieldPath([...path, i]);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      throw new InputError(`${p}: expected a node id (an integer >= 0), got ${JSON.stringify(n)}`);
    }
    if (!existing.has(n)) {
      throw new InputError(`${p}: node ${n} does not exist; nodes are ${formatNodelist(info.nodeIds)}`);
    }
    if (memory && !memory.has(n)) {
      const mem =
        info.memoryNodeIds && info.memoryNodeIds.length > 0 ? formatNodelist(info.memoryNodeIds) : 'none';
      throw new InputError(`${p}: node ${n} has no memory; nodes with memory are ${mem}`);
    }
    if (seen.has(n)) throw new InputError(`${p}: node ${n} is listed twice`);
    seen.add(n);
  });
  return [...seen].sort((a, b) => a - b);
}

/**
 * The kernel's `%*pbl` nodemask text: ascending ranges joined by commas ("0-1,4,6-7"); an empty
 * mask prints as "". Input must be ascending without duplicates.
 */
export function formatNodelist(nodes: ArrayLike<number>): string {
  let out = '';
  let i = 0;
  while (i < nodes.length) {
    let j = i;
    while (j + 1 < nodes.length && nodes[j + 1] === nodes[j] + 1) j++;
    if (out !== '') out += ',';
    out += j > i ? `${nodes[i]}-${nodes[j]}` : `${nodes[i]}`;
    i = j + 1;
  }
  return out;
}

/** The MPOL_* mode value plus mode flags, as set_mempolicy(2) would receive it. */
export function mpolModeWithFlags(pol: Mempolicy): number {
  let v = MPOL_VALUE[pol.mode];
  if (pol.staticNodes) v |= MPOL_F_STATIC_NODES;
  if (pol.numaBalancing) v |= MPOL_F_NUMA_BALANCING;
  return v;
}

/**
 * mpol_to_str(): the policy field of /proc/<pid>/numa_maps, e.g. `bind:2-3`,
 * `prefer (many)=balancing:0,2`, `bind=static|balancing:0-1`, `local`, `default`.
 * The default policy (no task/VMA policy, internally preferred_node_policy[]) prints "default".
 * Flags print as `=static` and `balancing`, joined by `|` when both are set ("balancing" text
 * since ≈6.11; older kernels printed `bind=:0-1`).
 */
export function mpolToStr(pol: Mempolicy): string {
  let out = POLICY_MODE_NAMES[pol.mode];
  if (pol.mode === 'default' || pol.mode === 'local') return out;
  if (pol.staticNodes || pol.numaBalancing) {
    out += '=';
    if (pol.staticNodes) out += 'static';
    if (pol.numaBalancing) out += (pol.staticNodes ? '|' : '') + 'balancing';
  }
  // mpol_new_preferred() keeps only first_node(), so that is all numa_maps can show.
  const nodes = pol.mode === 'preferred' ? pol.nodes.slice(0, 1) : pol.nodes;
  if (nodes.length > 0) out += ':' + formatNodelist(nodes);
  return out;
}

/**
 * vma_policy_mof(): whether NUMA balancing scans (and may migrate) pages under this policy.
 * True for the default policy (preferred_node_policy[] carries MPOL_F_MOF|MPOL_F_MORON) and for
 * bind/preferred_many with MPOL_F_NUMA_BALANCING; false for an explicit local, preferred,
 * interleave or weighted_interleave policy.
 */
export function mpolMigrateOnFault(pol: Mempolicy): boolean {
  if (pol.mode === 'default') return true;
  return pol.numaBalancing === true && (pol.mode === 'bind' || pol.mode === 'preferred_many');
}
