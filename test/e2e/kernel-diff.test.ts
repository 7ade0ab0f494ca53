import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ensureGuestPrerequisites } from './harness/prerequisites.js';
import { bootGuest } from './harness/qemu.js';
import { sectionsOf } from './harness/sections.js';
import { parseDemotionTargets, type TopologyJSON } from './harness/topology-check.js';
import {
  PROMOTION_PAGES,
  PLACEMENT_CASES,
  RECLAIM_CASES,
  RECLAIM_PAGES,
  SWAP_MIB,
  guestCommand,
  pagesPerNode,
  parseCounters,
  parseFlat,
  parseHelper,
  parseNumaStat,
  parseTiers,
  parseZoneinfo,
  type GuestZone,
  type ReclaimCase,
} from './kernel-diff/guest.js';
import { writeResults, type CaseResult } from './kernel-diff/results.js';
import {
  bootMinFreeKbytes,
  placement,
  promotion,
  reclaim,
  recomputedMinFreeKbytes,
  topologyModel,
  zoneWatermarks,
  type ReclaimFigures,
} from './kernel-diff/simulator.js';
import { DIFF_TOPOLOGIES, type DiffTopology } from './kernel-diff/topologies.js';

// The simulator checked against a running kernel: each case builds the same host and does the
// same operations in a QEMU guest (Debian's 6.12) and in numatier, and compares what each
// reports. docs/kernel-diff.md lists every case with both figures (`npm run docs:kernel-diff`).

const here = path.dirname(fileURLToPath(import.meta.url));
const log = (line: string): void => void process.stderr.write(`kernel-diff: ${line}\n`);
const skip = ensureGuestPrerequisites(log, { cCompiler: true });
if (skip !== null) log(skip);

const BOOT_TIMEOUT_MS = 8 * 60_000;
const results: CaseResult[] = [];
let kernelRelease = '';
after(() => writeResults({ kernel: kernelRelease, cases: results }));

