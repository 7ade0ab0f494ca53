import { resolve } from 'node:path';
import type { Command } from 'commander';
import { EXPERIMENTS } from '../../experiments/catalogue/index.js';
import {
  defaultExperimentDir,
  experimentJson,
  formatExperiment,
  runExperiments,
  selectExperiments,
  writeExperiment,
} from '../../experiments/run.js';
import { checkOutputDir } from '../../report/output.js';
import { displayPath, jobsOption, parseSeed } from '../options.js';
import { progressReporter } from '../progress.js';

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
    .option('--jobs <n>', 'worker threads running variants at once (default: one per CPU)')
    .action(
      async (
        name: string,
        o: { out?: string; seed: string; quick?: boolean; json?: boolean; force?: boolean; jobs?: string },
      ) => {
        const seed = parseSeed(o.seed);
        const jobs = jobsOption(o.jobs);
        const list = selectExperiments(name);
        const force = o.force === true;
        for (const e of list) checkOutputDir(resolve(defaultExperimentDir(o.out, e.name, seed)), force);
        const label = list.length === 1 ? list[0].name : `${list.length} experiments`;
        const progress = o.json ? null : progressReporter(`running ${label}`);
        let runs;
        try {
          runs = await runExperiments(list, seed, o.quick ? 'quick' : 'full', {
            jobs,
            onDone: (done, total) => progress?.update(done / total),
          });
        } finally {
          progress?.stop();
        }
        const out: Record<string, unknown>[] = [];
        for (const run of runs) {
          const dir = resolve(defaultExperimentDir(o.out, run.experiment.name, seed));
          writeExperiment(dir, run, force);
          if (o.json) out.push(experimentJson(run));
          else process.stdout.write(`${formatExperiment(run)}\nwrote ${displayPath(dir)}\n\n`);
        }
        if (o.json) process.stdout.write(JSON.stringify(out.length === 1 ? out[0] : out, null, 2) + '\n');
      },
    );
}
