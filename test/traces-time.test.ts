import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { BLOCK_HEADER_LEN_TIMED, END_LEN_TIMED, HEADER_FIXED_LEN_TIMED } from '../src/traces/format.js';
import { importLackeyFile, importLackeyStream } from '../src/traces/lackey.js';
import { TraceReader } from '../src/traces/reader.js';
import { traceStats } from '../src/traces/stats.js';
import { DEFAULT_CPI, DEFAULT_CPU_GHZ, TraceStream } from '../src/traces/stream.js';
import { TraceWriter } from '../src/traces/writer.js';
import { resolveScenario } from '../src/scenario/load.js';
import { runScenario } from '../src/scenario/run.js';
import { InputError } from '../src/util/errors.js';
import { twoTierTopology } from './scenario-support.js';
import { scratchDir, traceFixtures as fixtures } from './trace-support.js';

/** Format version 2: traces that carry the instructions retired between records (docs/traces.md). */
const dir = scratchDir('time');
let seq = 0;
const tmp = (name: string): string => path.join(dir, `${++seq}-${name}`);

interface TimedRec {
  /** Instructions retired before this record (since the previous one). */
  instr: number;
  unit: number;
  write: boolean;
}

function writeTimed(
  file: string,
  recs: TimedRec[],
  opts: { tail?: number; accesses?: number; perBlock?: number; blockPayload?: number } = {},
): void {
  const w = TraceWriter.create(file, {
    source: 'timed test',
    timed: true,
    ...(opts.perBlock !== undefined ? { instructionsPerBlock: opts.perBlock } : {}),
    ...(opts.blockPayload !== undefined ? { blockPayload: opts.blockPayload } : {}),
  });
  for (const r of recs) {
    w.retire(r.instr);
    w.append(r.unit, r.write);
  }
  w.retire(opts.tail ?? 0);
  w.addDataAccesses(opts.accesses ?? recs.length);
  w.close();
}

/** Every block of a trace: its record count and instructions; and the end marker's totals. */
function blocksOf(file: string): {
  blocks: { records: number; instructions: number }[];
  end: { instructions: number | null; dataAccesses: number | null };
  header: TraceReader['header'];
} {
  const r = TraceReader.open(file);
  try {
    const blocks: { records: number; instructions: number }[] = [];
    while (r.next() > 0) blocks.push({ records: r.count, instructions: r.instructions });
    return {
      blocks,
      end: { instructions: r.endInstructions, dataAccesses: r.endDataAccesses },
      header: r.header,
    };
  } finally {
    r.close();
  }
}

