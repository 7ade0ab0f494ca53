import * as fs from 'node:fs';
import { InputError } from '../util/errors.js';
import { crc32 } from './crc32.js';
import {
  BLOCK_HEADER_LEN,
  BLOCK_HEADER_LEN_TIMED,
  END_LEN,
  END_LEN_TIMED,
  FORMAT_VERSION,
  FORMAT_VERSION_TIMED,
  GZIP_MAGIC,
  HEADER_FIXED_LEN,
  HEADER_FIXED_LEN_TIMED,
  KNOWN_FLAGS,
  MAGIC,
  MAX_BLOCK_PAYLOAD,
  MAX_SOURCE_LEN,
  MAX_UNIT,
  MAX_VARINT_BYTES,
  MAX_VARINT_VALUE,
  geometryProblem,
  readU32,
  readU64,
  type TraceHeader,
} from './format.js';
import { GunzipFile } from './gunzip.js';

/** Bytes read per read(2); a whole block (≤ 1 MiB + 12) always fits with room to spare. */
const CHUNK = 4 << 20;

/**
 * Reads a numatier trace block by block, synchronously, in bounded memory (one 4 MiB buffer plus
 * the decoded block), so traces larger than memory replay fine. Every block's checksum is checked
 * before its records are used, and the end marker must be present and agree with the blocks: a
 * damaged or truncated file is refused with an InputError naming the byte offset, never read short.
 * Gzip files (recognised by their magic bytes) are decompressed as they are read, in process (see
 * gunzip.ts); offsets in messages then count decompressed bytes.
 */
export class TraceReader {
  readonly header: TraceHeader;
  /** Name used in messages (the path the user gave). */
  readonly name: string;
  /** Units (address >> lineShift) of the records of the latest block; valid until the next call to next(). */
  units: Float64Array = new Float64Array(0);
  /** 1 where the record is a write, 0 for a read; parallel to `units`. */
  writes: Uint8Array = new Uint8Array(0);
  /** Records decoded by the latest next(). */
  count = 0;
  /** Records decoded since the start (or the latest rewind). */
  recordsRead = 0;
  /** Timed traces (v2): instructions retired over the latest block's records; 0 for version 1. */
  instructions = 0;
  /** Instructions of the blocks decoded since the start (or the latest rewind). */
  instructionsRead = 0;
  /** Once the end marker has been read (v2): the program's total instructions and data accesses. */
  endInstructions: number | null = null;
  endDataAccesses: number | null = null;

  /** The open file, plain, or decompressed on the fly; null once closed. */
  private source: ByteSource | null;
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  /** File offset of buf[0]. */
  private bufBase = 0;
  private pos = 0;
  private end = 0;
  private eof = false;
  private finished = false;
  private readonly compressed: boolean;
  private blockHeaderLen = BLOCK_HEADER_LEN;

  private constructor(name: string, source: ByteSource, compressed: boolean) {
    this.name = name;
    this.source = source;
    this.compressed = compressed;
    this.header = this.readHeader();
  }

