import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import type { InspectedHost } from '../../src/inspect/read-host.js';
import { ensureGuestPrerequisites } from './harness/prerequisites.js';
import { bootGuest, type GuestRun, type GuestTopology } from './harness/qemu.js';
import { printSections, sectionsOf } from './harness/sections.js';
import {
  numatierTopology,
  parseDemotionTargets,
  type DemotionTargets,
  type TopologyJSON,
} from './harness/topology-check.js';
import { TWO_NODE_HMAT, TWO_NODES } from './harness/topologies.js';

// `numatier inspect` in a QEMU guest running Debian's 6.12 kernel, on two NUMA nodes: node 0
// with the CPUs, node 1 CPU-less. With HMAT the kernel ranks node 1 below node 0; without it,
// it cannot tell them apart. What inspect reports is checked against the kernel's own files and
// log, and numatier's model of the scenario inspect writes against the tiers the kernel made.

const log = (line: string): void => void process.stderr.write(`e2e: ${line}\n`);
const skip = ensureGuestPrerequisites(log);
if (skip !== null) log(skip);

/** Host clock; a loaded 2-core machine has taken ≈ 50 s for one such boot. */
const BOOT_TIMEOUT_MS = 5 * 60_000;

/**
 * The guest's command: a tenant cgroup with one process in it (so the cgroup tree and the
 * scenario have something to show), then inspect in both forms, then the kernel's log lines
 * about demotion targets.
 */
const COMMAND = `
mkdir /sys/fs/cgroup/tenant-a
# Joins the group before exec: cgroup v2 leaves charges where they were made, so a process
# moved in after it started would show memory.current 0.
sh -c 'echo $$ > /sys/fs/cgroup/tenant-a/cgroup.procs && exec sleep 600' &
node dist/src/cli/main.js inspect --json --scenario /tmp/host.yaml > /tmp/inspect.json 2> /tmp/inspect.err
echo $? > /tmp/inspect.rc
node dist/src/cli/main.js inspect > /tmp/inspect.txt 2>&1
dmesg | grep 'Demotion targets for Node' > /tmp/demotion.txt
cat /sys/devices/virtual/memory_tiering/memory_tier*/nodelist > /tmp/tiers.txt 2>&1
${printSections({
  rc: '/tmp/inspect.rc',
  json: '/tmp/inspect.json',
  err: '/tmp/inspect.err',
  text: '/tmp/inspect.txt',
  scenario: '/tmp/host.yaml',
  demotion: '/tmp/demotion.txt',
  tiers: '/tmp/tiers.txt',
})}
`;

interface GuestInspection {
  run: GuestRun;
  host: InspectedHost;
  text: string;
  scenarioText: string;
  /** "Demotion targets for Node N" lines of dmesg: node → preferred and fallback nodes. */
  demotion: Map<number, DemotionTargets>;
}

async function inspectGuest(t: GuestTopology): Promise<GuestInspection> {
  const run = await bootGuest({ ...t, command: COMMAND, timeoutMs: BOOT_TIMEOUT_MS });
  log(
    `guest: boot to /init ${((run.bootMs ?? NaN) / 1000).toFixed(1)} s, power-off after ${(run.wallMs / 1000).toFixed(1)} s (host clock), kernel ${run.kernel.release}`,
  );
  const s = sectionsOf(run.stdout);
  const where = run.kept ? ` (files in ${run.outDir})` : '';
  assert.equal(run.status, 0, `guest command failed${where}:\n${run.console.slice(-4000)}`);
  assert.equal(s.get('rc')?.trim(), '0', `inspect --json failed in the guest: ${s.get('err')}`);
  return {
    run,
    host: JSON.parse(s.get('json') ?? '') as InspectedHost,
    text: s.get('text') ?? '',
    scenarioText: s.get('scenario') ?? '',
    demotion: parseDemotionTargets(s.get('demotion') ?? ''),
  };
}

/** `numatier topology --json` of the scenario inspect wrote, run on this host. */
function modelOf(scenarioText: string): TopologyJSON {
  return numatierTopology('host.yaml', scenarioText);
}

function tierGroups(tiers: { nodes: number[] }[]): number[][] {
  return tiers.map((t) => [...t.nodes].sort((a, b) => a - b));
}

