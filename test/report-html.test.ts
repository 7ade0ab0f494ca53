import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { VMSTAT_ITEMS } from '../src/host/vmstat.js';
import { MIGRATE_REASONS } from '../src/host/migration-ledger.js';
import { renderReport, jsonForScript, type ReportInput, type ReportRun } from '../src/report/html.js';
import { ratePerSecond, reportPlots, type LinePlotSpec, type PlotSpec } from '../src/report/html-plots.js';
import { inlineSafe } from '../src/report/plot-lib.js';
import type { Summary, VmSummary } from '../src/report/summary.js';
import { InputError } from '../src/util/errors.js';

// A synthetic but realistically shaped run: two DRAM nodes and one CPU-less CXL node, three VMs
// (two with fast:slow ratios), sampled every 50 ms for 3 s, columns exactly as TimeSeries writes them.

const NODES = [
  { id: 0, tier: 4, toptier: true, capacity_pages: 262144 },
  { id: 1, tier: 4, toptier: true, capacity_pages: 262144 },
  { id: 2, tier: 22, toptier: false, capacity_pages: 1048576 },
];

interface VmShape {
  name: string;
  cpu: number;
  rss: number;
  share: number;
  amat: number;
  stopsAt?: number;
  promoted: number;
  demoted: number;
  pingpong: number;
}

function vmSummary(v: VmShape, i: number, withMigrations: boolean): VmSummary {
  const migrations = Object.fromEntries(MIGRATE_REASONS.map((r) => [r, 0]));
  if (withMigrations) {
    migrations.demote_kswapd = v.demoted;
    migrations.promote_hint_fault = v.promoted;
  }
  return {
    name: v.name,
    cgroup: `/vms/${v.name}`,
    cpu_node: v.cpu,
    footprint_touched: 1,
    measured: null,
    accesses: 40_000_000 + i * 1_000_000,
    reads: 32_000_000,
    writes: 8_000_000 + i * 1_000_000,
    amat_ns: v.amat,
    kernel_ns_per_access: 1.25 + i,
    memory_high_throttle_ms: 0,
    slowdown: 1.1 + 0.35 * i,
    fast_tier_hit_ratio: 0.93 - 0.2 * i,
    busy_ms: 2900,
    ideal_ms: 2400 - 300 * i,
    rss_pages: v.rss,
    fast_share: v.share,
    pages_by_node: { '0': Math.round(v.rss * v.share), '1': 0, '2': Math.round(v.rss * (1 - v.share)) },
    hits_by_node: { '0': 30_000_000, '1': 0, '2': 10_000_000 },
    oom_killed: false,
    finished: v.stopsAt !== undefined,
    finished_ms: v.stopsAt ?? null,
    migrations,
    promoted_pages: withMigrations ? v.promoted : 0,
    demoted_pages: withMigrations ? v.demoted : 0,
    pingpong_pages: withMigrations ? v.pingpong : 0,
    demotion_cycles: 0,
    promote_mib_per_s: withMigrations ? (v.promoted * 4096) / 2 ** 20 / 3 : 0,
    demote_mib_per_s: withMigrations ? (v.demoted * 4096) / 2 ** 20 / 3 : 0,
    thrashing: withMigrations && v.pingpong >= 1000 && v.pingpong >= 0.1 * v.promoted,
    kernel_memory: null,
  };
}

