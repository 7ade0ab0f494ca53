import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { crc32 } from '../src/traces/crc32.js';
import { END_LEN } from '../src/traces/format.js';
import { TraceReader } from '../src/traces/reader.js';
import { TraceWriter } from '../src/traces/writer.js';
import { scratchDir } from './trace-support.js';

const dir = scratchDir('end-marker');

describe("a trace's end marker", () => {
  it('a count of 2^64 - 1 is reported as that number, not as -1', () => {
    const file = path.join(dir, 'huge-count.ntrace');
    const w = TraceWriter.create(file, { source: 'test' });
    for (let i = 0; i < 10; i++) w.append(i, false);
    w.close();
    const b = fs.readFileSync(file);
    const end = b.length - END_LEN;
    b.fill(0xff, end + 8, end + 16);
    // A consistent checksum, so that the count itself is what the reader judges.
    b.writeUInt32LE(crc32(b.subarray(end, end + 16)), end + 16);
    fs.writeFileSync(file, b);
    const r = TraceReader.open(file);
    try {
      assert.throws(
        () => {
          while (r.next() > 0);
        },
        (e: unknown) =>
          e instanceof Error &&
          /end marker counts 18446744073709551615 records but the blocks hold 10/.test(e.message) &&
          new RegExp(`byte ${end + 8}\\b|offset ${end + 8}\\b`).test(e.message),
      );
    } finally {
      r.close();
    }
  });
});
