import { z } from 'zod';
import { InputError } from '../util/errors.js';

/**
 * One pluggable policy of one hook (a promotion filter, a demotion order, a ratio strategy, a
 * workload pattern…): everything numatier knows about it lives in the module's own file, and the
 * hook's registry is the only list of names. Schema enums, `numatier policies`, docs tables and
 * the conformance suites are all derived from the registries.
 *
 * - `params`: the module's scenario parameters as a zod object schema, every key optional with
 *   its default stated in `.describe()`; where they sit in a scenario is the hook's choice. Two
 *   modules may declare the same key (the same schema object): both use it.
 * - `check`: cross-field checks that the schema cannot express, run at load time with the hook's
 *   `CheckContext`; returns an error message that names the field, or null.
 * - `create`: builds the policy for one run from its parameters and the hook's context.
 * - `conformance`: checks of the hook's conformance suite this module does not pass, each with
 *   the reason (the suite skips them and says why).
 */
export interface PolicyModule<
  Params = unknown,
  Context = unknown,
  Instance = unknown,
  CheckContext = Context,
> {
  readonly id: string;
  readonly summary: string;
  readonly params: z.ZodObject;
  check?(params: Params, context: CheckContext): string | null;
  create(params: Params, context: Context): Instance;
  readonly conformance?: { readonly skip: Readonly<Record<string, string>> };
}

/** What `numatier policies --json` prints for one module. */
export interface ModuleDescription {
  id: string;
  summary: string;
  /** The JSON Schema of its parameters (defaults are in the descriptions). */
  params: Record<string, unknown>;
  /** Conformance checks it skips, with the reason. */
  skips?: Record<string, string>;
}

export interface RegistryDescription {
  hook: string;
  /** The scenario field that names the module. */
  field: string;
  default: string;
  modules: ModuleDescription[];
}

type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void
  ? I
  : never;

/**
 * The static type of the merged parameter shape of a list of modules (declared with
 * `satisfies`, so that each keeps its own params type): what `Registry.paramShape()` returns.
 */
export type ParamShapeOf<T extends readonly { params: z.ZodObject }[]> = UnionToIntersection<
  T[number]['params']['shape']
>;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyModule = PolicyModule<any, any, any, any>;

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

  /** Every module's parameter keys with their schema, for the section of the scenario that holds them. */
  paramShape(): Record<string, z.ZodType> {
    const shape: Record<string, z.ZodType> = {};
    for (const m of this.byId.values()) {
      for (const [k, v] of Object.entries(m.params.shape)) {
        if (shape[k] !== undefined && shape[k] !== v)
          throw new Error(`${this.hook} registry: parameter ${k} is declared with two different schemas`);
        shape[k] = v as z.ZodType;
      }
    }
    return shape;
  }

  /** The ids of the modules that take parameter `key`. */
  ownersOf(key: string): string[] {
    return this.modules()
      .filter((m) => Object.hasOwn(m.params.shape, key))
      .map((m) => m.id);
  }

  /**
   * The parameters of module `id` taken from `section` (the scenario object that holds this
   * hook's parameters, named `prefix` in messages). A key some other module of this hook takes
   * is refused, naming the field and the modules that use it; then the module's `check` runs.
   */
  params(id: string, section: Record<string, unknown>, prefix: string, checkContext: unknown): object {
    const m = this.get(id);
    const own = m.params.shape as Record<string, unknown>;
    const picked: Record<string, unknown> = {};
    const selector = this.field.slice(this.field.lastIndexOf('.') + 1);
    for (const [k, v] of Object.entries(section)) {
      if (v === undefined) continue;
      const owners = this.ownersOf(k);
      if (owners.length === 0) continue;
      if (!Object.hasOwn(own, k)) {
        throw new InputError(`${prefix}.${k}: only used by ${selector} ${owners.join(' or ')}, not ${id}`);
      }
      picked[k] = v;
    }
    const params = m.params.parse(picked) as object;
    const err = m.check?.(params, checkContext) ?? null;
    if (err !== null) throw new InputError(err);
    return params;
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
        ...(m.conformance ? { skips: { ...m.conformance.skip } } : {}),
      })),
    };
  }
}
