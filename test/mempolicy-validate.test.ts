import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { InputError } from '../src/util/errors.js';
import {
  MPOL_BIND,
  MPOL_F_NUMA_BALANCING,
  MPOL_F_STATIC_NODES,
  MPOL_PREFERRED_MANY,
  type Mempolicy,
  formatNodelist,
  mpolMigrateOnFault,
  mpolModeWithFlags,
  mpolToStr,
  parseMempolicy,
} from '../src/host/mempolicy.js';

const ce3 = JSON.parse(
  readFileSync(new URL('../../test/fixtures/kernel-ce3-mempolicy.json', import.meta.url), 'utf8'),
) as {
  numa_maps_policy_strings: { rows: { policy: Mempolicy; text: string }[] };
};

const INFO = { nodeIds: [0, 1, 2, 3] };
const PATH = ['vms', 1, 'mempolicy'];

function refuses(
  value: unknown,
  message: string | RegExp,
  info: Parameters<typeof parseMempolicy>[2] = INFO,
): void {
  assert.throws(
    () => parseMempolicy(value, PATH, info),
    (e: unknown) => {
      assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );
}

test('refuses a node that does not exist, naming the field and the existing nodes', () => {
  refuses({ mode: 'bind', nodes: [7] }, 'vms[1].mempolicy.nodes[0]: node 7 does not exist; nodes are 0-3');
  refuses(
    { mode: 'interleave', nodes: [0, 9] },
    /^vms\[1\]\.mempolicy\.nodes\[1\]: node 9 does not exist; nodes are 0-3$/,
  );
  refuses({ mode: 'bind', nodes: [5] }, 'vms[1].mempolicy.nodes[0]: node 5 does not exist; nodes are 0-1,4', {
    nodeIds: [0, 1, 4],
  });
});

test('refuses an empty node list where the mode needs one', () => {
  for (const mode of ['bind', 'interleave', 'weighted_interleave', 'preferred_many']) {
    refuses({ mode, nodes: [] }, `vms[1].mempolicy.nodes: mode ${mode} needs at least one node`);
    refuses({ mode }, `vms[1].mempolicy.nodes: mode ${mode} needs at least one node`);
  }
});

test('refuses nodes on default and local', () => {
  refuses({ mode: 'default', nodes: [0] }, 'vms[1].mempolicy.nodes: mode default takes no nodes, got [0]');
  refuses({ mode: 'local', nodes: [1, 2] }, 'vms[1].mempolicy.nodes: mode local takes no nodes, got [1, 2]');
});

test('numaBalancing only with bind and preferred_many', () => {
  for (const mode of ['interleave', 'weighted_interleave', 'preferred', 'local', 'default']) {
    const nodes = mode === 'local' || mode === 'default' ? [] : [0];
    refuses(
      { mode, nodes, numaBalancing: true },
      `vms[1].mempolicy.numaBalancing: only allowed with mode bind or preferred_many, not ${mode}`,
    );
  }
  assert.deepEqual(parseMempolicy({ mode: 'bind', nodes: [1], numaBalancing: true }, PATH, INFO), {
    mode: 'bind',
    nodes: [1],
    numaBalancing: true,
  });
  assert.equal(
    parseMempolicy({ mode: 'preferred_many', nodes: [1], numaBalancing: true }, PATH, INFO).numaBalancing,
    true,
  );
  assert.equal(
    parseMempolicy({ mode: 'bind', nodes: [1], numaBalancing: false }, PATH, INFO).numaBalancing,
    undefined,
  );
});

test('staticNodes refused on default/local and on an empty preferred', () => {
  refuses({ mode: 'local', staticNodes: true }, 'vms[1].mempolicy.staticNodes: not allowed with mode local');
  refuses(
    { mode: 'default', staticNodes: true },
    'vms[1].mempolicy.staticNodes: not allowed with mode default',
  );
  refuses(
    { mode: 'preferred', nodes: [], staticNodes: true },
    /nodes: mode preferred needs at least one node/,
  );
});

test('refuses malformed input with the field path', () => {
  refuses(null, /^vms\[1\]\.mempolicy: expected an object/);
  refuses(
    { mode: 'bnd', nodes: [0] },
    /^vms\[1\]\.mempolicy\.mode: expected one of default, local, preferred, .*got "bnd"$/,
  );
  refuses({ mode: 'bind', nodes: [0], flags: 1 }, /^vms\[1\]\.mempolicy\.flags: unknown field/);
  refuses({ mode: 'bind', nodes: '0-1' }, /^vms\[1\]\.mempolicy\.nodes: expected a list/);
  refuses({ mode: 'bind', nodes: [1.5] }, /^vms\[1\]\.mempolicy\.nodes\[0\]: expected a node id/);
  refuses({ mode: 'bind', nodes: [1, 1] }, 'vms[1].mempolicy.nodes[1]: node 1 is listed twice');
  refuses({ mode: 'bind', nodes: [0], numaBalancing: 'yes' }, /numaBalancing: expected true or false/);
});

test('refuses memoryless nodes when memory nodes are known', () => {
  refuses(
    { mode: 'bind', nodes: [0, 3] },
    'vms[1].mempolicy.nodes[1]: node 3 has no memory; nodes with memory are 0-2',
    {
      nodeIds: [0, 1, 2, 3],
      memoryNodeIds: [0, 1, 2],
    },
  );
});

test('canonical form: sorted mask, preferred keeps first_node, empty preferred is local', () => {
  assert.deepEqual(parseMempolicy({ mode: 'interleave', nodes: [3, 0, 2] }, PATH, INFO), {
    mode: 'interleave',
    nodes: [0, 2, 3],
  });
  assert.deepEqual(parseMempolicy({ mode: 'preferred', nodes: [3, 1] }, PATH, INFO), {
    mode: 'preferred',
    nodes: [1],
  });
  assert.deepEqual(parseMempolicy({ mode: 'preferred', nodes: [] }, PATH, INFO), {
    mode: 'local',
    nodes: [],
  });
  assert.deepEqual(parseMempolicy({ mode: 'default' }, PATH, INFO), { mode: 'default', nodes: [] });
});

for (const row of ce3.numa_maps_policy_strings.rows) {
  test(`numa_maps policy text ${row.text}`, () => {
    assert.equal(mpolToStr(row.policy), row.text);
  });
}

test('mpol_to_str prints only first_node for preferred, and ranges', () => {
  assert.equal(mpolToStr({ mode: 'preferred', nodes: [1, 3] }), 'prefer:1');
  assert.equal(formatNodelist([0, 1, 4, 6, 7]), '0-1,4,6-7');
  assert.equal(formatNodelist([]), '');
  assert.equal(
    mpolToStr({ mode: 'preferred_many', nodes: [2, 3], numaBalancing: true }),
    'prefer (many)=balancing:2-3',
  );
});

test('mode values and flags as set_mempolicy sees them', () => {
  assert.equal(
    mpolModeWithFlags({ mode: 'bind', nodes: [0], numaBalancing: true }),
    MPOL_BIND | MPOL_F_NUMA_BALANCING,
  );
  assert.equal(
    mpolModeWithFlags({ mode: 'preferred_many', nodes: [0], staticNodes: true }),
    MPOL_PREFERRED_MANY | MPOL_F_STATIC_NODES,
  );
  assert.equal(MPOL_F_NUMA_BALANCING, 8192);
});

test('NUMA balancing scans only default, and bind/preferred_many with numaBalancing', () => {
  assert.equal(mpolMigrateOnFault({ mode: 'default', nodes: [] }), true);
  assert.equal(mpolMigrateOnFault({ mode: 'local', nodes: [] }), false);
  assert.equal(mpolMigrateOnFault({ mode: 'preferred', nodes: [0] }), false);
  assert.equal(mpolMigrateOnFault({ mode: 'interleave', nodes: [0, 1] }), false);
  assert.equal(mpolMigrateOnFault({ mode: 'bind', nodes: [0] }), false);
  assert.equal(mpolMigrateOnFault({ mode: 'bind', nodes: [0], numaBalancing: true }), true);
  assert.equal(mpolMigrateOnFault({ mode: 'preferred_many', nodes: [0], numaBalancing: true }), true);
});
