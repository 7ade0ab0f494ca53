import type { Daemon } from '../../engine/simulation.js';
import {
  TIER_RATIO_FILE,
  parseTierRatio,
  type TierRatio,
  type TierRatioSetting,
} from '../../host/tier-ratio.js';
import { InputError } from '../../util/errors.js';

/** One administrator action: at `atNs`, write `setting` to the group's memory.tier_ratio. */
export interface ScheduledRatio {
  atNs: number;
  cgroup: string;
  setting: TierRatioSetting;
}

export interface ScheduleInput {
  at_ms: number;
  cgroup: string;
  set: Record<string, unknown>;
}

/** Validates the scenario's `schedule` list against the cgroups it defines. */
export function resolveSchedule(
  entries: readonly ScheduleInput[] | undefined,
  cgPaths: readonly string[],
): ScheduledRatio[] {
  return (entries ?? []).map((e, i) => {
    const f = `schedule[${i}]`;
    if (!cgPaths.includes(e.cgroup)) {
      throw new InputError(
        `${f}.cgroup: no cgroup ${JSON.stringify(e.cgroup)}; defined: ${cgPaths.join(', ')}`,
      );
    }
    const v = e.set[TIER_RATIO_FILE];
    if (v === undefined) throw new InputError(`${f}.set: expected ${TIER_RATIO_FILE}`);
    return {
      atNs: e.at_ms * 1e6,
      cgroup: e.cgroup,
      setting: parseTierRatio(v, `${f}.set.${TIER_RATIO_FILE}`),
    };
  });
}

/** The schedule as a daemon: it writes each control file at its time, in order (stable for equal times). */
export function scheduleDaemon(ratio: TierRatio, entries: readonly ScheduledRatio[]): Daemon {
  const todo = entries.map((e, i) => ({ ...e, i })).sort((a, b) => a.atNs - b.atNs || a.i - b.i);
  let next = 0;
  return {
    name: 'ratio-schedule',
    start: () => (todo.length > 0 ? todo[0].atNs : Infinity),
    run: (_sim, now) => {
      while (next < todo.length && todo[next].atNs <= now) {
        const e = todo[next++];
        const c = ratio.host.cgroups.idOf(e.cgroup);
        if (c !== undefined) ratio.set(c, e.setting);
      }
      return next < todo.length ? todo[next].atNs : Infinity;
    },
  };
}
