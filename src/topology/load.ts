import { extname } from 'node:path';
import { parseDocumentText, readDocumentFile } from '../util/document.js';
import { parseCpulist } from './nodemask.js';
import { InputError, fieldPath } from '../util/errors.js';
import { PAGE_SIZE, parseSize } from '../util/units.js';
import { PERF_KEYS, type RawNode, type RawTopology, parseRawTopology } from './schema.js';
import type { AccessCoordinate, MemoryClass, NodeSpec, Topology } from './types.js';

/** Reading a topology file (YAML or JSON) into a validated Topology. */

/** Capacity of a node whose file entry has no `size` (e.g. the SPEC conformance fixtures). */
export const DEFAULT_NODE_SIZE = '16GiB';
/** CPUs given to each node that says `cpu: true` instead of listing its CPUs. */
export const SYNTHETIC_CPUS_PER_NODE = 4;
/** ACPI SLIT: LOCAL_DISTANCE on the diagonal; entries are one byte. */
export const LOCAL_DISTANCE = 10;
const MAX_SLIT_DISTANCE = 255;

/** Parses YAML or JSON: by extension (.json / .yaml / .yml), otherwise by the first character. */
export function parseTopologyText(text: string, source: string): unknown {
  return parseDocumentText(text, source, extname(source).toLowerCase());
}

/** Reads and validates a topology file. */
export function loadTopologyFile(path: string): Topology {
  return normalizeTopology(readDocumentFile(path, 'topology file'));
}

function perfOf(raw: RawNode, index: number): AccessCoordinate | undefined {
  const given = PERF_KEYS.filter((k) => raw[k] !== undefined);
  if (given.length === 0) return undefined;
  const missing = PERF_KEYS.filter((k) => raw[k] === undefined);
  if (missing.length > 0) {
    throw new InputError(
      `${fieldPath(['nodes', index, missing[0]])}: required because ${given.join(', ')} ${given.length > 1 ? 'are' : 'is'} given (performance attributes come as all four of ${PERF_KEYS.join(', ')} or none)`,
    );
  }
  return {
    read_latency: raw.read_latency as number,
    write_latency: raw.write_latency as number,
    read_bandwidth: raw.read_bandwidth as number,
    write_bandwidth: raw.write_bandwidth as number,
  };
}

/**
 * CPU sets: explicit `cpus` lists are kept; each `cpu: true` node gets SYNTHETIC_CPUS_PER_NODE
 * CPU ids, the lowest ones not used by any explicit list, handed out in ascending node-id order.
 */
function assignCpus(raws: ReadonlyArray<{ raw: RawNode; index: number }>): Map<number, number[]> {
  const owner = new Map<number, number>();
  const out = new Map<number, number[]>();
  for (const { raw, index } of raws) {
    if (raw.cpus !== undefined && raw.cpu !== undefined) {
      throw new InputError(
        `${fieldPath(['nodes', index])}: give either "cpus" (a list) or "cpu" (true/false), not both`,
      );
    }
    if (raw.cpus === undefined && raw.cpu === undefined) {
      throw new InputError(
        `${fieldPath(['nodes', index, 'cpus'])}: required (a list of CPU ids or a CPU list such as "0-15", [] for a CPU-less node, or "cpu: true|false")`,
      );
    }
    if (raw.cpus === undefined) continue;
    let list: number[];
    if (typeof raw.cpus === 'string') {
      const parsed = parseCpulist(raw.cpus);
      if (typeof parsed === 'string')
        throw new InputError(`${fieldPath(['nodes', index, 'cpus'])}: ${parsed}`);
      list = parsed;
    } else list = raw.cpus;
    list.forEach((cpu, j) => {
      const prev = owner.get(cpu);
      if (prev !== undefined) {
        const where = prev === raw.id ? 'listed twice on this node' : `already on node ${prev}`;
        const at = typeof raw.cpus === 'string' ? ['nodes', index, 'cpus'] : ['nodes', index, 'cpus', j];
        throw new InputError(`${fieldPath(at)}: CPU ${cpu} is ${where}`);
      }
      owner.set(cpu, raw.id);
    });
    out.set(
      raw.id,
      [...list].sort((a, b) => a - b),
    );
  }
  let next = 0;
  for (const { raw } of raws) {
    if (raw.cpu === undefined) continue;
    const cpus: number[] = [];
    while (raw.cpu && cpus.length < SYNTHETIC_CPUS_PER_NODE) {
      if (!owner.has(next)) {
        cpus.push(next);
        owner.set(next, raw.id);
      }
      next++;
    }
    out.set(raw.id, cpus);
  }
  return out;
}

