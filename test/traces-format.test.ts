import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { crc32, crc32Portable } from '../src/traces/crc32.js';
import { BLOCK_HEADER_LEN, MAGIC, MAX_UNIT } from '../src/traces/format.js';
import { GunzipFile } from '../src/traces/gunzip.js';
import { TraceReader } from '../src/traces/reader.js';
import { TraceWriter } from '../src/traces/writer.js';
import { InputError } from '../src/util/errors.js';
import { scratchDir } from './trace-support.js';

const dir = scratchDir('format');
let seq = 0;
const tmp = (name: string): string => path.join(dir, `${++seq}-${name}`);

interface Rec {
  unit: number;
  write: boolean;
}

function writeTrace(file: string, recs: Rec[], opts: { blockPayload?: number; source?: string } = {}): void {
  const w = TraceWriter.create(file, {
    source: opts.source ?? 'test',
    blockPayload: opts.blockPayload ?? 65536,
  });
  for (const r of recs) w.append(r.unit, r.write);
  w.close();
}

function readAll(file: string): { recs: Rec[]; reader: TraceReader } {
  const r = TraceReader.open(file);
  try {
    const recs: Rec[] = [];
    while (r.next() > 0)
      for (let i = 0; i < r.count; i++) recs.push({ unit: r.units[i], write: r.writes[i] === 1 });
    return { recs, reader: r };
  } finally {
    r.close();
  }
}

/** Records with the locality of real traces: mostly small steps, some jumps across the address space. */
const recordsArb = fc.array(
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ kind: fc.constant('near' as const), d: fc.integer({ min: -300, max: 300 }) }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('far' as const),
        d: fc.integer({ min: 0, max: MAX_UNIT - 1 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('edge' as const),
        d: fc.constantFrom(0, MAX_UNIT - 1, 2 ** 31, 2 ** 32 - 1),
      }),
    },
  ),
  { maxLength: 400 },
);

function materialise(steps: { kind: 'near' | 'far' | 'edge'; d: number }[], writes: boolean[]): Rec[] {
  let u = 12345;
  return steps.map((s, i) => {
    if (s.kind === 'near') u = Math.min(MAX_UNIT - 1, Math.max(0, u + s.d));
    else u = s.d;
    return { unit: u, write: writes[i % Math.max(1, writes.length)] ?? false };
  });
}

describe('trace format: CRC-32', () => {
  it('matches the standard check value and zlib', () => {
    // "123456789" → 0xCBF43926 is the published check value of CRC-32/ISO-HDLC (the zlib CRC).
    const data = Buffer.from('123456789');
    assert.equal(crc32Portable(data), 0xcbf43926);
    assert.equal(crc32(data), 0xcbf43926);
    assert.equal(crc32Portable(data.subarray(4), crc32Portable(data.subarray(0, 4))), 0xcbf43926);
  });
});

