import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import * as zlib from 'node:zlib';
import { InputError } from '../util/errors.js';
import { DEFAULT_LINE_SHIFT, MAX_UNIT } from './format.js';
import { LlcFilter } from './llc.js';
import { TraceWriter } from './writer.js';

/**
 * Import of `valgrind --tool=lackey --trace-mem=yes --log-file=FILE` output. Lackey writes one
 * line per access:
 *
 *   "I  <hex address>,<size>"   instruction fetch        -> checked, counted as one instruction
 *   " L <hex address>,<size>"   data load                -> a read of every 64-byte line it covers
 *   " S <hex address>,<size>"   data store               -> a write of every line it covers
 *   " M <hex address>,<size>"   load then store (modify) -> the reads, then the writes
 *
 * plus Valgrind's own messages ("==1234== ...", "--1234-- ...", "**1234** ..."), which are skipped
 * along with blank lines. Anything else is refused with its line number: it usually means the
 * program's own output got mixed in (write lackey's output with --log-file or --log-fd).
 * Read-modify-write is split into a read and a write so that a lackey import and a recording by
 * the numatrace tool describe the same program identically. Each I line is one instruction
 * executed, so the import writes a timed trace (format version 2) whose blocks carry the count.
 */

export interface LlcOptions {
  sizeBytes: number;
  ways: number;
}

export interface LackeyImportOptions {
  /** Text for the trace header (default: says where the import came from). */
  source?: string;
  /** Filter through a last-level cache model (records become fills and dirty write-backs). */
  llc?: LlcOptions;
}

export interface LackeyImportResult {
  /** Lines read. */
  lines: number;
  /** Data accesses (L, S; M counts twice). */
  accesses: number;
  /** Instruction-fetch lines: instructions executed, carried by the trace's blocks. */
  instructions: number;
  /** Valgrind message lines and blank lines skipped. */
  skipped: number;
  /** Records written. */
  records: number;
  /** Accesses at addresses ≥ 2^56, which the format cannot hold (not recorded). */
  dropped: number;
}

const BANNER = /^(==|--|\*\*)\d+(==|--|\*\*)/;
const HEX = /^[0-9a-fA-F]{1,16}$/;
const DEC = /^[0-9]{1,7}$/;
const MAX_ACCESS_SIZE = 65536;
const LINE = 2 ** DEFAULT_LINE_SHIFT;
/** A lackey line is ~20 characters; anything this long is not lackey output. */
const MAX_LINE = 1 << 16;

/** Turns lackey lines into (line unit, isWrite) accesses; line numbers count from 1. */
export class LackeyParser {
  readonly result: LackeyImportResult = {
    lines: 0,
    accesses: 0,
    instructions: 0,
    skipped: 0,
    records: 0,
    dropped: 0,
  };
  private readonly name: string;
  private readonly sink: (unit: number, isWrite: boolean) => void;
  private readonly onInstruction: (() => void) | null;

  constructor(
    name: string,
    sink: (unit: number, isWrite: boolean) => void,
    onInstruction: (() => void) | null = null,
  ) {
    this.name = name;
    this.sink = sink;
    this.onInstruction = onInstruction;
  }

  line(text: string): void {
    const n = ++this.result.lines;
    const t = text.endsWith('\r') ? text.slice(0, -1) : text;
    const c0 = t.charCodeAt(0);
    if (c0 === 0x20 && t.length > 3 && t.charCodeAt(2) === 0x20) {
      const k = t[1];
      if (k === 'L' || k === 'S' || k === 'M') {
        const [first, last] = this.range(t, n);
        if (first < 0) {
          this.result.dropped += k === 'M' ? 2 : 1;
          return;
        }
        if (k !== 'S') this.emitRange(first, last, false);
        if (k !== 'L') this.emitRange(first, last, true);
        this.result.accesses += k === 'M' ? 2 : 1;
        return;
      }
    } else if (c0 === 0x49 && t.startsWith('I  ')) {
      this.range(t, n);
      this.result.instructions++;
      this.onInstruction?.();
      return;
    }
    if (BANNER.test(t) || t.trim() === '') {
      this.result.skipped++;
      return;
    }
    this.fail(
      n,
      `not a lackey trace line: ${JSON.stringify(t.length > 60 ? `${t.slice(0, 60)}…` : t)}; expected " L|S|M <hex address>,<size>", "I  <hex address>,<size>" or a ==pid== message (was the program's own output mixed in? record with --log-file)`,
    );
  }

  /** The line after the last complete one runs longer than `max` characters. */
  tooLong(max: number): never {
    this.fail(this.result.lines + 1, `line longer than ${max} characters: not lackey output`);
  }

  private emitRange(first: number, last: number, isWrite: boolean): void {
    for (let u = first; u <= last; u++) this.sink(u, isWrite);
    this.result.records += last - first + 1;
  }

