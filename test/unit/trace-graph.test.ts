import { describe, expect, it } from 'vitest'
import type { EventMeta } from '../../src/envelope/index.ts'
import type { RecordHeader } from '../../src/record.ts'
import { missingExpectations, typeMatches } from '../../src/trace/expect.ts'
import { buildGraph, type TraceRecord } from '../../src/trace/graph.ts'

let offset = 0
function rec(topic: string, partition: number, timestamp: number, meta: Partial<EventMeta>, extra: { key?: string | null; headers?: RecordHeader[] } = {}): TraceRecord {
  return {
    topic,
    partition,
    offset: String(offset++),
    timestamp,
    key: extra.key === undefined ? (meta.aggregateId ?? null) : extra.key,
    headers: extra.headers ?? [],
    meta: { conventions: ['seed'], correlationId: 'req_1', ...meta },
    preview: '',
  }
}

const int32 = (n: number) => {
  const b = Buffer.alloc(4)
  b.writeInt32BE(n)
  return b
}

describe('buildGraph', () => {
  it('links records by causation id, with delays, roots in time order', () => {
    const placed = rec('orders.events', 0, 1000, { eventId: 'e1', eventType: 'OrderPlaced', aggregateId: 'o1' })
    const paid = rec('payments.events', 1, 1250, { eventId: 'e2', eventType: 'PaymentCaptured', causationId: 'e1', aggregateId: 'p1' })
    const reserved = rec('inventory.events', 2, 1100, { eventId: 'e3', eventType: 'StockReserved', causationId: 'e1', aggregateId: 's1' })
    const confirmed = rec('orders.events', 0, 1400, { eventId: 'e4', eventType: 'OrderConfirmed', causationId: 'e2', aggregateId: 'o1' })
    const g = buildGraph([confirmed, paid, placed, reserved])
    const id = (r: TraceRecord) => `${r.topic}/${r.partition}@${r.offset}`
    expect(g.roots).toEqual([id(placed)])
    expect(g.nodes.get(id(placed))!.children).toEqual([id(reserved), id(paid)])
    expect(g.nodes.get(id(paid))!.delayMs).toBe(250)
    expect(g.nodes.get(id(confirmed))!.parentId).toBe(id(paid))
    expect(g.nodes.get(id(confirmed))!.delayMs).toBe(150)
    expect(g.anomalies).toEqual([])
  })

  it('links by parent span when there is no causation id', () => {
    const a = rec('a.events', 0, 1, { spanId: 's1', traceId: 't' })
    const b = rec('b.events', 0, 2, { spanId: 's2', parentSpanId: 's1', traceId: 't' })
    const g = buildGraph([a, b])
    expect(g.nodes.get(`b.events/0@${b.offset}`)!.parentId).toBe(`a.events/0@${a.offset}`)
  })

  it('flags duplicates (same event id twice) but not a clean chain', () => {
    const a = rec('orders.events', 0, 1, { eventId: 'e1', eventType: 'OrderPlaced' })
    const b1 = rec('payments.events', 0, 2, { eventId: 'e2', eventType: 'PaymentCaptured', causationId: 'e1' })
    const b2 = rec('payments.events', 0, 3, { eventId: 'e2', eventType: 'PaymentCaptured', causationId: 'e1' })
    const g = buildGraph([a, b1, b2])
    expect(g.anomalies.map((x) => x.kind)).toEqual(['duplicate'])
    expect(g.anomalies[0].records).toEqual([`payments.events/0@${b1.offset}`, `payments.events/0@${b2.offset}`])
    expect(g.nodes.get(`orders.events/0@${a.offset}`)!.anomalies).toEqual([])
  })

  it('hangs a dead-letter copy under its original and flags the hop, not a duplicate', () => {
    const a = rec('orders.events', 1, 1, { eventId: 'e1', eventType: 'OrderPlaced', aggregateId: 'o1' })
    const dlt = rec('payments.events-dlt', 1, 5, { eventId: 'e1', eventType: 'OrderPlaced', aggregateId: 'o1' }, {
      headers: [
        { key: 'kafka_dlt-original-topic', value: Buffer.from('orders.events') },
        { key: 'kafka_dlt-original-partition', value: int32(1) },
        { key: 'kafka_dlt-exception-fqcn', value: Buffer.from('org.springframework.kafka.listener.ListenerExecutionFailedException') },
        { key: 'kafka_dlt-exception-message', value: Buffer.from('payment gateway timed out') },
      ],
    })
    const g = buildGraph([a, dlt])
    const aId = `orders.events/1@${a.offset}`
    const dId = `payments.events-dlt/1@${dlt.offset}`
    expect(g.nodes.get(dId)!.parentId).toBe(aId)
    expect(g.nodes.get(dId)!.deadLetter).toEqual({ exception: 'org.springframework.kafka.listener.ListenerExecutionFailedException', message: 'payment gateway timed out', originalTopic: 'orders.events', reason: 'ListenerExecutionFailedException: payment gateway timed out' })
    expect(g.anomalies.map((x) => x.kind)).toEqual(['dead-lettered'])
    expect(g.anomalies[0].message).toContain('payment gateway timed out')
    expect(g.nodes.get(aId)!.anomalies).toEqual(['dead-lettered'])
  })

  it('shows orphans with the missing parent id', () => {
    const b = rec('payments.events', 0, 2, { eventId: 'e2', causationId: 'e-missing' })
    const g = buildGraph([b])
    const n = g.nodes.get(`payments.events/0@${b.offset}`)!
    expect(n.missingParent).toBe('e-missing')
    expect(g.roots).toEqual([n.id])
    expect(g.anomalies.map((a) => a.kind)).toEqual(['orphan'])
  })

  it('flags key ≠ aggregate id, split partitions, time going backwards and commands on events topics', () => {
    const k = rec('orders.events', 0, 1, { eventId: 'x1', aggregateId: 'o9', eventType: 'OrderPlaced', occurredAt: 5000 }, { key: 'wrong-key' })
    const s1 = rec('orders.events', 0, 2, { eventId: 'x2', aggregateId: 'o9', eventType: 'OrderConfirmed', occurredAt: 4000 }, { key: 'o9' })
    const s2 = rec('orders.events', 2, 3, { eventId: 'x3', aggregateId: 'o9', eventType: 'OrderShipped', occurredAt: 6000 }, { key: 'o9' })
    const cmd = rec('invoices.events', 0, 4, { eventId: 'x4', aggregateId: 'i1', eventType: 'SendInvoiceEmail' }, { key: 'i1' })
    const g = buildGraph([k, s1, s2, cmd])
    const kinds = g.anomalies.map((a) => a.kind).sort()
    expect(kinds).toEqual(['command-on-events-topic', 'key-mismatch', 'split-partitions', 'time-backwards'])
    expect(g.anomalies.find((a) => a.kind === 'time-backwards')!.records).toEqual([`orders.events/0@${k.offset}`, `orders.events/0@${s1.offset}`])
    expect(g.anomalies.find((a) => a.kind === 'split-partitions')!.message).toContain('partitions 0, 2')
  })
})

