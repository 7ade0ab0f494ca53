import { posix } from 'node:path';
import { InputError } from '../../util/errors.js';

/** The host files numatier may write; everything else is refused. */
export interface AllowList {
  /** Whether numatier may write this absolute host path (as the kernel names it, not under root). */
  allows(path: string): boolean;
  /** The patterns, for the start-up log and `--help`-like reports. */
  describe(): string[];
}

/** Knobs that hold a setting and are put back by restore. */
const KNOBS = [
  '/proc/sys/kernel/numa_balancing',
  '/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps',
  '/sys/kernel/mm/numa/demotion_enabled',
];
const KDAMONDS = '/sys/kernel/mm/damon/admin/kdamonds/';
/** Creates (and, written back to its original, removes) the kdamond directories. */
const NR_KDAMONDS = `${KDAMONDS}nr_kdamonds`;
const CGROUPFS = '/sys/fs/cgroup';
// Digits without a leading zero: procfs and the kdamonds directory name entries this way, and
// `self`/`thread-self` are not pids numatier was asked to manage.
const INDEX = /^(0|[1-9][0-9]*)$/;
const CLEAR_REFS = /^\/proc\/[1-9][0-9]*\/clear_refs$/;

/**
 * Whether `path` is absolute and already in normal form: no `.`/`..` segments, no empty segment,
 * no trailing slash, no NUL. A path that normalising would change is refused rather than
 * normalised, so that what was checked is exactly what gets opened.
 */
export function isNormalPath(path: string): boolean {
  return (
    path.startsWith('/') &&
    !path.includes('\0') &&
    (path === '/' || !path.endsWith('/')) &&
    posix.normalize(path) === path
  );
}

export function buildAllowList(o: { managedCgroups: string[]; kdamonds: string[] }): AllowList {
  const exact = new Set(KNOBS);
  o.managedCgroups.forEach((cg, i) => {
    if (!isNormalPath(cg)) {
      throw new InputError(
        `managedCgroups[${i}]: expected a cgroup path such as /tenant-a (absolute, no '..', '.', '//' or trailing '/'), got ${JSON.stringify(cg)}`,
      );
    }
    exact.add(cgroupFile(cg, 'memory.reclaim'));
  });
  o.kdamonds.forEach((name, i) => {
    if (!INDEX.test(name)) {
      throw new InputError(
        `kdamonds[${i}]: expected a kdamond index such as "0", got ${JSON.stringify(name)}`,
      );
    }
  });
  const kdamonds = new Set(o.kdamonds);
  if (kdamonds.size > 0) exact.add(NR_KDAMONDS);
  return {
    allows: (path) =>
      isNormalPath(path) && (exact.has(path) || CLEAR_REFS.test(path) || underKdamond(path, kdamonds)),
    describe: () => [...exact, '/proc/<pid>/clear_refs', ...[...kdamonds].map((k) => `${KDAMONDS}${k}/**`)],
  };
}

/**
 * What a journal may ask restore to write: the knobs and any kdamond's files — the only restorable
 * writes. A journal comes from disk, so restore checks it against this rather than trusting it.
 */
export const RESTORABLE: AllowList = {
  allows: (path) => isNormalPath(path) && (KNOBS.includes(path) || isKdamondFile(path)),
  describe: () => [...KNOBS, NR_KDAMONDS, `${KDAMONDS}<index>/**`],
};

/** nr_kdamonds or a file below a kdamond's directory. */
export function isKdamondFile(path: string): boolean {
  return path === NR_KDAMONDS || underKdamond(path, undefined);
}

/** `/sys/fs/cgroup<cg>/<file>`; the root cgroup '/' has its files directly in /sys/fs/cgroup. */
export function cgroupFile(cg: string, file: string): string {
  return cg === '/' ? `${CGROUPFS}/${file}` : `${CGROUPFS}${cg}/${file}`;
}

/** A file below kdamonds/<name>/ (not the directory itself), for a listed name or, without a list, any index. */
function underKdamond(path: string, names: ReadonlySet<string> | undefined): boolean {
  if (!path.startsWith(KDAMONDS)) return false;
  const rest = path.slice(KDAMONDS.length);
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) return false;
  const name = rest.slice(0, slash);
  return names === undefined ? INDEX.test(name) : names.has(name);
}
