import { crc32 } from './crc32.js';

/**
 * numatier trace format, versions 1 and 2 (docs/traces.md has the full byte layout and the
 * reasons for it). native/valgrind-tool/nt_format.h is the C side; both must agree. All integers
 * are little-endian.
 *
 *   header  magic[8] version:u16 flags:u16 page_size:u32 line_shift:u8 reserved[3]=0
 *           record_count:u64 (0 = not known when written) source_len:u32
 *           [v2: instructions:u64 data_accesses:u64 (0 = not known when written)]
 *           source[source_len] crc32:u32
 *   block   payload_len:u32 record_count:u32 [v2: instructions:u64] crc32:u32 payload[payload_len]
 *   end     0:u32 0:u32 total_records:u64 [v2: instructions:u64 data_accesses:u64] crc32:u32, then EOF
 *
 * Version 2 carries time: a block's instructions are those the program retired from just after
 * the previous block's last record to this block's last record, so replay knows the compute
 * between misses at block granularity (writers end a block every INSTRUCTIONS_PER_BLOCK
 * instructions as well as when it is full). The end marker's instructions are the program's total,
 * at least the blocks' sum (the rest ran after the last record).
 *
 * A record is one access: an unsigned LEB128 varint v = zigzag(unit − base) << 2 | sel << 1 | write,
 * where unit = address >> line_shift and base is one of two recent units, A (sel = 0) or B (sel = 1).
 * After each record B = A if sel = 1, and A = unit; both are 0 at the start of every block.
 */

export const MAGIC = Uint8Array.from([0x89, 0x4e, 0x54, 0x52, 0x41, 0x43, 0x45, 0x0a]); // "\x89NTRACE\n"
/** The untimed format (no instruction counts), still written for inputs that have no time. */
export const FORMAT_VERSION = 1;
/** The timed format: blocks, header and end marker carry instruction counts. */
export const FORMAT_VERSION_TIMED = 2;
/** flags bit 0: records are what a last-level cache exchanged with memory (fills, dirty write-backs). */
export const FLAG_LLC_FILTERED = 1;
export const KNOWN_FLAGS = FLAG_LLC_FILTERED;
export const HEADER_FIXED_LEN = 32;
export const HEADER_FIXED_LEN_TIMED = 48;
export const MAX_SOURCE_LEN = 65536;
export const BLOCK_HEADER_LEN = 12;
export const BLOCK_HEADER_LEN_TIMED = 20;
export const END_LEN = 20;
export const END_LEN_TIMED = 36;
/**
 * A timed writer ends its block once the records in it span this many instructions: 2^22 is
 * about 2 ms of a 2.2 GHz core at CPI 1, far finer than any policy's clock (scan periods and the
 * hot threshold are ~1 s), and costs 20 header bytes per block (docs/traces.md has the measure).
 */
export const INSTRUCTIONS_PER_BLOCK = 2 ** 22;
/** Largest payload a block may have; writers use 64 KiB. Bounds what a corrupt length can make a reader allocate. */
export const MAX_BLOCK_PAYLOAD = 1 << 20;
export const DEFAULT_BLOCK_PAYLOAD = 1 << 16;
/** Units stay below 2^50 (addresses below 2^56) so that every varint value is exact in a double. */
export const MAX_UNIT = 2 ** 50;
/** Varint values are below 2^53 (zigzag(±2^50) << 2 | 3), which takes at most 8 bytes. */
export const MAX_VARINT_BYTES = 8;
export const MAX_VARINT_VALUE = 2 ** 53;
export const DEFAULT_LINE_SHIFT = 6;
export const DEFAULT_PAGE_SIZE = 4096;
export const GZIP_MAGIC = Uint8Array.from([0x1f, 0x8b]);

export interface TraceHeader {
  version: number;
  flags: number;
  /** Bytes per page when the trace is replayed as page accesses (a power of two). */
  pageSize: number;
  /** Record units are address >> lineShift (6: 64-byte cache lines). */
  lineShift: number;
  /** Records in the file as stated by the header; 0 when the writer could not know (e.g. a pipe). */
  recordCount: number;
  /** Free text: what produced the trace. */
  source: string;
  /** Length of the encoded header in bytes. */
  byteLength: number;
  /** Version 2: blocks carry instruction counts. */
  timed: boolean;
  /** Instructions the program retired, per the header (v2; 0 = not known when written; null for v1). */
  instructions: number | null;
  /** Data accesses before any cache filter, per the header (v2; 0 = not known; null for v1). */
  dataAccesses: number | null;
}

export interface HeaderFields {
  flags: number;
  pageSize: number;
  lineShift: number;
  recordCount: number;
  source: string;
  /** Write version 2 with these totals (0 = not known yet); absent: version 1. */
  timed?: { instructions: number; dataAccesses: number };
}

