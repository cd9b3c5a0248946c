/**
 * `evt trace` and the copies evt itself writes, against the real broker: a record requeued from a
 * DLQ by `evt dlq requeue` and records copied by `evt replay --to-topic` hang under their sources
 * ("requeued from …", "replayed copy of …") in the tree, the timeline and the JSON, and are never
 * flagged DUPLICATE; a real duplicate delivery still is.
 */
import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { createTopic, produceFixture, runEvt, uniqueTopic } from '../support/kafka.ts'

function seed(e: { eventId: string; type: string; aggregate: string; correlation: string; causation: string | null; service: string }): { key: string; value: string } {
  return {
    key: e.aggregate,
    value: JSON.stringify({
      event_id: e.eventId,
      event_type: e.type,
      event_version: 1,
      occurred_at: new Date().toISOString(),
      aggregate_id: e.aggregate,
      aggregate_type: 'Order',
      data: {},
      metadata: { correlation_id: e.correlation, causation_id: e.causation, published_by: e.service },
    }),
  }
}

interface TraceJson {
  records: Array<{ id: string; eventId: string; parent: string | null; anomalies: string[]; deadLetter: unknown; copyOf: { kind: string; source: string; found: boolean; replayId?: string; requeueCount?: number } | null }>
  edges: Array<{ from: string; to: string }>
  anomalies: Array<{ kind: string; records: string[] }>
}

