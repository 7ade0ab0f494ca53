import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { mtPerfToAdistance } from '../src/topology/adistance.js';
import { dumpDemotionTargets } from '../src/topology/demotion.js';
import { normalizeTopology } from '../src/topology/load.js';
import { adistanceStart, tierIdOf } from '../src/topology/memory-tiers.js';
import { buildTopologyModel } from '../src/topology/model.js';
import { formatNodelist } from '../src/topology/nodemask.js';

// Conformance with the kernel examples collected in the fixtures (SPEC.md CE-1, CE-2, CE-5), through
// the library and through the CLI.

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const cli = resolve(root, 'dist/src/cli/main.js');
const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(resolve(root, 'test/fixtures', name), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'numatier-topology-ce-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

interface Ce1Expect {
  tiers_rank_order: number[][];
  sysfs: Record<string, string>;
  preferred: Record<string, number[]>;
  fallback: Record<string, number[]>;
  top_tier_adistance: number;
  toptier: Record<string, boolean>;
}
interface Ce1Case {
  name: string;
  source: string;
  expect: Ce1Expect;
  [k: string]: unknown;
}
interface Ce1File {
  cases: Ce1Case[];
  dump_demotion_targets: { case: string; lines: string[] };
}

/** The topology file a case describes: everything but the harness keys. */
function topologyOf(c: Ce1Case): Record<string, unknown> {
  return Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'expect' && k !== 'source'));
}

function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function writeTopology(name: string, doc: unknown): string {
  const p = join(tmp, `${name}.json`);
  writeFileSync(p, JSON.stringify(doc));
  return p;
}

const ce1 = fixture('kernel-ce1-memtiers.json') as Ce1File;

describe('CE-1 memory tiers and demotion targets (mm/memory-tiers.c examples)', () => {
  for (const c of ce1.cases) {
    for (const nodeLoad of ['kernel', 'zero'] as const) {
      it(`${c.name} (library, node_load ${nodeLoad})`, () => {
        const model = buildTopologyModel(normalizeTopology(topologyOf(c)), { nodeLoad });
        const e = c.expect;
        assert.deepEqual(
          model.tiers.map((t) => [...t.nodes]),
          e.tiers_rank_order,
        );
        const sysfs = Object.fromEntries(
          model.tiers.map((t) => [`memory_tier${t.id}/nodelist`, formatNodelist(t.nodes)]),
        );
        assert.deepEqual(sysfs, e.sysfs);
        for (const n of model.nodes) {
          assert.deepEqual([...n.demotion.preferred], e.preferred[String(n.id)], `preferred of node ${n.id}`);
          assert.deepEqual([...n.demotion.fallback], e.fallback[String(n.id)], `fallback of node ${n.id}`);
          assert.equal(n.toptier, e.toptier[String(n.id)], `toptier of node ${n.id}`);
        }
        assert.equal(model.topTierAdistance, e.top_tier_adistance);
      });
    }

    it(`${c.name} (CLI --json)`, () => {
      const r = runCli(['topology', writeTopology(c.name, topologyOf(c)), '--json']);
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout) as {
        nodes: Array<{ id: number; toptier: boolean; tier: number }>;
        tiers: Array<{ id: number; nodes: number[] }>;
        demotion: Record<string, { preferred: number[]; fallback: number[] }>;
        top_tier_adistance: number;
      };
      const e = c.expect;
      assert.deepEqual(
        doc.tiers.map((t) => t.nodes),
        e.tiers_rank_order,
      );
      assert.deepEqual(
        Object.fromEntries(doc.tiers.map((t) => [`memory_tier${t.id}/nodelist`, formatNodelist(t.nodes)])),
        e.sysfs,
      );
      assert.deepEqual(
        Object.fromEntries(Object.entries(doc.demotion).map(([k, v]) => [k, v.preferred])),
        e.preferred,
      );
      assert.deepEqual(
        Object.fromEntries(Object.entries(doc.demotion).map(([k, v]) => [k, v.fallback])),
        e.fallback,
      );
      assert.deepEqual(Object.fromEntries(doc.nodes.map((n) => [String(n.id), n.toptier])), e.toptier);
      assert.equal(doc.top_tier_adistance, e.top_tier_adistance);
    });
  }

  it('dump_demotion_targets lines (library and CLI report)', () => {
    const d = ce1.dump_demotion_targets;
    const c = ce1.cases.find((x) => x.name === d.case);
    assert.ok(c, `fixture case ${d.case}`);
    const topo = normalizeTopology(topologyOf(c));
    assert.deepEqual(dumpDemotionTargets(topo, buildTopologyModel(topo).demotion), d.lines);

    const r = runCli(['topology', writeTopology(`${c.name}-report`, topologyOf(c))]);
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const first = lines.indexOf(d.lines[0]);
    assert.ok(first >= 0, `report contains "${d.lines[0]}"`);
    assert.deepEqual(lines.slice(first, first + d.lines.length), d.lines);
    for (const [k, v] of Object.entries(c.expect.sysfs)) {
      assert.ok(lines.includes(`${k.replace('/nodelist', '')} nodelist: ${v}`), `report lists ${k}`);
    }
  });
});