/** The header's bytes, checksum included. */
export function encodeHeader(h: HeaderFields): Uint8Array {
  const src = Buffer.from(h.source, 'utf8');
  if (src.length > MAX_SOURCE_LEN)
    throw new RangeError(`trace source text is ${src.length} bytes, at most ${MAX_SOURCE_LEN}`);
  checkGeometry(h.pageSize, h.lineShift);
  if ((h.flags & ~KNOWN_FLAGS) !== 0) throw new RangeError(`unknown trace flags 0x${h.flags.toString(16)}`);
  if (!(Number.isSafeInteger(h.recordCount) && h.recordCount >= 0)) {
    throw new RangeError(`recordCount must be a safe integer >= 0, got ${h.recordCount}`);
  }
  const fixed = h.timed ? HEADER_FIXED_LEN_TIMED : HEADER_FIXED_LEN;
  const out = Buffer.alloc(fixed + src.length + 4);
  out.set(MAGIC, 0);
  out.writeUInt16LE(h.timed ? FORMAT_VERSION_TIMED : FORMAT_VERSION, 8);
  out.writeUInt16LE(h.flags, 10);
  out.writeUInt32LE(h.pageSize, 12);
  out.writeUInt8(h.lineShift, 16);
  writeU64(out, 20, h.recordCount);
  out.writeUInt32LE(src.length, 28);
  if (h.timed) {
    checkCount('instructions', h.timed.instructions);
    checkCount('dataAccesses', h.timed.dataAccesses);
    writeU64(out, 32, h.timed.instructions);
    writeU64(out, 40, h.timed.dataAccesses);
  }
  out.set(src, fixed);
  out.writeUInt32LE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

/**
 * The end marker that closes a trace holding `totalRecords` records; with `timed`, the version-2
 * marker that also carries the program's instructions and data accesses.
 */
export function encodeEnd(
  totalRecords: number,
  timed?: { instructions: number; dataAccesses: number },
): Uint8Array {
  const out = Buffer.alloc(timed ? END_LEN_TIMED : END_LEN);
  writeU64(out, 8, totalRecords);
  if (timed) {
    checkCount('instructions', timed.instructions);
    checkCount('dataAccesses', timed.dataAccesses);
    writeU64(out, 16, timed.instructions);
    writeU64(out, 24, timed.dataAccesses);
  }
  out.writeUInt32LE(crc32(out.subarray(0, out.length - 4)), out.length - 4);
  return out;
}

function checkCount(what: string, v: number): void {
  if (!(Number.isSafeInteger(v) && v >= 0))
    throw new RangeError(`${what} must be a safe integer >= 0, got ${v}`);
}

/** Why (pageSize, lineShift) is unusable, or null when it is fine. */
export function geometryProblem(pageSize: number, lineShift: number): string | null {
  if (!(
    Number.isInteger(pageSize) &&
    pageSize >= 1 &&
    pageSize <= 2 ** 30 &&
    (pageSize & (pageSize - 1)) === 0
  )) {
    return `page size must be a power of two from 1 to 2^30, got ${pageSize}`;
  }
  if (!(Number.isInteger(lineShift) && lineShift >= 0 && 2 ** lineShift <= pageSize)) {
    return `line shift must be an integer with 2^shift <= page size ${pageSize}, got ${lineShift}`;
  }
  return null;
}

function checkGeometry(pageSize: number, lineShift: number): void {
  const p = geometryProblem(pageSize, lineShift);
  if (p !== null) throw new RangeError(p);
}

export function writeU64(buf: Buffer, at: number, v: number): void {
  buf.writeUInt32LE(v % 2 ** 32, at);
  buf.writeUInt32LE(Math.floor(v / 2 ** 32), at + 4);
}

/** A u64 as a number, or -1 when it exceeds 2^53 − 1. */
export function readU64(buf: Uint8Array, at: number): number {
  const lo = buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24);
  const hi = buf[at + 4] | (buf[at + 5] << 8) | (buf[at + 6] << 16) | (buf[at + 7] << 24);
  const hiU = hi >>> 0;
  if (hiU >= 2 ** 21) return -1;
  return hiU * 2 ** 32 + (lo >>> 0);
}

export function readU32(buf: Uint8Array, at: number): number {
  return (buf[at] | (buf[at + 1] << 8) | (buf[at + 2] << 16) | (buf[at + 3] << 24)) >>> 0;
}

/**
 * The two delta bases of a block and the encoder's choice between them (any choice decodes
 * correctly; the nearer base gives the shorter varint).
 */
export class RecordEncoder {
  private a = 0;
  private b = 0;

  reset(): void {
    this.a = this.b = 0;
  }

  /** The varint value of the record (unit, isWrite); the caller guarantees 0 <= unit < MAX_UNIT. */
  value(unit: number, isWrite: boolean): number {
    const da = unit - this.a;
    const db = unit - this.b;
    let d: number;
    let sel: number;
    if (Math.abs(db) < Math.abs(da)) {
      d = db;
      sel = 1;
      this.b = this.a;
    } else {
      d = da;
      sel = 0;
    }
    this.a = unit;
    const zz = d >= 0 ? d * 2 : -d * 2 - 1;
    return zz * 4 + sel * 2 + (isWrite ? 1 : 0);
  }
}

/** Writes `v` (an integer in [0, 2^53)) as an unsigned LEB128 varint at buf[pos..]; returns the new position. */
export function putVarint(buf: Uint8Array, pos: number, v: number): number {
  while (v >= 0x80) {
    buf[pos++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[pos++] = v;
  return pos;
}