function makeRun(
  label: string,
  vms: VmShape[],
  opts: { migrations: boolean; targets?: Record<string, number> },
): ReportRun {
  const samples = 60;
  const columns = ['time_ms', ...NODES.map((n) => `node${n.id}_free_pages`)];
  for (const v of vms)
    columns.push(
      `vm_${v.name}_rss_pages`,
      `vm_${v.name}_fast_share`,
      `vm_${v.name}_accesses`,
      `vm_${v.name}_amat_ns`,
    );
  for (const v of vms)
    columns.push(`cg/vms/${v.name}_pages`, ...NODES.map((n) => `cg/vms/${v.name}_N${n.id}_pages`));
  columns.push(...VMSTAT_ITEMS);
  const rows: number[][] = [];
  const counters: Record<string, number> = Object.fromEntries(VMSTAT_ITEMS.map((k) => [k, 0]));
  for (let s = 1; s <= samples; s++) {
    const t = s * 50;
    const ramp = Math.min(1, s / 20);
    const row = [
      t,
      ...NODES.map((n) => Math.round(n.capacity_pages * (n.toptier ? 1 - 0.97 * ramp : 1 - 0.4 * ramp))),
    ];
    for (const v of vms) {
      const running = v.stopsAt === undefined || t < v.stopsAt;
      row.push(Math.round(v.rss * ramp), Number((v.share + (1 - v.share) * (1 - ramp)).toFixed(6)));
      row.push(
        Math.round(40_000_000 * (v.stopsAt !== undefined ? Math.min(t, v.stopsAt) / v.stopsAt : s / samples)),
      );
      row.push(running ? Number((v.amat * (1 + 0.15 * Math.sin(s / 4))).toFixed(3)) : 0);
    }
    for (const v of vms)
      row.push(Math.round(v.rss * ramp), ...NODES.map((n) => Math.round((v.rss * ramp) / (n.id + 2))));
    if (opts.migrations && s > 15) {
      counters.pgdemote_kswapd += 2000 + 300 * (s % 7);
      counters.pgpromote_success += 800 + 100 * (s % 5);
      counters.numa_pages_migrated += 900 + 100 * (s % 5);
      if (s % 10 === 0) counters.pgdemote_direct += 500;
    }
    counters.pgfault += 5000;
    row.push(...VMSTAT_ITEMS.map((k) => counters[k]));
    rows.push(row);
  }
  const summary: Summary = {
    scenario: 'synthetic-cxl-host',
    seed: 7,
    simulated_ms: 3000,
    measure: 'the whole run',
    vms: vms.map((v, i) => vmSummary(v, i, opts.migrations)),
    nodes: NODES.map((n, i) => ({
      ...n,
      free_pages: rows[samples - 1][1 + i],
      kswapd_ms: n.toptier ? 12.5 : 0,
      kswapd_wakeups: n.toptier ? 3 : 0,
    })),
    cgroups: vms.map((v) => ({
      path: `/vms/${v.name}`,
      memory_current: v.rss * 4096,
      memory_max: 'max' as const,
      memory_high: 'max' as const,
      memory_low: 0,
      memory_min: 0,
      memory_swap_current: 0,
      memory_swap_max: 'max' as const,
      memory_peak: v.rss * 4096,
      memory_swap_peak: 0,
      numa_stat: { anon: { N0: v.rss * 4096 } },
      memory_stat: { anon: v.rss * 4096 },
      memory_events: { low: 0, high: 0, max: 0, oom: 0, oom_kill: 0 },
    })),
    vmstat: { ...counters },
    swap: { total_pages: 262144, used_pages: 0 },
    tiering: {
      demotion_enabled: true,
      demotion_policy: 'kernel',
      numa_balancing: 2,
      promotion_filter: 'hot-threshold',
      not_hot: 1234,
      rate_limited: 56,
      promote_free_space: 0,
      failed_watermark: 3,
      refused_by_quota: 0,
      pgpromote_candidate_by_node: { '0': 0, '1': 0, '2': 4000 },
      hot_threshold_ms_by_node: { '0': 0, '1': 0, '2': 1000 },
    },
  };
  return { label, summary, series: { columns, rows }, targets: opts.targets };
}

const VMS: VmShape[] = [
  {
    name: 'web',
    cpu: 0,
    rss: 300000,
    share: 0.5,
    amat: 142.5,
    promoted: 52000,
    demoted: 98000,
    pingpong: 6100,
  },
  {
    name: 'db',
    cpu: 1,
    rss: 250000,
    share: 0.25,
    amat: 188.2,
    promoted: 20000,
    demoted: 41000,
    pingpong: 300,
  },
  {
    name: 'batch',
    cpu: 0,
    rss: 120000,
    share: 0.8,
    amat: 120.9,
    stopsAt: 2000,
    promoted: 4000,
    demoted: 9000,
    pingpong: 0,
  },
];

