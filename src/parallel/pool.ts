import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { InputError } from '../util/errors.js';
import { runTask, type Outcome, type Task } from './tasks.js';

/**
 * Runs independent tasks on a pool of worker threads (piscina), one task per thread at a time,
 * and returns their outcomes in the order of the tasks — so what a command writes from them is
 * the same bytes whatever the number of workers. One worker (or one task) runs in this thread:
 * no thread to start, and the reference the parallel path is compared with.
 */
export interface PoolOptions {
  /** Worker threads at most; 1 runs everything here. */
  jobs: number;
  /** Called as each task finishes, with (tasks done, tasks in total). */
  onDone?: (done: number, total: number) => void;
}

type WorkerReply = { ok: unknown } | { inputError: string; exitCode: number };

/** What --jobs defaults to: one worker per CPU this process may use. */
export function defaultJobs(): number {
  return availableParallelism();
}

export async function runTasks<T extends Task>(tasks: readonly T[], o: PoolOptions): Promise<Outcome<T>[]> {
  const total = tasks.length;
  let done = 0;
  const tick = (): void => o.onDone?.(++done, total);
  const threads = Math.min(o.jobs, total);
  if (threads <= 1) {
    return tasks.map((t) => {
      const r = runTask(t);
      tick();
      return r;
    });
  }
  const pool = new Piscina({
    filename: new URL('./worker.js', import.meta.url).href,
    minThreads: threads,
    maxThreads: threads,
    concurrentTasksPerWorker: 1,
  });
  try {
    return await Promise.all(
      tasks.map(async (t) => {
        const reply = (await pool.run(t)) as WorkerReply;
        tick();
        if ('inputError' in reply) throw new InputError(reply.inputError, reply.exitCode);
        return reply.ok as Outcome<T>;
      }),
    );
  } finally {
    await pool.destroy();
  }
}
