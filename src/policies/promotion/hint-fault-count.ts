import { z } from 'zod';
import { rateLimited } from './rate-limit.js';
import { hostClockMs, NOT_HOT, type PromotionFilterModule } from './types.js';

/**
 * Frequency instead of recency: promote a slow-tier page once it has taken N hint faults within
 * a window, rather than on one short hint-fault latency. This is the rule Bharata B Rao proposed
 * on linux-mm in 2024 ("Hot page promotion optimization for large address space"): on a large
 * address space the scanner needs long to come back to a page, so the latency test sees few
 * pages as hot. His later pghot series (RFC v6, linux-mm, March 2026) keeps the idea as a
 * frequency threshold, promoting after two accesses by default (freq_threshold). A page that
 * passes the count still goes through the promotion rate limiter, as every filter here does.
 *
 * The count is per frame (pfn), as pghot keeps its records: a migrated page starts again at 0.
 * A count older than the window restarts at the fault that finds it expired. The window's
 * default is this simulator's assumption, not the RFC's.
 */
const params = z.strictObject({
  hint_fault_count_threshold: z
    .number()
    .int()
    .min(1)
    .max(65535)
    .optional()
    .describe(
      'hint-fault-count only: hint faults a page takes within the window before it is promoted (default 2)',
    ),
  hint_fault_count_window_ms: z
    .number()
    .positive()
    .optional()
    .describe('hint-fault-count only: the window the faults are counted in, ms (default 5000)'),
});

export const hintFaultCount: PromotionFilterModule<z.infer<typeof params>> = {
  id: 'hint-fault-count',
  summary: 'promote after N hint faults within a window, not on hint-fault latency (B. B. Rao, 2024 RFC)',
  params,
  create(p, config) {
    const threshold = p.hint_fault_count_threshold ?? 2;
    const windowMs = p.hint_fault_count_window_ms ?? 5000;
    let count: Uint16Array | null = null;
    let since: Float64Array | null = null;
    return {
      name: 'hint-fault-count',
      recordsScanTime: false,
      decide(f) {
        const now = hostClockMs(config, f.nowMs);
        if (count === null || since === null) {
          count = new Uint16Array(f.host.frames.totalFrames);
          since = new Float64Array(f.host.frames.totalFrames);
        }
        const pfn = f.p;
        if (count[pfn] === 0 || now - since[pfn] > windowMs) {
          count[pfn] = 1;
          since[pfn] = now;
        } else count[pfn]++;
        if (count[pfn] < threshold) return NOT_HOT;
        count[pfn] = 0;
        return rateLimited(config, f);
      },
    };
  },
};
