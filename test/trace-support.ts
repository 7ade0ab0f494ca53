import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';

/** Shared setup of the trace tests. */

/** test/fixtures/traces of the source tree (the tests run from dist/test). */
export const traceFixtures = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'test',
  'fixtures',
  'traces',
);

/** A fresh directory under the system's temporary directory, removed when the test file ends. */
export function scratchDir(label: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `numatier-traces-${label}-`));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}