function checkDistanceValue(v: unknown, from: number, to: number, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new InputError(
      `${where}: expected an integer distance from node ${from} to node ${to}, got ${JSON.stringify(v)}`,
    );
  }
  if (from === to && v !== LOCAL_DISTANCE) {
    throw new InputError(
      `${where}: a node's distance to itself must be ${LOCAL_DISTANCE} (LOCAL_DISTANCE), got ${v}`,
    );
  }
  if (from !== to && v <= LOCAL_DISTANCE) {
    throw new InputError(
      `${where}: distance from node ${from} to node ${to} must be greater than ${LOCAL_DISTANCE} (LOCAL_DISTANCE), got ${v}`,
    );
  }
  if (v > MAX_SLIT_DISTANCE) {
    throw new InputError(
      `${where}: must be at most ${MAX_SLIT_DISTANCE} (SLIT entries are one byte), got ${v}`,
    );
  }
  return v;
}

/** SLIT given as a matrix whose rows and columns follow ascending node id. */
function distanceFromMatrix(rows: unknown[], ids: readonly number[]): Map<number, Map<number, number>> {
  if (rows.length !== ids.length) {
    throw new InputError(
      `distance: has ${rows.length} row${rows.length === 1 ? '' : 's'} but there are ${ids.length} nodes (rows and columns follow ascending node id: ${ids.join(', ')})`,
    );
  }
  const out = new Map<number, Map<number, number>>();
  rows.forEach((row, r) => {
    if (!Array.isArray(row)) {
      throw new InputError(
        `${fieldPath(['distance', r])}: expected a list (one row of the matrix), got ${JSON.stringify(row)}`,
      );
    }
    if (row.length !== ids.length) {
      throw new InputError(
        `${fieldPath(['distance', r])}: has ${row.length} entries but there are ${ids.length} nodes (the matrix must be square)`,
      );
    }
    const m = new Map<number, number>();
    row.forEach((v, c) =>
      m.set(ids[c], checkDistanceValue(v, ids[r], ids[c], fieldPath(['distance', r, c]))),
    );
    out.set(ids[r], m);
  });
  return out;
}

function nodeKey(key: string, where: string, ids: readonly number[]): number {
  const id = /^\d+$/.test(key) ? Number(key) : NaN;
  if (!ids.includes(id)) {
    throw new InputError(`${where}: node ${JSON.stringify(key)} does not exist (nodes: ${ids.join(', ')})`);
  }
  return id;
}

/**
 * SLIT given as a map {"<from>": {"<to>": d}}. The diagonal may be left out (it is always 10); a
 * pair given in one direction only is used for both.
 */
function distanceFromMap(
  map: Record<string, unknown>,
  ids: readonly number[],
): Map<number, Map<number, number>> {
  const given = new Map<number, Map<number, number>>(ids.map((id) => [id, new Map()]));
  for (const [fromKey, row] of Object.entries(map)) {
    const from = nodeKey(fromKey, fieldPath(['distance', fromKey]), ids);
    if (row === null || typeof row !== 'object' || Array.isArray(row)) {
      throw new InputError(
        `${fieldPath(['distance', fromKey])}: expected a map {"<node id>": distance}, got ${JSON.stringify(row)}`,
      );
    }
    for (const [toKey, v] of Object.entries(row as Record<string, unknown>)) {
      const to = nodeKey(toKey, fieldPath(['distance', fromKey, toKey]), ids);
      given.get(from)!.set(to, checkDistanceValue(v, from, to, fieldPath(['distance', fromKey, toKey])));
    }
  }
  const out = new Map<number, Map<number, number>>();
  for (const from of ids) {
    const m = new Map<number, number>();
    for (const to of ids) {
      const d = from === to ? LOCAL_DISTANCE : (given.get(from)!.get(to) ?? given.get(to)!.get(from));
      if (d === undefined) {
        throw new InputError(
          `${fieldPath(['distance', String(from), String(to)])}: missing (no distance between node ${from} and node ${to})`,
        );
      }
      m.set(to, d);
    }
    out.set(from, m);
  }
  return out;
}