describe('trace understands copies', () => {
  const p = uniqueTopic('trc')
  const orders = `${p}.orders.events`
  const payments = `${p}.payments.events`
  const dlt = `${p}.payments.events-dlt`
  const replayed = `${p}.orders.replayed`
  const id = `req_${randomUUID().slice(0, 8)}`
  const e = { placed: randomUUID(), confirmed: randomUUID(), charge: randomUUID() }
  let replayId = ''

  beforeAll(async () => {
    await createTopic(orders, 1)
    await createTopic(payments, 1)
    await createTopic(dlt, 1)
    await createTopic(replayed, 1)
    await produceFixture(orders, [seed({ eventId: e.placed, type: 'OrderPlaced', aggregate: 'order-1', correlation: id, causation: null, service: 'order-service' })])
    const charge = seed({ eventId: e.charge, type: 'PaymentRequested', aggregate: 'order-1', correlation: id, causation: e.placed, service: 'order-service' })
    await produceFixture(payments, [charge])
    // the payment service fails on it and dead-letters it (Spring Cloud Stream headers)
    await produceFixture(dlt, [{ ...charge, headers: { 'x-original-topic': payments, 'x-exception-fqcn': 'java.net.SocketTimeoutException', 'x-exception-message': 'Read timed out' } }])
    // a real at-least-once duplicate: the same event published twice
    const confirmed = seed({ eventId: e.confirmed, type: 'OrderConfirmed', aggregate: 'order-1', correlation: id, causation: e.placed, service: 'order-service' })
    await produceFixture(orders, [confirmed])
    await produceFixture(orders, [confirmed])
    // evt's own copies: the dead letter requeued, the orders replayed into another topic
    const requeue = await runEvt(['dlq', 'requeue', dlt, '--yes'])
    expect(requeue.code, requeue.stderr).toBe(0)
    const replay = await runEvt(['replay', orders, '--from', 'start', '--to-topic', replayed, '--yes', '--json'])
    expect(replay.code, replay.stderr).toBe(0)
    replayId = /replay id (\S+)/.exec(replay.stderr)![1]
  }, 90_000)

  it('links each copy to its source in the JSON, and flags only the real duplicate', async () => {
    const out = await runEvt(['trace', id, '-t', `${p}.*`, '--since', '1h', '-f', 'json'])
    expect(out.code, out.stderr).toBe(0)
    const t = JSON.parse(out.stdout) as TraceJson
    const byId = new Map(t.records.map((r) => [r.id, r]))
    expect([...byId.keys()].sort()).toEqual([
      `${orders}/0@0`, `${orders}/0@1`, `${orders}/0@2`,
      `${payments}/0@0`, `${payments}/0@1`,
      `${dlt}/0@0`,
      `${replayed}/0@0`, `${replayed}/0@1`, `${replayed}/0@2`,
    ].sort())
    // the requeued copy hangs under the dead letter, which hangs under the original
    expect(byId.get(`${dlt}/0@0`)!.parent).toBe(`${payments}/0@0`)
    expect(byId.get(`${payments}/0@1`)!.copyOf).toEqual({ kind: 'requeue', source: `${dlt}/0@0`, found: true, requeueCount: 1 })
    expect(byId.get(`${payments}/0@1`)!.parent).toBe(`${dlt}/0@0`)
    expect(byId.get(`${payments}/0@1`)!.deadLetter).toBeNull()
    // each replayed copy under its source
    for (const i of [0, 1, 2]) {
      expect(byId.get(`${replayed}/0@${i}`)!.copyOf).toEqual({ kind: 'replay', source: `${orders}/0@${i}`, found: true, replayId })
      expect(byId.get(`${replayed}/0@${i}`)!.parent).toBe(`${orders}/0@${i}`)
    }
    for (const r of t.records.filter((x) => x.copyOf)) expect(r.anomalies).toEqual([])
    expect(t.anomalies.filter((a) => a.kind === 'duplicate')).toEqual([{ kind: 'duplicate', message: `event ${e.confirmed} was published 2 times (at-least-once redelivery?)`, records: [`${orders}/0@1`, `${orders}/0@2`] }])
    expect(t.anomalies.map((a) => a.kind).sort()).toEqual(['dead-lettered', 'duplicate'])
    expect(t.edges).toHaveLength(8)
  })

  it('says so in the tree and the timeline', async () => {
    const tree = await runEvt(['trace', id, '-t', `${p}.*`, '--since', '1h', '-f', 'tree'])
    expect(tree.code).toBe(0)
    expect(tree.stdout).toContain(`↻ requeued from ${dlt}/0@0`)
    for (const i of [0, 1, 2]) expect(tree.stdout).toContain(`⧉ replayed copy of ${orders}/0@${i}`)
    expect(tree.stdout.match(/\[DUPLICATE\]/g)).toHaveLength(2)
    const copyLines = tree.stdout.split('\n').filter((l) => l.includes('requeued from') || l.includes('replayed copy of'))
    expect(copyLines).toHaveLength(4)
    for (const l of copyLines) expect(l).not.toContain('DUPLICATE')
    const timeline = await runEvt(['trace', id, '-t', `${p}.*`, '--since', '1h', '-f', 'timeline'])
    expect(timeline.stdout).toContain(`↻ requeued from ${dlt}/0@0`)
    expect(timeline.stdout).toContain(`⧉ replayed copy of ${orders}/0@2`)
  })

  it('a copy whose source is outside the searched topics still names it, and is no duplicate', async () => {
    const out = await runEvt(['trace', id, '-t', payments, '-t', replayed, '--since', '1h', '-f', 'json'])
    const t = JSON.parse(out.stdout) as TraceJson
    const byId = new Map(t.records.map((r) => [r.id, r]))
    expect(byId.get(`${payments}/0@1`)!.copyOf).toEqual({ kind: 'requeue', source: `${dlt}/0@0`, found: false, requeueCount: 1 })
    // its source is not there: it hangs under the original with the same event id
    expect(byId.get(`${payments}/0@1`)!.parent).toBe(`${payments}/0@0`)
    expect(byId.get(`${replayed}/0@0`)!.copyOf).toMatchObject({ kind: 'replay', source: `${orders}/0@0`, found: false })
    expect(t.anomalies.filter((a) => a.kind === 'duplicate')).toEqual([])
    const tree = await runEvt(['trace', id, '-t', payments, '--since', '1h', '-f', 'tree'])
    expect(tree.stdout).toContain(`↻ requeued from ${dlt}/0@0 (not in the searched window)`)
  })
})
