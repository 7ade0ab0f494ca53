import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { productionPackages } from './e2e/harness/initramfs.js';
import { machineArgs } from './e2e/harness/qemu.js';
import { printSections, sectionsOf } from './e2e/harness/sections.js';

// The QEMU harness's host-side parts, without booting anything (npm run test:e2e boots).

function numaOptions(args: string[]): string[] {
  return args.flatMap((a, i) => (args[i - 1] === '-numa' ? [a] : []));
}

describe('QEMU harness: machine arguments of a topology', () => {
  it('two nodes with HMAT: hmat=on, a CPU-less node with its initiator, SLIT both ways, hmat-lb per target', () => {
    const args = machineArgs({
      nodes: [
        { cpus: 2, memMiB: 512 },
        { cpus: 0, memMiB: 256 },
      ],
      distances: [
        [10, 20],
        [20, 10],
      ],
      hmat: [{ initiator: 0, target: 1, latencyNs: 300, bandwidthMBps: 5120 }],
    });
    assert.deepEqual(args.slice(0, 10), [
      '-machine',
      'q35,hmat=on',
      '-accel',
      'tcg',
      '-cpu',
      'max',
      '-smp',
      '2',
      '-m',
      '768M',
    ]);
    assert.deepEqual(numaOptions(args), [
      'node,nodeid=0,memdev=m0,cpus=0-1,initiator=0',
      'node,nodeid=1,memdev=m1,initiator=0',
      'dist,src=0,dst=1,val=20',
      'dist,src=1,dst=0,val=20',
      'hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-latency,latency=300',
      'hmat-lb,initiator=0,target=1,hierarchy=memory,data-type=access-bandwidth,bandwidth=5120M',
    ]);
  });

  it('without HMAT: no hmat=on and no initiators; CPUs numbered across nodes; nearest CPU node as initiator', () => {
    const three = {
      nodes: [
        { cpus: 1, memMiB: 256 },
        { cpus: 1, memMiB: 256 },
        { cpus: 0, memMiB: 256 },
      ],
      distances: [
        [10, 21, 30],
        [21, 10, 17],
        [30, 17, 10],
      ],
    };
    const plain = machineArgs(three);
    assert.equal(plain[1], 'q35');
    assert.deepEqual(numaOptions(plain).slice(0, 3), [
      'node,nodeid=0,memdev=m0,cpus=0-0',
      'node,nodeid=1,memdev=m1,cpus=1-1',
      'node,nodeid=2,memdev=m2',
    ]);
    const hmat = machineArgs({
      ...three,
      hmat: [{ initiator: 1, target: 2, latencyNs: 200, bandwidthMBps: 8000 }],
    });
    assert.equal(numaOptions(hmat)[2], 'node,nodeid=2,memdev=m2,initiator=1');
  });

  it('refuses topologies QEMU or the kernel would reject, naming the fault', () => {
    assert.throws(() => machineArgs({ nodes: [{ cpus: 0, memMiB: 512 }] }), /at least one node needs CPUs/);
    assert.throws(
      () => machineArgs({ nodes: [{ cpus: 1, memMiB: 512 }], distances: [[20]] }),
      /distance 0→0 must be 10/,
    );
    assert.throws(
      () =>
        machineArgs({
          nodes: [
            { cpus: 1, memMiB: 512 },
            { cpus: 0, memMiB: 512 },
          ],
          hmat: [{ initiator: 1, target: 0, latencyNs: 1, bandwidthMBps: 1 }],
        }),
      /initiator 1 must be a node with CPUs/,
    );
  });
});

describe('QEMU harness: guest output and files', () => {
  it('splits ==> name <== sections as printSections heads them', () => {
    assert.match(printSections({ a: '/tmp/a' }), /^echo '==> a <=='; cat \/tmp\/a 2>&1$/);
    const s = sectionsOf('==> rc <==\n0\n==> json <==\n{"a":1}\n');
    assert.deepEqual(
      [...s],
      [
        ['rc', '0\n'],
        ['json', '{"a":1}\n'],
      ],
    );
  });

  it("the guest gets numatier's production dependencies only", () => {
    const pkgs = productionPackages(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..'));
    for (const p of ['commander', 'yaml', 'zod', 'cli-progress', 'uplot'])
      assert.ok(pkgs.includes(`node_modules/${p}`), p);
    for (const dev of ['typescript', 'eslint', 'prettier', 'fast-check'])
      assert.ok(!pkgs.includes(`node_modules/${dev}`), dev);
  });
});
