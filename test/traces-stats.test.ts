import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { importLackeyFile } from '../src/traces/lackey.js';
import { formatTraceStats, traceStats } from '../src/traces/stats.js';
import { TraceWriter } from '../src/traces/writer.js';
import { scratchDir, traceFixtures as fixtures } from './trace-support.js';

const dir = scratchDir('stats');

describe('trace stats', () => {
  it('known answers: page k of 100 accessed k times, every third access a write', () => {
    // Pages 1..100 (scattered over the address space), page k touched k times: 5050 records.
    // Hottest 1 % = ceil(1) = 1 page: 100 / 5050. Hottest 10 % = 10 pages: (91 + … + 100) / 5050 = 955 / 5050.
    // Records are interleaved round-robin so that the counts, not the order, decide the answer.
    const file = path.join(dir, 'known.ntrace.gz');
    const w = TraceWriter.create(file, { source: 'known answers', blockPayload: 256 });
    const left = Array.from({ length: 101 }, (_, k) => k);
    let n = 0;
    let writes = 0;
    for (let round = 0; round < 100; round++) {
      for (let k = 1; k <= 100; k++) {
        if (left[k] === 0) continue;
        left[k]--;
        const isWrite = n % 3 === 2;
        if (isWrite) writes++;
        // Page k lives at address k * 2^33 (+ a line offset that varies): 64 lines per 4 KiB page.
        w.append(k * 2 ** 27 + (round % 64), isWrite);
        n++;
      }
    }
    w.close();
    assert.equal(n, 5050);
    assert.equal(writes, 1683);
    const s = traceStats(file);
    assert.equal(s.records, 5050);
    assert.equal(s.writes, 1683);
    assert.equal(s.reads, 5050 - 1683);
    assert.equal(s.write_share, 1683 / 5050);
    assert.equal(s.distinct_pages, 100);
    assert.equal(s.footprint_bytes, 100 * 4096);
    assert.equal(s.hottest_1pct_pages, 1);
    assert.equal(s.hottest_1pct_access_share, 100 / 5050);
    assert.equal(s.hottest_10pct_pages, 10);
    assert.equal(s.hottest_10pct_access_share, 955 / 5050);
    assert.equal(s.source, 'known answers');
    assert.equal(s.llc_filtered, false);
    assert.match(formatTraceStats(s), /hottest 10 %: +10 pages take 18\.91 % of accesses/);
  });

  it('the lackey fixture: 11 records, 3 writes, 5 distinct pages, the hottest page takes 5 of 11', async () => {
    // Pages (address >> 12): 0x200 ×5 (records 1, 2, 3, 4, 9), 0x201 ×3, 0x1ffefff, 0x202, 0x203 ×1 each.
    // 5 pages: ceil(0.05) = ceil(0.5) = 1 page for both the 1 % and the 10 % share.
    const file = path.join(dir, 'small.ntrace');
    await importLackeyFile(path.join(fixtures, 'small.lackey'), file);
    const s = traceStats(file);
    assert.equal(s.records, 11);
    assert.equal(s.writes, 3);
    assert.equal(s.distinct_pages, 5);
    assert.equal(s.footprint_bytes, 5 * 4096);
    assert.equal(s.hottest_1pct_pages, 1);
    assert.equal(s.hottest_1pct_access_share, 5 / 11);
    assert.equal(s.hottest_10pct_access_share, 5 / 11);
  });

  it('an empty trace has zero of everything', () => {
    const file = path.join(dir, 'empty.ntrace');
    TraceWriter.create(file, { source: '' }).close();
    const s = traceStats(file);
    assert.deepEqual(
      [s.records, s.distinct_pages, s.write_share, s.hottest_1pct_pages, s.hottest_10pct_access_share],
      [0, 0, 0, 0, 0],
    );
  });
});
