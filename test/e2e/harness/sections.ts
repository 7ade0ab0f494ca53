/**
 * A guest command prints several results on its one stdout as `==> name <==` headed sections
 * (the style of `tail` on several files); this splits them again.
 */
export function sectionsOf(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  const re = /^==> (.+) <==$/gm;
  const heads = [...stdout.matchAll(re)];
  heads.forEach((m, i) => {
    const start = (m.index ?? 0) + m[0].length + 1;
    const end = i + 1 < heads.length ? (heads[i + 1].index ?? stdout.length) : stdout.length;
    out.set(m[1], stdout.slice(start, end));
  });
  return out;
}

/** Shell text that prints each guest file as a section, for sectionsOf. */
export function printSections(files: Record<string, string>): string {
  return Object.entries(files)
    .map(([name, file]) => `echo '==> ${name} <=='; cat ${file} 2>&1`)
    .join('\n');
}