const singleInput = (): ReportInput => ({
  title: 'numatier simulate: synthetic-cxl-host, seed 7',
  runs: [makeRun('synthetic-cxl-host', VMS, { migrations: true, targets: { web: 0.5, db: 0.25 } })],
  notes: ['scenario file: synthetic.yaml'],
});

const HOSTILE = `</script><script>document.body.setAttribute('data-pwned','1')</script>`;
const experimentInput = (): ReportInput => ({
  title: 'numatier experiment: demotion policies',
  runs: [
    makeRun('kernel', VMS, { migrations: true, targets: { web: 0.5, db: 0.25 } }),
    makeRun('one-way', VMS, { migrations: true }),
    // A policy that moved nothing, with a VM whose name tries to break out of the data script.
    makeRun('no-tiering', [...VMS.slice(0, 2), { ...VMS[2], name: HOSTILE }], { migrations: false }),
  ],
  notes: ['three policies, same seed', 'line\u2028separator and <b>markup</b> in a note'],
});

const line = (plots: PlotSpec[], id: string): LinePlotSpec => {
  const p = plots.find((q) => q.id === id);
  assert.ok(p !== undefined && p.kind === 'line', `no line plot ${id}`);
  return p;
};

describe('report plots (derived data)', () => {
  it('rates are Δcount / Δtime per second, the first from time 0; a falling counter gives no rate', () => {
    assert.deepEqual(ratePerSecond([100, 200, 300, 350], [50, 50, 150, 140]), [500, 0, 1000, null]);
    assert.deepEqual(ratePerSecond([0, 250], [0, 1000]), [null, 4000]);
  });

  it('single run: overview bars then five plots of the run, in a fixed order', () => {
    const ids = reportPlots(singleInput().runs).map((p) => p.id);
    assert.deepEqual(ids, [
      'overview-slowdown',
      'overview-fast-hit',
      'run0-occupancy',
      'run0-fast-share',
      'run0-migration',
      'run0-amat',
      'run0-pingpong',
    ]);
  });

  it('occupancy: used = capacity − free, in MiB for 1 GiB nodes and GiB once a node reaches 4 GiB', () => {
    const run = singleInput().runs[0];
    const p = line(reportPlots([run]), 'run0-occupancy');
    assert.equal(p.yLabel, 'GiB'); // node 2 holds 4 GiB
    const free2 = run.series.rows[10][3];
    const used = p.series.find((s) => s.label.startsWith('node 2') && s.label.endsWith('used'));
    assert.ok(used);
    assert.ok(Math.abs((used.values[10] as number) - ((1048576 - free2) * 4096) / 2 ** 30) < 1e-5);
    const small = makeRun('small', VMS, { migrations: true });
    small.summary.nodes = small.summary.nodes.slice(0, 2);
    assert.equal(line(reportPlots([small]), 'run0-occupancy').yLabel, 'MiB');
  });

  it('fast share: a dashed target line only for VMs that have a ratio', () => {
    const p = line(reportPlots(singleInput().runs), 'run0-fast-share');
    const targets = p.series.filter((s) => s.dash !== undefined);
    assert.deepEqual(
      targets.map((s) => s.label),
      ['web target', 'db target'],
    );
    assert.ok(targets[0].values.every((v) => v === 0.5));
    assert.ok(targets[1].values.every((v) => v === 0.25));
    assert.deepEqual(p.yRange, [0, 1]);
    const none = line(reportPlots([makeRun('x', VMS, { migrations: true })]), 'run0-fast-share');
    assert.equal(none.series.filter((s) => s.dash !== undefined).length, 0);
  });

  it("fast share: without a targets map, each VM's target_fast_ratio from the summary; the map overrides it", () => {
    const run = makeRun('x', VMS, { migrations: true });
    run.summary.vms[1].target_fast_ratio = 0.4;
    run.summary.vms[2].target_fast_ratio = null;
    const dashed = (r: ReportRun): string[] =>
      line(reportPlots([r]), 'run0-fast-share')
        .series.filter((s) => s.dash !== undefined)
        .map((s) => `${s.label}=${s.values[0]}`);
    assert.deepEqual(dashed(run), ['db target=0.4']);
    assert.deepEqual(dashed({ ...run, targets: { web: 0.5 } }), ['web target=0.5']);
    assert.match(renderReport({ title: 't', runs: [run] }), /<td>0\.400<\/td>/);
    // With the sampled target in the time series (1 where no ratio is set), the line follows it.
    run.series.columns.push('vm_db_target_fast_ratio', 'vm_batch_target_fast_ratio');
    run.series.rows.forEach((r, i) => r.push(i < 30 ? 0.5 : 0.4, 1));
    const follows = line(reportPlots([run]), 'run0-fast-share').series.filter((s) => s.dash !== undefined);
    assert.deepEqual(
      follows.map((s) => [s.label, s.values[0], s.values[59]]),
      [['db target', 0.5, 0.4]],
    );
  });

  it('migration rates by mechanism: counters that never moved are named in the caption, not drawn', () => {
    const run = singleInput().runs[0];
    const p = line(reportPlots([run]), 'run0-migration');
    assert.deepEqual(
      p.series.map((s) => s.label.replace(/.*\((.*)\)/, '$1')),
      ['pgpromote_success', 'pgdemote_kswapd', 'pgdemote_direct', 'numa_pages_migrated'],
    );
    assert.match(p.caption, /pgdemote_proactive, pswpin, pswpout/);
    const kswapd = p.series[1];
    const c = run.series.columns.indexOf('pgdemote_kswapd');
    const r = run.series.rows;
    assert.equal(kswapd.values[20], ((r[20][c] - r[19][c]) * 1000) / (r[20][0] - r[19][0]));
    assert.ok(p.series.every((s) => s.stepped === true));
  });

  it('AMAT: an interval without accesses is a gap, not 0 ns', () => {
    const p = line(reportPlots(singleInput().runs), 'run0-amat');
    const batch = p.series.find((s) => s.label === 'batch');
    assert.ok(batch);
    assert.equal(batch.values[59], null); // stopped at 2000 ms
    assert.ok((batch.values[0] as number) > 100);
  });

  it('experiment: bars compare runs side by side, a VM missing from a run is a missing bar', () => {
    const plots = reportPlots(experimentInput().runs);
    const slow = plots.find((p) => p.id === 'overview-slowdown');
    assert.ok(slow && slow.kind === 'bar');
    assert.deepEqual(
      slow.series.map((s) => s.label),
      ['kernel', 'one-way', 'no-tiering'],
    );
    assert.deepEqual(slow.categories, ['web', 'db', 'batch', HOSTILE]);
    assert.equal(slow.series[0].values[3], null);
    assert.equal(slow.series[2].values[2], null);
    assert.ok(plots.some((p) => p.id === 'overview-pingpong'));
    assert.equal(plots.length, 3 + 3 * 5);
  });
});