interface Ce2File {
  tiers: Array<{ adist: number; tier: number; start: number }>;
  perf: Array<{
    dram: { rl: number; wl: number; rb: number; wb: number };
    node: { rl: number; wl: number; rb: number; wb: number };
    adist: number;
    tier: number;
  }>;
}
const ce2 = fixture('kernel-ce2-adist.json') as Ce2File;
const coord = (p: { rl: number; wl: number; rb: number; wb: number }) => ({
  read_latency: p.rl,
  write_latency: p.wl,
  read_bandwidth: p.rb,
  write_bandwidth: p.wb,
});

describe('CE-2 abstract distance to tier', () => {
  for (const row of ce2.tiers) {
    it(`adist ${row.adist} -> memory_tier${row.tier} (start ${row.start})`, () => {
      assert.equal(tierIdOf(row.adist), row.tier);
      assert.equal(adistanceStart(row.adist), row.start);
    });
  }

  it('adist -> tier through a topology (CLI --json)', () => {
    // One CPU-less node per fixture row, next to the DRAM node with CPUs.
    const nodes: Array<Record<string, unknown>> = [{ id: 0, cpu: true }];
    ce2.tiers.forEach((row, i) => nodes.push({ id: i + 1, cpu: false, adist: row.adist }));
    const distance = nodes.map((a) => nodes.map((b) => (a.id === b.id ? 10 : 20)));
    const r = runCli(['topology', writeTopology('ce2-tiers', { nodes, distance }), '--json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = JSON.parse(r.stdout) as { nodes: Array<{ id: number; adistance: number; tier: number }> };
    ce2.tiers.forEach((row, i) => {
      const n = doc.nodes.find((x) => x.id === i + 1);
      assert.equal(n?.adistance, row.adist);
      assert.equal(n?.tier, row.tier);
    });
  });

  for (const p of ce2.perf) {
    it(`mt_perf_to_adistance: ${JSON.stringify(p.node)} against DRAM ${JSON.stringify(p.dram)} = ${p.adist}`, () => {
      assert.equal(mtPerfToAdistance(coord(p.node), coord(p.dram)), p.adist);
      assert.equal(tierIdOf(p.adist), p.tier);
    });

    it(`mt_perf_to_adistance example through a topology with HMAT attributes (library and CLI)`, () => {
      const perfKeys = (q: { rl: number; wl: number; rb: number; wb: number }) => ({
        read_latency: q.rl,
        write_latency: q.wl,
        read_bandwidth: q.rb,
        write_bandwidth: q.wb,
      });
      const doc = {
        nodes: [
          { id: 0, cpus: [0, 1], ...perfKeys(p.dram) },
          { id: 1, cpus: [], ...perfKeys(p.node) },
        ],
        distance: [
          [10, 20],
          [20, 10],
        ],
      };
      const model = buildTopologyModel(normalizeTopology(doc));
      assert.equal(model.nodes[1].adistance, p.adist);
      assert.equal(model.nodes[1].adistanceSource, 'perf');
      assert.equal(model.nodes[1].tier, p.tier);
      // The reference DRAM node itself comes out at exactly MEMTIER_ADISTANCE_DRAM.
      assert.equal(model.nodes[0].adistance, 576);

      const r = runCli(['topology', writeTopology('ce2-perf', doc), '--json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { nodes: Array<{ adistance: number; tier: number }> };
      assert.equal(out.nodes[1].adistance, p.adist);
      assert.equal(out.nodes[1].tier, p.tier);
    });
  }
});

interface Ce5Row {
  node: string;
  managed: number;
  min_free_kbytes: number;
  MIN: number;
  delta: number;
  LOW: number;
  HIGH: number;
  PROMO: number;
}
const ce5 = fixture('kernel-ce5-watermarks.json') as { watermark_scale_factor: number; rows: Ce5Row[] };

describe('CE-5 watermarks (calculate_min_free_kbytes, __setup_per_zone_wmarks)', () => {
  for (const row of ce5.rows) {
    const doc = { nodes: [{ id: 0, cpus: [0], size: row.node }], distance: [[10]] };

    it(`single ${row.node} node (library)`, () => {
      const model = buildTopologyModel(normalizeTopology(doc), {
        watermarkScaleFactor: ce5.watermark_scale_factor,
      });
      const n = model.nodes[0];
      assert.equal(n.capacityPages, row.managed);
      assert.equal(model.minFreeKbytes, row.min_free_kbytes);
      assert.deepEqual({ ...n.watermarks }, { min: row.MIN, low: row.LOW, high: row.HIGH, promo: row.PROMO });
      assert.equal(n.watermarks.low - n.watermarks.min, row.delta);
    });

    it(`single ${row.node} node (CLI --json)`, () => {
      const r = runCli(['topology', writeTopology(`ce5-${row.node}`, doc), '--json']);
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as {
        min_free_kbytes: number;
        nodes: Array<{ capacity_pages: number; watermarks: Record<string, number> }>;
      };
      assert.equal(out.min_free_kbytes, row.min_free_kbytes);
      assert.equal(out.nodes[0].capacity_pages, row.managed);
      assert.deepEqual(out.nodes[0].watermarks, {
        min: row.MIN,
        low: row.LOW,
        high: row.HIGH,
        promo: row.PROMO,
      });
    });
  }
});