describe('timed traces: the format', () => {
  it('blocks carry the instructions of their records; header and end marker the totals', () => {
    const file = tmp('timed.ntrace');
    // Cut every 100 instructions: records 1-2 (30 + 80 = 110), 3 (150), 4-5 (0 + 60, not cut).
    writeTimed(
      file,
      [
        { instr: 30, unit: 10, write: false },
        { instr: 80, unit: 11, write: true },
        { instr: 150, unit: 500, write: false },
        { instr: 0, unit: 501, write: false },
        { instr: 60, unit: 10, write: true },
      ],
      { tail: 7, accesses: 1234, perBlock: 100 },
    );
    const { blocks, end, header } = blocksOf(file);
    assert.deepEqual(blocks, [
      { records: 2, instructions: 110 },
      { records: 1, instructions: 150 },
      { records: 2, instructions: 60 },
    ]);
    // The tail (7 instructions after the last record) is in the totals, in no block.
    assert.deepEqual(end, { instructions: 327, dataAccesses: 1234 });
    assert.equal(header.version, 2);
    assert.equal(header.timed, true);
    assert.equal(header.instructions, 327);
    assert.equal(header.dataAccesses, 1234);
    const s = traceStats(file);
    assert.equal(s.format_version, 2);
    assert.equal(s.instructions, 327);
    assert.equal(s.instructions_in_blocks, 320);
    assert.equal(s.data_accesses, 1234);
    assert.equal(s.instructions_per_record, 64);
  });

  it('an untimed writer still writes version 1, which has no instruction counts', () => {
    const file = tmp('v1.ntrace');
    const w = TraceWriter.create(file, { source: 'v1' });
    w.append(3, false);
    assert.throws(() => w.retire(1), /timed writer/);
    w.close();
    const { blocks, end, header } = blocksOf(file);
    assert.equal(header.version, 1);
    assert.equal(header.instructions, null);
    assert.deepEqual(blocks, [{ records: 1, instructions: 0 }]);
    assert.deepEqual(end, { instructions: null, dataAccesses: null });
    assert.equal(traceStats(file).instructions, null);
  });

  it('a gzip-compressed timed trace keeps counts 0 in its header and the totals in its end marker', () => {
    const file = tmp('timed.ntrace.gz');
    writeTimed(file, [{ instr: 5, unit: 1, write: false }], { tail: 2, accesses: 9 });
    const { header, end } = blocksOf(file);
    assert.equal(header.instructions, 0);
    assert.deepEqual(end, { instructions: 7, dataAccesses: 9 });
  });

  describe('damaged timed traces are refused with a byte offset', () => {
    const recs: TimedRec[] = Array.from({ length: 200 }, (_, i) => ({
      instr: (i * 37) % 500,
      unit: i % 13 === 0 ? i * 2 ** 28 : 1000 + (i % 7),
      write: i % 3 === 0,
    }));
    const good = tmp('good-timed.ntrace');
    writeTimed(good, recs, { tail: 11, accesses: 999, perBlock: 2000, blockPayload: 64 });
    const bytes = fs.readFileSync(good);
    const headerLen = HEADER_FIXED_LEN_TIMED + 'timed test'.length + 4;
    const expected = blocksOf(good);

    function refusal(data: Uint8Array): string {
      const f = tmp('bad.ntrace');
      fs.writeFileSync(f, data);
      try {
        blocksOf(f);
      } catch (e) {
        if (e instanceof InputError) return e.message;
        throw e;
      } finally {
        fs.rmSync(f);
      }
      return '';
    }

    it('a block instruction count, the end total and the header total are each checked', () => {
      assert.ok(expected.blocks.length > 3, `blocks ${expected.blocks.length}`);
      // A changed block count breaks that block's checksum, which covers it.
      const blk = Buffer.from(bytes);
      blk[headerLen + 8] ^= 1;
      assert.match(refusal(blk), new RegExp(`byte ${headerLen}: block checksum mismatch`));
      // An end marker counting fewer instructions than the blocks hold.
      const endAt = bytes.length - END_LEN_TIMED;
      const end = Buffer.from(bytes);
      end.writeUInt32LE(1, endAt + 16);
      end.writeUInt32LE(0, endAt + 20);
      end.writeUInt32LE(crc(end.subarray(endAt, endAt + 32)), endAt + 32);
      assert.match(
        refusal(end),
        new RegExp(`byte ${endAt + 16}: end marker counts 1 instructions but the blocks hold`),
      );
      // A header disagreeing with the end marker (checksum made right).
      const hdr = Buffer.from(bytes);
      hdr.writeUInt32LE(5, 32);
      hdr.writeUInt32LE(crc(hdr.subarray(0, headerLen - 4)), headerLen - 4);
      assert.match(refusal(hdr), /byte 32: header counts 5 instructions but the end marker/);
      const acc = Buffer.from(bytes);
      acc.writeUInt32LE(5, 40);
      acc.writeUInt32LE(crc(acc.subarray(0, headerLen - 4)), headerLen - 4);
      assert.match(refusal(acc), /byte 40: header counts 5 data accesses but the end marker 999/);
      // Cut inside the timed block header (20 bytes), and inside the 36-byte end marker.
      const second = headerLen + BLOCK_HEADER_LEN_TIMED + bytes.readUInt32LE(headerLen);
      assert.match(refusal(bytes.subarray(0, second + 14)), new RegExp(`byte ${second}: truncated block`));
      assert.match(refusal(bytes.subarray(0, endAt + 30)), new RegExp(`byte ${endAt}: truncated end marker`));
    });

    it('fuzz: every mutation or truncation is refused with a byte offset or reads the same', () => {
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
              const got = blocksOf(f);
              assert.ok(mutated.equals(bytes), 'a changed file was read without complaint');
              assert.deepEqual(got, expected);
            } catch (e) {
              if (!(e instanceof InputError)) throw e;
              const m = /: byte (\d+): /.exec(e.message);
              assert.ok(m, `no byte offset in: ${e.message}`);
              assert.ok(Number(m[1]) <= mutated.length, `offset ${m[1]} beyond the file`);
              assert.ok(!mutated.equals(bytes), `the intact file was refused: ${e.message}`);
            } finally {
              fs.rmSync(f);
            }
          },
        ),
        { seed: 12, numRuns: 600 },
      );
    });
  });
});

