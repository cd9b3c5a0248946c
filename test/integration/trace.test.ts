/**
 * `evt trace` against the real broker: records of one request across topics and partitions,
 * causal edges, anomalies, consumption per hop, --expect and --follow.
 */
import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { createTopic, produceFixture, runEvt, uniqueTopic, withTestAdmin } from '../support/kafka.ts'

interface Envelope {
  event_id: string
  event_type: string
  aggregate_id: string
  correlation: string
  causation: string | null
  service: string
}

function seed(e: Envelope): { key: string; value: string } {
  return {
    key: e.aggregate_id,
    value: JSON.stringify({
      event_id: e.event_id,
      event_type: e.event_type,
      event_version: 1,
      occurred_at: new Date().toISOString(),
      aggregate_id: e.aggregate_id,
      aggregate_type: e.event_type.replace(/[A-Z][a-z]+$/, ''),
      data: {},
      metadata: { correlation_id: e.correlation, causation_id: e.causation, published_by: e.service },
    }),
  }
}

interface TraceJson {
  topics: string[]
  scanned: number
  records: Array<{ id: string; topic: string; partition: number; offset: number; eventId: string; eventType: string; parent: string | null; anomalies: string[]; consumption: Array<{ group: string; status: string; committedOffset: number; lag: number }> }>
  edges: Array<{ from: string; to: string }>
  anomalies: Array<{ kind: string; records: string[] }>
}

describe('trace across topics', () => {
  const prefix = uniqueTopic('tr')
  const topics = ['orders.events', 'payments.events', 'inventory.events', 'shipping.events'].map((t) => `${prefix}.${t}`)
  const [orders, payments, inventory, shipping] = topics
  const id = `req_${randomUUID().slice(0, 8)}`
  const other = `req_${randomUUID().slice(0, 8)}`
  const e = { placed: randomUUID(), paid: randomUUID(), reserved: randomUUID(), shipped: randomUUID() }

  beforeAll(async () => {
    for (const t of topics) await createTopic(t, 3)
    // The request, spread over 4 topics and (by key) several partitions.
    await produceFixture(orders, [seed({ event_id: e.placed, event_type: 'OrderPlaced', aggregate_id: 'order-1', correlation: id, causation: null, service: 'order-service' })])
    await produceFixture(payments, [seed({ event_id: e.paid, event_type: 'PaymentCaptured', aggregate_id: 'payment-7', correlation: id, causation: e.placed, service: 'payment-service' })])
    await produceFixture(inventory, [seed({ event_id: e.reserved, event_type: 'StockReserved', aggregate_id: 'sku-3', correlation: id, causation: e.placed, service: 'inventory-service' })])
    await produceFixture(shipping, [seed({ event_id: e.shipped, event_type: 'ShipmentCreated', aggregate_id: 'shipment-2', correlation: id, causation: e.paid, service: 'shipping-service' })])
    // Another request on the same topics: must not show up.
    await produceFixture(orders, [seed({ event_id: randomUUID(), event_type: 'OrderPlaced', aggregate_id: 'order-2', correlation: other, causation: null, service: 'order-service' })])
    await produceFixture(payments, [seed({ event_id: randomUUID(), event_type: 'PaymentCaptured', aggregate_id: 'payment-8', correlation: other, causation: null, service: 'payment-service' })])
  })

  async function traceJson(args: string[] = []): Promise<TraceJson> {
    const result = await runEvt(['trace', id, '-t', `${prefix}.*`, '--since', '1h', '-f', 'json', ...args])
    expect(result.code).toBe(0)
    return JSON.parse(result.stdout) as TraceJson
  }

  it('finds exactly the records of the request, with the causal edges', async () => {
    const t = await traceJson()
    expect(t.topics).toEqual([...topics].sort())
    expect(t.scanned).toBe(6)
    const byType = Object.fromEntries(t.records.map((r) => [r.eventType, r]))
    expect(Object.keys(byType).sort()).toEqual(['OrderPlaced', 'PaymentCaptured', 'ShipmentCreated', 'StockReserved'])
    expect(new Set(t.records.map((r) => r.topic)).size).toBe(4)
    expect(byType.OrderPlaced.parent).toBeNull()
    expect(byType.PaymentCaptured.parent).toBe(byType.OrderPlaced.id)
    expect(byType.StockReserved.parent).toBe(byType.OrderPlaced.id)
    expect(byType.ShipmentCreated.parent).toBe(byType.PaymentCaptured.id)
    expect(t.edges).toHaveLength(3)
    expect(t.anomalies).toEqual([])
  })

  it('tells which consumer groups consumed each record and which have not yet', async () => {
    const t0 = await traceJson()
    const paid = t0.records.find((r) => r.eventType === 'PaymentCaptured')!
    const behind = `${prefix}-shipping-behind`
    const done = `${prefix}-shipping-done`
    const high = await withTestAdmin(async (admin) => {
      await admin.setOffsets({ groupId: done, topic: payments, partitions: [{ partition: paid.partition, offset: String(paid.offset + 1) }] })
      await admin.setOffsets({ groupId: behind, topic: payments, partitions: [{ partition: paid.partition, offset: String(paid.offset) }] })
      return Number((await admin.fetchTopicOffsets(payments)).find((p) => p.partition === paid.partition)!.high)
    })
    const t = await traceJson()
    const consumption = t.records.find((r) => r.eventType === 'PaymentCaptured')!.consumption.filter((c) => c.group.startsWith(prefix))
    expect(consumption).toEqual([
      { group: behind, status: 'pending', committedOffset: paid.offset, lag: high - paid.offset },
      { group: done, status: 'consumed', committedOffset: paid.offset + 1, lag: high - paid.offset - 1 },
    ].sort((a, b) => a.group.localeCompare(b.group)))
  })

  it('--expect passes when the types are there (exit 0) and times out otherwise (exit 5)', async () => {
    const ok = await runEvt(['trace', id, '-t', `${prefix}.*`, '--since', '1h', '-f', 'json', '--expect', 'OrderPlaced,PaymentCaptured,ShipmentCreated', '--expect-order', '--timeout', '10s'])
    expect(ok.code).toBe(0)
    const missing = await runEvt(['trace', id, '-t', `${prefix}.*`, '--since', '1h', '-f', 'json', '--expect', 'OrderPlaced,InvoiceIssued', '--timeout', '2s'])
    expect(missing.code).toBe(5)
    expect(missing.stderr).toContain('is missing: InvoiceIssued')
  })

  it('--expect waits for a record produced after it started', async () => {
    const late = randomUUID()
    const waiting = runEvt(['trace', id, '-t', `${prefix}.*`, '--since', '1h', '-f', 'json', '--expect', 'OrderConfirmed', '--timeout', '20s'], { timeoutMs: 30_000 })
    await new Promise((r) => setTimeout(r, 3000))
    await produceFixture(orders, [seed({ event_id: late, event_type: 'OrderConfirmed', aggregate_id: 'order-1', correlation: id, causation: e.reserved, service: 'order-service' })])
    const result = await waiting
    expect(result.code).toBe(0)
    const t = JSON.parse(result.stdout) as TraceJson
    const confirmed = t.records.find((r) => r.eventId === late)!
    expect(confirmed.parent).toBe(t.records.find((r) => r.eventType === 'StockReserved')!.id)
  })

  it('nothing found: exit 0 with the window, or 5 with --fail-empty', async () => {
    const none = await runEvt(['trace', 'req_nobody', '-t', `${prefix}.*`, '--since', '1h', '-f', 'tree'])
    expect(none.code).toBe(0)
    expect(none.stdout).toContain('no records')
    expect(none.stdout).toMatch(/searched 4 topics .* found 0/)
    const fail = await runEvt(['trace', 'req_nobody', '-t', `${prefix}.*`, '--since', '1h', '--fail-empty'])
    expect(fail.code).toBe(5)
  })
})

