import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CgroupTree, type CgroupSpec } from '../src/host/cgroups.js';

/** A recount of what propagate_protected_usage() keeps running: Σ over children of min(usage, setting). */
function recount(cg: CgroupTree, parent: number, setting: Float64Array): number {
  let sum = 0;
  for (const c of cg.children[parent]) sum += Math.min(cg.usage[c], setting[c]);
  return sum;
}

function randomTree(next: () => number, groups: number): CgroupSpec[] {
  const specs: CgroupSpec[] = [{ path: '/', memoryMax: Infinity, memoryHigh: Infinity, memoryLow: 0 }];
  for (let i = 1; i < groups; i++) {
    const parent = specs[Math.floor(next() * specs.length)].path;
    specs.push({
      path: `${parent === '/' ? '' : parent}/g${i}`,
      memoryMax: next() < 0.3 ? 50 + Math.floor(next() * 200) : Infinity,
      memoryHigh: Infinity,
      memoryLow: next() < 0.6 ? Math.floor(next() * 100) : 0,
      memoryMin: next() < 0.4 ? Math.floor(next() * 60) : 0,
    });
  }
  return specs;
}

describe('running sums of protected usage (propagate_protected_usage)', () => {
  it('equal a recount after random charges, uncharges and protection changes', () => {
    let seed = 12345;
    const next = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 20; trial++) {
      const cg = new CgroupTree(randomTree(next, 2 + Math.floor(next() * 30)), 1);
      const own = new Float64Array(cg.count); // pages charged to each group itself
      for (let op = 0; op < 2000; op++) {
        const g = Math.floor(next() * cg.count);
        const r = next();
        if (r < 0.55) {
          const nr = 1 + Math.floor(next() * 8);
          if (cg.tryCharge(g, nr) < 0) own[g] += nr;
        } else if (r < 0.95) {
          const nr = Math.min(own[g], 1 + Math.floor(next() * 8));
          cg.uncharge(g, nr);
          own[g] -= nr;
        } else if (g > 0) {
          cg.setProtection(g, Math.floor(next() * 80), Math.floor(next() * 120));
        }
        for (let p = 0; p < cg.count; p++) {
          assert.equal(
            cg.childrenMinUsage[p],
            recount(cg, p, cg.memoryMin),
            `children_min_usage of ${cg.paths[p]}`,
          );
          assert.equal(
            cg.childrenLowUsage[p],
            recount(cg, p, cg.memoryLow),
            `children_low_usage of ${cg.paths[p]}`,
          );
        }
      }
    }
  });

  it('give a group the same effective protection as summing its siblings would', () => {
    const cg = new CgroupTree(
      [
        { path: '/p', memoryMax: Infinity, memoryHigh: Infinity, memoryLow: 100, memoryMin: 40 },
        { path: '/p/a', memoryMax: Infinity, memoryHigh: Infinity, memoryLow: 80, memoryMin: 30 },
        { path: '/p/b', memoryMax: Infinity, memoryHigh: Infinity, memoryLow: 80, memoryMin: 30 },
      ],
      1,
    );
    cg.tryCharge(2, 60);
    cg.tryCharge(3, 90);
    cg.calculateProtection(0, 1);
    cg.calculateProtection(0, 2);
    cg.calculateProtection(0, 3);
    // Siblings' protected usage: low min(60,80) + min(90,80) = 140 > 100, min 30 + 30 = 60 > 40.
    assert.equal(cg.elow[2], Math.floor((60 * 100) / 140));
    assert.equal(cg.elow[3], Math.floor((80 * 100) / 140));
    assert.equal(cg.emin[2], Math.floor((30 * 40) / 60));
    cg.uncharge(3, 90);
    cg.calculateProtection(0, 2);
    assert.equal(cg.elow[2], 60, 'with b empty, a keeps all of its protected usage');
  });
});
