import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseList } from '../../../src/inspect/sysfs.js';

/**
 * The two sides the real-kernel tests compare tiers and demotion on: the kernel's
 * "Demotion targets for Node N" log lines, and `numatier topology --json` run on the host as a
 * user runs it.
 */

const cli = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  'src',
  'cli',
  'main.js',
);

export interface DemotionTargets {
  preferred: number[];
  fallback: number[];
}

/** dmesg's "Demotion targets for Node N" lines: node → its targets (the last line of a node wins). */
export function parseDemotionTargets(dmesg: string): Map<number, DemotionTargets> {
  const out = new Map<number, DemotionTargets>();
  for (const m of dmesg.matchAll(
    /Demotion targets for Node (\d+): (?:null|preferred: (\S*), fallback: (\S*))/g,
  )) {
    out.set(Number(m[1]), {
      preferred: m[2] === undefined ? [] : (parseList(m[2]) ?? []),
      fallback: m[3] === undefined ? [] : (parseList(m[3]) ?? []),
    });
  }
  return out;
}

/** What the tests read of `numatier topology --json`. */
export interface TopologyJSON {
  nodes: { id: number; cpus: number[]; tier: number; toptier: boolean; adistance: number }[];
  tiers: { id: number; nodes: number[] }[];
  demotion: Record<string, DemotionTargets>;
}

/**
 * `numatier topology --json` of a topology or scenario document, written under `fileName` (its
 * extension says YAML or JSON) in a temporary directory that is removed afterwards.
 */
export function numatierTopology(fileName: string, text: string): TopologyJSON {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'numatier-e2e-'));
  try {
    const file = path.join(dir, fileName);
    fs.writeFileSync(file, text);
    const r = spawnSync(process.execPath, [cli, 'topology', '--json', file], { encoding: 'utf8' });
    if (r.status !== 0)
      throw new Error(`numatier topology ${fileName} failed (exit ${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as TopologyJSON;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
