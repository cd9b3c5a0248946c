/**
 * The one retry helper: runs an operation again after failures, with exponential backoff, until
 * it succeeds, a bound is reached (a number of retries, or a time since the first failure), or the
 * error is not worth retrying.
 */

/** How {@link retry} retries. */
export interface RetryOptions {
  /** At most this many retries after the first attempt (default: no limit by count). */
  retries?: number
  /** No retry once this many ms have passed since the first failure (default: no limit by time). */
  untilMs?: number
  /** Wait before the first retry, ms; doubles (× `factor`) for each further retry. */
  minDelayMs: number
  /** Longest wait between attempts, ms. */
  maxDelayMs: number
  /** Growth of the wait per retry (default 2). */
  factor?: number
  /** Whether this error may be retried (default: every error). */
  shouldRetry?: (error: unknown) => boolean
  /** Called before waiting for a retry; `attempt` counts retries from 1. */
  onRetry?: (error: Error, attempt: number) => void
  /** Stops retrying: no retry once aborted, and a wait is cut short (the last error is thrown). */
  signal?: AbortSignal
}

/** The wait before retry number `attempt` (from 1): `min(maxDelayMs, minDelayMs × factor^(attempt-1))`. */
export function retryDelay(attempt: number, options: Pick<RetryOptions, 'minDelayMs' | 'maxDelayMs' | 'factor'>): number {
  return Math.min(options.maxDelayMs, options.minDelayMs * (options.factor ?? 2) ** (attempt - 1))
}

function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false)
    const onAbort = () => {
      clearTimeout(timer)
      resolve(false)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve(true)
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

/**
 * Runs `fn(attempt)` (attempt 0 first, then 1, 2, … for the retries) until it resolves.
 * After a failure it throws that error when `retries` retries were made already, when `untilMs`
 * passed since the first failure, when `signal` is aborted or `shouldRetry` says no; otherwise it
 * calls `onRetry`, waits {@link retryDelay} and tries again.
 * @throws the last error of `fn`.
 */
export async function retry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  let firstFailure: number | undefined
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (err) {
      firstFailure ??= Date.now()
      if (options.retries !== undefined && attempt >= options.retries) throw err
      if (options.untilMs !== undefined && Date.now() - firstFailure > options.untilMs) throw err
      if (options.signal?.aborted) throw err
      if (options.shouldRetry && !options.shouldRetry(err)) throw err
      options.onRetry?.(err as Error, attempt + 1)
      if (!(await sleep(retryDelay(attempt + 1, options), options.signal))) throw err
    }
  }
}
