/**
 * The progress reporter of long writes (replay --to-topic, dlq requeue): a cli-progress bar on
 * stderr followed by the command's own line of text. Drawn in place on a terminal; without one it
 * is silent unless forced (`--progress`), then it prints a line every 2 s.
 */
import cliProgress from 'cli-progress'

/** Reports the progress of one long run. */
export interface ProgressReporter {
  /** The work done so far out of `total` (same unit, e.g. offsets), and the line shown beside the bar. */
  update(done: number, total: number, text: string): void
  /** Draws the last state and ends the line; idempotent. */
  stop(): void
}

const WIDTH = 20

/** The bar of `progress` (0..1), WIDTH characters. */
export function progressBar(progress: number): string {
  const full = Math.max(0, Math.min(WIDTH, Math.round(progress * WIDTH)))
  return `[${'#'.repeat(full)}${'-'.repeat(WIDTH - full)}]`
}

/**
 * A reporter on `stream`: a bar when the stream is a terminal or `force` is set, else one that
 * does nothing.
 */
export function startProgress(options: { stream: NodeJS.WriteStream; force: boolean }): ProgressReporter {
  const { stream, force } = options
  if (!stream.isTTY && !force) return { update: () => {}, stop: () => {} }
  const bar = new cliProgress.SingleBar({
    stream,
    format: (_options, params, payload: { text?: string }) => `${progressBar(params.total ? params.value / params.total : 1)} ${payload.text ?? ''}`,
    noTTYOutput: force,
    notTTYSchedule: 2000,
    hideCursor: false,
    gracefulExit: false,
    clearOnComplete: false,
  })
  let started = false
  let stopped = false
  return {
    update(done, total, text) {
      if (stopped) return
      if (!started) {
        started = true
        bar.start(total, done, { text })
        return
      }
      bar.setTotal(total)
      bar.update(done, { text })
    },
    stop() {
      if (stopped) return
      stopped = true
      if (started) bar.stop()
    },
  }
}
