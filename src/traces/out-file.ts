import fs from 'node:fs';
import zlib from 'node:zlib';
import { GZIP_MAGIC, MAGIC } from './format.js';
import { InputError } from '../util/errors.js';

/** Bytes read from a gzip file to find the trace header behind its compression. */
const GZIP_PROBE_BYTES = 64 * 1024;

function startsWith(buf: Uint8Array, prefix: Uint8Array): boolean {
  if (buf.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[i] !== prefix[i]) return false;
  return true;
}

/** Whether the regular file at `path` is a numatier trace, plain or gzip-compressed. */
function isNumatierTrace(path: string): boolean {
  const fd = fs.openSync(path, 'r');
  try {
    const head = Buffer.alloc(GZIP_PROBE_BYTES);
    const n = fs.readSync(fd, head, 0, head.length, 0);
    const got = head.subarray(0, n);
    if (startsWith(got, MAGIC)) return true;
    if (!startsWith(got, GZIP_MAGIC)) return false;
    try {
      // A prefix of the stream: flush what it holds instead of asking for the end.
      const inner = zlib.gunzipSync(got, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
      return startsWith(inner, MAGIC);
    } catch {
      return false;
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Refuses a `trace record|import --out` path that holds something numatier did not write,
 * before the work starts: an earlier numatier trace is replaced (the writers write to a
 * temporary name and rename), anything else only with --force, and a directory never.
 */
export function checkTraceOut(path: string, force: boolean): void {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new InputError(`--out ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
  }
  if (st.isDirectory()) throw new InputError(`--out ${path}: is a directory; give the trace file to write`);
  if (force) return;
  let what: string;
  if (st.isSymbolicLink()) what = 'a symbolic link';
  else if (!st.isFile()) what = 'not a regular file';
  else {
    let trace: boolean;
    try {
      trace = isNumatierTrace(path);
    } catch (e) {
      throw new InputError(
        `--out ${path}: cannot read it (${(e as NodeJS.ErrnoException).code ?? String(e)})`,
      );
    }
    if (trace) return;
    what = 'a file that is not a numatier trace';
  }
  throw new InputError(
    `--out ${path}: is ${what}; refusing to replace it (choose another path, or add --force)`,
  );
}
