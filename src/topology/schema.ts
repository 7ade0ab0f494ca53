import { z } from 'zod';
import { InputError, fieldPath } from '../util/errors.js';
import { formatZodIssue } from '../util/validate.js';
import { MAX_NUMNODES } from './zonelist.js';
import { MAX_CPU_ID } from './nodemask.js';

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
  // A list of ids, or the kernel's cpulist text ("0-15", "0-3,8-11"), parsed in load.ts.
  cpus: z.union([z.array(z.number().int().min(0).max(MAX_CPU_ID)), z.string()]).optional(),
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

/** Checks the shape of a parsed topology document; throws InputError naming the first bad field. */
export function parseRawTopology(input: unknown): RawTopology {
  const r = RawTopologySchema.safeParse(input);
  if (r.success) return r.data;
  const issues = r.error.issues;
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  const first = issues[0];
  // The shared formatter, except that an empty node list reads "must not be empty".
  const line =
    first.code === 'too_small' && first.origin === 'array'
      ? `${fieldPath(first.path)}: must not be empty`
      : formatZodIssue(first, input, RawTopologySchema, []);
  throw new InputError(line + more);
}