describe('trace anomalies on real records', () => {
  it('flags a duplicate delivery and a dead-lettered hop with Spring headers', async () => {
    const prefix = uniqueTopic('tra')
    const orders = await createTopic(`${prefix}.orders.events`, 2)
    const dlt = await createTopic(`${prefix}.orders.events-dlt`, 2)
    const id = `req_${randomUUID().slice(0, 8)}`
    const placed = randomUUID()
    const record = seed({ event_id: placed, event_type: 'OrderPlaced', aggregate_id: 'order-9', correlation: id, causation: null, service: 'order-service' })
    await produceFixture(orders, [{ ...record, partition: 1 }, { ...record, partition: 1 }])
    const int32 = Buffer.alloc(4)
    int32.writeInt32BE(1)
    const int64 = Buffer.alloc(8)
    int64.writeBigInt64BE(0n)
    await produceFixture(dlt, [{ ...record, partition: 1, headers: { 'kafka_dlt-original-topic': orders, 'kafka_dlt-original-partition': int32, 'kafka_dlt-original-offset': int64, 'kafka_dlt-exception-fqcn': 'java.net.SocketTimeoutException', 'kafka_dlt-exception-message': 'Read timed out' } }])
    const result = await runEvt(['trace', id, '-t', `${prefix}.*`, '--since', '1h', '-f', 'json'])
    const t = JSON.parse(result.stdout) as TraceJson
    expect(t.records).toHaveLength(3)
    expect(t.anomalies.map((a) => a.kind).sort()).toEqual(['dead-lettered', 'duplicate'])
    expect(t.anomalies.find((a) => a.kind === 'duplicate')!.records).toEqual([`${orders}/1@0`, `${orders}/1@1`])
    const tree = await runEvt(['trace', id, '-t', `${prefix}.*`, '--since', '1h', '-f', 'tree'])
    expect(tree.stdout).toContain('DUPLICATE')
    expect(tree.stdout).toContain('dead letter: SocketTimeoutException: Read timed out')
  })
})
