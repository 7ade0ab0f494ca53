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
