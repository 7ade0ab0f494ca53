import { PageIndex } from './page-index.js';
import { TraceReader } from './reader.js';

/** What `numatier trace stats` reports. Field names are the JSON keys. */
export interface TraceStats {
  file: string;
  source: string;
  /** 1: records only; 2: blocks also carry the instructions retired between records. */
  format_version: number;
  llc_filtered: boolean;
  page_size: number;
  line_size: number;
  records: number;
  reads: number;
  writes: number;
  /** writes / records (0 for an empty trace). */
  write_share: number;
  distinct_pages: number;
  /** distinct_pages × page_size. */
  footprint_bytes: number;
  /** Pages that make up the hottest 1 % / 10 %: ceil(share × distinct_pages). */
  hottest_1pct_pages: number;
  hottest_10pct_pages: number;
  /** Fraction of all accesses that go to those pages. */
  hottest_1pct_access_share: number;
  hottest_10pct_access_share: number;
  /** Instructions the program retired (end marker of a timed trace); null for version 1. */
  instructions: number | null;
  /** Instructions over the blocks' records, i.e. up to the last record (≤ instructions). */
  instructions_in_blocks: number | null;
  /** The program's data accesses before any cache filter (timed traces); null for version 1. */
  data_accesses: number | null;
  /** instructions_in_blocks / records: instructions between consecutive records. */
  instructions_per_record: number | null;
}

/**
 * One streaming pass over a trace. Memory: a PageIndex (24 bytes per distinct page) plus an 8-byte
 * access counter per distinct page, so ~32 bytes per distinct page: 10^8 distinct pages (400 GB of
 * 4 KiB pages touched) need ~3.2 GB. The hottest pages are found by sorting the counters once.
 */
export function traceStats(file: string): TraceStats {
  const r = TraceReader.open(file);
  try {
    const index = new PageIndex();
    let counts = new Float64Array(1 << 16);
    let writes = 0;
    const upp = r.unitsPerPage;
    while (r.next() > 0) {
      const units = r.units;
      const w = r.writes;
      for (let i = 0, n = r.count; i < n; i++) {
        const id = index.insert(Math.floor(units[i] / upp));
        if (id >= counts.length) {
          const bigger = new Float64Array(counts.length * 2);
          bigger.set(counts);
          counts = bigger;
        }
        counts[id]++;
        writes += w[i];
      }
    }
    const records = r.recordsRead;
    const distinct = index.size;
    const sorted = counts.subarray(0, distinct).sort().reverse();
    const top = (share: number): [number, number] => {
      if (distinct === 0) return [0, 0];
      const k = Math.ceil(share * distinct);
      let sum = 0;
      for (let i = 0; i < k; i++) sum += sorted[i];
      return [k, sum / records];
    };
    const [k1, s1] = top(0.01);
    const [k10, s10] = top(0.1);
    const timed = r.header.timed;
    return {
      file,
      source: r.header.source,
      format_version: r.header.version,
      llc_filtered: (r.header.flags & 1) !== 0,
      page_size: r.header.pageSize,
      line_size: 2 ** r.header.lineShift,
      records,
      reads: records - writes,
      writes,
      write_share: records === 0 ? 0 : writes / records,
      distinct_pages: distinct,
      footprint_bytes: distinct * r.header.pageSize,
      hottest_1pct_pages: k1,
      hottest_10pct_pages: k10,
      hottest_1pct_access_share: s1,
      hottest_10pct_access_share: s10,
      instructions: timed ? r.endInstructions : null,
      instructions_in_blocks: timed ? r.instructionsRead : null,
      data_accesses: timed ? r.endDataAccesses : null,
      instructions_per_record: timed ? (records === 0 ? 0 : r.instructionsRead / records) : null,
    };
  } finally {
    r.close();
  }
}

/** The human-readable form of traceStats(). */
export function formatTraceStats(s: TraceStats): string {
  const pct = (v: number): string => `${(v * 100).toFixed(2)} %`;
  const mib = (b: number): string => `${(b / 2 ** 20).toFixed(1)} MiB`;
  return (
    [
      `trace:           ${s.file}`,
      `source:          ${s.source}`,
      `records:         ${s.records}${s.llc_filtered ? ' (last-level cache misses and write-backs)' : ''}`,
      `reads / writes:  ${s.reads} / ${s.writes} (write share ${pct(s.write_share)})`,
      `distinct pages:  ${s.distinct_pages} of ${s.page_size} bytes`,
      `footprint:       ${s.footprint_bytes} bytes (${mib(s.footprint_bytes)})`,
      `hottest 1 %:     ${s.hottest_1pct_pages} pages take ${pct(s.hottest_1pct_access_share)} of accesses`,
      `hottest 10 %:    ${s.hottest_10pct_pages} pages take ${pct(s.hottest_10pct_access_share)} of accesses`,
      s.instructions === null
        ? `instructions:    not recorded (format version ${s.format_version}); replay charges compute_ns`
        : `instructions:    ${s.instructions} (${s.instructions_in_blocks} up to the last record, ${(s.instructions_per_record ?? 0).toFixed(1)} per record)`,
      s.data_accesses === null
        ? null
        : s.llc_filtered
          ? `data accesses:   ${s.data_accesses} before the cache filter${s.data_accesses > 0 ? ` (${pct(s.records / s.data_accesses)} became records)` : ''}`
          : `data accesses:   ${s.data_accesses} (a record per cache line each touched)`,
    ]
      .filter((l) => l !== null)
      .join('\n') + '\n'
  );
}
