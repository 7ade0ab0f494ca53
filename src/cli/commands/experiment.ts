import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EXPERIMENTS } from '../../experiments/catalogue/index.js';
import {
  defaultExperimentDir,
  experimentJson,
  formatExperiment,
  runExperiment,
  selectExperiments,
  writeExperiment,
} from '../../experiments/run.js';
import { checkOutputDir } from '../../report/output.js';
import { displayPath, parseSeed } from '../options.js';

export function registerExperimentCommand(program: Command): void {
  const cmd = program.command('experiment').description('the experiment catalogue of the 2019 debate');
  cmd
    .command('list')
    .description('list the experiments and the question each answers')
    .action(() => {
      for (const e of EXPERIMENTS)
        process.stdout.write(`${e.name.padEnd(30)} ${e.ideas.join(',').padEnd(16)} ${e.question}\n`);
    });
  cmd
    .command('run')
    .description('run one experiment, or all, side by side on the same workload and seed')
    .argument('<name>', 'experiment name, "published" (every published-* experiment), or "all"')
    .option('--out <dir>', 'output directory (default ./numatier-out/experiments; one folder per experiment)')
    .option('--force', "replace what is at an experiment's output path even if it is not a numatier result")
    .option('--seed <n>', 'random seed', '1')
    .option('--quick', 'smaller hosts and shorter runs (what the tests use)')
    .option('--json', 'print the results as JSON')
    .action(
      (name: string, o: { out?: string; seed: string; quick?: boolean; json?: boolean; force?: boolean }) => {
        const seed = parseSeed(o.seed);
        const list = selectExperiments(name);
        const out: Record<string, unknown>[] = [];
        const force = o.force === true;
        for (const e of list) checkOutputDir(resolve(defaultExperimentDir(o.out, e.name, seed)), force);
        for (const e of list) {
          if (!o.json && process.stderr.isTTY) process.stderr.write(`running ${e.name}…\n`);
          const run = runExperiment(e, seed, o.quick ? 'quick' : 'full');
          const dir = resolve(defaultExperimentDir(o.out, e.name, seed));
          writeExperiment(dir, run, force);
          if (o.json) out.push(experimentJson(run));
          else process.stdout.write(`${formatExperiment(run)}\nwrote ${displayPath(dir)}\n\n`);
        }
        if (o.json) process.stdout.write(JSON.stringify(out.length === 1 ? out[0] : out, null, 2) + '\n');
      },
    );
}