/** The guest helper, built static once per run (the guest has no C library of its own to spare). */
let helper: string | null = null;
function buildHelper(): string {
  if (helper !== null) return helper;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'numatier-mm-steps-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const src = path.join(here, '..', '..', '..', 'test', 'e2e', 'guest', 'mm-steps.c');
  const out = path.join(dir, 'mm-steps');
  const r = spawnSync('gcc', ['-O2', '-Wall', '-static', '-o', out, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`gcc mm-steps.c failed: ${r.stderr}`);
  helper = out;
  return out;
}

interface Guest {
  s: Map<string, string>;
  model: TopologyJSON;
}

const list = (xs: readonly number[]): string => `[${xs.join(',')}]`;
const perNode = (m: Map<number, number>): string =>
  [...m.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([n, v]) => (n < 0 ? `swapped ${v}` : `N${n} ${v}`))
    .join(', ');

function record(r: CaseResult): void {
  results.push(r);
}

function marks(zones: readonly GuestZone[]): string {
  return zones
    .filter((z) => z.managed > 0)
    .map((z) => `N${z.node} ${z.name} ${z.min}/${z.low}/${z.high}/${z.promo}`)
    .join('; ');
}

function watermarkCase(t: DiffTopology, name: string, kernel: GuestZone[], mfk: number, wsf: number): void {
  const sim = zoneWatermarks(kernel, mfk, wsf);
  const simZones = kernel.map((z, i) => ({ ...z, ...sim[i] }));
  const same = kernel.every(
    (z, i) =>
      z.min === sim[i].min && z.low === sim[i].low && z.high === sim[i].high && z.promo === sim[i].promo,
  );
  record({
    topology: t.id,
    item: 'watermarks',
    case: name,
    kernel: marks(kernel),
    simulator: marks(simZones),
    tolerance: 'exact, every zone (min/low/high/promo)',
    verdict: same ? 'same' : 'differs',
    ...(same ? {} : { why: 'UNEXPLAINED' }),
  });
  assert.deepEqual(
    simZones.map((z) => [z.node, z.name, z.min, z.low, z.high, z.promo]),
    kernel.map((z) => [z.node, z.name, z.min, z.low, z.high, z.promo]),
    `${name}: numatier's watermarks for the guest's zones`,
  );
}

for (const t of DIFF_TOPOLOGIES) {
  const withReclaim = t.id === 'dram+cxl';
  describe(`kernel vs numatier: ${t.title}`, { skip: skip ?? false }, () => {
    let g: Guest;
    before(async () => {
      const run = await bootGuest({
        ...t.guest,
        command: guestCommand(t, { placements: PLACEMENT_CASES[t.id] ?? [], reclaim: withReclaim }),
        timeoutMs: BOOT_TIMEOUT_MS,
        executables: { '/e2e/mm-steps': buildHelper() },
        ...(withReclaim ? { blankDiskMiB: SWAP_MIB } : {}),
      });
      kernelRelease = run.kernel.release;
      log(
        `${t.id}: boot to /init ${((run.bootMs ?? NaN) / 1000).toFixed(1)} s, power-off after ${(run.wallMs / 1000).toFixed(1)} s (host clock)`,
      );
      const where = run.kept ? ` (files in ${run.outDir})` : '';
      assert.equal(run.status, 0, `guest command failed${where}:\n${run.console.slice(-4000)}`);
      g = { s: sectionsOf(run.stdout), model: topologyModel(t) };
    });

    it('memory tiers: memory_tierN/nodelist against numatier topology', () => {
      const kernel = parseTiers(g.s.get('tiers') ?? '');
      const sim = g.model.tiers.map((x) => ({ tier: x.id, nodes: [...x.nodes].sort((a, b) => a - b) }));
      const show = (xs: { tier: number; nodes: number[] }[]): string =>
        xs.map((x) => `memory_tier${x.tier} ${list(x.nodes)}`).join(', ');
      record({
        topology: t.id,
        item: 'tiers',
        case: 'memory_tierN/nodelist',
        kernel: show(kernel),
        simulator: show(sim),
        tolerance: 'exact (tier ids = abstract distance chunks)',
        verdict: JSON.stringify(kernel) === JSON.stringify(sim) ? 'same' : 'differs',
      });
      assert.deepEqual(sim, kernel);
    });

    it('demotion targets: dmesg "Demotion targets for Node N" against numatier topology', () => {
      const kernel = parseDemotionTargets(g.s.get('demotion') ?? '');
      const nodes = t.guest.nodes.map((_, i) => i);
      const k = nodes.map((n) => kernel.get(n) ?? { preferred: [], fallback: [] });
      const s = nodes.map((n) => g.model.demotion[String(n)] ?? { preferred: [], fallback: [] });
      const show = (xs: { preferred: number[]; fallback: number[] }[]): string =>
        xs
          .map((x, n) =>
            x.preferred.length === 0
              ? `${n}: none`
              : `${n} → ${list(x.preferred)} (fallback ${list(x.fallback)})`,
          )
          .join('; ');
      record({
        topology: t.id,
        item: 'tiers',
        case: 'demotion targets',
        kernel: show(k),
        simulator: show(s),
        tolerance: 'exact',
        verdict: show(k) === show(s) ? 'same' : 'differs',
      });
      assert.deepEqual(s, k);
    });

    it('has_cpu and has_memory against the nodes numatier models', () => {
      const hasCpu = g.model.nodes.filter((n) => n.cpus.length > 0).map((n) => n.id);
      const hasMemory = g.model.nodes.map((n) => n.id);
      const k = `has_cpu ${(g.s.get('has-cpu') ?? '').trim()}, has_memory ${(g.s.get('has-memory') ?? '').trim()}`;
      const fmt = (xs: number[]): string => (xs.length === 1 ? `${xs[0]}` : `${xs[0]}-${xs[xs.length - 1]}`);
      const s = `has_cpu ${fmt(hasCpu)}, has_memory ${fmt(hasMemory)}`;
      record({
        topology: t.id,
        item: 'tiers',
        case: 'node states',
        kernel: k,
        simulator: s,
        tolerance: 'exact',
        verdict: k === s ? 'same' : 'differs',
      });
      assert.equal(s, k);
    });

    it('boot min_free_kbytes: khugepaged raises it above calculate_min_free_kbytes()', () => {
      const boot = parseZoneinfo(g.s.get('boot-zoneinfo') ?? '');
      const kernel = Number(g.s.get('boot-min-free'));
      const formula = bootMinFreeKbytes(boot);
      record({
        topology: t.id,
        item: 'watermarks',
        case: 'min_free_kbytes at boot',
        kernel: `${kernel} kB`,
        simulator: `${formula} kB (int_sqrt(16 × lowmem kB))`,
        tolerance: 'none: not modelled',
        verdict: 'differs',
        why: "Debian's kernel enables THP ('always'); khugepaged then raises min_free_kbytes to its recommended value. numatier has 4 KiB pages only",
      });
      assert.ok(kernel > formula, `boot min_free_kbytes ${kernel} should exceed the formula's ${formula}`);
    });

    it('THP off: min_free_kbytes recomputed from the zones, and the watermarks from it', () => {
      const boot = parseZoneinfo(g.s.get('boot-zoneinfo') ?? '');
      const zones = parseZoneinfo(g.s.get('thp-never-zoneinfo') ?? '');
      const kernel = Number(g.s.get('thp-never-min-free'));
      const sim = recomputedMinFreeKbytes(boot);
      record({
        topology: t.id,
        item: 'watermarks',
        case: 'min_free_kbytes after THP off',
        kernel: `${kernel} kB`,
        simulator: `${sim} kB`,
        tolerance: 'exact',
        verdict: kernel === sim ? 'same' : 'differs',
      });
      assert.equal(sim, kernel);
      watermarkCase(t, 'zones after THP off', zones, kernel, 10);
    });

    it('watermarks with min_free_kbytes 8192', () => {
      watermarkCase(t, 'min_free_kbytes 8192', parseZoneinfo(g.s.get('mfk-zoneinfo') ?? ''), 8192, 10);
    });

    it('watermarks with watermark_scale_factor 200', () => {
      watermarkCase(t, 'watermark_scale_factor 200', parseZoneinfo(g.s.get('wsf-zoneinfo') ?? ''), 8192, 200);
    });

    for (const p of PLACEMENT_CASES[t.id] ?? []) {
      it(`placement under ${p.task ? 'set_mempolicy' : 'mbind'} ${p.id}`, () => {
        const h = parseHelper(g.s.get(`place-${p.id}`) ?? '');
        const kernel = h.queries[0];
        assert.ok(kernel !== undefined, `no query in ${p.id}`);
        const sim = placement(t, p, h.startPfn);
        const same = JSON.stringify(sim) === JSON.stringify(kernel);
        record({
          topology: t.id,
          item: 'placement',
          case: `${p.task ? 'set_mempolicy' : 'mbind'} ${p.id}`,
          kernel: perNode(pagesPerNode(kernel)),
          simulator: perNode(pagesPerNode(sim)) + (same ? ' (page by page)' : ''),
          tolerance: 'exact, page by page',
          verdict: same ? 'same' : 'differs',
        });
        assert.deepEqual(sim, kernel, `${p.id}: node of every page`);
      });
    }

    if (!withReclaim) return;

    for (const c of RECLAIM_CASES) it(`reclaim: ${c.title}`, () => reclaimCase(t, c, g.s.get(c.id) ?? ''));

    it('NUMA-balancing promotion (numa_balancing=2) of a hot buffer on the CXL node', () => {
      const h = parseHelper(g.s.get('promotion') ?? '');
      const before = pagesPerNode(h.queries[0]);
      const after = pagesPerNode(h.queries[h.queries.length - 1]);
      const delta = (k: string): number =>
        (parseCounters(h.lines.get('after')).get(k) ?? NaN) -
        (parseCounters(h.lines.get('before')).get(k) ?? NaN);
      const sim = promotion(t);
      const kPromoted = after.get(0) ?? 0;
      const sPromoted = sim.pages.get(0) ?? 0;
      record({
        topology: t.id,
        item: 'promotion',
        case: `${PROMOTION_PAGES} pages on node 1, touched 10 s`,
        kernel: `${perNode(after)}; pgpromote_success ${delta('pgpromote_success')}`,
        simulator: `${perNode(sim.pages)}; pgpromote_success ${sim.pgpromote}`,
        tolerance: 'direction, and both ≥ half the buffer',
        verdict:
          kPromoted >= PROMOTION_PAGES / 2 && sPromoted >= PROMOTION_PAGES / 2 ? 'within band' : 'differs',
      });
      assert.equal(before.get(1), PROMOTION_PAGES, 'the buffer starts on node 1');
      assert.ok(kPromoted >= PROMOTION_PAGES / 2, `kernel promoted ${kPromoted}`);
      assert.ok(sPromoted >= PROMOTION_PAGES / 2, `numatier promoted ${sPromoted}`);
      assert.equal(sim.pages.get(1) ?? 0, PROMOTION_PAGES - sPromoted);
    });
  });
}

/** Figures the guest printed for one reclaim case. */
function kernelReclaim(text: string): ReclaimFigures & { freeKiB: number[]; errno: number } {
  const h = parseHelper(text);
  const stat = parseFlat([...h.reads.entries()].find(([f]) => f.endsWith('memory.stat'))?.[1] ?? '');
  const numaStat = parseNumaStat(
    [...h.reads.entries()].find(([f]) => f.endsWith('memory.numa_stat'))?.[1] ?? '',
  );
  const before = parseCounters(h.lines.get('before'));
  const after = parseCounters(h.lines.get('after'));
  const write = h.steps.find((s) => s.step === 'write' && String(s.file).endsWith('memory.reclaim'));
  return {
    pages: pagesPerNode(h.queries[h.queries.length - 1]),
    pgsteal: stat.get('pgsteal_direct') ?? NaN,
    pgscan: stat.get('pgscan_direct') ?? NaN,
    pgdemote: stat.get('pgdemote_direct') ?? NaN,
    pswpout: (after.get('pswpout') ?? NaN) - (before.get('pswpout') ?? NaN),
    globalPgsteal: (after.get('pgsteal_direct') ?? NaN) - (before.get('pgsteal_direct') ?? NaN),
    freeKiB: (h.lines.get('free') ?? '').trim().split(/\s+/).map(Number),
    errno: Number(write?.errno ?? 0),
    numaStatAnon: numaStat.get('anon') ?? [],
  };
}

function showReclaim(f: ReclaimFigures): string {
  const anon = f.numaStatAnon.map((p, n) => `N${n}=${Math.round(p)}`).join(' ');
  return `${perNode(f.pages)}; numa_stat anon ${anon}; pgsteal ${f.pgsteal}, pgdemote ${f.pgdemote}, pswpout ${f.pswpout}, pgscan ${f.pgscan}`;
}

/**
 * The band of the reclaim cases, in pages: 10 % of the 4096 requested. The kernel's split
 * between demotion and swap-out moves with what is on each LRU when a batch starts (per-CPU
 * folio batches drained only on retries, pages still in the swap cache), and its scan counts
 * with the order isolate_lru_folios() meets them; the totals (what memory.reclaim and
 * memory.max promise) are held much tighter below.
 */
const BAND = 410;
/**
 * Under memory.max the split of what stays resident between node 0 and node 1 is the widest:
 * 2458 pages (15 % of the mapping). The kernel writes a page to swap asynchronously and frees
 * it only when a later pass meets it again, its write done; numatier frees it at once. Every
 * charge reclaims a little, hundreds of times, so in the kernel more pages are demoted while
 * the writes are in flight: over eleven guest runs it kept 3979–4336 pages on node 1, numatier
 * keeps 2845.
 */
const MAX_PRESSURE_SPLIT_BAND = 2458;

function reclaimCase(t: DiffTopology, c: ReclaimCase, text: string): void {
  const k = kernelReclaim(text);
  const s = reclaim(t, c, k.freeKiB);
  const near = (a: number, b: number, band = BAND): boolean => Math.abs(a - b) <= band;
  const row = (verdict: CaseResult['verdict'], tolerance: string, why?: string): void =>
    record({
      topology: t.id,
      item: 'reclaim',
      case: c.title,
      kernel: showReclaim(k),
      simulator: showReclaim(s),
      tolerance,
      verdict,
      ...(why !== undefined ? { why } : {}),
    });
  assert.equal(k.errno, 0, 'memory.reclaim succeeded in the guest');
  // /proc/vmstat's pgsteal_<reclaimer> leaves cgroup reclaim out; memory.stat has it.
  assert.equal(k.globalPgsteal, 0, 'kernel: cgroup reclaim is not in /proc/vmstat pgsteal_direct');
  assert.equal(s.globalPgsteal, 0, 'numatier: nor in its /proc/vmstat');
  if (c.id === 'cpuset-demote' || c.id === 'cpuset-writer') {
    if (c.id === 'cpuset-demote') {
      row(
        'differs',
        'kernel version',
        '6.12 demotes to node 1 whatever the group’s cpuset.mems; numatier models 6.16+, where demotion stays within cpuset.mems and the pages are swapped out instead',
      );
      assert.ok(
        k.pgdemote > 2048 && (k.pages.get(1) ?? 0) > 2048,
        'kernel 6.12: demoted to node 1 despite cpuset.mems 0',
      );
    } else {
      row(
        'differs',
        'not modelled',
        'the writer’s own cpuset bars the target node from the migration’s allocation, so 6.12 “demotes” within node 0: pgdemote counts, nothing moves, nothing is freed; numatier has no writer context',
      );
      assert.equal(k.pages.get(0), RECLAIM_PAGES, 'kernel: every page still on node 0');
      assert.ok(k.pgdemote > 0, 'kernel: counted as demoted');
    }
    assert.equal(s.pgdemote, 0, 'numatier (6.16+): no demotion outside cpuset.mems');
    assert.ok(near(s.pswpout, 4096, 82), 'numatier: swapped out instead');
    return;
  }
  if (c.id === 'max-pressure') {
    const kResident = RECLAIM_PAGES - (k.pages.get(-1) ?? 0);
    const sResident = RECLAIM_PAGES - (s.pages.get(-1) ?? 0);
    row(
      'within band',
      'resident ≤ memory.max and pswpout within 2 % of the mapping; pages left on node 1 within 15 % of it',
    );
    assert.ok(
      kResident <= 8192 + 64 && sResident <= 8192 + 64,
      `resident: kernel ${kResident}, numatier ${sResident}`,
    );
    assert.ok(near(k.pswpout, s.pswpout, 328), `pswpout: kernel ${k.pswpout}, numatier ${s.pswpout}`);
    assert.ok((k.pages.get(1) ?? 0) > 0 && (s.pages.get(1) ?? 0) > 0, 'both keep demoted pages on node 1');
    assert.ok(
      near(k.pages.get(1) ?? 0, s.pages.get(1) ?? 0, MAX_PRESSURE_SPLIT_BAND),
      `pages left on node 1: kernel ${k.pages.get(1) ?? 0}, numatier ${s.pages.get(1) ?? 0}`,
    );
    return;
  }
  row(
    'within band',
    'pgsteal within 2 % of the request; the demote/swap split and pages per node within 10 %',
  );
  assert.ok(near(k.pgsteal, s.pgsteal, 82), `pgsteal: kernel ${k.pgsteal}, numatier ${s.pgsteal}`);
  assert.ok(near(k.pgdemote, s.pgdemote), `pgdemote: kernel ${k.pgdemote}, numatier ${s.pgdemote}`);
  assert.ok(near(k.pswpout, s.pswpout), `pswpout: kernel ${k.pswpout}, numatier ${s.pswpout}`);
  for (const n of [0, 1, -1])
    assert.ok(
      near(k.pages.get(n) ?? 0, s.pages.get(n) ?? 0),
      `pages ${n}: kernel ${k.pages.get(n)}, numatier ${s.pages.get(n)}`,
    );
  // memory.numa_stat anon also holds the helper's own few pages (stack, data) besides the mapping.
  for (const n of [0, 1])
    assert.ok(
      near(k.numaStatAnon[n] ?? 0, s.numaStatAnon[n] ?? 0),
      `memory.numa_stat anon N${n}: kernel ${k.numaStatAnon[n]}, numatier ${s.numaStatAnon[n]}`,
    );
  if (!c.demotion) assert.equal(k.pgdemote, 0);
}
