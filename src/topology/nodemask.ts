/**
 * Text form of a node (or CPU) set as the kernel prints it with "%*pbl" (lib/vsprintf.c,
 * bitmap_list_string): ascending, comma-separated, consecutive runs as "a-b", empty set as "".
 * numactl prints its "available: N nodes (...)" list the same way.
 */
export function formatNodelist(ids: Iterable<number>): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

/** Largest CPU id: NR_CPUS - 1 with NR_CPUS = 8192, Debian's amd64 CONFIG_NR_CPUS (and 2^13, the CPU field of last_cpupid). */
export const MAX_CPU_ID = 8191;
const MAX_LIST_ID = MAX_CPU_ID;

/**
 * Parses a CPU or node list as the kernel reads it (bitmap_parselist(): "0-3,8,10-11"; the
 * form /sys/devices/system/node/nodeN/cpulist and numactl use). Ranges may carry a stride as
 * "0-15:2/4" (first 2 of every 4). Throws a message (without a field name) when malformed.
 */
export function parseCpulist(text: string): number[] | string {
  const out: number[] = [];
  const trimmed = text.trim();
  if (trimmed === '') return out;
  for (const part of trimmed.split(',')) {
    const m = /^\s*(\d+)(?:-(\d+)(?::(\d+)\/(\d+))?)?\s*$/.exec(part);
    if (!m) return `expected a CPU list such as "0-3,8-11", got ${JSON.stringify(text)}`;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    const used = m[3] === undefined ? 1 : Number(m[3]);
    const group = m[4] === undefined ? 1 : Number(m[4]);
    if (b < a) return `range ${JSON.stringify(part.trim())} ends before it starts`;
    if (b > MAX_LIST_ID) return `CPU id ${b} is too large (at most ${MAX_LIST_ID}: NR_CPUS is 8192)`;
    if (used < 1 || group < 1 || used > group)
      return `stride ${JSON.stringify(part.trim())}: expected first:used/group with 1 ≤ used ≤ group`;
    if (b - a > 1 << 20) return `range ${JSON.stringify(part.trim())} has more than 2^20 CPUs`;
    for (let c = a; c <= b; c++) if ((c - a) % group < used) out.push(c);
  }
  return out;
}
