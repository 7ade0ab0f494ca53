import { InputError } from '../util/errors.js';
import { runTask, type Task } from './tasks.js';

/**
 * A pool worker: runs one task. A user error (a trace file gone, say) goes back as data, since
 * an Error crossing the thread loses its class and the command line must still exit 2.
 */
export default function work(task: Task): unknown {
  try {
    return { ok: runTask(task) };
  } catch (e) {
    if (e instanceof InputError) return { inputError: e.message, exitCode: e.exitCode };
    throw e;
  }
}