describe('report.html (static checks)', () => {
  it('is self-contained: library inlined, nothing referenced by URL, a CSP that forbids fetching', () => {
    const html = renderReport(singleInput());
    assert.match(
      html,
      /<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'/,
    );
    assert.ok(!/<script[^>]*\ssrc\s*=/i.test(html), 'a <script src>');
    assert.ok(!/<link\b/i.test(html), 'a <link>');
    assert.ok(
      !/\s(src|href|action|poster|data)\s*=\s*["']?\s*(https?:)?\/\//i.test(html),
      'an attribute with a URL',
    );
    assert.ok(!/url\(\s*["']?\s*(https?:)?\/\//i.test(html), 'a CSS url()');
    assert.ok(!/@import/i.test(html), 'a CSS @import');
    assert.ok(html.includes('var uPlot='), 'uPlot code inlined');
    assert.ok(html.length > 50_000);
    assert.match(html, /data-plots-expected="7" data-plots-drawn="0" data-errors=""/);
  });

  it('the kernel table shows promotions refused by the ratio quota, and labels free-space promotions as allowed', () => {
    const input = singleInput();
    const t = input.runs[0].summary.tiering;
    t.refused_by_quota = 1_060_321;
    t.promote_free_space = 4_242;
    const html = renderReport(input);
    const row = (label: string): string | undefined =>
      new RegExp(`<td[^>]*>${label}</td>\\s*<td[^>]*>([^<]*)</td>`).exec(html)?.[1];
    assert.equal(row('not promoted: ratio quota'), '1,060,321');
    assert.equal(row('promotion allowed: fast node had free space'), '4,242');
    assert.equal(row('not promoted: no free space'), undefined, 'free-space promotions are not refusals');
  });

  it('is deterministic: the same input gives the same bytes', () => {
    assert.equal(renderReport(singleInput()), renderReport(singleInput()));
    assert.equal(renderReport(experimentInput()), renderReport(experimentInput()));
    assert.notEqual(renderReport(singleInput()), renderReport(experimentInput()));
  });

  it('embedded JSON cannot end its script element and round-trips, U+2028/2029 included', () => {
    const html = renderReport(experimentInput());
    const m = /<script type="application\/json" id="numatier-data">([\s\S]*?)<\/script>/.exec(html);
    assert.ok(m);
    assert.ok(!/[<>\u2028\u2029]/.test(m[1]));
    const data = JSON.parse(m[1]) as { plots: PlotSpec[]; runs: { label: string; summary: Summary }[] };
    assert.equal(data.runs[2].summary.vms[2].name, HOSTILE);
    assert.equal(data.plots.length, 18);
    assert.ok(!html.includes(`<script>document.body.setAttribute('data-pwned'`));
    assert.ok(html.includes('&#60;b&#62;markup&#60;/b&#62;'), 'notes are escaped');
    assert.equal(jsonForScript({ a: '</script>\u2029&' }), '{"a":"\\u003c/script\\u003e\\u2029\\u0026"}');
  });

  it('inlined library text cannot close its element', () => {
    assert.equal(inlineSafe('a="</SCRIPT>";b="<!--"', 'script'), 'a="<\\/SCRIPT>";b="<\\!--"');
    assert.equal(inlineSafe('x{}</style>', 'style'), 'x{}<\\/style>');
  });

  it('refuses inconsistent input, naming the field', () => {
    const bad = (edit: (i: ReportInput) => void, re: RegExp): void => {
      const input = singleInput();
      edit(input);
      assert.throws(
        () => renderReport(input),
        (e: unknown) => e instanceof InputError && re.test(e.message),
      );
    };
    bad(
      (i) => ((i.runs[0].targets as Record<string, number>).web = 1.7),
      /^runs\[0\]\.targets\.web: .*between 0 and 1, got 1\.7/,
    );
    bad((i) => (i.runs[0].targets = { nosuch: 0.5 }), /^runs\[0\]\.targets\.nosuch: no VM named nosuch/);
    bad((i) => i.runs[0].series.rows[3].pop(), /^runs\[0\]\.series\.rows\[3\]: expected \d+ values/);
    bad(
      (i) => (i.runs[0].series.rows[4][0] = 10),
      /^runs\[0\]\.series\.rows\[4\]: expected time_ms to increase/,
    );
    bad((i) => (i.runs = []), /^runs: expected at least one run/);
    bad(
      (i) => (i.runs[0].summary.vms[2].target_fast_ratio = -0.1),
      /^runs\[0\]\.summary\.vms\[2\]\.target_fast_ratio: .*between 0 and 1, got -0\.1/,
    );
  });
});

// Headless Chromium: the page must draw every plot with no error, offline.

function findChromium(): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir !== '' && existsSync(join(dir, 'chromium'))) return join(dir, 'chromium');
  }
  return existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : null;
}

const tmp = mkdtempSync(join(tmpdir(), 'numatier-report-html-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface PageState {
  expected: number;
  drawn: number;
  errors: string;
  dom: string;
}

function loadInChromium(name: string, html: string): PageState {
  const bin = findChromium();
  assert.ok(
    bin !== null,
    "chromium not found: this test needs Debian's chromium (npm test installs it as root; otherwise: apt-get install -y chromium)",
  );
  const file = join(tmp, `${name}.html`);
  writeFileSync(file, html);
  const profile = mkdtempSync(join(tmp, 'profile-'));
  const r = spawnSync(
    bin,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      '--virtual-time-budget=10000',
      '--dump-dom',
      pathToFileURL(file).href,
    ],
    { encoding: 'utf8', timeout: 120_000, maxBuffer: 64 * 2 ** 20 },
  );
  assert.equal(r.status, 0, `chromium failed (${String(r.error ?? r.signal)}): ${r.stderr}`);
  const body = /<body\b([^>]*)>/.exec(r.stdout);
  assert.ok(body, `no <body> in chromium's DOM dump: ${r.stdout.slice(0, 500)}`);
  const attr = (k: string): string => {
    const m = new RegExp(`\\s${k}="([^"]*)"`).exec(body[1]);
    assert.ok(m, `<body> has no ${k}`);
    return m[1];
  };
  return {
    expected: Number(attr('data-plots-expected')),
    drawn: Number(attr('data-plots-drawn')),
    errors: attr('data-errors'),
    dom: r.stdout,
  };
}

function assertAllDrawn(s: PageState, expected: number): void {
  assert.equal(s.errors, '', 'errors recorded by the page');
  assert.equal(s.expected, expected);
  assert.ok(s.drawn > 0);
  assert.equal(s.drawn, s.expected, 'plots drawn');
  assert.equal((s.dom.match(/data-drawn="true"/g) ?? []).length, expected);
  assert.ok((s.dom.match(/<canvas\b/g) ?? []).length >= expected);
  // After the scripts ran, the DOM still points at nothing on the network.
  assert.ok(
    !/<(script|img|iframe|link|source|video|audio|embed|object)\b[^>]*\s(src|href|data)\s*=\s*["']?\s*(https?:)?\/\//i.test(
      s.dom,
    ),
  );
  assert.ok(!/url\(\s*["']?\s*(https?:)?\/\//i.test(s.dom));
  // The hostile VM name is shown as text (escaped) but its script never ran.
  assert.ok(!/<body\b[^>]*data-pwned/.test(s.dom), 'a VM name ran as a script');
}

describe('report.html in headless Chromium', () => {
  it('simulate (one run): every plot drawn, no error', () => {
    assertAllDrawn(loadInChromium('single', renderReport(singleInput())), 7);
  });

  it('experiment (three runs, one that moved nothing, a hostile VM name): every plot drawn, no error', () => {
    assertAllDrawn(loadInChromium('experiment', renderReport(experimentInput())), 18);
  });

  it('the checks can fail: without the library no plot is drawn and the failures are recorded', () => {
    const html = renderReport(singleInput()).replace(
      /<script>\/\*! https:\/\/github\.com\/leeoniya[\s\S]*?<\/script>/,
      '',
    );
    const s = loadInChromium('nolib', html);
    assert.equal(s.expected, 7);
    assert.equal(s.drawn, 0);
    assert.match(s.errors, /run0-amat: the plotting library did not load/);
  });

  it('the content policy blocks and records any fetch', () => {
    const html = renderReport(singleInput()).replace(
      '</main>',
      '<img src="http://127.0.0.1:9/x.png" alt=""></main>',
    );
    const s = loadInChromium('fetch', html);
    assert.match(s.errors, /blocked by the content policy: img-src http:\/\/127\.0\.0\.1:9\/x\.png/);
  });
});
