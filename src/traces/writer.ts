import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { InputError } from '../util/errors.js';
import { crc32 } from './crc32.js';
import {
  BLOCK_HEADER_LEN,
  BLOCK_HEADER_LEN_TIMED,
  DEFAULT_BLOCK_PAYLOAD,
  DEFAULT_LINE_SHIFT,
  DEFAULT_PAGE_SIZE,
  FLAG_LLC_FILTERED,
  INSTRUCTIONS_PER_BLOCK,
  MAX_BLOCK_PAYLOAD,
  MAX_UNIT,
  MAX_VARINT_BYTES,
  RecordEncoder,
  encodeEnd,
  encodeHeader,
  putVarint,
  writeU64,
} from './format.js';

export interface TraceWriterOptions {
  /** Free text saying what produced the trace. */
  source: string;
  /** The records are a last-level cache's fills and write-backs (sets flag bit 0). */
  llcFiltered?: boolean;
  /** Default 4096. */
  pageSize?: number;
  /** Record units are address >> lineShift; default 6 (64-byte lines). */
  lineShift?: number;
  /** Payload bytes per block the writer aims for (default 64 KiB, at most 1 MiB). */
  blockPayload?: number;
  /** Compress (default: when the path ends in .gz). */
  gzip?: boolean;
  /**
   * Write format version 2, whose blocks carry the instructions retired between records (given
   * with retire()); default false, version 1, for inputs that know no time.
   */
  timed?: boolean;
  /** Timed: end a block once its records span this many instructions (default 2^22). */
  instructionsPerBlock?: number;
}

/** Bytes of finished blocks collected before one write(2). */
const FLUSH_AT = 1 << 20;
let tempCounter = 0;

/**
 * Writes a trace streaming, in bounded memory: records are encoded into the current block, blocks
 * are checksummed as they fill, and finished blocks go to disk a megabyte at a time. The file is
 * written under a temporary name in the same directory and renamed into place by close(), so a
 * reader never sees a half-written trace under the final name. Compressed output (gzip) is a
 * series of gzip members, one per megabyte, which gzip and numatier read as one stream; its header
 * keeps record count 0 because a compressed header cannot be patched in place.
 */
export class TraceWriter {
  readonly path: string;
  private readonly tmpPath: string;
  private fd: number;
  private readonly gzip: boolean;
  private readonly header: Uint8Array;
  private readonly opts: Required<Omit<TraceWriterOptions, 'gzip' | 'timed' | 'instructionsPerBlock'>>;
  /** Format version 2: blocks carry instruction counts. */
  readonly timed: boolean;
  private readonly blockHeaderLen: number;
  private readonly instrPerBlock: number;
  /** Instructions retired since the latest record, not yet given to a block. */
  private pendingInstr = 0;
  /** Instructions of the current block's records. */
  private blockInstr = 0;
  /** Instructions in completed blocks. */
  private instrInBlocks = 0;
  private dataAcc = 0;
  private readonly buf: Buffer;
  private outLen = 0;
  private recStart = 0;
  private recPos = 0;
  private recLimit = 0;
  private blockRecords = 0;
  private readonly enc = new RecordEncoder();
  private total = 0;
  private closed = false;

