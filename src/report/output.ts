import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from '../util/errors.js';

/**
 * Writes a run's files so that the output directory either holds a complete result or
 * nothing: everything goes into a temporary sibling directory that is renamed into place at
 * the end (replacing an earlier result of the same name).
 */
export function writeOutputDir(dir: string, files: Record<string, string>): void {
  const parent = dirname(dir);
  try {
    mkdirSync(parent, { recursive: true });
  } catch (e) {
    throw new InputError(
      `--out ${dir}: cannot create ${parent} (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
  }
  const tmp = join(parent, `.${basename(dir)}.tmp-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    mkdirSync(tmp);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(tmp, name), text);
    if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new InputError(
      `--out ${dir}: cannot write results (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
    );
  }
}

/** Writes one file atomically: a temporary name in the same directory, then rename. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.tmp-${process.pid}`);
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new InputError(`${path}: cannot write (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
}
