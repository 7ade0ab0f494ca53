import type { Command } from 'commander';
import { InputError } from '../../util/errors.js';
import { formatTopologyReport } from '../../topology/format.js';
import { normalizeTopology } from '../../topology/load.js';
import { buildTopologyModel, topologyModelToJSON } from '../../topology/model.js';
import type { NodeLoadMode } from '../../topology/zonelist.js';
import type { Topology } from '../../topology/types.js';
import { DEFAULT_SCENARIO } from '../../scenario/default.js';
import { scenarioTopology } from '../../scenario/load.js';
import { readDocumentFile } from '../../util/document.js';
import { dirname, resolve } from 'node:path';

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

interface WatermarkKnobs {
  min_free_kbytes?: number;
  watermark_scale_factor?: number;
}

/**
 * The host of a topology file, or of a scenario (a document with `vms` or `topology`): its
 * topology, and the watermark knobs its kernel block sets (the command's flags override them).
 */
function hostOf(file: string | undefined): { topo: Topology; kernel: WatermarkKnobs } {
  const doc: unknown = file === undefined ? DEFAULT_SCENARIO : readDocumentFile(file, 'topology file');
  const isScenario =
    doc !== null && typeof doc === 'object' && !Array.isArray(doc) && ('vms' in doc || 'topology' in doc);
  if (!isScenario) return { topo: normalizeTopology(doc), kernel: {} };
  const sc = doc as { topology?: unknown; kernel?: unknown };
  if (sc.topology === undefined) throw new InputError(`${file}: topology: required (the scenario's host)`);
  const k = (sc.kernel ?? {}) as Record<string, unknown>;
  const knob = (name: keyof WatermarkKnobs): number | undefined => {
    const v = k[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw new InputError(`${file ?? 'scenario'}: kernel.${name}: expected a non-negative integer`);
    return v;
  };
  const kernel: WatermarkKnobs = {};
  const mfk = knob('min_free_kbytes');
  const wsf = knob('watermark_scale_factor');
  if (mfk !== undefined) kernel.min_free_kbytes = mfk;
  if (wsf !== undefined) kernel.watermark_scale_factor = wsf;
  const baseDir = file === undefined ? process.cwd() : dirname(resolve(file));
  return { topo: scenarioTopology(sc.topology, baseDir), kernel };
}

/** `numatier topology [FILE]`: what the kernel would compute for this host. */
export function registerTopologyCommand(program: Command): void {
  program
    .command('topology')
    .description(
      'show nodes, memory tiers, demotion targets and watermarks of a host, as Linux computes them',
    )
    .argument('[file]', "topology file, or a scenario file (its host); none: the built-in scenario's host")
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
    .action((file: string | undefined, flags: TopologyFlags) => {
      if (flags.nodeLoad !== 'kernel' && flags.nodeLoad !== 'zero') {
        throw new InputError(
          `--node-load: expected "kernel" or "zero", got ${JSON.stringify(flags.nodeLoad)}`,
        );
      }
      const { topo, kernel } = hostOf(file);
      const model = buildTopologyModel(topo, {
        ...(kernel.min_free_kbytes !== undefined ? { minFreeKbytes: kernel.min_free_kbytes } : {}),
        ...(kernel.watermark_scale_factor !== undefined
          ? { watermarkScaleFactor: kernel.watermark_scale_factor }
          : {}),
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