describe('expectations', () => {
  const records = [
    rec('orders.events', 0, 10, { eventType: 'OrderPlaced' }),
    rec('inventory.events', 0, 20, { eventType: 'com.shop.inventory.StockReserved' }),
    rec('payments.events', 0, 15, { eventType: 'PaymentCaptured' }),
  ]
  it('matches types exactly or by last segment, ignoring case', () => {
    expect(typeMatches('com.shop.inventory.StockReserved', 'StockReserved')).toBe(true)
    expect(typeMatches('orderplaced', 'OrderPlaced')).toBe(true)
    expect(typeMatches('OrderPlacedV2', 'OrderPlaced')).toBe(false)
    expect(typeMatches(undefined, 'OrderPlaced')).toBe(false)
  })
  it('lists what is missing, and order violations with --expect-order', () => {
    expect(missingExpectations(records, ['OrderPlaced', 'StockReserved'])).toEqual([])
    expect(missingExpectations(records, ['OrderPlaced', 'ShipmentCreated'])).toEqual(['ShipmentCreated'])
    expect(missingExpectations(records, ['OrderPlaced', 'PaymentCaptured', 'StockReserved'], true)).toEqual([])
    expect(missingExpectations(records, ['OrderPlaced', 'StockReserved', 'PaymentCaptured'], true)).toEqual(['PaymentCaptured (out of order)'])
  })
})

describe('trace rendering of a record without a timestamp', () => {
  it('shows "no timestamp" for Kafka\'s -1 in the tree; JSON keeps -1', async () => {
    const { renderTree, traceJson } = await import('../../src/output/trace.ts')
    const old = rec('legacy.events', 0, -1, { eventId: 'e1', eventType: 'OrderPlaced' })
    const records = [old]
    const result = { id: 'req_1', window: { since: 0, until: 1000 }, topics: ['legacy.events'], scanned: 1, bytes: 10, records, graph: buildGraph(records), consumption: new Map(), live: false }
    const tree = renderTree(result).replace(/\u001b\[[0-9;]*m/g, '')
    expect(tree).toContain('no timestamp')
    expect(tree).not.toContain('1969')
    expect((traceJson(result).records as Array<{ timestamp: number }>)[0].timestamp).toBe(-1)
  })
})