function buildDistance(raw: RawTopology, ids: readonly number[]): Map<number, Map<number, number>> {
  const d = raw.distance;
  if (d === undefined) {
    // Only one SLIT is possible for a single node.
    if (ids.length === 1) return new Map([[ids[0], new Map([[ids[0], LOCAL_DISTANCE]])]]);
    throw new InputError(
      'distance: required (a matrix in ascending node-id order, or a map {"<id>": {"<id>": distance}})',
    );
  }
  if (Array.isArray(d)) return distanceFromMatrix(d, ids);
  if (d !== null && typeof d === 'object') return distanceFromMap(d as Record<string, unknown>, ids);
  throw new InputError(
    `distance: expected a matrix (list of rows) or a map {"<id>": {"<id>": distance}}, got ${JSON.stringify(d)}`,
  );
}

/** Validates a parsed document (YAML/JSON value) and returns the normalised topology. */
export function normalizeTopology(input: unknown): Topology {
  const raw = parseRawTopology(input);

  const firstIndex = new Map<number, number>();
  raw.nodes.forEach((n, i) => {
    const prev = firstIndex.get(n.id);
    if (prev !== undefined) {
      throw new InputError(
        `${fieldPath(['nodes', i, 'id'])}: duplicate node id ${n.id} (also ${fieldPath(['nodes', prev, 'id'])})`,
      );
    }
    firstIndex.set(n.id, i);
  });
  const ordered = raw.nodes.map((r, index) => ({ raw: r, index })).sort((a, b) => a.raw.id - b.raw.id);
  const ids = ordered.map((o) => o.raw.id);
  const cpus = assignCpus(ordered);

  const nodes: NodeSpec[] = ordered.map(({ raw: r, index }) => {
    const sizeBytes = parseSize(r.size ?? DEFAULT_NODE_SIZE, fieldPath(['nodes', index, 'size']));
    if (sizeBytes < PAGE_SIZE) {
      throw new InputError(
        `${fieldPath(['nodes', index, 'size'])}: must be at least one page (${PAGE_SIZE} bytes), got ${JSON.stringify(r.size)}`,
      );
    }
    const nodeCpus = cpus.get(r.id) ?? [];
    const memoryClass: MemoryClass = r.class ?? (nodeCpus.length > 0 ? 'dram' : 'pmem');
    const perf = perfOf(r, index);
    if (memoryClass === 'hbm' && r.adist === undefined && perf === undefined) {
      throw new InputError(
        `${fieldPath(['nodes', index, 'adist'])}: required for class "hbm", which has no kernel default abstract distance (or give read/write latency and bandwidth)`,
      );
    }
    return {
      id: r.id,
      cpus: nodeCpus,
      sizeBytes,
      memoryClass,
      ...(perf ? { perf } : {}),
      ...(r.adist !== undefined ? { adist: r.adist } : {}),
      zone: r.zone ?? 'normal',
      ...(r.memory_side_cache
        ? {
            memorySideCache: {
              sizeBytes: parseSize(
                r.memory_side_cache.size,
                fieldPath(['nodes', index, 'memory_side_cache', 'size']),
              ),
              readLatency: r.memory_side_cache.read_latency,
              writeLatency: r.memory_side_cache.write_latency,
            },
          }
        : {}),
    };
  });

  if (!nodes.some((n) => n.cpus.length > 0)) {
    throw new InputError('nodes: no node has CPUs; at least one node needs "cpus" (or "cpu: true")');
  }
  if (!nodes.some((n) => n.zone === 'normal')) {
    throw new InputError(
      'nodes: every node is zone "movable"; at least one needs zone "normal" (the kernel cannot run on movable memory only)',
    );
  }

  return {
    ...(raw.name !== undefined ? { name: raw.name } : {}),
    nodes,
    distance: buildDistance(raw, ids),
  };
}
