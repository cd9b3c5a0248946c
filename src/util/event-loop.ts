/**
 * Giving the event loop a turn during long synchronous work (decoding and filtering thousands of
 * records), so that Ctrl-C / SIGTERM handlers, timers and deadlines run while it goes on.
 *
 * A signal handler is a macrotask: it cannot run while a loop of records runs synchronously, and
 * `await` on a settled promise does not let it run either. {@link LoopTurns.due} is a cheap clock
 * check to call per record; when it says so, `await turns.yield()` lets everything queued run.
 */
import { setImmediate as nextTurn } from 'node:timers/promises'

/** How long (ms) a record loop may run without giving the event loop a turn. */
export const LOOP_TURN_MS = 50

/** Tracks when the event loop last had a turn; one per record loop. */
export class LoopTurns {
  private last = performance.now()
  private readonly everyMs: number

  /** @param everyMs how long (ms) work may run between turns; default {@link LOOP_TURN_MS}. */
  constructor(everyMs = LOOP_TURN_MS) {
    this.everyMs = everyMs
  }

  /** True when the loop has run `everyMs` or longer since the last turn. */
  due(): boolean {
    return performance.now() - this.last >= this.everyMs
  }

  /** Lets timers, I/O callbacks and signal handlers run (one `setImmediate` turn). */
  async yield(): Promise<void> {
    await nextTurn()
    this.last = performance.now()
  }
}