describe('trace format: round trip', () => {
  it('reads back exactly what was written (random records, block sizes, source text, gzip)', () => {
    fc.assert(
      fc.property(
        recordsArb,
        fc.array(fc.boolean(), { minLength: 1, maxLength: 7 }),
        fc.integer({ min: 8, max: 2048 }),
        fc.string({ unit: 'grapheme', maxLength: 40 }),
        fc.boolean(),
        (steps, writes, blockPayload, source, gz) => {
          const recs = materialise(steps, writes);
          const file = tmp(gz ? 'rt.ntrace.gz' : 'rt.ntrace');
          writeTrace(file, recs, { blockPayload, source });
          const head = fs.readFileSync(file).subarray(0, 8);
          if (gz) assert.deepEqual([head[0], head[1]], [0x1f, 0x8b]);
          else assert.deepEqual(new Uint8Array(head), MAGIC);
          const { recs: got, reader } = readAll(file);
          assert.deepEqual(got, recs);
          assert.equal(reader.header.source, source);
          assert.equal(reader.header.recordCount, gz ? 0 : recs.length);
          assert.equal(reader.header.pageSize, 4096);
          assert.equal(reader.header.lineShift, 6);
          fs.rmSync(file);
        },
      ),
      { seed: 20240601, numRuns: 100 },
    );
  });

  it('a trace compressed afterwards with gzip reads the same, and rewind() replays it', () => {
    const recs = materialise(
      Array.from({ length: 5000 }, (_, i) => ({ kind: 'near' as const, d: ((i * 7919) % 41) - 20 })),
      [false, false, true],
    );
    const plain = tmp('g.ntrace');
    writeTrace(plain, recs, { blockPayload: 512 });
    const gz = tmp('g.ntrace.gz');
    fs.writeFileSync(gz, zlib.gzipSync(fs.readFileSync(plain)));
    assert.deepEqual(readAll(gz).recs, recs);
    const r = TraceReader.open(gz);
    let first = 0;
    while (r.next() > 0) first += r.count;
    r.rewind();
    let second = 0;
    while (r.next() > 0) second += r.count;
    r.close();
    assert.equal(first, recs.length);
    assert.equal(second, recs.length);
  });

  it('gzip is decompressed in process as gunzipSync does, whatever the read and input chunk sizes', () => {
    const rng = { s: 12345 };
    const next = (): number => (rng.s = (Math.imul(rng.s, 1103515245) + 12345) >>> 0);
    // Compressible text with some noise, so that every block type and long matches occur.
    const data = Buffer.alloc(300_000);
    for (let i = 0; i < data.length; i++) data[i] = next() % 7 === 0 ? next() & 0xff : 97 + ((i >> 6) % 5);
    const members = [
      zlib.gzipSync(data.subarray(0, 100_000), { level: 0 }),
      zlib.gzipSync(data.subarray(100_000, 200_000), { level: 9 }),
      zlib.gzipSync(Buffer.alloc(0)),
      zlib.gzipSync(data.subarray(200_000), { strategy: zlib.constants.Z_HUFFMAN_ONLY }),
    ];
    const packed = Buffer.concat([...members, Buffer.alloc(5)]); // zero padding, as gunzip allows
    assert.deepEqual(zlib.gunzipSync(packed), data);
    const file = tmp('members.gz');
    fs.writeFileSync(file, packed);
    for (const inputChunk of [1, 7, members[0].length, 4096, 1 << 20]) {
      for (const readLen of [1, 999, 65536, 1 << 20]) {
        if (inputChunk * readLen === 1) continue; // byte by byte: slow and nothing new
        const g = new GunzipFile(fs.openSync(file, 'r'), file, inputChunk);
        const out = Buffer.alloc(data.length + 10);
        let at = 0;
        for (let n; (n = g.read(out, at, Math.min(readLen, out.length - at), at)) > 0;) at += n;
        assert.equal(at, data.length, `input chunk ${inputChunk}, reads of ${readLen}`);
        assert.deepEqual(out.subarray(0, at), data);
        // A read at an earlier position starts again; one at a later position skips ahead.
        const part = Buffer.alloc(1000);
        assert.equal(g.read(part, 0, 1000, 150_000), 1000);
        assert.deepEqual(part, data.subarray(150_000, 151_000));
        assert.equal(g.read(part, 0, 1000, 299_500), 500);
        assert.deepEqual(part.subarray(0, 500), data.subarray(299_500));
        assert.equal(g.read(part, 0, 1000, data.length), 0);
        g.close();
      }
    }
  });

  it('damaged gzip is refused with the compressed offset, and close() closes the file', () => {
    const data = Buffer.from('numatier '.repeat(20_000));
    const packed = zlib.gzipSync(data);
    const readAllOf = (bytes: Uint8Array): void => {
      const file = tmp('bad.gz');
      fs.writeFileSync(file, bytes);
      const fd = fs.openSync(file, 'r');
      const g = new GunzipFile(fd, file, 256);
      try {
        const out = Buffer.alloc(1 << 16);
        let at = 0;
        for (let n; (n = g.read(out, 0, out.length, at)) > 0;) at += n;
      } finally {
        g.close();
        assert.throws(() => fs.fstatSync(fd), { code: 'EBADF' });
      }
    };
    readAllOf(packed);
    assert.throws(
      () => readAllOf(packed.subarray(0, packed.length - 12)),
      (e: unknown) =>
        e instanceof InputError &&
        e.message.includes(
          `cannot decompress gzip: compressed byte ${packed.length - 12}: unexpected end of file (truncated gzip file?)`,
        ),
    );
    const flipped = Buffer.from(packed);
    flipped[packed.length - 6] ^= 0x01; // the CRC-32 of the data
    assert.throws(
      () => readAllOf(flipped),
      (e: unknown) =>
        e instanceof InputError && /compressed bytes \d+\.\.\d+: incorrect data check/.test(e.message),
    );
    assert.throws(
      () => readAllOf(Buffer.concat([packed, Buffer.from('junk')])),
      (e: unknown) =>
        e instanceof InputError && /cannot decompress gzip: compressed bytes \d+\.\.\d+: /.test(e.message),
    );
  });

  it('the writer leaves nothing under the final name until close(), and abort() leaves nothing at all', () => {
    const file = tmp('atomic.ntrace');
    const w = TraceWriter.create(file, { source: 'x' });
    w.append(1, false);
    assert.equal(fs.existsSync(file), false);
    w.close();
    assert.equal(fs.existsSync(file), true);
    const file2 = tmp('aborted.ntrace');
    const w2 = TraceWriter.create(file2, { source: 'x' });
    w2.append(1, true);
    w2.abort();
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes('aborted')),
      [],
    );
  });

  it('refuses units the format cannot hold', () => {
    const w = TraceWriter.create(tmp('range.ntrace'), { source: 'x' });
    assert.throws(() => w.append(MAX_UNIT, false), RangeError);
    assert.throws(() => w.append(-1, false), RangeError);
    assert.throws(() => w.append(1.5, false), RangeError);
    w.abort();
  });
});

