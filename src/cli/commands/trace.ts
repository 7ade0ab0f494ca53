import type { Command } from 'commander';
import { importLackeyFile, type LlcOptions } from '../../traces/lackey.js';
import { recordTrace } from '../../traces/recorder.js';
import { formatTraceStats, traceStats } from '../../traces/stats.js';
import { checkTraceOut } from '../../traces/out-file.js';
import { InputError } from '../../util/errors.js';
import { parseSize } from '../../util/units.js';

/** --llc-size / --llc-ways: a cache geometry the LLC model accepts, or undefined without --llc-size. */
export function parseLlcFlags(size: string | undefined, ways: string | undefined): LlcOptions | undefined {
  if (size === undefined) {
    if (ways !== undefined) throw new InputError('--llc-ways: only meaningful together with --llc-size');
    return undefined;
  }
  const sizeBytes = parseSize(size, '--llc-size');
  const w = ways === undefined ? 16 : /^\s*\d+\s*$/.test(ways) ? Number(ways) : NaN;
  if (!(Number.isInteger(w) && w >= 1 && w <= 1024)) {
    throw new InputError(`--llc-ways: expected an integer from 1 to 1024, got ${JSON.stringify(ways)}`);
  }
  if (sizeBytes % (64 * w) !== 0 || sizeBytes > 2 ** 40) {
    throw new InputError(
      `--llc-size: expected a multiple of 64 bytes × ${w} ways (${64 * w} bytes), at most 1TiB, got ${JSON.stringify(size)}`,
    );
  }
  return { sizeBytes, ways: w };
}

interface LlcFlags {
  llcSize?: string;
  llcWays?: string;
}

const FORCE_HELP = 'replace --out even if it is not an earlier numatier trace';

/** `numatier trace …`: record, import and inspect memory-access traces of real programs. */
export function registerTraceCommand(program: Command): void {
  const trace = program
    .command('trace')
    .description('record, import and inspect memory-access traces of real programs (docs/traces.md)')
    .enablePositionalOptions();

  trace
    .command('record')
    .description('run a program under Valgrind and write its data accesses as a trace')
    .requiredOption('--out <file>', 'trace to write (.gz: gzip-compressed)')
    .option(
      '--llc-size <size>',
      'keep only what a last-level cache of this size exchanges with memory, e.g. 32MiB',
    )
    .option('--llc-ways <n>', 'associativity of that cache (default 16)')
    .option('--lackey', 'record with lackey even if the numatrace tool can be built (much slower)')
    .option('--force', FORCE_HELP)
    .argument('<command...>', 'the program and its arguments, after "--"')
    .passThroughOptions()
    .action(async (command: string[], o: LlcFlags & { out: string; lackey?: boolean; force?: boolean }) => {
      const llc = parseLlcFlags(o.llcSize, o.llcWays);
      checkTraceOut(o.out, o.force === true);
      const r = await recordTrace({
        out: o.out,
        command,
        ...(llc !== undefined ? { llc } : {}),
        method: o.lackey ? 'lackey' : 'auto',
      });
      const rate =
        r.accesses !== null ? `, ${(r.accesses / r.wallSeconds / 1e6).toFixed(1)} M accesses/s` : '';
      const acc =
        (r.accesses !== null ? ` of ${r.accesses} accesses` : '') +
        (r.instructions !== null ? ` and ${r.instructions} instructions` : '');
      process.stderr.write(
        `numatier: ${o.out}: ${r.records} records${acc} recorded with ${r.method} in ${r.wallSeconds.toFixed(2)} s${rate}\n`,
      );
      if (r.signal !== null) {
        process.stderr.write(
          `numatier: warning: the program was killed by ${r.signal}; the trace covers what it did until then\n`,
        );
      } else if (r.exitCode !== 0) {
        process.stderr.write(`numatier: warning: the program exited with status ${r.exitCode}\n`);
      }
    });

  trace
    .command('import')
    .description("convert another tool's trace into numatier's trace format")
    .requiredOption(
      '--from <format>',
      'input format: lackey (valgrind --tool=lackey --trace-mem=yes --log-file=FILE)',
    )
    .requiredOption('--out <file>', 'trace to write (.gz: gzip-compressed)')
    .option(
      '--llc-size <size>',
      'keep only what a last-level cache of this size exchanges with memory, e.g. 32MiB',
    )
    .option('--llc-ways <n>', 'associativity of that cache (default 16)')
    .option('--force', FORCE_HELP)
    .argument('<input>', 'file to import (may be gzip-compressed)')
    .action(async (input: string, o: LlcFlags & { from: string; out: string; force?: boolean }) => {
      if (o.from !== 'lackey')
        throw new InputError(`--from: expected "lackey", got ${JSON.stringify(o.from)}`);
      const llc = parseLlcFlags(o.llcSize, o.llcWays);
      checkTraceOut(o.out, o.force === true);
      const r = await importLackeyFile(input, o.out, llc !== undefined ? { llc } : {});
      process.stderr.write(
        `numatier: ${o.out}: ${r.records} records from ${r.accesses} data accesses (${r.lines} lines, ${r.instructions} instruction fetches skipped)\n`,
      );
      if (r.dropped > 0)
        process.stderr.write(`numatier: ${r.dropped} accesses at addresses >= 2^56 were not recorded\n`);
    });

  trace
    .command('stats')
    .description('records, distinct pages, footprint, write share and hot-page concentration of a trace')
    .argument('<file>', 'trace file (plain or gzip-compressed)')
    .option('--json', 'print a JSON document')
    .action((file: string, o: { json?: boolean }) => {
      const s = traceStats(file);
      process.stdout.write(o.json ? `${JSON.stringify(s, null, 2)}\n` : formatTraceStats(s));
    });
}