/** CRC-32 as the format uses it (to forge consistent checksums in the tests above). */
function crc(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) {
    c ^= x;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

describe('timed traces: lackey import counts I lines', () => {
  it('the fixture: two I lines, nine data accesses', async () => {
    const out = tmp('small.ntrace');
    const r = await importLackeyFile(path.join(fixtures, 'small.lackey'), out);
    assert.equal(r.instructions, 2);
    const { blocks, end, header } = blocksOf(out);
    assert.equal(header.version, 2);
    assert.deepEqual(blocks, [{ records: 11, instructions: 2 }]);
    assert.deepEqual(end, { instructions: 2, dataAccesses: 9 });
  });

  it('each I line counts before the records of the accesses after it', async () => {
    const text = [
      'I  00100000,4',
      'I  00100004,4',
      ' L 00200000,8',
      'I  00100008,4',
      ' S 00300000,8',
      ' L 00300040,8',
      'I  0010000c,4',
      'I  00100010,4',
      'I  00100014,4',
      ' M 00400000,4',
      'I  00100018,4',
      '',
    ].join('\n');
    const out = tmp('lines.ntrace');
    // instructionsPerBlock 1: a block ends at the first record that has instructions before it.
    const w = TraceWriter.create(out, { source: 'lines', timed: true, instructionsPerBlock: 1 });
    const r = await importLackeyStream(Readable.from([text]), 'text', w);
    w.close();
    assert.equal(r.instructions, 7);
    const { blocks, end } = blocksOf(out);
    assert.deepEqual(blocks, [
      { records: 1, instructions: 2 }, // I I L
      { records: 1, instructions: 1 }, // I S
      { records: 2, instructions: 3 }, // L I I I M(read)
      { records: 1, instructions: 0 }, // M(write)
    ]);
    assert.deepEqual(end, { instructions: 7, dataAccesses: 5 });
  });
});

/** A tiny host and one VM replaying `workload` to its end. */
function replay(workload: Record<string, unknown>): ReturnType<typeof runScenario>['summary'] {
  const sc = resolveScenario(
    {
      seed: 1,
      duration_ms: 10_000,
      topology: twoTierTopology({ dram: '16MiB', slow: '64MiB' }),
      vms: [{ name: 'app', workload: { pattern: 'trace', ...workload } }],
    },
    dir,
    'timed',
  );
  return runScenario(sc, 1).summary;
}

describe('timed traces: replay charges instructions × cpi / cpu_ghz', () => {
  // 3 blocks: 2 records over 1000 instructions, 1 over 5000, 3 over 0; 17 after the last record.
  const file = tmp('replay.ntrace');
  writeTimed(
    file,
    [
      { instr: 400, unit: 0, write: false },
      { instr: 600, unit: 64, write: true },
      { instr: 5000, unit: 128, write: false },
      { instr: 0, unit: 0, write: false },
      { instr: 0, unit: 64, write: false },
      { instr: 0, unit: 200, write: true },
    ],
    { tail: 17, perBlock: 1000 },
  );
  const instr = 6000;

  it('the stream gives each block its own compute per access', () => {
    const s = new TraceStream(file, { loop: false, instructionModel: { cpi: 2, cpuGhz: 4 } });
    const buf = new Int32Array(16);
    const got: [number, number][] = [];
    for (let n = s.fill(buf, 16); n > 0; n = s.fill(buf, 16)) got.push([n, s.computeNsPerAccess]);
    s.close();
    // 0.5 ns per instruction: 1000 × 0.5 / 2, 5000 × 0.5 / 1, 0.
    assert.deepEqual(got, [
      [2, 250],
      [1, 2500],
      [3, 0],
    ]);
    assert.deepEqual(s.computeModel, {
      source: 'trace instructions',
      cpi: 2,
      cpu_ghz: 4,
      ns_per_instruction: 0.5,
    });
  });

  it('a run is charged exactly the blocks instructions × cpi / cpu_ghz, and the summary says so', () => {
    const s = replay({ trace: file, cpi: 0.8, cpu_ghz: 3.2 });
    const vm = s.vms[0];
    assert.equal(vm.accesses, 6);
    assert.ok(vm.finished);
    const m = vm.compute_model!;
    assert.equal(m.source, 'trace instructions');
    assert.ok(m.source === 'trace instructions' && m.cpi === 0.8 && m.cpu_ghz === 3.2);
    assert.equal(m.instructions, instr);
    assert.ok(Math.abs(m.compute_ms - (instr * 0.8) / 3.2 / 1e6) < 1e-9, `compute_ms ${m.compute_ms}`);
  });

  it('the defaults are cpi 1 at 2.2 GHz', () => {
    const m = replay({ trace: file }).vms[0].compute_model!;
    assert.equal(DEFAULT_CPI, 1);
    assert.equal(DEFAULT_CPU_GHZ, 2.2);
    assert.ok(m.source === 'trace instructions' && m.cpi === 1 && m.cpu_ghz === 2.2);
    // compute_ms is rounded to the nanosecond.
    assert.ok(Math.abs(m.compute_ms - instr / 2.2 / 1e6) <= 5e-7, `compute_ms ${m.compute_ms}`);
  });

  it('compute_ns still charges a constant per access, and excludes cpi and cpu_ghz', () => {
    const m = replay({ trace: file, compute_ns: 100 }).vms[0].compute_model!;
    assert.deepEqual(m, { source: 'compute_ns', compute_ns: 100, compute_ms: 0.0006 });
    assert.throws(
      () => replay({ trace: file, compute_ns: 100, cpi: 1 }),
      (e: unknown) =>
        e instanceof InputError &&
        /vms\[0\]\.workload\.compute_ns: compute_ns .* and cpi .* exclude each other/.test(e.message),
    );
    assert.throws(() => replay({ trace: file, cpu_ghz: 0 }), /cpu_ghz: expected a number > 0/);
  });

  it('an old (version 1) trace replays with the default per-access compute, named in the summary', () => {
    const old = tmp('old.ntrace');
    const w = TraceWriter.create(old, { source: 'v1' });
    for (const u of [0, 64, 128]) w.append(u, false);
    w.close();
    const vm = replay({ trace: old }).vms[0];
    assert.equal(vm.accesses, 3);
    assert.deepEqual(vm.compute_model, { source: 'default per access', compute_ns: 0, compute_ms: 0 });
    assert.throws(
      () => replay({ trace: old, cpi: 1 }),
      (e: unknown) =>
        e instanceof InputError && /has no instruction counts \(format version 1\)/.test(e.message),
    );
  });

  it('the same timed scenario and seed give the same summary', () => {
    assert.deepEqual(replay({ trace: file, cpi: 1.5 }), replay({ trace: file, cpi: 1.5 }));
  });
});
