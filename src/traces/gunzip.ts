import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { InputError } from '../util/errors.js';

/**
 * Gzip-compressed traces must be readable synchronously (the engine's fill() is synchronous) and
 * in bounded memory. node:zlib has no public synchronous incremental decompressor: gunzipSync
 * needs the whole input and output in memory, and the streaming Gunzip is asynchronous only. So a
 * compressed trace is first decompressed, streaming, into a temporary file by a child Node process
 * that this process waits for (spawnSync), and the plain file is then read like any other. The
 * cost is disk space for the decompressed trace while it is in use; the file is removed by
 * `cleanup()` or, at the latest, when this process exits. Small files (up to 8 MiB compressed and
 * 128 MiB decompressed) skip the child process, whose start-up costs a good fraction of a second,
 * and are decompressed in memory with gunzipSync.
 */

const IN_PROCESS_MAX_INPUT = 8 << 20;
const IN_PROCESS_MAX_OUTPUT = 128 << 20;

const CHILD = `
const fs = require('node:fs'), zlib = require('node:zlib'), { pipeline } = require('node:stream');
const [src, dst] = process.argv.slice(1);
const gz = zlib.createGunzip();
pipeline(fs.createReadStream(src), gz, fs.createWriteStream(dst, { flags: 'wx' }), (err) => {
  if (!err) return;
  process.stderr.write(JSON.stringify({ message: err.message, code: err.code ?? null, consumed: gz.bytesWritten }));
  process.exitCode = 3;
});
`;

const pending = new Set<string>();
let exitHookInstalled = false;

function removeDir(dir: string): void {
  try {
    fs.rmSync(dir, { recursive: true, force: true });
  } catch {
    // best effort: a leftover temporary directory is not worth failing for
  }
  pending.delete(dir);
}

export interface Decompressed {
  /** The decompressed (native format) file. */
  readonly path: string;
  /** Removes the temporary file; idempotent. */
  cleanup(): void;
}

/**
 * Decompresses the gzip file `file` into a temporary file; InputError if it is not valid gzip.
 * `inProcessMaxInput` overrides the size up to which it is done in memory (0: always stream).
 */
export function gunzipToTemp(file: string, inProcessMaxInput = IN_PROCESS_MAX_INPUT): Decompressed {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'numatier-trace-'));
  pending.add(dir);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const d of [...pending]) removeDir(d);
    });
  }
  const out = path.join(dir, 'trace.ntrace');
  if (fs.statSync(file).size <= inProcessMaxInput) {
    let data: Buffer | null = null;
    try {
      data = zlib.gunzipSync(fs.readFileSync(file), { maxOutputLength: IN_PROCESS_MAX_OUTPUT });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code !== 'ERR_BUFFER_TOO_LARGE') {
        removeDir(dir);
        throw new InputError(
          `${file}: cannot decompress gzip: ${err.message}${err.code === 'Z_BUF_ERROR' ? ' (truncated gzip file?)' : ''}`,
        );
      }
      // Too large to hold: stream it through the child below.
    }
    if (data !== null) {
      try {
        fs.writeFileSync(out, data, { flag: 'wx' });
      } catch (e) {
        removeDir(dir);
        throw new InputError(
          `${file}: cannot decompress gzip into ${os.tmpdir()}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
        );
      }
      return { path: out, cleanup: () => removeDir(dir) };
    }
  }
  const r = spawnSync(process.execPath, ['-e', CHILD, file, out], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  if (r.error !== undefined || r.status !== 0) {
    removeDir(dir);
    let detail = r.error?.message ?? `decompressor exited with status ${String(r.status ?? r.signal)}`;
    try {
      const e = JSON.parse(r.stderr) as { message: string; code: string | null; consumed: number };
      if (e.code === 'ENOSPC') detail = `no space left in ${os.tmpdir()} to decompress it`;
      else
        detail = `compressed byte ${e.consumed}: ${e.message}${e.code === 'Z_BUF_ERROR' ? ' (truncated gzip file?)' : ''}`;
    } catch {
      // stderr was not our JSON (the child failed to start): keep the generic detail
    }
    throw new InputError(`${file}: cannot decompress gzip: ${detail}`);
  }
  return { path: out, cleanup: () => removeDir(dir) };
}
