import { randomBytes } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { threadId } from 'node:worker_threads';
import { InputError } from '../util/errors.js';
import { packageVersion } from '../util/version.js';

/**
 * Result directories. numatier recognises its own results by a marker file written into them
 * last, and replaces only those: whatever else sits at an --out path is the user's, and is
 * refused unless they say --force. A result is written into a temporary sibling and swapped
 * in with renames, so a killed run leaves the earlier result (or, after the swap, the new one)
 * complete; the one instant between the two renames is repaired by the next write.
 */

/** The marker: its presence says "numatier wrote this directory, and finished writing it". */
export const RESULT_MARKER = '.numatier-result';

/** What a marker holds; `kind` says which command wrote the result. */
export interface ResultMarker {
  numatier: string;
  kind: string;
  /** The files numatier wrote: anything else found in the directory is the user's. */
  files: string[];
}

export interface WriteOutputOptions {
  /** What writes the result (simulate, experiment, …), recorded in the marker. */
  kind: string;
  /** Replace whatever is at the path, even if numatier did not write it. */
  force?: boolean;
  /** Called between writing the files and the swap (tests kill the process there). */
  beforeSwap?: () => void;
}

function readMarker(dir: string): Partial<ResultMarker> | null {
  try {
    const m = JSON.parse(readFileSync(join(dir, RESULT_MARKER), 'utf8')) as Partial<ResultMarker>;
    return typeof m.numatier === 'string' ? m : null;
  } catch {
    return null;
  }
}

/** Whether `dir` is a complete numatier result. */
export function isResultDir(dir: string): boolean {
  return readMarker(dir) !== null;
}

/** Files in result `dir` that its marker does not list: added by someone else since. */
function foreignFiles(dir: string): string[] {
  const m = readMarker(dir);
  // A file in a folder of the result makes the folder ours.
  const files = Array.isArray(m?.files) ? m.files : [];
  const ours = new Set([RESULT_MARKER, ...files.map((f) => String(f).split('/')[0])]);
  return readdirSync(dir).filter((n) => !ours.has(n));
}

/** A sibling name unique to this process and thread: `.NAME.KIND-PID-TID-RANDOM`. */
function siblingName(dir: string, kind: 'tmp' | 'old'): string {
  const rand = randomBytes(4).toString('hex');
  return join(dirname(dir), `.${basename(dir)}.numatier-${kind}-${process.pid}-${threadId}-${rand}`);
}

const SIBLING = /^\.(.+)\.numatier-(tmp|old)-(\d+)-(\d+)-[0-9a-f]{8}$/;

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cleans up after a writer of `dir` that was killed: if it died between its two renames, the
 * old result is renamed back (or, were it gone, the finished new one renamed in); then its
 * temporary and set-aside copies are removed. Only names numatier makes, of processes that no
 * longer run, are touched.
 */
export function recoverOutputDir(dir: string): void {
  const parent = dirname(dir);
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  const dead = names
    .map((n) => ({ path: join(parent, n), m: SIBLING.exec(n) }))
    .filter((x) => x.m !== null && x.m[1] === basename(dir) && !processAlive(Number(x.m[3])));
  if (!existsSync(dir)) {
    const whole = (kind: string) => dead.find((x) => x.m?.[2] === kind && isResultDir(x.path));
    const back = whole('old') ?? whole('tmp');
    if (back !== undefined) renameSync(back.path, dir);
  }
  for (const { path } of dead) if (existsSync(path)) rmSync(path, { recursive: true, force: true });
}

