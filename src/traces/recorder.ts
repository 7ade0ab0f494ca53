import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import * as zlib from 'node:zlib';
import { InputError } from '../util/errors.js';
import { importLackeyStream, type LlcOptions } from './lackey.js';
import { TraceReader } from './reader.js';
import { TraceWriter } from './writer.js';

/**
 * `numatier trace record`: runs a command under Valgrind and writes its data accesses as a trace.
 *
 * The recorder is numatier's own Valgrind tool (native/valgrind-tool, ~120 M accesses/s class)
 * built on first use with `make` against the installed Valgrind's headers and static core
 * libraries, into a cache directory keyed by a hash of the tool's sources and the Valgrind
 * version. Valgrind's launcher looks for tools in $VALGRIND_LIB, so the cache directory holds the
 * tool plus symbolic links to every file of the stock Valgrind library directory (the core's
 * preload objects, default suppressions, …), and the recording runs with VALGRIND_LIB pointing there.
 * If the tool cannot be built, recording falls back to lackey (orders of magnitude slower) and
 * says so on stderr.
 */

export type RecordMethod = 'auto' | 'tool' | 'lackey';

export interface RecordOptions {
  /** Trace to write (.gz: compressed). */
  out: string;
  /** Program and arguments. */
  command: string[];
  /** Keep only what a last-level cache of this geometry exchanges with memory. */
  llc?: LlcOptions;
  /** 'auto' (default): the tool, else lackey; 'tool' or 'lackey' to force one. */
  method?: RecordMethod;
  /** Where the tool is built (default: node_modules/.cache/numatier, else the OS temp dir). */
  cacheDir?: string;
  /** Progress and warnings (default: stderr). */
  log?: (line: string) => void;
  /** Where the program's stdout/stderr go (default: inherited). */
  stdio?: 'inherit' | 'ignore';
}

export interface RecordResult {
  method: 'numatrace' | 'lackey';
  /** The program's exit status (null if a signal ended it). */
  exitCode: number | null;
  signal: string | null;
  /** Records in the trace. */
  records: number;
  /** Data accesses the program made (a read-modify-write counts twice), when the recorder reports it. */
  accesses: number | null;
  /** Instructions the program executed, when the recorder reports it. */
  instructions: number | null;
  wallSeconds: number;
}

export interface BuiltTool {
  /** Directory to pass as VALGRIND_LIB. */
  libDir: string;
  /** The tool executable. */
  tool: string;
  /** False if it was already in the cache. */
  built: boolean;
}

const TOOL_NAME = 'numatrace';
const SOURCES = ['nt_main.c', 'nt_format.h', 'nt_llc.h', 'Makefile'];

/** The repository (or installed package) root: the directory holding package.json and native/. */
export function projectRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (
      fs.existsSync(path.join(dir, 'package.json')) &&
      fs.existsSync(path.join(dir, 'native', 'valgrind-tool'))
    )
      return dir;
    const up = path.dirname(dir);
    if (up === dir)
      throw new Error('numatier: cannot find native/valgrind-tool above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
}

function defaultCacheDir(root: string): string {
  const env = process.env.NUMATIER_CACHE_DIR;
  if (env !== undefined && env !== '') return env;
  const nm = path.join(root, 'node_modules');
  try {
    fs.accessSync(nm, fs.constants.W_OK);
    return path.join(nm, '.cache', 'numatier');
  } catch {
    const uid = typeof process.getuid === 'function' ? process.getuid() : 'user';
    return path.join(os.tmpdir(), `numatier-cache-${uid}`);
  }
}

/** `valgrind --version`, or null when Valgrind is not on PATH. */
export function valgrindVersion(): string | null {
  const r = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (r.error !== undefined || r.status !== 0) return null;
  return r.stdout.trim();
}

function valgrindPlatform(): string {
  const r = spawnSync('pkg-config', ['--variable=platform', 'valgrind'], { encoding: 'utf8' });
  if (r.error === undefined && r.status === 0 && r.stdout.trim() !== '') return r.stdout.trim();
  const arch: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    ia32: 'x86',
    s390x: 's390x',
    ppc64: 'ppc64le',
  };
  return `${arch[process.arch] ?? process.arch}-${process.platform}`;
}

