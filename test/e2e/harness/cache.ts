import * as os from 'node:os';
import * as path from 'node:path';
import process from 'node:process';

/**
 * Where the harness keeps what it downloads or builds once (the kernel, the base initramfs):
 * $NUMATIER_CACHE_DIR, else $XDG_CACHE_HOME/numatier, else ~/.cache/numatier. Outside the
 * clone on purpose, so that a CI job starting from a clean clone still finds the kernel.
 */
export function cacheDir(): string {
  const own = process.env.NUMATIER_CACHE_DIR;
  if (own !== undefined && own !== '') return path.resolve(own);
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg !== undefined && xdg !== '' ? xdg : path.join(os.homedir(), '.cache');
  return path.join(base, 'numatier');
}
