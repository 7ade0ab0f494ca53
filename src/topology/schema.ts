import { z } from 'zod';
import { InputError, fieldPath } from '../util/errors.js';
import { MAX_NUMNODES } from './zonelist.js';

/**
 * Shape of a topology file, checked strictly (unknown keys are refused). Cross-field rules (unique
 * ids, the distance matrix, CPU sets) are checked in load.ts, which needs the whole node list.
 */

export const MEMORY_CLASSES = ['dram', 'pmem', 'cxl', 'hbm'] as const;
export const ZONES = ['normal', 'movable'] as const;
/** The four HMAT attribute names, as in /sys/devices/system/node/nodeN/accessX/initiators/. */
export const PERF_KEYS = ['read_latency', 'write_latency', 'read_bandwidth', 'write_bandwidth'] as const;

const INT_MAX = 2 ** 31 - 1;
const U32_MAX = 2 ** 32 - 1;

// struct access_coordinate fields are unsigned int; 0 means "unknown" to the kernel, so refuse it.
const perfValue = z.number().int().min(1).max(U32_MAX);

export const RawNodeSchema = z.strictObject({
  id: z
    .number()
    .int()
    .min(0)
    .max(MAX_NUMNODES - 1),
  cpus: z.array(z.number().int().min(0).max(INT_MAX)).optional(),
  cpu: z.boolean().optional(),
  // Any type is let through here so that parseSize() can explain what a size must look like.
  size: z.unknown().optional(),
  class: z.enum(MEMORY_CLASSES).optional(),
  read_latency: perfValue.optional(),
  write_latency: perfValue.optional(),
  read_bandwidth: perfValue.optional(),
  write_bandwidth: perfValue.optional(),
  // memory_dev_type.adistance is an int.
  adist: z.number().int().min(1).max(INT_MAX).optional(),
  zone: z.enum(ZONES).optional(),
  // HMAT memory-side cache in front of the node (nodeN/memory_side_cache/index1/): a size
  // and the latencies of a hit; a miss costs the node's own latencies.
  memory_side_cache: z
    .strictObject({
      size: z.unknown(),
      read_latency: perfValue,
      write_latency: perfValue,
    })
    .optional(),
});

export const RawTopologySchema = z.strictObject({
  name: z.string().optional(),
  nodes: z.array(RawNodeSchema).min(1),
  // Matrix or map; validated by hand because the messages need the node ids.
  distance: z.unknown().optional(),
});

export type RawNode = z.infer<typeof RawNodeSchema>;
export type RawTopology = z.infer<typeof RawTopologySchema>;

const TOP_KEYS = Object.keys(RawTopologySchema.shape);
const NODE_KEYS = Object.keys(RawNodeSchema.shape);

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v: unknown = root;
  for (const seg of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'a map';
  return JSON.stringify(v);
}

/** One line naming the field and what was expected, for the first problem zod found. */
function formatIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = fieldPath(issue.path);
  const got = valueAt(input, issue.path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const allowed = issue.path.length === 0 ? TOP_KEYS : NODE_KEYS;
      const keys = issue.keys.map((k) => JSON.stringify(k)).join(', ');
      return `${where}: unknown key ${keys} (allowed: ${allowed.join(', ')})`;
    }
    case 'invalid_type':
      if (got === undefined) return `${where}: required`;
      if (issue.expected === 'int') return `${where}: expected an integer, got ${describe(got)}`;
      return `${where}: expected ${issue.expected === 'array' ? 'a list' : issue.expected}, got ${describe(got)}`;
    case 'too_small':
      if (issue.origin === 'array') return `${where}: must not be empty`;
      return `${where}: must be at least ${String(issue.minimum)}, got ${describe(got)}`;
    case 'too_big':
      return `${where}: must be at most ${String(issue.maximum)}, got ${describe(got)}`;
    case 'invalid_value':
      return `${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describe(got)}`;
    default:
      return `${where}: ${issue.message}`;
  }
}

/** Checks the shape of a parsed topology document; throws InputError naming the first bad field. */
export function parseRawTopology(input: unknown): RawTopology {
  const r = RawTopologySchema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues;
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  throw new InputError(formatIssue(issues[0], input) + more);
}
