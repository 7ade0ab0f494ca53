import { readFileSync } from 'node:fs';

let version: string | undefined;

/** numatier's version, read once from its package.json (dist/src/util → the package root). */
export function packageVersion(): string {
  if (version === undefined) {
    const pkg = new URL('../../../package.json', import.meta.url);
    version = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
  }
  return version;
}
