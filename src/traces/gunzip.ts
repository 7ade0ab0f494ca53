import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { InputError } from '../util/errors.js';

/**
 * Synchronous, streaming decompression of a gzip file, in process and in bounded memory.
 *
 * The trace reader must be synchronous (the engine's fill() is), and node:zlib's public API has no
 * synchronous incremental decompressor: gunzipSync needs the whole input and output in memory, and
 * the Gunzip stream is asynchronous. The Gunzip stream's native handle, though, has a synchronous
 * writeSync(flush, in, inOff, inLen, out, outOff, outLen) — the call zlib.gunzipSync itself makes
 * in a loop — that inflates into a buffer we own and reports what is left of both buffers in
 * `_writeState`. Driving it directly decompresses straight into the reader's buffer: no temporary
 * file, no child process, no allocation per call. The handle is internal to Node, so its shape is
 * checked whenever one is made (an Error, not silent misbehaviour, should a future Node change it),
 * and the tests compare the output with gunzipSync's.
 */

/**
 * Compressed bytes read, and fed to zlib, at a time; this bounds the range of compressed bytes an
 * error message names.
 */
const INPUT_CHUNK = 64 << 10;

/** What this module uses of a Gunzip stream's internals. */
interface NativeHandle {
  writeSync(
    flush: number,
    input: Uint8Array,
    inOff: number,
    inLen: number,
    out: Uint8Array,
    outOff: number,
    outLen: number,
  ): void;
}
interface GunzipInternals {
  _handle: NativeHandle | null;
  /** [output bytes left, input bytes left] after the latest write. */
  _writeState: Uint32Array;
}

/**
 * Decompresses the gzip file open as `fd` (owned from now on: close() closes it). `name` is the path
 * used in messages. Reads are positional, like pread on the decompressed data: sequential reads
 * stream, and a read at an earlier position (a trace replayed in a loop) starts decompressing again
 * from the beginning. Concatenated gzip members and trailing zero padding are accepted, as gunzip does.
 */
export class GunzipFile {
  readonly name: string;
  private fd: number;
  private engine: zlib.Gunzip;
  private handle: NativeHandle;
  private state: Uint32Array;
  private readonly input: Buffer;
  /** Compressed file offset of input[0], and the unconsumed part of `input`. */
  private inputBase = 0;
  private inPos = 0;
  private inEnd = 0;
  private inputEof = false;
  /** Decompressed bytes produced so far: the position the next read continues from. */
  private produced = 0;
  /** The decompressed data has ended (its position is `produced`). */
  private done = false;

  /** `inputChunk` (default 64 KiB) is for tests: it moves where gzip members meet chunk ends. */
  constructor(fd: number, name: string, inputChunk = INPUT_CHUNK) {
    this.fd = fd;
    this.name = name;
    this.input = Buffer.allocUnsafe(inputChunk);
    [this.engine, this.handle, this.state] = newEngine();
  }

  /**
   * Reads `len` decompressed bytes from decompressed offset `position` into buf[off..] (fewer only
   * at the end of the data); returns how many. InputError if the data is not valid gzip.
   */
  read(buf: Uint8Array, off: number, len: number, position: number): number {
    if (this.fd < 0) throw new Error(`${this.name}: read after close`);
    if (position < this.produced) this.restart();
    // Skip to `position`, decompressing into the caller's buffer (to be overwritten anyway).
    while (this.produced < position) {
      const n = this.inflate(buf, off, Math.min(len, position - this.produced));
      if (n === 0) return 0;
    }
    // Fill the request (not just one zlib call's worth): fewer, larger reads for the caller.
    let got = 0;
    while (got < len) {
      const n = this.inflate(buf, off + got, len - got);
      if (n === 0) break;
      got += n;
    }
    return got;
  }

  /** Frees the decompressor and closes the file; idempotent. */
  close(): void {
    if (this.fd < 0) return;
    this.engine.close();
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  /** Decompresses into buf[off, off+len), at least one byte unless the data has ended. */
  private inflate(buf: Uint8Array, off: number, len: number): number {
    for (;;) {
      if (this.done) return 0;
      if (this.inPos === this.inEnd && !this.inputEof) this.fillInput();
      const avail = this.inEnd - this.inPos;
      // Z_FINISH once the input is exhausted makes zlib report a stream that stops short
      // ("unexpected end of file"); before that, input may still come.
      const flush = this.inputEof ? zlib.constants.Z_FINISH : zlib.constants.Z_NO_FLUSH;
      this.handle.writeSync(flush, this.input, this.inPos, avail, buf, off, len);
      if (this.engine.errored !== null) this.fail(avail, this.engine.errored);
      const written = len - this.state[0];
      const consumed = avail - this.state[1];
      this.inPos += consumed;
      this.produced += written;
      if (written > 0) return written;
      // No output: either the input was all header/trailer (go on), or zlib made no progress at
      // all, which with input and output room left means the data has ended (a last member, or
      // zero padding after it).
      if (consumed === 0 && (avail > 0 || this.inputEof)) this.done = true;
    }
  }

  private fillInput(): void {
    this.inputBase += this.inEnd;
    this.inPos = this.inEnd = 0;
    const got = fs.readSync(this.fd, this.input, 0, this.input.length, this.inputBase);
    if (got === 0) this.inputEof = true;
    this.inEnd = got;
  }

  private restart(): void {
    this.engine.close();
    [this.engine, this.handle, this.state] = newEngine();
    this.inputBase = this.inPos = this.inEnd = 0;
    this.inputEof = false;
    this.produced = 0;
    this.done = false;
  }

  private fail(avail: number, err: NodeJS.ErrnoException): never {
    const from = this.inputBase + this.inPos;
    // zlib does not say where in the bytes it was given the error lies; name that range.
    const where = avail === 0 ? `compressed byte ${from}` : `compressed bytes ${from}..${from + avail}`;
    const hint = err.code === 'Z_BUF_ERROR' ? ' (truncated gzip file?)' : '';
    throw new InputError(`${this.name}: cannot decompress gzip: ${where}: ${err.message}${hint}`);
  }
}

/** A Gunzip stream with the internals GunzipFile drives. */
function newEngine(): [zlib.Gunzip, NativeHandle, Uint32Array] {
  const engine = zlib.createGunzip();
  const internals = engine as unknown as GunzipInternals;
  if (typeof internals._handle?.writeSync !== 'function' || !(internals._writeState instanceof Uint32Array)) {
    engine.close();
    throw new Error(`this Node.js (${process.version}) lacks the zlib internals the gzip trace reader uses`);
  }
  // A failed write destroys the stream, which then emits 'error' later; the failure is already
  // thrown synchronously by read(), so that event must not become an uncaught exception.
  engine.on('error', () => {});
  return [engine, internals._handle, internals._writeState];
}
