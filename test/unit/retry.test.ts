import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { retry, retryDelay } from '../../src/kafka/retry.ts'

/** Runs `retry` under fake timers, advancing them until it settles; returns its outcome and the waits seen. */
async function settle<T>(promise: Promise<T>): Promise<{ value?: T; error?: unknown }> {
  let outcome: { value?: T; error?: unknown } | undefined
  promise.then((value) => (outcome = { value }), (error: unknown) => (outcome = { error }))
  for (let i = 0; i < 1000 && !outcome; i++) await vi.advanceTimersToNextTimerAsync()
  return outcome!
}

describe('retry', () => {
  beforeEach(() => {
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('delays grow exponentially and are capped', () => {
    const o = { minDelayMs: 250, maxDelayMs: 5000 }
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(n, o))).toEqual([250, 500, 1000, 2000, 4000, 5000, 5000])
    expect(retryDelay(3, { minDelayMs: 100, maxDelayMs: 10_000, factor: 3 })).toBe(900)
  })

  it('returns the first success, passing the attempt number', async () => {
    const seen: number[] = []
    const fn = async (attempt: number) => {
      seen.push(attempt)
      if (attempt < 2) throw new Error(`fail ${attempt}`)
      return 'ok'
    }
    const retries: Array<[string, number]> = []
    const out = await settle(retry(fn, { minDelayMs: 250, maxDelayMs: 5000, retries: 5, onRetry: (e, n) => retries.push([e.message, n]) }))
    expect(out.value).toBe('ok')
    expect(seen).toEqual([0, 1, 2])
    expect(retries).toEqual([['fail 0', 1], ['fail 1', 2]])
  })

  it('gives up after `retries` retries with the last error, waiting the backoff in between', async () => {
    const started = Date.now()
    let calls = 0
    const out = await settle(retry(async () => {
      calls++
      throw new Error(`fail ${calls}`)
    }, { minDelayMs: 250, maxDelayMs: 5000, retries: 3 }))
    expect(calls).toBe(4)
    expect((out.error as Error).message).toBe('fail 4')
    expect(Date.now() - started).toBe(250 + 500 + 1000)
  })

  it('does not retry what shouldRetry refuses', async () => {
    let calls = 0
    const out = await settle(retry(async () => {
      calls++
      throw Object.assign(new Error('no'), { kind: 'not-found' })
    }, { minDelayMs: 10, maxDelayMs: 10, retries: 5, shouldRetry: (e) => (e as { kind?: string }).kind === 'connect' }))
    expect(calls).toBe(1)
    expect((out.error as Error).message).toBe('no')
  })

  it('untilMs bounds the time since the first failure', async () => {
    let calls = 0
    const started = Date.now()
    const out = await settle(retry(async () => {
      calls++
      throw new Error('down')
    }, { minDelayMs: 200, maxDelayMs: 2000, untilMs: 5000 }))
    expect((out.error as Error).message).toBe('down')
    // waits 200, 400, 800, 1600, 2000 (5000 ms: not more than untilMs yet), 2000 → 7000 > 5000: stop
    expect(Date.now() - started).toBe(7000)
    expect(calls).toBe(7)
  })

  it('an aborted signal stops retrying and cuts a wait short', async () => {
    const controller = new AbortController()
    let calls = 0
    const promise = retry(async () => {
      calls++
      throw new Error('down')
    }, { minDelayMs: 10_000, maxDelayMs: 10_000, signal: controller.signal })
    let outcome: unknown
    promise.catch((e: unknown) => (outcome = e))
    await vi.advanceTimersByTimeAsync(1000)
    controller.abort()
    await vi.advanceTimersByTimeAsync(0)
    expect((outcome as Error).message).toBe('down')
    expect(calls).toBe(1)
  })
})