/** The directory of the installed Valgrind's tools and preload objects. */
function stockLibDir(platform: string): string {
  const candidates: string[] = [];
  const which = spawnSync('sh', ['-c', 'command -v valgrind'], { encoding: 'utf8' });
  if (which.status === 0 && which.stdout.trim() !== '') {
    const prefix = path.dirname(path.dirname(fs.realpathSync(which.stdout.trim())));
    candidates.push(path.join(prefix, 'libexec', 'valgrind'), path.join(prefix, 'lib', 'valgrind'));
  }
  candidates.push(
    '/usr/libexec/valgrind',
    '/usr/lib/valgrind',
    '/usr/local/libexec/valgrind',
    '/usr/local/lib/valgrind',
  );
  for (const c of candidates) {
    if (fs.existsSync(path.join(c, `vgpreload_core-${platform}.so`))) return c;
  }
  throw new Error(
    `cannot find Valgrind's library directory (looked for vgpreload_core-${platform}.so in ${candidates.join(', ')})`,
  );
}

/**
 * Builds the numatrace tool unless the cache already has this version of it, and checks that
 * Valgrind can run it. Throws an Error saying what is missing (toolchain, headers, libraries).
 */
export function buildRecorder(opts: { cacheDir?: string; log?: (line: string) => void } = {}): BuiltTool {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const version = valgrindVersion();
  if (version === null) throw new Error('valgrind is not on PATH');
  const root = projectRoot();
  const srcDir = path.join(root, 'native', 'valgrind-tool');
  const platform = valgrindPlatform();
  const stock = stockLibDir(platform);
  const hash = createHash('sha256');
  for (const f of SOURCES) hash.update(fs.readFileSync(path.join(srcDir, f)));
  hash.update(`${version}\0${platform}\0${stock}`);
  const cache = opts.cacheDir ?? defaultCacheDir(root);
  const libDir = path.join(cache, `${TOOL_NAME}-${hash.digest('hex').slice(0, 16)}`);
  const tool = path.join(libDir, `${TOOL_NAME}-${platform}`);
  if (fs.existsSync(tool)) return { libDir, tool, built: false };

  fs.mkdirSync(cache, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(cache, '.build-'));
  try {
    log(`numatier: building the ${TOOL_NAME} Valgrind tool (once) in ${libDir}`);
    const make = spawnSync('make', ['-s', '-C', srcDir, `OUT=${tmp}`], { encoding: 'utf8' });
    if (make.error !== undefined) {
      throw new Error(
        `cannot run make (${(make.error as NodeJS.ErrnoException).code ?? make.error.message}); install make and gcc`,
      );
    }
    if (make.status !== 0) {
      const tail = `${make.stdout}\n${make.stderr}`.trim().split('\n').slice(-6).join('\n  ');
      throw new Error(
        `make failed (status ${make.status}); needs gcc and the valgrind package's headers and static libraries:\n  ${tail}`,
      );
    }
    const built = path.join(tmp, `${TOOL_NAME}-${platform}`);
    if (!fs.existsSync(built)) throw new Error(`make did not produce ${path.basename(built)}`);
    for (const f of fs.readdirSync(tmp)) if (f.endsWith('.o')) fs.rmSync(path.join(tmp, f));
    for (const f of fs.readdirSync(stock)) {
      if (!f.startsWith(`${TOOL_NAME}-`)) fs.symlinkSync(path.join(stock, f), path.join(tmp, f));
    }
    smokeTest(tmp);
    try {
      fs.renameSync(tmp, libDir);
    } catch (e) {
      // Another process finished the same build first: use theirs.
      if (!fs.existsSync(tool)) throw e;
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return { libDir, tool, built: true };
}

/** Runs the freshly built tool on /bin/true and checks the trace it writes. */
function smokeTest(libDir: string): void {
  const out = path.join(libDir, 'smoke.ntrace');
  const r = spawnSync('valgrind', ['-q', `--tool=${TOOL_NAME}`, `--out-file=${out}`, '--', '/bin/true'], {
    encoding: 'utf8',
    env: { ...process.env, VALGRIND_LIB: libDir },
  });
  try {
    if (r.status !== 0 || !fs.existsSync(out)) {
      throw new Error(
        `the built tool does not run: ${`${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' / ')}`,
      );
    }
    const reader = TraceReader.open(out);
    try {
      while (reader.next() > 0);
      if (reader.recordsRead === 0) throw new Error('the built tool recorded nothing for /bin/true');
    } finally {
      reader.close();
    }
  } finally {
    fs.rmSync(out, { force: true });
  }
}

const SUMMARY =
  /^numatrace: (\d+) accesses, (\d+) records, (\d+) dropped(?: \(address >= 2\^56\), (\d+) instructions)?/;

/** Runs `opts.command` under Valgrind and writes the trace to `opts.out`. */
export async function recordTrace(opts: RecordOptions): Promise<RecordResult> {
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  if (opts.command.length === 0) throw new InputError('trace record: give the command to record after "--"');
  if (valgrindVersion() === null) {
    throw new InputError(
      'trace record: valgrind is not installed or not on PATH (Debian/Ubuntu: apt-get install valgrind)',
    );
  }
  const outDir = path.dirname(path.resolve(opts.out));
  try {
    fs.accessSync(outDir, fs.constants.W_OK);
  } catch {
    throw new InputError(`--out: directory ${outDir} does not exist or is not writable`);
  }
  const method = opts.method ?? 'auto';
  let tool: BuiltTool | null = null;
  if (method !== 'lackey') {
    try {
      tool = buildRecorder({ ...(opts.cacheDir !== undefined ? { cacheDir: opts.cacheDir } : {}), log });
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      if (method === 'tool')
        throw new InputError(`trace record: cannot build the ${TOOL_NAME} Valgrind tool: ${why}`);
      log(`numatier: cannot build the ${TOOL_NAME} Valgrind tool: ${why}`);
      log(
        'numatier: falling back to lackey, which records only about 0.4 M accesses/s (a few hundred times slower)',
      );
    }
  }
  const started = process.hrtime.bigint();
  // Ctrl-C reaches the program too; wait for it to end so that the trace is completed.
  const onSigint = (): void => undefined;
  process.on('SIGINT', onSigint);
  try {
    const r = tool !== null ? await recordWithTool(tool, opts, log) : await recordWithLackey(opts);
    return { ...r, wallSeconds: Number(process.hrtime.bigint() - started) / 1e9 };
  } finally {
    process.off('SIGINT', onSigint);
  }
}

type Recorded = Omit<RecordResult, 'wallSeconds'>;

function tempNear(file: string, tag: string): string {
  return `${file}.${tag}-${process.pid}`;
}

async function recordWithTool(
  tool: BuiltTool,
  opts: RecordOptions,
  log: (l: string) => void,
): Promise<Recorded> {
  const tmp = tempNear(opts.out, 'rec');
  const args = ['-q', `--tool=${TOOL_NAME}`, `--out-file=${tmp}`, '--log-fd=3'];
  if (opts.llc) args.push(`--llc-size=${opts.llc.sizeBytes}`, `--llc-ways=${opts.llc.ways}`);
  const child = spawn('valgrind', [...args, '--', ...opts.command], {
    env: { ...process.env, VALGRIND_LIB: tool.libDir },
    stdio: [
      opts.stdio === 'ignore' ? 'ignore' : 'inherit',
      opts.stdio ?? 'inherit',
      opts.stdio ?? 'inherit',
      'pipe',
    ],
  });
  let accesses: number | null = null;
  let instructions: number | null = null;
  let writeFailed = false;
  const messages = collectLines(child.stdio[3] as Readable, (line) => {
    const m = SUMMARY.exec(line);
    if (m) {
      accesses = Number(m[1]);
      if (m[4] !== undefined) instructions = Number(m[4]);
      if (Number(m[3]) > 0) log(`numatier: ${m[3]} accesses at addresses >= 2^56 were not recorded`);
      if (line.includes('WRITE FAILED')) writeFailed = true;
    } else if (WRITE_FAILED.test(line)) {
      // Said once more below, with the reason; the tool's own line names no errno.
      writeFailed = true;
    } else if (line.trim() !== '') {
      log(line);
    }
  });
  try {
    const exit = await childExit(child);
    await messages;
    if (!fs.existsSync(tmp)) {
      throw new InputError(`trace record: valgrind ended (${describeExit(exit)}) without writing a trace`, 1);
    }
    if (writeFailed) throw new InputError(`trace record: ${writeFailure(tmp)}`, 1);
    const records = verify(tmp);
    await moveInto(tmp, opts.out);
    return { method: 'numatrace', exitCode: exit.code, signal: exit.signal, records, accesses, instructions };
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

async function recordWithLackey(opts: RecordOptions): Promise<Recorded> {
  const child = spawn(
    'valgrind',
    ['-q', '--tool=lackey', '--trace-mem=yes', '--log-fd=3', '--', ...opts.command],
    {
      stdio: [
        opts.stdio === 'ignore' ? 'ignore' : 'inherit',
        opts.stdio ?? 'inherit',
        opts.stdio ?? 'inherit',
        'pipe',
      ],
    },
  );
  const llcText = opts.llc ? `; llc ${opts.llc.sizeBytes} bytes ${opts.llc.ways}-way LRU, 64-byte lines` : '';
  const writer = TraceWriter.create(opts.out, {
    source: `valgrind --tool=lackey: ${opts.command.join(' ')}${llcText}`,
    llcFiltered: opts.llc !== undefined,
    timed: true,
  });
  const exited = childExit(child);
  try {
    const r = await importLackeyStream(child.stdio[3] as Readable, 'lackey output', writer, opts.llc);
    const exit = await exited;
    writer.close();
    return {
      method: 'lackey',
      exitCode: exit.code,
      signal: exit.signal,
      records: r.records,
      accesses: r.accesses,
      instructions: r.instructions,
    };
  } catch (e) {
    writer.abort();
    child.kill('SIGKILL');
    await exited.catch(() => undefined);
    throw e;
  }
}

interface Exit {
  code: number | null;
  signal: string | null;
}

function childExit(child: ReturnType<typeof spawn>): Promise<Exit> {
  return new Promise((resolve, reject) => {
    child.once('error', (e) => reject(new InputError(`trace record: cannot run valgrind: ${e.message}`)));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

function describeExit(e: Exit): string {
  return e.signal !== null ? `signal ${e.signal}` : `status ${e.code}`;
}

async function collectLines(input: Readable, onLine: (line: string) => void): Promise<void> {
  let carry = '';
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const lines = (carry + chunk.toString('utf8')).split('\n');
    carry = lines.pop() ?? '';
    for (const l of lines) onLine(l);
  }
  if (carry !== '') onLine(carry);
}

/** The tool's line when a write() of the trace failed (nt_main.c, write_all()). */
const WRITE_FAILED = /^numatrace: write to .* failed/;

/**
 * Why the tool could not write `file`. Its write() failed without telling the errno, so the
 * file system is asked: a device with (almost) no room left is ENOSPC, the usual cause.
 */
function writeFailure(file: string): string {
  const dir = path.dirname(path.resolve(file));
  try {
    const st = fs.statfsSync(dir);
    if (st.bavail * st.bsize < 1 << 20)
      return `no space left on the device holding ${dir} (ENOSPC); free some space or record to another --out`;
    if (st.ffree === 0) return `no free inodes on the device holding ${dir} (ENOSPC)`;
  } catch {
    // fall through to the general message
  }
  return `writing the trace to ${dir} failed (the device refused a write: quota, I/O error or a full disk)`;
}

/** Reads the whole recording (checksums, end marker); returns its record count. */
function verify(file: string): number {
  let reader: TraceReader;
  try {
    reader = TraceReader.open(file);
  } catch (e) {
    throw new InputError(
      `trace record: the recording is unusable: ${e instanceof Error ? e.message : String(e)}`,
      1,
    );
  }
  try {
    while (reader.next() > 0);
    return reader.recordsRead;
  } catch (e) {
    throw new InputError(
      `trace record: the recording is incomplete (did the program exec another program or get killed?): ${e instanceof Error ? e.message : String(e)}`,
      1,
    );
  } finally {
    reader.close();
  }
}

/** Renames the verified recording to `out`, compressing it on the way when out ends in .gz. */
async function moveInto(tmp: string, out: string): Promise<void> {
  if (!out.endsWith('.gz')) {
    fs.renameSync(tmp, out);
    return;
  }
  const gzTmp = tempNear(out, 'gz');
  try {
    await pipeline(fs.createReadStream(tmp), zlib.createGzip(), fs.createWriteStream(gzTmp));
    fs.renameSync(gzTmp, out);
  } catch (e) {
    throw new InputError(`${out}: cannot write trace: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, 1);
  } finally {
    fs.rmSync(gzTmp, { force: true });
  }
}
