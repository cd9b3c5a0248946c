/**
 * `evt tail -f` (follow, JSON lines on a pipe) on the 3-broker cluster while brokers die: a partition
 * leader SIGKILLed in the middle of a stream of writes, and every broker SIGKILLed and restarted on
 * its data between two batches. The follower must print every record the topic holds (kcat's
 * independent read is the oracle) exactly once, by itself, within a bound.
 */
import { afterEach, describe, expect, it } from 'vitest'
import {
  clusterUp,
  createRf3Topic,
  describeExit,
  idempotentProducer,
  jsonValues,
  kcatRead,
  killBroker,
  multisetDiff,
  partitionLeader,
  sleep,
  startEvt,
  uniqueName,
  waitUntil,
  type EvtProcess,
} from './support.ts'

/** After the last value showed up, how long the follower keeps running so a late duplicate would show too. */
const SETTLE_MS = 3000

/** Waits (bounded) until the follower printed at least `expected` (as a multiset), failing early if it exits. */
async function waitForValues(tail: EvtProcess, expected: string[], timeoutMs: number, what: string): Promise<void> {
  await waitUntil(what, () => multisetDiff(jsonValues(tail.lines()), expected).missing === 0, {
    timeoutMs,
    stopIf: () => (tail.exited() ? `evt exited: ${describeExit(tail)}` : undefined),
  }).catch((err: Error) => {
    const diff = multisetDiff(jsonValues(tail.lines()), expected)
    throw new Error(`${err.message}; ${diff.missing} of ${expected.length} values missing (e.g. ${diff.missingSample.slice(0, 5).join(', ')}); ${describeExit(tail)}`)
  })
}

describe('tail -f while brokers die', () => {
  afterEach(async () => {
    await clusterUp() // restart whatever the test killed, on its data, before the next one
  })

  it('prints every record exactly once when a partition leader is killed mid-stream', async () => {
    const topic = uniqueName('fo-tail-leader')
    await createRf3Topic(topic, 3)
    const tail = startEvt(['tail', topic, '-o', 'start', '-f', 'json'], { killAfterMs: 170_000 })
    try {
      // 3000 unique values over ~10 s, round-robin over the partitions; the leader of partition 0 dies halfway
      const producer = await idempotentProducer()
      const sent: string[] = []
      let killed: number | undefined
      try {
        for (let batch = 0; batch < 30; batch++) {
          const messages = Array.from({ length: 100 }, (_, i) => {
            const n = batch * 100 + i
            return { partition: n % 3, value: `v-${String(n).padStart(5, '0')}` }
          })
          await producer.send({ topic, acks: -1, messages })
          sent.push(...messages.map((m) => m.value))
          if (batch === 15) {
            killed = await partitionLeader(topic, 0)
            await killBroker(killed)
          }
          await sleep(330)
        }
      } finally {
        await producer.disconnect()
      }
      expect(killed).toBeDefined()

      const held = await kcatRead(topic)
      // the oracle itself: acks=all writes that succeeded survive one dead broker
      expect(multisetDiff(held, sent)).toEqual({ missing: 0, extra: 0, missingSample: [], extraSample: [] })

      await waitForValues(tail, held, 60_000, 'tail printing every value the topic holds')
      await sleep(SETTLE_MS)
      const exit = await tail.interrupt()
      expect(exit.killed, describeExit(exit)).toBe(false)
      expect(exit.code, describeExit(exit)).toBe(130)
      const shown = jsonValues(tail.lines())
      expect(multisetDiff(shown, held), describeExit(exit)).toEqual({ missing: 0, extra: 0, missingSample: [], extraSample: [] })
      expect(shown.length).toBe(3000)
    } finally {
      if (!tail.exited()) tail.child.kill('SIGKILL')
    }
  })

  it('prints the records written after every broker was killed and restarted, each once', async () => {
    const topic = uniqueName('fo-tail-restart')
    await createRf3Topic(topic, 3)
    const tail = startEvt(['tail', topic, '-o', 'start', '-f', 'json'], { killAfterMs: 175_000 })
    try {
      const write = async (prefix: string): Promise<string[]> => {
        const producer = await idempotentProducer()
        try {
          const messages = Array.from({ length: 300 }, (_, i) => ({ partition: i % 3, value: `${prefix}-${String(i).padStart(4, '0')}` }))
          await producer.send({ topic, acks: -1, messages })
          return messages.map((m) => m.value)
        } finally {
          await producer.disconnect()
        }
      }
      const batch1 = await write('b1')
      await waitForValues(tail, batch1, 30_000, 'tail printing batch 1')

      await Promise.all([killBroker(1), killBroker(2), killBroker(3)])
      await clusterUp()
      const upAt = Date.now()
      const batch2 = await write('b2')
      const held = await kcatRead(topic)
      expect(multisetDiff(held, [...batch1, ...batch2])).toEqual({ missing: 0, extra: 0, missingSample: [], extraSample: [] })

      await waitForValues(tail, held, 90_000 - (Date.now() - upAt), 'tail printing batch 2 after the cluster restart')
      await sleep(SETTLE_MS)
      const exit = await tail.interrupt()
      expect(exit.killed, describeExit(exit)).toBe(false)
      expect(exit.code, describeExit(exit)).toBe(130)
      expect(multisetDiff(jsonValues(tail.lines()), held), describeExit(exit)).toEqual({ missing: 0, extra: 0, missingSample: [], extraSample: [] })
    } finally {
      if (!tail.exited()) tail.child.kill('SIGKILL')
    }
  })
})