  /** Opens a trace (plain or gzip-compressed); InputError if it is missing or not a valid trace header. */
  static open(file: string): TraceReader {
    let fd: number;
    try {
      fd = fs.openSync(file, 'r');
    } catch (e) {
      throw new InputError(`${file}: cannot open trace: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
    let source: ByteSource | null = null;
    try {
      if (fs.fstatSync(fd).isDirectory())
        throw new InputError(`${file}: is a directory, expected a trace file`);
      const head = Buffer.alloc(2);
      const n = fs.readSync(fd, head, 0, 2, 0);
      const compressed = n === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
      source = compressed ? new GunzipFile(fd, file) : new PlainFile(fd);
      return new TraceReader(file, source, compressed);
    } catch (e) {
      // The source owns the fd once made; a bad header must not leak either.
      if (source !== null) source.close();
      else fs.closeSync(fd);
      throw e;
    }
  }

  /** Units per page: record unit u lies in page floor(u / unitsPerPage). */
  get unitsPerPage(): number {
    return this.header.pageSize / 2 ** this.header.lineShift;
  }

  /**
   * Decodes the next block into `units`/`writes` and returns its record count; 0 once the end
   * marker has been read and checked. Throws InputError on any damage.
   */
  next(): number {
    if (this.finished) return 0;
    const at = this.offset();
    const have = this.ensure(8);
    if (have === 0) this.fail(at, 'the file ends without an end marker (truncated trace)');
    if (have < 8) this.truncated(at, 'block header', 8);
    const b = this.buf;
    const p = this.pos;
    const payloadLen = readU32(b, p);
    const count = readU32(b, p + 4);
    if (payloadLen === 0 && count === 0) return this.readEnd(at);
    if (payloadLen === 0 || payloadLen > MAX_BLOCK_PAYLOAD) {
      this.fail(
        at,
        `block payload length ${payloadLen} is outside 1..${MAX_BLOCK_PAYLOAD} (corrupt block header)`,
      );
    }
    if (count === 0 || count > payloadLen) {
      this.fail(at + 4, `block record count ${count} is outside 1..${payloadLen} (corrupt block header)`);
    }
    const hl = this.blockHeaderLen;
    const total = hl + payloadLen;
    if (this.ensure(total) < total) this.truncated(at, 'block', total);
    const q = this.pos;
    const payloadStart = q + hl;
    const stored = readU32(b, q + hl - 4);
    const computed = crc32(
      b.subarray(payloadStart, payloadStart + payloadLen),
      crc32(b.subarray(q, q + hl - 4)),
    );
    if (stored !== computed) {
      this.fail(
        at,
        `block checksum mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)}): the trace is corrupt`,
      );
    }
    let instructions = 0;
    if (this.header.timed) {
      instructions = readU64(b, q + 8);
      if (instructions < 0) this.fail(at + 8, 'block instruction count exceeds 2^53 - 1');
      if (this.instructionsRead + instructions > Number.MAX_SAFE_INTEGER)
        this.fail(at + 8, 'the blocks count more than 2^53 - 1 instructions');
    }
    this.decode(payloadStart, payloadLen, count, at + hl);
    this.pos = payloadStart + payloadLen;
    this.count = count;
    this.recordsRead += count;
    this.instructions = instructions;
    this.instructionsRead += instructions;
    return count;
  }

  /** Goes back to the first block (for replaying a trace in a loop). */
  rewind(): void {
    this.bufBase = this.header.byteLength;
    this.pos = 0;
    this.end = 0;
    this.eof = false;
    this.finished = false;
    this.count = 0;
    this.recordsRead = 0;
    this.instructions = 0;
    this.instructionsRead = 0;
  }

  /** Closes the file; idempotent. */
  close(): void {
    this.source?.close();
    this.source = null;
  }

  // ---- internals ----------------------------------------------------------------------------

  private offset(): number {
    return this.bufBase + this.pos;
  }

  /** Makes at least n bytes available from pos (fewer only at end of file); returns how many are. */
  private ensure(n: number): number {
    if (this.end - this.pos >= n) return this.end - this.pos;
    if (this.pos > 0) {
      this.buf.copy(this.buf, 0, this.pos, this.end);
      this.bufBase += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    }
    const source = this.source;
    if (source === null) throw new Error(`${this.name}: trace read after close()`);
    while (!this.eof && this.end < n) {
      const got = source.read(this.buf, this.end, this.buf.length - this.end, this.bufBase + this.end);
      if (got === 0) this.eof = true;
      this.end += got;
    }
    return this.end - this.pos;
  }

  private readHeader(): TraceHeader {
    const have = this.ensure(HEADER_FIXED_LEN);
    const b = this.buf;
    if (have === 0) this.fail(0, 'empty file, expected a numatier trace');
    for (let i = 0; i < Math.min(have, MAGIC.length); i++) {
      if (b[i] !== MAGIC[i]) this.fail(0, 'not a numatier trace (wrong magic bytes)');
    }
    if (have < HEADER_FIXED_LEN) this.truncated(0, 'header', HEADER_FIXED_LEN);
    const version = b.readUInt16LE(8);
    if (version !== FORMAT_VERSION && version !== FORMAT_VERSION_TIMED) {
      this.fail(
        8,
        `unsupported trace format version ${version} (this numatier reads versions ${FORMAT_VERSION} and ${FORMAT_VERSION_TIMED})`,
      );
    }
    const timed = version === FORMAT_VERSION_TIMED;
    const fixed = timed ? HEADER_FIXED_LEN_TIMED : HEADER_FIXED_LEN;
    if (have < fixed && this.ensure(fixed) < fixed) this.truncated(0, 'header', fixed);
    const sourceLen = readU32(b, 28);
    if (sourceLen > MAX_SOURCE_LEN)
      this.fail(28, `source text length ${sourceLen} exceeds ${MAX_SOURCE_LEN} (corrupt header)`);
    const total = fixed + sourceLen + 4;
    if (this.ensure(total) < total) this.truncated(0, 'header', total);
    const stored = readU32(b, total - 4);
    const computed = crc32(b.subarray(0, total - 4));
    if (stored !== computed) {
      this.fail(
        total - 4,
        `header checksum mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)}): the trace is corrupt`,
      );
    }
    const flags = b.readUInt16LE(10);
    if ((flags & ~KNOWN_FLAGS) !== 0)
      this.fail(10, `unknown flags 0x${flags.toString(16)} (written by a newer numatier?)`);
    const pageSize = readU32(b, 12);
    const lineShift = b[16];
    const geometry = geometryProblem(pageSize, lineShift);
    if (geometry !== null) this.fail(12, geometry);
    if (b[17] !== 0 || b[18] !== 0 || b[19] !== 0) this.fail(17, 'reserved header bytes are not zero');
    const recordCount = readU64(b, 20);
    if (recordCount < 0) this.fail(20, 'record count exceeds 2^53 - 1');
    let instructions: number | null = null;
    let dataAccesses: number | null = null;
    if (timed) {
      instructions = readU64(b, 32);
      if (instructions < 0) this.fail(32, 'instruction count exceeds 2^53 - 1');
      dataAccesses = readU64(b, 40);
      if (dataAccesses < 0) this.fail(40, 'data access count exceeds 2^53 - 1');
      this.blockHeaderLen = BLOCK_HEADER_LEN_TIMED;
    }
    let source: string;
    try {
      source = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(fixed, fixed + sourceLen));
    } catch {
      this.fail(fixed, 'source text is not valid UTF-8');
    }
    this.pos = total;
    return {
      version,
      flags,
      pageSize,
      lineShift,
      recordCount,
      source,
      byteLength: total,
      timed,
      instructions,
      dataAccesses,
    };
  }

  private readEnd(at: number): number {
    const timed = this.header.timed;
    const len = timed ? END_LEN_TIMED : END_LEN;
    if (this.ensure(len) < len) this.truncated(at, 'end marker', len);
    const p = this.pos;
    const b = this.buf;
    const stored = readU32(b, p + len - 4);
    const computed = crc32(b.subarray(p, p + len - 4));
    if (stored !== computed) {
      this.fail(
        at,
        `end marker checksum mismatch (stored 0x${hex(stored)}, computed 0x${hex(computed)}): the trace is corrupt`,
      );
    }
    const total = readU64(b, p + 8);
    if (total < 0) {
      // readU64 says -1 for counts past 2^53 - 1; the message shows the stored value itself.
      const stored64 = new DataView(b.buffer, b.byteOffset + p + 8, 8).getBigUint64(0, true);
      this.fail(at + 8, `end marker counts ${stored64} records but the blocks hold ${this.recordsRead}`);
    }
    if (total !== this.recordsRead) {
      this.fail(at + 8, `end marker counts ${total} records but the blocks hold ${this.recordsRead}`);
    }
    if (this.header.recordCount !== 0 && this.header.recordCount !== total) {
      this.fail(20, `header counts ${this.header.recordCount} records but the trace holds ${total}`);
    }
    if (timed) {
      const instr = readU64(b, p + 16);
      if (instr < 0) this.fail(at + 16, 'end marker instruction count exceeds 2^53 - 1');
      // Instructions after the last record are in the total but in no block.
      if (instr < this.instructionsRead) {
        this.fail(
          at + 16,
          `end marker counts ${instr} instructions but the blocks hold ${this.instructionsRead}`,
        );
      }
      const acc = readU64(b, p + 24);
      if (acc < 0) this.fail(at + 24, 'end marker data access count exceeds 2^53 - 1');
      const h = this.header;
      if (h.instructions !== 0 && h.instructions !== instr)
        this.fail(32, `header counts ${h.instructions} instructions but the end marker ${instr}`);
      if (h.dataAccesses !== 0 && h.dataAccesses !== acc)
        this.fail(40, `header counts ${h.dataAccesses} data accesses but the end marker ${acc}`);
      this.endInstructions = instr;
      this.endDataAccesses = acc;
    }
    this.pos = p + len;
    if (this.ensure(1) > 0) this.fail(this.offset(), 'unexpected data after the end marker');
    this.finished = true;
    this.count = 0;
    return 0;
  }

  /** Decodes `count` records from buf[start, start+len); fileAt is the file offset of buf[start]. */
  private decode(start: number, len: number, count: number, fileAt: number): void {
    if (this.units.length < count) {
      const cap = Math.max(count, Math.min(MAX_BLOCK_PAYLOAD, this.units.length * 2));
      this.units = new Float64Array(cap);
      this.writes = new Uint8Array(cap);
    }
    const b = this.buf;
    const units = this.units;
    const writes = this.writes;
    const end = start + len;
    let p = start;
    let baseA = 0;
    let baseB = 0;
    // Varints of up to 4 bytes (28 bits: deltas below 2^25 lines, nearly every record) are decoded
    // inline in int32 arithmetic; longer ones (jumps across the address space) and anything
    // malformed go through decodeWide(), which checks every rule.
    for (let i = 0; i < count; i++) {
      if (p + 4 <= end) {
        const b0 = b[p];
        let v = -1;
        let n = 0;
        if (b0 < 0x80) {
          v = b0;
          n = 1;
        } else {
          const b1 = b[p + 1];
          if (b1 < 0x80) {
            if (b1 !== 0) {
              v = (b0 & 0x7f) | (b1 << 7);
              n = 2;
            }
          } else {
            const b2 = b[p + 2];
            if (b2 < 0x80) {
              if (b2 !== 0) {
                v = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | (b2 << 14);
                n = 3;
              }
            } else {
              const b3 = b[p + 3];
              if (b3 < 0x80 && b3 !== 0) {
                v = (b0 & 0x7f) | ((b1 & 0x7f) << 7) | ((b2 & 0x7f) << 14) | (b3 << 21);
                n = 4;
              }
            }
          }
        }
        if (v >= 0) {
          const zz = v >>> 2;
          const sel = v & 2;
          const unit = (sel === 0 ? baseA : baseB) + ((zz >>> 1) ^ -(zz & 1));
          if (unit >= 0 && unit < MAX_UNIT) {
            units[i] = unit;
            writes[i] = v & 1;
            if (sel !== 0) baseB = baseA;
            baseA = unit;
            p += n;
            continue;
          }
        }
      }
      const err = decodeWide(b, p, end, baseA, baseB);
      if (err !== '')
        this.fail(fileAt + (p - start), err.replace('%i', String(i)).replace('%n', String(count)));
      units[i] = wide.unit;
      writes[i] = wide.write;
      if (wide.sel !== 0) baseB = baseA;
      baseA = wide.unit;
      p = wide.next;
    }
    if (p !== end)
      this.fail(fileAt + (p - start), `${end - p} bytes left in the block after its ${count} records`);
  }

  private truncated(at: number, what: string, need: number): never {
    const fileEnd = this.bufBase + this.end;
    this.fail(
      at,
      `truncated ${what}: needs ${need} bytes from here, the ${this.compressed ? 'decompressed data ends' : 'file ends'} at byte ${fileEnd}`,
    );
  }

  private fail(at: number, msg: string): never {
    throw new InputError(`${this.name}: ${this.compressed ? 'decompressed ' : ''}byte ${at}: ${msg}`);
  }
}

/** Where a reader's bytes come from: pread-like reads at decompressed offsets. */
interface ByteSource {
  read(buf: Uint8Array, off: number, len: number, position: number): number;
  close(): void;
}

/** An uncompressed trace file. */
class PlainFile implements ByteSource {
  private fd: number;
  constructor(fd: number) {
    this.fd = fd;
  }
  read(buf: Uint8Array, off: number, len: number, position: number): number {
    return fs.readSync(this.fd, buf, off, len, position);
  }
  close(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

/** Result of decodeWide(), kept in one object so that the hot loop allocates nothing. */
const wide = { unit: 0, write: 0, sel: 0, next: 0 };

/**
 * Decodes the record at buf[p] against bases a and b, checking everything: bounds, length,
 * minimal encoding, range. Fills `wide` and returns '', or returns what is wrong ('%i' and '%n'
 * stand for the record's index and the block's record count).
 */
function decodeWide(buf: Uint8Array, p: number, end: number, a: number, b: number): string {
  if (p >= end) return 'block ends after %i of its %n records';
  let v = 0;
  let mult = 1;
  let q = p;
  for (;;) {
    if (q >= end) return 'record runs past the end of its block';
    if (q - p >= MAX_VARINT_BYTES) return `record longer than ${MAX_VARINT_BYTES} bytes`;
    const byte = buf[q++];
    v += (byte & 0x7f) * mult;
    mult *= 128;
    if (byte < 0x80) {
      if (byte === 0 && q - p > 1) return 'record is not minimally encoded';
      break;
    }
  }
  // Exact below 2^53; anything larger is out of range whatever the rounding.
  if (v >= MAX_VARINT_VALUE) return 'record value exceeds 2^53';
  const w = v % 2;
  const sel = Math.floor(v / 2) % 2;
  const zz = Math.floor(v / 4);
  const unit = (sel === 0 ? a : b) + (zz % 2 === 0 ? zz / 2 : -(zz + 1) / 2);
  if (!(unit >= 0 && unit < MAX_UNIT)) return `record address unit ${unit} is outside [0, 2^50)`;
  wide.unit = unit;
  wide.write = w;
  wide.sel = sel;
  wide.next = q;
  return '';
}

function hex(v: number): string {
  return v.toString(16).padStart(8, '0');
}