  /** First and last 64-byte line of "<kind> <hex>,<size>"; [-1, -1] when beyond 2^56. */
  private range(t: string, n: number): [number, number] {
    const rest = t.slice(3);
    const comma = rest.indexOf(',');
    const hex = comma < 0 ? rest : rest.slice(0, comma);
    const dec = comma < 0 ? '' : rest.slice(comma + 1);
    if (!HEX.test(hex))
      this.fail(n, `expected a hexadecimal address of 1 to 16 digits, got ${JSON.stringify(hex)}`);
    if (!DEC.test(dec))
      this.fail(n, `expected ",<size>" after the address, got ${JSON.stringify(comma < 0 ? '' : `,${dec}`)}`);
    const size = Number(dec);
    if (size < 1 || size > MAX_ACCESS_SIZE)
      this.fail(n, `access size must be from 1 to ${MAX_ACCESS_SIZE} bytes, got ${size}`);
    if (hex.length <= 13) {
      const addr = parseInt(hex, 16); // < 2^52: exact in a double
      return [Math.floor(addr / LINE), Math.floor((addr + size - 1) / LINE)];
    }
    const addr = BigInt(`0x${hex}`);
    const first = Number(addr >> BigInt(DEFAULT_LINE_SHIFT));
    const last = Number((addr + BigInt(size - 1)) >> BigInt(DEFAULT_LINE_SHIFT));
    return last >= MAX_UNIT ? [-1, -1] : [first, last];
  }

  private fail(n: number, msg: string): never {
    throw new InputError(`${this.name}: line ${n}: ${msg}`);
  }
}

/** Reads lackey lines from `input` into `writer` (through an LLC filter if asked); does not close the writer. */
export async function importLackeyStream(
  input: Readable,
  name: string,
  writer: TraceWriter,
  llc?: LlcOptions,
): Promise<LackeyImportResult> {
  const filter =
    llc === undefined ? null : new LlcFilter(llc.sizeBytes, llc.ways, (u, w) => writer.append(u, w));
  // An instruction counts before the accesses that follow its I line, so it precedes their misses.
  const parser = new LackeyParser(
    name,
    filter ? (u, w) => filter.access(u, w) : (u, w) => writer.append(u, w),
    writer.timed ? () => writer.retire(1) : null,
  );
  // Lines are split here rather than with node:readline so that a failing input (a damaged gzip
  // stream) rejects this loop instead of just ending it.
  const decoder = new StringDecoder('utf8');
  let carry = '';
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    const s = carry + (typeof chunk === 'string' ? chunk : decoder.write(chunk));
    let start = 0;
    for (let nl = s.indexOf('\n'); nl >= 0; nl = s.indexOf('\n', start)) {
      parser.line(s.slice(start, nl));
      start = nl + 1;
    }
    carry = s.slice(start);
    if (carry.length > MAX_LINE) parser.tooLong(MAX_LINE);
  }
  carry += decoder.end();
  if (carry.length > 0) parser.line(carry);
  filter?.flush();
  if (writer.timed) writer.addDataAccesses(parser.result.accesses);
  parser.result.records = writer.records;
  return parser.result;
}

/** `numatier trace import --from lackey IN --out OUT`: IN may be gzip-compressed. */
export async function importLackeyFile(
  input: string,
  output: string,
  opts: LackeyImportOptions = {},
): Promise<LackeyImportResult> {
  let fd: number;
  try {
    fd = fs.openSync(input, 'r');
  } catch (e) {
    throw new InputError(`${input}: cannot open: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  }
  const head = Buffer.alloc(2);
  let got: number;
  try {
    got = fs.readSync(fd, head, 0, 2, 0);
  } catch (e) {
    throw new InputError(`${input}: cannot read: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
  } finally {
    fs.closeSync(fd);
  }
  let stream: Readable = fs.createReadStream(input);
  if (got === 2 && head[0] === 0x1f && head[1] === 0x8b) {
    const gz = zlib.createGunzip();
    stream.on('error', (e) => gz.destroy(e));
    stream = stream.pipe(gz);
  }
  const llcText = opts.llc ? `; llc ${opts.llc.sizeBytes} bytes ${opts.llc.ways}-way LRU, 64-byte lines` : '';
  const writer = TraceWriter.create(output, {
    source: opts.source ?? `imported from lackey output ${path.basename(input)}${llcText}`,
    llcFiltered: opts.llc !== undefined,
    timed: true,
  });
  try {
    const r = await importLackeyStream(stream, input, writer, opts.llc);
    writer.close();
    return r;
  } catch (e) {
    writer.abort();
    stream.destroy();
    if (e instanceof Error && 'code' in e && typeof e.code === 'string' && e.code.startsWith('Z_')) {
      throw new InputError(`${input}: cannot decompress gzip: ${e.message}`);
    }
    throw e;
  }
}