/** Creates `dir` and its missing parents; returns the topmost directory created, if any. */
function mkdirParents(dir: string): string | undefined {
  try {
    return mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new InputError(
      `--out ${dir}: cannot create it (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
  }
}

/** Removes the directories mkdirParents created, deepest first, if they are still empty. */
function removeCreated(created: string | undefined, deepest: string): void {
  if (created === undefined) return;
  for (let d = deepest; ; d = dirname(d)) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
    if (d === created || dirname(d) === d) return;
  }
}

/** Why `dir` may not be replaced, or null when it may. */
function refusal(dir: string, force: boolean): string | null {
  // Renaming the directory one stands in (or a parent of it) aside would pull the ground away.
  const rel = relative(dir, process.cwd());
  if (rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))) {
    return `--out ${dir}: is the working directory or one of its parents; name a directory for the result`;
  }
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return null; // nothing there
  }
  let what: string;
  try {
    if (st.isDirectory() && isResultDir(dir)) {
      const added = foreignFiles(dir);
      if (added.length === 0 || force) return null;
      what = `an earlier numatier result with files numatier did not write (${added.slice(0, 3).join(', ')}${added.length > 3 ? ', …' : ''})`;
    } else if (st.isDirectory()) {
      if (readdirSync(dir).length === 0 || force) return null;
      what = 'a directory that is not a numatier result';
    } else {
      if (force) return null;
      what = st.isSymbolicLink() ? 'a symbolic link' : 'a file';
    }
  } catch (e) {
    return `--out ${dir}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
  return `--out ${dir}: is ${what}; refusing to replace it (choose another path, or add --force)`;
}

/** Throws the InputError writeOutputDir would throw for `dir`, before a run spends its time. */
export function checkOutputDir(dir: string, force: boolean): void {
  const why = refusal(resolve(dir), force);
  if (why !== null) throw new InputError(why);
}

/**
 * Writes a run's files so that the output directory either holds a complete result or
 * nothing of this run: the files go into a temporary sibling directory, the marker last;
 * then an earlier result is renamed aside, the new one renamed in, and the old one removed.
 */
export function writeOutputDir(dir: string, files: Record<string, string>, o: WriteOutputOptions): void {
  dir = resolve(dir);
  const why = refusal(dir, o.force === true);
  if (why !== null) throw new InputError(why);
  const parent = dirname(dir);
  const created = mkdirParents(parent);
  try {
    recoverOutputDir(dir);
  } catch {
    // another writer is recovering the same path; its leftovers are dealt with next time
  }
  const tmp = siblingName(dir, 'tmp');
  let aside: string | null = null;
  try {
    mkdirSync(tmp);
    for (const [name, text] of Object.entries(files)) {
      // Names may hold folders ('variants/a/summary.json'), never a way out of the result.
      if (name.split('/').some((part) => part === '' || part === '.' || part === '..'))
        throw new Error(`writeOutputDir: bad file name ${JSON.stringify(name)}`);
      if (name.includes('/')) mkdirSync(dirname(join(tmp, name)), { recursive: true });
      writeFileSync(join(tmp, name), text);
    }
    const marker: ResultMarker = {
      numatier: packageVersion(),
      kind: o.kind,
      files: Object.keys(files).sort(),
    };
    writeFileSync(join(tmp, RESULT_MARKER), JSON.stringify(marker) + '\n');
    o.beforeSwap?.();
    if (existsSync(dir) || isBrokenLink(dir)) {
      aside = siblingName(dir, 'old');
      renameSync(dir, aside);
    }
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (aside !== null) {
      // Put the earlier result back if the new one never arrived; if another writer's result
      // took the place meanwhile, the earlier one (ours to remove) goes.
      try {
        if (!existsSync(dir)) renameSync(aside, dir);
        else rmSync(aside, { recursive: true, force: true });
      } catch {
        // recoverOutputDir() of a later run puts it back or removes it
      }
    }
    removeCreated(created, parent);
    throw new InputError(
      `--out ${dir}: cannot write results (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
  }
  if (aside !== null) rmSync(aside, { recursive: true, force: true });
}

function isBrokenLink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Writes one file atomically: a temporary name in the same directory, then rename. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = siblingName(path, 'tmp');
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new InputError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}
