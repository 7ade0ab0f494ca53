import { isAbsolute, relative } from 'node:path';
import { defaultJobs } from '../parallel/pool.js';
import { InputError } from '../util/errors.js';

/** --seed: a non-negative integer. */
export function parseSeed(v: string): number {
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) {
    throw new InputError(`--seed: expected a non-negative integer, got ${JSON.stringify(v)}`);
  }
  return Number(v);
}

/** How to show an output path: relative to the working directory when it lies inside it. */
export function displayPath(p: string): string {
  const rel = relative(process.cwd(), p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : p;
}

/** --jobs if given, else one worker per CPU this process may use. */
export function jobsOption(v: string | undefined): number {
  return v !== undefined ? parseJobs(v) : defaultJobs();
}

/** --jobs: a positive integer, the worker threads a command may run at once. */
export function parseJobs(v: string): number {
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 1024) {
    throw new InputError(
      `--jobs: expected a whole number of workers from 1 to 1024, got ${JSON.stringify(v)}`,
    );
  }
  return Number(v);
}
