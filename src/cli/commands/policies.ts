import type { Command } from 'commander';
import { REGISTRIES } from '../../policies/index.js';
import type { RegistryDescription } from '../../policies/registry.js';

/** One module's parameters as "name (default …): description" lines. */
function paramLines(params: Record<string, unknown>): string[] {
  const props = (params.properties ?? {}) as Record<string, { description?: string }>;
  return Object.entries(props).map(([k, v]) => `      ${k}: ${v.description ?? ''}`);
}

function formatText(regs: RegistryDescription[]): string {
  const out: string[] = [];
  for (const r of regs) {
    out.push(`${r.hook} (${r.field}, default ${r.default})`);
    for (const m of r.modules) {
      out.push(`  ${m.id}: ${m.summary}`);
      out.push(...paramLines(m.params));
    }
    out.push('');
  }
  return out.join('\n');
}

export function registerPoliciesCommand(program: Command): void {
  program
    .command('policies')
    .description('list every hook, its policy modules, their parameters and defaults')
    .option('--json', 'print the list as JSON')
    .action((opts: { json?: boolean }) => {
      const regs = REGISTRIES.map((r) => r.describe());
      process.stdout.write(opts.json === true ? JSON.stringify(regs, null, 2) + '\n' : formatText(regs));
    });
}
