import { z } from 'zod';
import { InputError } from '../util/errors.js';

/**
 * One pluggable policy of one hook (a promotion filter, a demotion order, a ratio strategy, a
 * workload pattern…): everything numatier knows about it lives in the module's own file, and the
 * hook's registry is the only list of names. Schema enums, `numatier policies`, docs tables and
 * the conformance suites are all derived from the registries.
 *
 * - `params`: the module's scenario parameters as a zod object schema, every key optional with
 *   its default stated in `.describe()`; where they sit in a scenario is the hook's choice.
 * - `check`: cross-field checks that the schema cannot express; returns an error message that
 *   names the field, or null.
 * - `create`: builds the policy for one run from its parameters and the hook's context.
 */
export interface PolicyModule<Params = unknown, Context = unknown, Instance = unknown> {
  readonly id: string;
  readonly summary: string;
  readonly params: z.ZodType<Params>;
  check?(params: Params, context: Context): string | null;
  create(params: Params, context: Context): Instance;
}

/** What `numatier policies --json` prints for one module. */
export interface ModuleDescription {
  id: string;
  summary: string;
  /** The JSON Schema of its parameters (defaults are in the descriptions). */
  params: Record<string, unknown>;
}

export interface RegistryDescription {
  hook: string;
  /** The scenario field that names the module. */
  field: string;
  default: string;
  modules: ModuleDescription[];
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = PolicyModule<any, any, any>;

/**
 * The modules of one hook, by id, in registration order. Duplicate ids are refused when the
 * registry is built; an unknown id is refused with the field and the known ids named.
 */
export class Registry<M extends AnyModule> {
  private readonly byId = new Map<string, M>();

  constructor(
    /** What the hook decides, e.g. "promotion filter". */
    readonly hook: string,
    /** Scenario field that names the module, e.g. "tiering.promotion_filter". */
    readonly field: string,
    readonly defaultId: string,
    modules: readonly M[],
  ) {
    for (const m of modules) {
      if (this.byId.has(m.id))
        throw new Error(`${hook} registry: module id ${JSON.stringify(m.id)} is registered twice`);
      this.byId.set(m.id, m);
    }
    if (!this.byId.has(defaultId))
      throw new Error(`${hook} registry: default ${JSON.stringify(defaultId)} is not registered`);
  }

  /** The module `id`; an id that no module has is the user's error. */
  get(id: string): M {
    const m = this.byId.get(id);
    if (m === undefined) {
      throw new InputError(
        `${this.field}: unknown ${this.hook} ${JSON.stringify(id)}; known: ${this.ids().join(', ')}`,
      );
    }
    return m;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  ids(): [string, ...string[]] {
    return [...this.byId.keys()] as [string, ...string[]];
  }

  modules(): M[] {
    return [...this.byId.values()];
  }

  /** The scenario schema's enum of this hook's ids. */
  idSchema(): z.ZodEnum<Record<string, string>> {
    return z.enum(this.ids());
  }

  describe(): RegistryDescription {
    return {
      hook: this.hook,
      field: this.field,
      default: this.defaultId,
      modules: this.modules().map((m) => ({
        id: m.id,
        summary: m.summary,
        params: z.toJSONSchema(m.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>,
      })),
    };
  }
}