describe('trace format: damaged files are refused with a byte offset', () => {
  const recs = materialise(
    Array.from({ length: 300 }, (_, i) =>
      i % 17 === 0 ? { kind: 'far' as const, d: i * 2 ** 30 } : { kind: 'near' as const, d: (i % 9) - 4 },
    ),
    [false, true, false, false],
  );
  const good = tmp('good.ntrace');
  writeTrace(good, recs, { blockPayload: 64, source: 'fuzz base' });
  const bytes = fs.readFileSync(good);
  const headerLen = 32 + 'fuzz base'.length + 4;

  function expectRefused(data: Uint8Array, re: RegExp): InputError {
    const f = tmp('bad.ntrace');
    fs.writeFileSync(f, data);
    let caught: unknown;
    try {
      readAll(f);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof InputError, `expected an InputError, got ${String(caught)}`);
    assert.match(caught.message, re);
    return caught;
  }

  it('a file cut inside a block names the block and where the file ends', () => {
    const firstBlockLen = BLOCK_HEADER_LEN + bytes.readUInt32LE(headerLen);
    const secondBlock = headerLen + firstBlockLen;
    const cut = secondBlock + 5;
    const e = expectRefused(
      bytes.subarray(0, cut),
      new RegExp(`: byte ${secondBlock}: truncated block header`),
    );
    assert.match(e.message, new RegExp(`file ends at byte ${cut}`));
    expectRefused(
      bytes.subarray(0, secondBlock + 20),
      new RegExp(`: byte ${secondBlock}: truncated block: .*ends at byte ${secondBlock + 20}`),
    );
  });

  it('a file cut at a block boundary is refused: the end marker is missing', () => {
    const firstBlockLen = BLOCK_HEADER_LEN + bytes.readUInt32LE(headerLen);
    expectRefused(
      bytes.subarray(0, headerLen + firstBlockLen),
      new RegExp(`byte ${headerLen + firstBlockLen}: the file ends without an end marker`),
    );
  });

  it('a flipped payload bit fails the block checksum at the block start', () => {
    const copy = Buffer.from(bytes);
    copy[headerLen + BLOCK_HEADER_LEN + 3] ^= 0x10;
    expectRefused(copy, new RegExp(`byte ${headerLen}: block checksum mismatch`));
  });

  it('trailing data, wrong magic, unknown version and a truncated gzip are refused', () => {
    expectRefused(
      Buffer.concat([bytes, Buffer.from([0])]),
      new RegExp(`byte ${bytes.length}: unexpected data after the end marker`),
    );
    const magic = Buffer.from(bytes);
    magic[1] = 0x4d;
    expectRefused(magic, /byte 0: not a numatier trace/);
    const version = Buffer.from(bytes);
    version[8] = 3;
    expectRefused(version, /byte 8: unsupported trace format version 3/);
    expectRefused(zlib.gzipSync(bytes).subarray(0, 60), /cannot decompress gzip: .*unexpected end of file/);
    expectRefused(new Uint8Array(0), /byte 0: empty file/);
  });

  it('fuzz: every mutation or truncation is refused with a byte offset or decodes to the same records', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat({ max: bytes.length - 1 }), value: fc.nat({ max: 255 }) }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.option(fc.nat({ max: bytes.length }), { freq: 3 }),
        (mutations, cut) => {
          const data = Buffer.from(bytes);
          for (const m of mutations) data[m.at] = m.value;
          const mutated = cut === null ? data : data.subarray(0, cut);
          const f = tmp('fuzz.ntrace');
          fs.writeFileSync(f, mutated);
          try {
            const got = readAll(f).recs;
            // Decoding succeeded: only possible when nothing actually changed.
            assert.ok(mutated.equals(bytes), 'a changed file decoded without complaint');
            assert.deepEqual(got, recs);
          } catch (e) {
            if (!(e instanceof InputError)) throw e;
            const m = /: byte (\d+): /.exec(e.message);
            assert.ok(m, `no byte offset in: ${e.message}`);
            assert.ok(
              Number(m[1]) <= mutated.length,
              `offset ${m[1]} beyond the file (${mutated.length} bytes)`,
            );
            assert.ok(!mutated.equals(bytes), `the intact file was refused: ${e.message}`);
          } finally {
            fs.rmSync(f);
          }
        },
      ),
      { seed: 7, numRuns: 600 },
    );
  });
});
