import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { formatInspection } from '../../inspect/format.js';
import { inspectHost } from '../../inspect/read-host.js';
import { scenarioOfHost } from '../../inspect/to-scenario.js';
import { writeFileAtomic } from '../../report/output.js';
import { resolveScenario } from '../../scenario/load.js';
import { InputError } from '../../util/errors.js';

interface InspectFlags {
  json?: boolean;
  root: string;
  scenario?: string;
  force?: boolean;
}

/** `numatier inspect`: the host as its kernel reports it; reads only, never writes to it. */
export function registerInspectCommand(program: Command): void {
  program
    .command('inspect')
    .description(
      'show this host as the kernel sees it: nodes, distances, memory tiers, HMAT, tiering knobs, per-node counters, cgroups and placement (reads only)',
    )
    .option('--json', 'print the inspection as JSON')
    .option('--root <dir>', 'read /sys, /proc and /sys/fs/cgroup under DIR (a fixture tree)', '/')
    .option('--scenario <file>', 'also write a numatier scenario of this host (YAML)')
    .option('--force', 'replace --scenario even if the file exists')
    .action((o: InspectFlags) => {
      let st: fs.Stats | null = null;
      try {
        st = fs.statSync(o.root);
      } catch {
        st = null;
      }
      if (st === null || !st.isDirectory()) throw new InputError(`--root ${o.root}: not a directory`);
      if (o.scenario !== undefined && fs.existsSync(o.scenario) && o.force !== true) {
        throw new InputError(
          `--scenario ${o.scenario}: the file exists; refusing to replace it (choose another path, or add --force)`,
        );
      }
      const host = inspectHost(path.resolve(o.root) === path.resolve('/') ? '/' : o.root);
      process.stdout.write(o.json ? `${JSON.stringify(host, null, 2)}\n` : formatInspection(host));
      if (o.scenario !== undefined) {
        const doc = scenarioOfHost(host);
        const text =
          '# A model of an inspected host, written by `numatier inspect --scenario`. The tenants\n' +
          '# are the cgroups that hold processes, sized by memory.current; their workloads are\n' +
          '# placeholders (numatier cannot see access patterns): replace them, e.g. with a trace.\n' +
          stringify(doc, { lineWidth: 0 });
        writeFileAtomic(o.scenario, text);
        try {
          resolveScenario(doc, path.dirname(path.resolve(o.scenario)), 'inspected-host');
          process.stderr.write(`numatier: ${o.scenario}: scenario of this host written\n`);
        } catch (e) {
          if (!(e instanceof InputError)) throw e;
          process.stderr.write(
            `numatier: ${o.scenario}: written, but simulate would refuse it as it is: ${e.message}\n`,
          );
        }
      }
    });
}