  private constructor(file: string, opts: TraceWriterOptions) {
    this.path = file;
    this.gzip = opts.gzip ?? file.endsWith('.gz');
    this.opts = {
      source: opts.source,
      llcFiltered: opts.llcFiltered ?? false,
      pageSize: opts.pageSize ?? DEFAULT_PAGE_SIZE,
      lineShift: opts.lineShift ?? DEFAULT_LINE_SHIFT,
      blockPayload: opts.blockPayload ?? DEFAULT_BLOCK_PAYLOAD,
    };
    this.timed = opts.timed ?? false;
    this.blockHeaderLen = this.timed ? BLOCK_HEADER_LEN_TIMED : BLOCK_HEADER_LEN;
    this.instrPerBlock = opts.instructionsPerBlock ?? INSTRUCTIONS_PER_BLOCK;
    if (!(Number.isSafeInteger(this.instrPerBlock) && this.instrPerBlock >= 1)) {
      throw new RangeError(`instructionsPerBlock must be an integer >= 1, got ${this.instrPerBlock}`);
    }
    const bp = this.opts.blockPayload;
    if (!(Number.isInteger(bp) && bp >= MAX_VARINT_BYTES && bp <= MAX_BLOCK_PAYLOAD)) {
      throw new RangeError(
        `blockPayload must be an integer in [${MAX_VARINT_BYTES}, ${MAX_BLOCK_PAYLOAD}], got ${bp}`,
      );
    }
    this.header = this.encodeHeader(false);
    this.buf = Buffer.allocUnsafe(FLUSH_AT + this.blockHeaderLen + bp + 64 + this.header.length);
    this.tmpPath = `${file}.tmp-${process.pid}-${++tempCounter}`;
    try {
      this.fd = fs.openSync(this.tmpPath, 'wx');
    } catch (e) {
      throw new InputError(`${file}: cannot create trace: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    this.buf.set(this.header, 0);
    this.outLen = this.header.length;
    this.startBlock();
  }

  static create(file: string, opts: TraceWriterOptions): TraceWriter {
    return new TraceWriter(file, opts);
  }

  /** Records appended so far. */
  get records(): number {
    return this.total + this.blockRecords;
  }

  /** Instructions retired so far (timed traces). */
  get instructions(): number {
    return this.instrInBlocks + this.blockInstr + this.pendingInstr;
  }

  /** Timed traces: the program retired `n` more instructions before the next record. */
  retire(n: number): void {
    if (!this.timed) throw new Error('TraceWriter: retire() needs a timed writer');
    if (!(Number.isSafeInteger(n) && n >= 0))
      throw new RangeError(`instructions must be an integer >= 0, got ${n}`);
    this.pendingInstr += n;
  }

  /** Timed traces: the program made `n` more data accesses (counted before any cache filter). */
  addDataAccesses(n: number): void {
    if (!(Number.isSafeInteger(n) && n >= 0))
      throw new RangeError(`data accesses must be an integer >= 0, got ${n}`);
    this.dataAcc += n;
  }

  /** Appends one access to `unit` (address >> lineShift), an integer in [0, 2^50). */
  append(unit: number, isWrite: boolean): void {
    if (!(Number.isSafeInteger(unit) && unit >= 0 && unit < MAX_UNIT)) {
      throw new RangeError(`trace unit must be an integer in [0, 2^50), got ${unit}`);
    }
    if (this.closed) throw new Error('TraceWriter: append after close');
    this.recPos = putVarint(this.buf, this.recPos, this.enc.value(unit, isWrite));
    this.blockRecords++;
    this.blockInstr += this.pendingInstr;
    this.pendingInstr = 0;
    if (this.recPos >= this.recLimit || this.blockInstr >= this.instrPerBlock) this.endBlock();
  }

  /** The header as first written (counts 0: not known yet), or `final`ly patched with the totals. */
  private encodeHeader(final: boolean): Uint8Array {
    return encodeHeader({
      ...this.opts,
      flags: this.opts.llcFiltered ? FLAG_LLC_FILTERED : 0,
      recordCount: final ? this.total : 0,
      ...(this.timed
        ? {
            timed: {
              instructions: final ? this.instructions : 0,
              dataAccesses: final ? this.dataAcc : 0,
            },
          }
        : {}),
    });
  }

  /** Completes the trace and renames it into place. */
  close(): void {
    if (this.closed) return;
    try {
      this.endBlock();
      const end = encodeEnd(
        this.total,
        this.timed ? { instructions: this.instructions, dataAccesses: this.dataAcc } : undefined,
      );
      this.buf.set(end, this.outLen);
      this.outLen += end.length;
      this.flush();
      if (!this.gzip) {
        const h = this.encodeHeader(true);
        fs.writeSync(this.fd, h, 0, h.length, 0);
      }
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.fd = -1;
      fs.renameSync(this.tmpPath, this.path);
      this.closed = true;
    } catch (e) {
      this.abort();
      if (e instanceof InputError) throw e;
      throw new InputError(
        `${this.path}: cannot write trace: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
  }

  /** Drops the partial trace (nothing appears under the final name). */
  abort(): void {
    this.closed = true;
    if (this.fd >= 0) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already unusable; the unlink below is what matters
      }
      this.fd = -1;
    }
    fs.rmSync(this.tmpPath, { force: true });
  }

  private startBlock(): void {
    this.recStart = this.outLen + this.blockHeaderLen;
    this.recPos = this.recStart;
    this.recLimit = this.recStart + this.opts.blockPayload - MAX_VARINT_BYTES;
    this.blockRecords = 0;
    this.blockInstr = 0;
    this.enc.reset();
  }

  private endBlock(): void {
    if (this.blockRecords > 0) {
      const hl = this.blockHeaderLen;
      const h = this.recStart - hl;
      const payload = this.recPos - this.recStart;
      this.buf.writeUInt32LE(payload, h);
      this.buf.writeUInt32LE(this.blockRecords, h + 4);
      if (this.timed) writeU64(this.buf, h + 8, this.blockInstr);
      // The checksum covers every header field before it and the payload.
      const c = crc32(this.buf.subarray(this.recStart, this.recPos), crc32(this.buf.subarray(h, h + hl - 4)));
      this.buf.writeUInt32LE(c, h + hl - 4);
      this.outLen = this.recPos;
      this.total += this.blockRecords;
      this.instrInBlocks += this.blockInstr;
      this.blockRecords = 0;
      if (this.outLen >= FLUSH_AT) this.flush();
    }
    this.startBlock();
  }

  private flush(): void {
    if (this.outLen === 0) return;
    let data: Uint8Array = this.buf.subarray(0, this.outLen);
    if (this.gzip) data = zlib.gzipSync(data);
    let off = 0;
    try {
      while (off < data.length) off += fs.writeSync(this.fd, data, off, data.length - off);
    } catch (e) {
      this.abort();
      throw new InputError(
        `${this.path}: cannot write trace: ${(e as NodeJS.ErrnoException).code ?? String(e)}`,
      );
    }
    this.outLen = 0;
  }
}
