/**
 * The runner shared by the live views of `evt tail` and `evt outbox tail` (src/ui/live-view.tsx),
 * through both views' own entry points, mounted with ink-testing-library: the source is pumped
 * into the view, its end is shown, q / Ctrl-C abort it, a source error comes out after the view.
 */
import { stripVTControlCharacters } from 'node:util'
import { cleanup, render } from 'ink-testing-library'
import type { ReactElement } from 'react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { decodeRecord } from '../../src/codec/decode.ts'
import type { DecodedRecord } from '../../src/record.ts'
import type { OutboxTailEvent } from '../../src/services/outbox-tail.ts'
import type { TailStats } from '../../src/services/tail.ts'
import type { LiveExit, LiveInstance } from '../../src/ui/live-view.tsx'
import { runOutboxTailLiveView } from '../../src/ui/outbox-tail-live.tsx'
import { runTailLiveView } from '../../src/ui/tail-live.tsx'

afterEach(() => cleanup())

/** Mounts with ink-testing-library and keeps the instance, for its frames and its stdin. */
function testMount() {
  let mounted: ReturnType<typeof render> | undefined
  // the last frame while mounted (unmounting renders nothing)
  let final: string | undefined
  const mount = (app: ReactElement): LiveInstance => {
    mounted = render(app)
    return {
      clear: () => {},
      unmount: () => {
        final = mounted!.lastFrame()
        mounted!.unmount()
      },
      waitUntilExit: async () => {},
    }
  }
  return {
    mount,
    frame: () => stripVTControlCharacters(final ?? mounted?.lastFrame() ?? ''),
    press: (input: string) => mounted!.stdin.write(input),
  }
}

/** A source that yields `items`, then waits until `stop()` (the abort) before it ends. */
function heldSource<T>(items: T[]) {
  let stop!: () => void
  const stopped = new Promise<void>((resolve) => (stop = resolve))
  async function* gen() {
    for (const item of items) yield item
    await stopped
  }
  return { source: gen(), stop }
}

const T = Date.UTC(2026, 10, 30, 14, 0, 0)
const row = (id: string) => ({ id, aggregateType: 'customer', aggregateId: `c-${id}`, type: 'LoyaltyPointsEarned', writtenAt: T })
const landed = (id: string, offset: number): OutboxTailEvent => ({ kind: 'published', row: row(id), at: { topic: 'outbox.event.customer', partition: 0, offset, timestamp: T + 200 }, lagMs: 200, wasLate: false })

function rec(offset: number): DecodedRecord {
  return decodeRecord({ topic: 'orders.events', partition: 0, offset: String(offset), timestamp: T + offset, key: Buffer.from(`order-${offset}`), value: Buffer.from(`{"type":"OrderPlaced","n":${offset}}`), headers: [] })
}

describe('outbox tail live view runner', () => {
  it('a source that ends: every event is in the view, which then shows it ended (no key help)', async () => {
    const ui = testMount()
    async function* source() {
      yield landed('a', 0)
      yield landed('b', 1)
    }
    const abort = vi.fn()
    await runOutboxTailLiveView(source(), { title: 'outbox → outbox.event.*', abort, mount: ui.mount })
    expect(ui.frame()).toContain('published 2 · waiting 0 · late 0 · unknown 0')
    expect(ui.frame()).toMatch(/customer\/c-b .*→ outbox\.event\.customer\/0@1/)
    expect(ui.frame()).not.toContain('q quit')
    expect(abort).not.toHaveBeenCalled()
  })

  it.each([['q', 'quit'], ['\u0003', 'interrupt']] as const)('key %j: abort(%s), then the run ends when the source does', async (key, reason) => {
    const ui = testMount()
    const held = heldSource([landed('a', 0)])
    const abort = vi.fn((_: LiveExit) => held.stop())
    const run = runOutboxTailLiveView(held.source, { title: 't', abort, mount: ui.mount })
    await vi.waitFor(() => expect(ui.frame()).toContain('published 1'))
    ui.press(key)
    await run
    expect(abort).toHaveBeenCalledExactlyOnceWith(reason)
  })

  it('a source error is rethrown once the view is gone', async () => {
    const ui = testMount()
    async function* source(): AsyncGenerator<OutboxTailEvent> {
      yield landed('a', 0)
      throw new Error('relay topic deleted')
    }
    await expect(runOutboxTailLiveView(source(), { title: 't', abort: () => {}, mount: ui.mount })).rejects.toThrow('relay topic deleted')
  })
})

describe('tail live view runner', () => {
  it('a source that ends: the records are in the view, batched; q on a held source aborts with quit', async () => {
    const stats: TailStats = { scanned: 3, matched: 3, bytes: 100 }
    const ended = testMount()
    async function* chunks() {
      yield [rec(1), rec(2)]
      yield [rec(3)]
    }
    await runTailLiveView(chunks(), { topics: ['orders.events'], stats, abort: () => {}, mount: ended.mount })
    expect(ended.frame()).toContain('orders.events/0@3')
    expect(ended.frame()).toContain('orders.events/0@1')

    const live = testMount()
    const held = heldSource([[rec(7)]])
    const abort = vi.fn((_?: LiveExit) => held.stop())
    const run = runTailLiveView(held.source, { topics: ['orders.events'], stats, abort, mount: live.mount })
    await vi.waitFor(() => expect(live.frame()).toContain('orders.events/0@7'))
    live.press('q')
    await run
    expect(abort).toHaveBeenCalledExactlyOnceWith('quit')
  })
})
