import type { Command } from 'commander';
import { InputError } from '../../util/errors.js';
import { formatTopologyReport } from '../../topology/format.js';
import { loadTopologyFile } from '../../topology/load.js';
import { buildTopologyModel, topologyModelToJSON } from '../../topology/model.js';
import type { NodeLoadMode } from '../../topology/zonelist.js';

interface TopologyFlags {
  json?: boolean;
  minFreeKbytes?: string;
  watermarkScaleFactor?: string;
  nodeLoad: string;
}

function intFlag(name: string, value: string, lo: number, hi: number): number {
  const v = /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!(v >= lo && v <= hi))
    throw new InputError(`${name}: expected an integer from ${lo} to ${hi}, got ${JSON.stringify(value)}`);
  return v;
}

/** `numatier topology FILE`: what the kernel would compute for this host. */
export function registerTopologyCommand(program: Command): void {
  program
    .command('topology')
    .description(
      'show nodes, memory tiers, demotion targets and watermarks of a topology file, as Linux computes them',
    )
    .argument('<file>', 'topology file (YAML or JSON)')
    .option('--json', 'print a JSON document instead of the report')
    .option(
      '--min-free-kbytes <kbytes>',
      'vm.min_free_kbytes as set by the user (default: computed as at boot)',
    )
    .option('--watermark-scale-factor <n>', 'vm.watermark_scale_factor, 1..3000 (default: 10)')
    .option(
      '--node-load <mode>',
      'node_load[] seen by find_next_best_node: "kernel" (as left by build_all_zonelists) or "zero"',
      'kernel',
    )
    .action((file: string, flags: TopologyFlags) => {
      if (flags.nodeLoad !== 'kernel' && flags.nodeLoad !== 'zero') {
        throw new InputError(
          `--node-load: expected "kernel" or "zero", got ${JSON.stringify(flags.nodeLoad)}`,
        );
      }
      const topo = loadTopologyFile(file);
      const model = buildTopologyModel(topo, {
        nodeLoad: flags.nodeLoad as NodeLoadMode,
        ...(flags.minFreeKbytes !== undefined
          ? { minFreeKbytes: intFlag('--min-free-kbytes', flags.minFreeKbytes, 0, 2 ** 31 - 1) }
          : {}),
        ...(flags.watermarkScaleFactor !== undefined
          ? { watermarkScaleFactor: intFlag('--watermark-scale-factor', flags.watermarkScaleFactor, 1, 3000) }
          : {}),
      });
      process.stdout.write(
        flags.json ? `${JSON.stringify(topologyModelToJSON(model), null, 2)}\n` : formatTopologyReport(model),
      );
    });
}