describe('numatier inspect in a guest with two memory tiers (HMAT)', { skip: skip ?? false }, () => {
  let g: GuestInspection;
  before(async () => {
    g = await inspectGuest({ ...TWO_NODES, hmat: TWO_NODE_HMAT });
  });

  it('sees node 0 with the CPUs and node 1 CPU-less, at SLIT distance 20', () => {
    assert.deepEqual(
      g.host.nodes.map((n) => [n.id, n.cpus, n.distances]),
      [
        [0, [0, 1], [10, 20]],
        [1, [], [20, 10]],
      ],
    );
    for (const n of g.host.nodes) {
      // 512 MiB less what firmware and the kernel's own structures take.
      assert.ok((n.mem_total_kib ?? 0) > 400 * 1024 && (n.mem_total_kib ?? 0) <= 512 * 1024, `node ${n.id}`);
    }
  });

  it('reads two memory tiers, node 1 in the lower one, as sysfs lists them', () => {
    assert.equal(g.host.tiers.length, 2, JSON.stringify(g.host.tiers));
    assert.deepEqual(tierGroups(g.host.tiers), [[0], [1]]);
    assert.ok(g.host.tiers[0].tier < g.host.tiers[1].tier);
    assert.deepEqual(
      g.host.nodes.map((n) => n.tier),
      g.host.tiers.map((t) => t.tier),
    );
    assert.match(g.text, /2 memory tiers: memory_tier\d+ \[0\] > memory_tier\d+ \[1\]/);
  });

  it('matches the demotion targets the kernel logged: node 0 demotes to node 1', () => {
    assert.deepEqual(g.demotion.get(0), { preferred: [1], fallback: [1] });
    assert.deepEqual(g.demotion.get(1), { preferred: [], fallback: [] });
    assert.equal(typeof g.host.demotion_enabled, 'boolean');
  });

  it('reads the HMAT latencies and bandwidths QEMU described', () => {
    assert.deepEqual(
      g.host.nodes.map((n) => n.hmat),
      [
        { read_latency: 100, write_latency: 100, read_bandwidth: 20480, write_bandwidth: 20480 },
        { read_latency: 300, write_latency: 300, read_bandwidth: 5120, write_bandwidth: 5120 },
      ],
    );
  });

  it('reads the cgroup v2 tree: the tenant group, its process and its memory per node', () => {
    assert.equal(g.host.cgroup_version, 2);
    const tenant = g.host.cgroups.find((c) => c.path === '/tenant-a');
    assert.ok(tenant, JSON.stringify(g.host.cgroups.map((c) => c.path)));
    assert.equal(tenant.procs.length, 1);
    assert.ok((tenant.memory_current ?? 0) > 0, `memory.current ${tenant.memory_current}`);
    assert.equal(tenant.memory_max, 'max');
    assert.ok(tenant.numa_stat?.anon !== undefined, JSON.stringify(tenant.numa_stat));
    assert.deepEqual(Object.keys(tenant.numa_stat.anon).sort(), ['0', '1']);
    const proc = g.host.processes.find((p) => p.cgroup === '/tenant-a');
    assert.ok(proc !== undefined && proc.comm === 'sleep', JSON.stringify(g.host.processes));
    assert.deepEqual(g.host.unreadable, [], 'as root in the guest, inspect reads everything');
  });

  it('writes a scenario whose numatier model puts the nodes in the tiers the kernel did', () => {
    const doc = parse(g.scenarioText) as { topology: { nodes: Record<string, unknown>[] }; vms: unknown[] };
    assert.deepEqual(
      doc.topology.nodes.map((n) => [n.id, n.cpus, n.read_latency, n.read_bandwidth]),
      [
        [0, [0, 1], 100, 20480],
        [1, [], 300, 5120],
      ],
    );
    assert.deepEqual(doc.vms, [
      {
        name: 'tenant-a',
        cgroup: '/tenant-a',
        cpu_node: 0,
        workload: { pattern: 'zipfian', footprint: '16MiB' },
      },
    ]);
    const model = modelOf(g.scenarioText);
    assert.deepEqual(tierGroups(model.tiers), tierGroups(g.host.tiers));
    assert.deepEqual(
      model.tiers.map((t) => t.id),
      g.host.tiers.map((t) => t.tier),
      'memory_tierN ids: the model computes the same abstract distances as the kernel',
    );
    for (const [id, d] of g.demotion) assert.deepEqual(model.demotion[String(id)], d, `node ${id}`);
  });
});

describe('numatier inspect in a guest without HMAT: one memory tier', { skip: skip ?? false }, () => {
  let g: GuestInspection;
  before(async () => {
    g = await inspectGuest(TWO_NODES);
  });

  it('reads both nodes in one memory tier, no HMAT, and says the kernel demotes nothing', () => {
    assert.equal(g.host.tiers.length, 1, JSON.stringify(g.host.tiers));
    assert.deepEqual(tierGroups(g.host.tiers), [[0, 1]]);
    assert.deepEqual(
      g.host.nodes.map((n) => n.hmat),
      [null, null],
    );
    assert.match(g.text, /2 nodes, all in one memory tier \(memory_tier\d+\): the kernel demotes nothing/);
    // The kernel logs both nodes' targets as null.
    assert.deepEqual([...g.demotion.keys()].sort(), [0, 1]);
    for (const d of g.demotion.values()) assert.deepEqual(d, { preferred: [], fallback: [] });
  });

  it("writes a scenario whose numatier model keeps both nodes in the kernel's one tier", () => {
    const model = modelOf(g.scenarioText);
    assert.deepEqual(tierGroups(model.tiers), tierGroups(g.host.tiers));
    assert.deepEqual(
      model.tiers.map((t) => t.id),
      g.host.tiers.map((t) => t.tier),
    );
  });
});

after(() => {
  if (skip !== null) log(skip);
});
