/**
 * `evt trace <id> --follow` on the 3-broker cluster while every broker is SIGKILLed and restarted on
 * its data: the records of the request written after the restart must show up by themselves, each
 * once, and the final result must hold every record of the request exactly once.
 *
 * On a pipe, `-f tree` prints the tree found so far on stderr when following starts, then one
 * `+ <type>  <source>  <topic/partition@offset>` line per new record, and the final tree on stdout.
 */
import { randomUUID } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  clusterUp,
  createRf3Topic,
  describeExit,
  idempotentProducer,
  kcatRead,
  killBroker,
  multisetDiff,
  sleep,
  startEvt,
  uniqueName,
  waitUntil,
  type EvtProcess,
} from './support.ts'

/** After the last record showed up, how long the follower keeps running so a late duplicate would show too. */
const SETTLE_MS = 3000

/** A value in the seed envelope (metadata.correlation_id) of request `correlation`, published by `source`. */
function envelope(correlation: string, source: string, type: string): string {
  return JSON.stringify({
    event_id: randomUUID(),
    event_type: type,
    event_version: 1,
    occurred_at: new Date().toISOString(),
    aggregate_id: 'order-1',
    aggregate_type: 'Order',
    data: {},
    metadata: { correlation_id: correlation, causation_id: null, published_by: source },
  })
}

/** The `+ type  source  id` lines printed while following: [source, record id]. */
function followed(stderr: string): Array<{ source: string; id: string }> {
  return [...stderr.matchAll(/^\+ (\S+) {2}(\S+) {2}(\S+)/gm)].map((m) => ({ source: m[2], id: m[3] }))
}

describe('trace --follow while every broker restarts', () => {
  afterEach(async () => {
    await clusterUp() // restart whatever the test killed, on its data, before the next one
  })

  it('shows the records written after the restart by itself, each once', async () => {
    const topic = uniqueName('fo-trace-restart')
    const correlation = `req_${randomUUID().slice(0, 8)}`
    await createRf3Topic(topic, 3)
    const write = async (sources: string[], type: string) => {
      const producer = await idempotentProducer()
      try {
        // round-robin over the partitions; records of another request in between must not show up
        await producer.send({
          topic,
          acks: -1,
          messages: sources.flatMap((source, i) => [
            { partition: i % 3, key: 'order-1', value: envelope(correlation, source, type) },
            { partition: (i + 1) % 3, key: 'order-2', value: envelope(`req_other_${i}`, `other-${source}`, type) },
          ]),
        })
      } finally {
        await producer.disconnect()
      }
    }
    const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`)
    // the request's first record exists before the follower starts (it is in the first tree)
    await write(['seed-000'], 'OrderPlaced')

    const tracer: EvtProcess = startEvt(['trace', correlation, '-t', topic, '--since', '1h', '--follow', '-f', 'tree'], { killAfterMs: 175_000 })
    const stillRunning = () => (tracer.exited() ? `evt exited: ${describeExit(tracer)}` : undefined)
    try {
      await waitUntil('trace following', () => tracer.stderr().includes('following new records'), { timeoutMs: 30_000, stopIf: stillRunning })
      expect(tracer.stderr()).toContain('seed-000')

      const batch1 = names('b1', 100)
      await write(batch1, 'PaymentCaptured')
      await waitUntil('trace showing batch 1', () => multisetDiff(followed(tracer.stderr()).map((f) => f.source), batch1).missing === 0, { timeoutMs: 30_000, stopIf: stillRunning })

      await Promise.all([killBroker(1), killBroker(2), killBroker(3)])
      await clusterUp()
      const upAt = Date.now()
      const batch2 = names('b2', 100)
      await write(batch2, 'ShipmentCreated')

      // the oracle: the request's records in the topic, by kcat (value JSON → published_by), and their ids
      const held = (await kcatRead(topic, '%p@%o %s\\n')).map((line) => {
        const space = line.indexOf(' ')
        const value = JSON.parse(line.slice(space + 1)) as { metadata: { correlation_id: string; published_by: string } }
        return { id: `${topic}/${line.slice(0, space)}`, correlation: value.metadata.correlation_id, source: value.metadata.published_by }
      }).filter((r) => r.correlation === correlation)
      expect(multisetDiff(held.map((r) => r.source), ['seed-000', ...batch1, ...batch2])).toEqual({ missing: 0, extra: 0, missingSample: [], extraSample: [] })

      await waitUntil('trace showing batch 2 after the cluster restart', () => multisetDiff(followed(tracer.stderr()).map((f) => f.source), batch2).missing === 0, {
        timeoutMs: 90_000 - (Date.now() - upAt),
        stopIf: stillRunning,
      }).catch((err: Error) => {
        throw new Error(`${err.message}; ${describeExit(tracer)}`)
      })
      await sleep(SETTLE_MS)
      const exit = await tracer.interrupt()
      expect(exit.killed, describeExit(exit)).toBe(false)
      expect(exit.code, describeExit(exit)).toBe(130)

      // live: every record after the first tree once, with the ids kcat sees
      const live = followed(exit.stderr)
      const expectedLive = held.filter((r) => r.source !== 'seed-000')
      expect(multisetDiff(live.map((f) => `${f.id} ${f.source}`), expectedLive.map((r) => `${r.id} ${r.source}`)), describeExit(exit)).toEqual({ missing: 0, extra: 0, missingSample: [], extraSample: [] })
      // final tree: exactly the request's records (the topic holds 2 × 201), no duplicate
      const summary = /: (\d+) records, .*; found (\d+)/.exec(exit.stdout)
      expect(summary, exit.stdout.slice(0, 2000)).not.toBeNull()
      expect({ scanned: Number(summary![1]), found: Number(summary![2]) }, describeExit(exit)).toEqual({ scanned: 402, found: 201 })
      expect(exit.stdout).not.toMatch(/DUPLICATE/)
      for (const r of held) expect(exit.stdout).toContain(`  ${r.source}  ${r.id}  `)
    } finally {
      if (!tracer.exited()) tracer.child.kill('SIGKILL')
    }
  })
})
