import type { Command } from 'commander';
import { parseTierRatio } from '../../host/tier-ratio.js';
import { RATIO_STRATEGIES, type RatioStrategyName } from '../../policies/ratio/index.js';
import { formatSla } from '../../sla/format.js';
import { runSla } from '../../sla/sweep.js';
import { parseVary } from '../../scenario/vary.js';
import { InputError } from '../../util/errors.js';
import { jobsOption, parseSeed } from '../options.js';
import { progressReporter } from '../progress.js';
import { collect, scenarioDocument } from './simulate.js';

interface SlaCliOptions {
  vm?: string;
  maxSlowdown: string;
  ratios: string;
  strategy?: string;
  vary: string[];
  json?: boolean;
  withNeighbours?: boolean;
  durationMs?: string;
  seed?: string;
  set: string[];
  jobs?: string;
}

const DEFAULT_RATIOS = '0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8,0.9,1.0';

function parseRatios(v: string): number[] {
  const parts = v.split(',').map((s) => s.trim());
  if (parts.some((s) => s === ''))
    throw new InputError(
      `--ratios: expected a comma-separated list such as 0.25,0.5,1, got ${JSON.stringify(v)}`,
    );
  return parts.map((s) => parseTierRatio(s, '--ratios').fraction ?? 1);
}

function positiveNumber(flag: string, v: string, min: number): number {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < min)
    throw new InputError(`${flag}: expected a number ≥ ${min}, got ${JSON.stringify(v)}`);
  return n;
}

export function registerSlaCommand(program: Command): void {
  program
    .command('sla')
    .description(
      "a VM's slowdown, fast-tier hit ratio and time split over a range of fast:slow ratios, the settings that decided them, and the smallest ratio within a bound",
    )
    .argument('[scenario]', 'scenario file (YAML or JSON; default: the built-in low-cost VM host)')
    .option('--vm <name>', 'the VM to measure (required)')
    .option(
      '--max-slowdown <x>',
      "bound on vs_ratio_1: busy time over the same accesses' at fast ratio 1 (not simulate's slowdown, which is against ideal DRAM)",
      '1.05',
    )
    .option('--ratios <list>', 'fast ratios to try, comma-separated (0.25 or 1:3)', DEFAULT_RATIOS)
    .option(
      '--strategy <name>',
      `ratio enforcement: ${RATIO_STRATEGIES.join(', ')} (default: the scenario's ratio.strategy, else charge-retry)`,
    )
    .option(
      '--vary <path=a,b>',
      'a --set path and values to try, one curve per combination, e.g. ratio.promotion=exchange,refuse (repeatable)',
      collect,
      [],
    )
    .option('--with-neighbours', "keep the scenario's other VMs running (default: the VM alone on the host)")
    .option(
      '--duration-ms <ms>',
      "simulated time that sets each point's access count (default: the scenario's duration)",
    )
    .option('--seed <n>', "random seed (default: the scenario's, else 1)")
    .option('--json', 'print the result as JSON')
    .option('--set <key=value>', 'override a scenario field before the sweep (repeatable)', collect, [])
    .option('--jobs <n>', 'worker threads running points at once (default: one per CPU)')
    .action(async (file: string | undefined, o: SlaCliOptions) => {
      if (o.vm === undefined) throw new InputError('--vm: required: the name of the VM to measure');
      if (o.strategy !== undefined && !(RATIO_STRATEGIES as readonly string[]).includes(o.strategy)) {
        throw new InputError(
          `--strategy: expected one of ${RATIO_STRATEGIES.join(', ')}, got ${JSON.stringify(o.strategy)}`,
        );
      }
      const doc = scenarioDocument(file, o.set);
      const progress = progressReporter(`sla ${o.vm}`);
      let result;
      try {
        result = await runSla({
          ...doc,
          vm: o.vm,
          ratios: parseRatios(o.ratios),
          maxSlowdown: positiveNumber('--max-slowdown', o.maxSlowdown, 1),
          ...(o.strategy !== undefined ? { strategy: o.strategy as RatioStrategyName } : {}),
          vary: o.vary.map(parseVary),
          withNeighbours: o.withNeighbours === true,
          ...(o.durationMs !== undefined
            ? { durationMs: positiveNumber('--duration-ms', o.durationMs, 1) }
            : {}),
          ...(o.seed !== undefined ? { seed: parseSeed(o.seed) } : {}),
          onProgress: (done, total) => progress.update(done / total),
          jobs: jobsOption(o.jobs),
        });
      } finally {
        progress.stop();
      }
      if (o.json) process.stdout.write(JSON.stringify(result, null, 2) + '\n');
      else process.stdout.write(formatSla(result) + '\n');
    });
}
