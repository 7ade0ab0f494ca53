import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { importLackeyFile } from '../src/traces/lackey.js';
import { LlcFilter } from '../src/traces/llc.js';
import { TraceReader } from '../src/traces/reader.js';
import { InputError } from '../src/util/errors.js';
import { scratchDir, traceFixtures as fixtures } from './trace-support.js';

const dir = scratchDir('lackey');
let seq = 0;
const tmp = (name: string): string => path.join(dir, `${++seq}-${name}`);

function records(file: string): string[] {
  const r = TraceReader.open(file);
  const out: string[] = [];
  while (r.next() > 0)
    for (let i = 0; i < r.count; i++) out.push(`${r.writes[i] ? 'W' : 'R'} ${r.units[i].toString(16)}`);
  r.close();
  return out;
}

/**
 * small.lackey, line by line (unit = address >> 6, one record per 64-byte line an access touches):
 *    L 00200000,8   -> R 8000
 *    S 00200008,8   -> W 8000
 *    M 00200040,4   -> R 8001, W 8001       (modify = the load, then the store)
 *    L 00201000,8   -> R 8040
 *    L 0020103c,8   -> R 8040, R 8041       (bytes 0x20103c..0x201043 straddle two lines)
 *    S 1ffefff8f8,8 -> W 7ffbffe3
 *    L 00200010,4   -> R 8000
 *    L 00202ffc,8   -> R 80bf, R 80c0       (straddles two pages too)
 * The two "I" lines are instruction fetches (not recorded); ==pid==, --pid-- and the blank line
 * are skipped.
 */
const EXPECTED = [
  'R 8000',
  'W 8000',
  'R 8001',
  'W 8001',
  'R 8040',
  'R 8040',
  'R 8041',
  'W 7ffbffe3',
  'R 8000',
  'R 80bf',
  'R 80c0',
];

describe('lackey import', () => {
  it('imports the hand-written fixture record by record', async () => {
    const out = tmp('small.ntrace');
    const r = await importLackeyFile(path.join(fixtures, 'small.lackey'), out);
    assert.deepEqual(records(out), EXPECTED);
    assert.deepEqual(r, { lines: 15, accesses: 9, instructions: 2, skipped: 5, records: 11, dropped: 0 });
    const reader = TraceReader.open(out);
    assert.match(reader.header.source, /imported from lackey output small\.lackey/);
    assert.equal(reader.header.flags, 0);
    reader.close();
  });

  it('accepts gzip-compressed input and CRLF line ends', async () => {
    const text = fs.readFileSync(path.join(fixtures, 'small.lackey'), 'utf8').replace(/\n/g, '\r\n');
    const gz = tmp('small.lackey.gz');
    fs.writeFileSync(gz, zlib.gzipSync(text));
    const out = tmp('gz.ntrace');
    await importLackeyFile(gz, out);
    assert.deepEqual(records(out), EXPECTED);
  });

  it('filters through the LLC model when asked: fills, then dirty write-backs at the end', async () => {
    const out = tmp('llc.ntrace');
    // 128 bytes, 2 ways: one set of two lines, so the fixture's third distinct line evicts.
    await importLackeyFile(path.join(fixtures, 'small.lackey'), out, { llc: { sizeBytes: 128, ways: 2 } });
    // Replay by hand: [8000 R miss] [8000 W hit, dirty] [8001 R miss] [8001 W hit, dirty]
    // [8040 miss: evicts 8000 dirty -> W 8000, R 8040] [8040 hit] [8041 miss: evicts 8001 dirty -> W 8001, R 8041]
    // [7ffbffe3 W miss: evicts 8040 clean -> R 7ffbffe3] [8000 miss: evicts 8041 clean -> R 8000]
    // [80bf miss: evicts 7ffbffe3 dirty -> W 7ffbffe3, R 80bf] [80c0 miss: evicts 8000 clean -> R 80c0]
    // end: nothing dirty left (80bf and 80c0 were read).
    assert.deepEqual(records(out), [
      'R 8000',
      'R 8001',
      'W 8000',
      'R 8040',
      'W 8001',
      'R 8041',
      'R 7ffbffe3',
      'R 8000',
      'W 7ffbffe3',
      'R 80bf',
      'R 80c0',
    ]);
    const reader = TraceReader.open(out);
    assert.equal(reader.header.flags & 1, 1);
    reader.close();
  });

  async function expectRefused(text: string, re: RegExp): Promise<void> {
    const input = tmp('bad.lackey');
    fs.writeFileSync(input, text);
    const out = tmp('bad.ntrace');
    await assert.rejects(
      importLackeyFile(input, out),
      (e: unknown) => e instanceof InputError && re.test(e.message),
    );
    assert.equal(fs.existsSync(out), false, 'no trace is left behind after a refused import');
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.includes('bad.ntrace')),
      [],
    );
  }

  it('refuses malformed lines with their line number', async () => {
    await expectRefused(
      '==1== x\n L 00200000,8\n L 0020zz00,8\n',
      /bad\.lackey: line 3: expected a hexadecimal address/,
    );
    await expectRefused(
      ' L 00200000,8\n S 00200000\n',
      /line 2: expected ",<size>" after the address, got ""/,
    );
    await expectRefused(' L 00200000,0\n', /line 1: access size must be from 1 to 65536 bytes, got 0/);
    await expectRefused(
      ' L 00200000,8\nhello from the program\n',
      /line 2: not a lackey trace line: "hello from the program"/,
    );
    await expectRefused(' X 00200000,8\n', /line 1: not a lackey trace line/);
    await expectRefused('I  zz,4\n', /line 1: expected a hexadecimal address/);
    await expectRefused(
      ' L 10000000000000000,8\n',
      /line 1: expected a hexadecimal address of 1 to 16 digits/,
    );
  });

  it('drops (and counts) accesses above 2^56, which the format cannot hold', async () => {
    const input = tmp('high.lackey');
    fs.writeFileSync(input, ' L ff00000000000000,8\n S 00001000,8\n M fffffffffffffff0,4\n');
    const out = tmp('high.ntrace');
    const r = await importLackeyFile(input, out);
    assert.equal(r.dropped, 3);
    assert.deepEqual(records(out), ['W 40']);
  });
});

describe('LLC filter', () => {
  it('is LRU within a set and writes dirty lines back on flush in set order', () => {
    const got: string[] = [];
    const c = new LlcFilter(64 * 2 * 2, 2, (line, w) => got.push(`${w ? 'W' : 'R'}${line}`)); // 2 sets × 2 ways
    c.access(0, true); // set 0: miss
    c.access(2, false); // set 0: miss
    c.access(0, false); // hit: 0 becomes most recent
    c.access(4, false); // set 0: miss, evicts 2 (LRU, clean)
    c.access(1, true); // set 1: miss
    c.flush();
    assert.deepEqual(got, ['R0', 'R2', 'R4', 'R1', 'W0', 'W1']);
  });

  it('refuses geometries that do not divide into sets', () => {
    assert.throws(() => new LlcFilter(1000, 16, () => undefined), RangeError);
    assert.throws(() => new LlcFilter(1024, 0, () => undefined), RangeError);
  });
});
