import fs from 'node:fs';
import type { Command } from 'commander';
import { loadControlConfig } from '../../controller/config.js';
import { restoreJournal, runControl } from '../../controller/run.js';
import { InputError } from '../../util/errors.js';

interface ControlFlags {
  config: string;
  apply?: boolean;
  once?: boolean;
  restore?: boolean;
  metrics?: string;
  root: string;
}

/** `numatier control`: steer the configured cgroups of this host to their fast:slow ratios. */
export function registerControlCommand(program: Command): void {
  program
    .command('control')
    .description(
      'steer cgroups of this Linux host to a fast:slow memory ratio by moving their pages (dry run unless --apply; docs/control.md)',
    )
    .requiredOption(
      '--config <file>',
      'the cgroups, their memory.tier_ratio and the controller settings (YAML or JSON)',
    )
    .option(
      '--apply',
      'move pages and write settings (without it: queries only, and a log of what it would do)',
    )
    .option('--once', 'run one period, then restore and exit')
    .option('--restore', 'put back the settings a run that did not finish left changed, then exit')
    .option(
      '--metrics <addr>',
      'serve Prometheus metrics at http://ADDR/metrics ([HOST:]PORT; host 127.0.0.1 unless named)',
    )
    .option(
      '--root <dir>',
      'act on the /sys, /proc and /sys/fs/cgroup under DIR (a fixture tree, for tests)',
      '/',
    )
    .action(async (o: ControlFlags) => {
      const root = o.root;
      if (!fs.existsSync(root) || !fs.statSync(root).isDirectory())
        throw new InputError(`--root ${root}: not a directory`);
      const config = loadControlConfig(o.config);
      const notice = (line: string): void => void process.stderr.write(`numatier control: ${line}\n`);
      if (o.restore === true) {
        restoreJournal(config, root, notice);
        return;
      }
      process.exitCode = await runControl({
        config,
        apply: o.apply === true,
        once: o.once === true,
        metrics: o.metrics ?? null,
        root,
        notice,
      });
    });
}
