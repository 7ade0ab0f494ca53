import type { Command } from 'commander';
import { registerBenchCommand } from './bench.js';
import { registerCompareCommand } from './compare.js';
import { registerControlCommand } from './control.js';
import { registerExperimentCommand } from './experiment.js';
import { registerInspectCommand } from './inspect.js';
import { registerPoliciesCommand } from './policies.js';
import { registerSchemaCommand } from './schema.js';
import { registerSimulateCommand } from './simulate.js';
import { registerSlaCommand } from './sla.js';
import { registerSweepCommand } from './sweep.js';
import { registerTopologyCommand } from './topology.js';
import { registerTraceCommand } from './trace.js';

/** Every subcommand registers itself here; each lives in its own file. */
export function registerCommands(program: Command): void {
  registerSimulateCommand(program);
  registerBenchCommand(program);
  registerTopologyCommand(program);
  registerTraceCommand(program);
  registerSchemaCommand(program);
  registerExperimentCommand(program);
  registerSlaCommand(program);
  registerCompareCommand(program);
  registerSweepCommand(program);
  registerInspectCommand(program);
  registerControlCommand(program);
  registerPoliciesCommand(program);
}
