/**
 * The demo shop against the real local broker: runs its services as real consumer groups on
 * uniquely prefixed topics, then reads back what is really in the topics (with evt's own
 * group-less reader) and checks the chains, causation links, trace context, the Spring DLT
 * headers byte for byte, the duplicate, the stalled request and the CloudEvents records, and
 * that the registry-framed Avro orders and Protobuf payments decode (by evt, and the Avro ones by
 * @kafkajs/confluent-schema-registry as the reference) to what the seed-envelope events say.
 */
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry'
import { beforeAll, describe, expect, it } from 'vitest'
import { runShop, type ShopResult } from '../../src/demo/shop.ts'
import { parsePositionRange } from '../../src/kafka/positions.ts'
import type { DecodedRecord } from '../../src/record.ts'
import { tailRecords } from '../../src/services/tail.ts'
import { BROKERS, runEvt, testSession, uniqueTopic, withTestAdmin } from '../support/kafka.ts'

const REGISTRY = 'http://127.0.0.1:8081/apis/ccompat/v7'

/** What a record says about itself, from the seed envelope or from CloudEvents headers. */
interface Event {
  record: DecodedRecord
  eventId: string
  eventType: string
  correlationId: string
  causationId: string | null
  traceparent?: string
}

const header = (r: DecodedRecord, key: string): string | undefined => {
  const all = r.headers.filter((h) => h.key === key)
  return all.length ? all[all.length - 1].value?.toString('utf8') : undefined
}

function eventOf(r: DecodedRecord): Event | undefined {
  const ceType = header(r, 'ce_type')
  if (ceType) {
    return { record: r, eventId: header(r, 'ce_id')!, eventType: ceType.split('.').pop()!, correlationId: header(r, 'ce_correlationid')!, causationId: header(r, 'ce_causationid') ?? null, traceparent: header(r, 'traceparent') }
  }
  const v = r.valueDecoded.value as { event_id?: string; event_type?: string; metadata?: { correlation_id: string; causation_id: string | null } } | undefined
  if (r.valueDecoded.kind !== 'json' || !v?.event_id || !v.event_type || !v.metadata) return undefined
  return { record: r, eventId: v.event_id, eventType: v.event_type, correlationId: v.metadata.correlation_id, causationId: v.metadata.causation_id, traceparent: header(r, 'traceparent') }
}

async function readAll(topics: string[]): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = []
  for await (const chunk of tailRecords(testSession({ registry: { url: REGISTRY } }), { topics, range: parsePositionRange('start:end') })) out.push(...chunk)
  return out
}

const sorted = (list: string[]) => [...list].sort()

/** Which event types may cause which. */
const CAUSES: Record<string, string[]> = {
  PaymentCaptured: ['OrderPlaced'],
  StockReserved: ['OrderPlaced'],
  OrderConfirmed: ['PaymentCaptured', 'StockReserved'],
  ShipmentCreated: ['OrderConfirmed'],
  InvoiceIssued: ['OrderConfirmed'],
  SendInvoiceEmail: ['OrderConfirmed'],
  NotificationSent: ['ShipmentCreated', 'InvoiceIssued', 'SendInvoiceEmail'],
}

const HEALTHY_CHAIN = sorted(['OrderPlaced', 'PaymentCaptured', 'StockReserved', 'OrderConfirmed', 'ShipmentCreated', 'InvoiceIssued', 'NotificationSent', 'NotificationSent'])

describe('demo shop on the real broker', () => {
  const prefix = `${uniqueTopic('shop')}.`
  let result: ShopResult
  let records: DecodedRecord[]
  let events: Event[]
  const byCorrelation = (id: string) => events.filter((e) => e.correlationId === id)

  beforeAll(async () => {
    result = await runShop({ brokers: BROKERS, topicPrefix: prefix, orders: 12, registry: REGISTRY })
    records = await readAll(Object.values(result.topics))
    events = records.map(eventOf).filter((e): e is Event => e !== undefined && e.record.topic !== result.topics.paymentsDlt)
  }, 90_000)

  it('finishes every request and reports its topics, groups and ids', async () => {
    expect(result.errors).toEqual([])
    expect(result.missing).toEqual([])
    expect(result.completed).toBe(true)
    expect(Object.values(result.topics)).toEqual(['orders', 'payments', 'inventory', 'shipping', 'invoices', 'notifications'].map((t) => `${prefix}${t}.events`).concat(`${prefix}payments.events-dlt`, `${prefix}orders`, `${prefix}payments`))
    expect(result.healthy).toHaveLength(8)
    const special = [result.failed, result.duplicated, result.stalled, result.disguisedCommand]
    expect(new Set([...result.healthy, ...special]).size).toBe(12)
    for (const id of [...result.healthy, ...special]) expect(id).toMatch(/^req_[0-9a-f]+$/)
    // What the run says it wrote is what the topics hold.
    for (const topic of Object.values(result.topics)) expect(records.filter((r) => r.topic === topic).length, topic).toBe(result.produced[topic])

    await withTestAdmin(async (admin) => {
      const meta = await admin.fetchTopicMetadata({ topics: Object.values(result.topics) })
      for (const t of meta.topics) expect(t.partitions.length, t.name).toBe(3)
      const { groups } = await admin.listGroups()
      const names = groups.map((g) => g.groupId)
      for (const g of Object.values(result.groups)) expect(names).toContain(g)
      // Every group committed all it handled: its offsets are at the end of its input topics.
      const inputs: Record<string, string[]> = {
        [result.groups.order]: [result.topics.payments, result.topics.inventory],
        [result.groups.payment]: [result.topics.orders],
        [result.groups.inventory]: [result.topics.orders],
        [result.groups.shipping]: [result.topics.orders],
        [result.groups.invoice]: [result.topics.orders],
        [result.groups.notification]: [result.topics.shipping, result.topics.invoices],
      }
      for (const [groupId, topics] of Object.entries(inputs)) {
        for (const { topic, partitions } of await admin.fetchOffsets({ groupId, topics })) {
          const ends = await admin.fetchTopicOffsets(topic)
          for (const p of partitions) {
            const end = ends.find((e) => e.partition === p.partition)!.high
            expect(p.offset === '-1' ? '0' : p.offset, `${groupId} ${topic}[${p.partition}]`).toBe(end)
          }
        }
      }
    })
  })

  it('gives each healthy request the full chain of events across at least 4 topics', () => {
    for (const id of result.healthy) {
      const chain = byCorrelation(id)
      expect(sorted(chain.map((e) => e.eventType)), id).toEqual(HEALTHY_CHAIN)
      expect(new Set(chain.map((e) => e.record.topic)).size, id).toBeGreaterThanOrEqual(4)
    }
  })

  it('links every record to the event id of the record that caused it', () => {
    const byId = new Map<string, Event>()
    for (const e of events) if (!byId.has(e.eventId)) byId.set(e.eventId, e)
    for (const e of events) {
      if (e.eventType === 'OrderPlaced') {
        expect(e.causationId).toBeNull()
        continue
      }
      const cause = byId.get(e.causationId ?? '')
      expect(cause, `${e.eventType} ${e.eventId} caused by ${e.causationId}`).toBeDefined()
      expect(cause!.correlationId).toBe(e.correlationId)
      expect(CAUSES[e.eventType], e.eventType).toContain(cause!.eventType)
      expect(cause!.record.timestamp).toBeLessThanOrEqual(e.record.timestamp)
    }
    // Both notifications of a healthy request come from different causes (shipment and invoice).
    for (const id of result.healthy) {
      const causes = byCorrelation(id).filter((e) => e.eventType === 'NotificationSent').map((e) => byId.get(e.causationId!)!.eventType)
      expect(sorted(causes)).toEqual(['InvoiceIssued', 'ShipmentCreated'])
    }
  })

  it('keys records by aggregate id and writes seed envelopes as the format says', () => {
    for (const e of events) {
      if (e.record.topic === result.topics.inventory) continue
      const v = e.record.valueDecoded.value as Record<string, unknown> & { metadata: Record<string, unknown> }
      expect(e.record.key?.toString()).toBe(v.aggregate_id)
      expect(v.event_id).toMatch(/^[0-9a-f-]{36}$/)
      expect(v.event_version).toBe(1)
      expect(new Date(String(v.occurred_at)).toISOString()).toBe(v.occurred_at)
      expect(typeof v.aggregate_type).toBe('string')
      expect(typeof v.data).toBe('object')
      expect(String(v.metadata.published_by)).toMatch(/-service$/)
    }
  })

  it('keeps one W3C trace id per request, with a new span id per hop', () => {
    for (const id of result.healthy) {
      const traced = byCorrelation(id).filter((e) => e.traceparent !== undefined)
      expect(traced.map((e) => e.eventType)).toEqual(expect.arrayContaining(['OrderPlaced', 'PaymentCaptured', 'OrderConfirmed', 'ShipmentCreated']))
      for (const e of traced) expect(e.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
      expect(new Set(traced.map((e) => e.traceparent!.split('-')[1])).size).toBe(1)
      expect(new Set(traced.map((e) => e.traceparent!.split('-')[2])).size).toBe(traced.length)
    }
  })

  it("dead-letters the failed request's OrderPlaced with Spring's headers, byte for byte", () => {
    const dlt = records.filter((r) => r.topic === result.topics.paymentsDlt)
    expect(dlt).toHaveLength(1)
    const [d] = dlt
    const original = byCorrelation(result.failed).find((e) => e.eventType === 'OrderPlaced')!.record
    expect(byCorrelation(result.failed).map((e) => e.eventType).sort()).toEqual(['OrderPlaced', 'StockReserved'])

    // Same key and value bytes, same partition number.
    expect(d.key!.equals(original.key!)).toBe(true)
    expect(d.value!.equals(original.value!)).toBe(true)
    expect(d.partition).toBe(original.partition)

    // Original headers first, then Spring's: exception headers, then original-record headers.
    const n = original.headers.length
    expect(n).toBeGreaterThan(0)
    expect(d.headers.slice(0, n)).toEqual(original.headers)
    expect(d.headers.slice(n).map((h) => h.key)).toEqual([
      'kafka_dlt-exception-fqcn',
      'kafka_dlt-exception-cause-fqcn',
      'kafka_dlt-exception-message',
      'kafka_dlt-exception-stacktrace',
      'kafka_dlt-original-topic',
      'kafka_dlt-original-partition',
      'kafka_dlt-original-offset',
      'kafka_dlt-original-timestamp',
      'kafka_dlt-original-timestamp-type',
      'kafka_dlt-original-consumer-group',
    ])
    const raw = (key: string) => d.headers.find((h) => h.key === key)!.value!
    const text = (key: string) => raw(key).toString('utf8')

    expect(text('kafka_dlt-original-topic')).toBe(result.topics.orders)
    // int32 BE: 00 00 00 0p
    expect([...raw('kafka_dlt-original-partition')]).toEqual([0, 0, 0, original.partition])
    // int64 BE offset and timestamp, pointing at the real original record
    const offset = raw('kafka_dlt-original-offset')
    expect(offset.length).toBe(8)
    expect(offset.readBigInt64BE().toString()).toBe(original.offset)
    const expectedOffset = Buffer.alloc(8)
    expectedOffset.writeUInt32BE(Number(original.offset), 4)
    expect(offset.equals(expectedOffset)).toBe(true)
    const ts = raw('kafka_dlt-original-timestamp')
    expect(ts.length).toBe(8)
    expect(Number(ts.readBigInt64BE())).toBe(original.timestamp)
    expect(text('kafka_dlt-original-timestamp-type')).toBe('CreateTime')
    expect(text('kafka_dlt-original-consumer-group')).toBe(result.groups.payment)

    expect(text('kafka_dlt-exception-fqcn')).toBe('org.springframework.kafka.listener.ListenerExecutionFailedException')
    expect(text('kafka_dlt-exception-cause-fqcn')).toBe('java.net.SocketTimeoutException')
    expect(text('kafka_dlt-exception-message')).toMatch(/^Listener method '.+' threw exception; Read timed out$/)
    const trace = text('kafka_dlt-exception-stacktrace')
    expect(trace.startsWith('org.springframework.kafka.listener.ListenerExecutionFailedException: Listener method ')).toBe(true)
    expect(trace).toContain('\n\tat org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer.')
    expect(trace).toContain('\nCaused by: java.net.SocketTimeoutException: Read timed out\n\tat ')
    expect(trace).toMatch(/\n\t\.\.\. \d+ more\n$/)
    expect(trace.split('\n').length).toBeGreaterThan(30)
  })

  it('writes the duplicated PaymentCaptured twice, with the same event_id, and confirms the order once', () => {
    const payments = byCorrelation(result.duplicated).filter((e) => e.eventType === 'PaymentCaptured')
    expect(payments).toHaveLength(2)
    expect(payments[0].eventId).toBe(payments[1].eventId)
    expect(payments[0].record.value!.equals(payments[1].record.value!)).toBe(true)
    expect(payments[0].record.offset).not.toBe(payments[1].record.offset)
    expect(byCorrelation(result.duplicated).filter((e) => e.eventType === 'OrderConfirmed')).toHaveLength(1)
  })

  it('stalls one request after OrderConfirmed: nothing follows it', () => {
    const types = byCorrelation(result.stalled).map((e) => e.eventType)
    expect(sorted(types)).toEqual(sorted(['OrderPlaced', 'PaymentCaptured', 'StockReserved', 'OrderConfirmed']))
  })

  it('evt trace flags the stalled request STALLED, naming the groups that consumed its last record, and not a healthy one', async () => {
    const topics = Object.values(result.topics).flatMap((t) => ['-t', t])
    const stalled = await runEvt(['trace', result.stalled, '--since', '1h', '-f', 'json', '--stall-after', '1s', ...topics])
    expect(stalled.code, stalled.stderr).toBe(0)
    const t = JSON.parse(stalled.stdout) as { records: Array<{ id: string; eventType: string; anomalies: string[] }>; anomalies: Array<{ kind: string; message: string; records: string[] }> }
    const confirmed = t.records.find((r) => r.eventType === 'OrderConfirmed')!
    const stalls = t.anomalies.filter((a) => a.kind === 'stalled')
    expect(stalls.map((a) => a.records)).toEqual([[confirmed.id]])
    expect(stalls[0].message).toMatch(new RegExp(`^request stalled after OrderConfirmed \\(${confirmed.id.replace(/[.]/g, '\\.')}\\): consumed by ${[result.groups.inventory, result.groups.invoice, result.groups.payment, result.groups.shipping].join(', ')}, and nothing followed for \\d+ s$`))
    expect(t.records.filter((r) => r.anomalies.includes('stalled')).map((r) => r.id)).toEqual([confirmed.id])
    const tree = await runEvt(['trace', result.stalled, '--since', '1h', '-f', 'tree', '--stall-after', '1s', ...topics])
    expect(tree.stdout).toMatch(/─ OrderConfirmed  order-service  .* \[STALLED\]/)
    const healthy = await runEvt(['trace', result.healthy[0], '--since', '1h', '-f', 'json', '--stall-after', '1s', ...topics])
    expect((JSON.parse(healthy.stdout) as { anomalies: Array<{ kind: string }> }).anomalies.map((a) => a.kind)).toEqual([])
  })

  it('publishes the disguised command SendInvoiceEmail on the invoices topic', () => {
    const cmd = byCorrelation(result.disguisedCommand).filter((e) => e.eventType === 'SendInvoiceEmail')
    expect(cmd).toHaveLength(1)
    expect(cmd[0].record.topic).toBe(result.topics.invoices)
    expect(events.filter((e) => e.eventType === 'SendInvoiceEmail')).toHaveLength(1)
  })

  it('writes inventory records as CloudEvents in binary mode', () => {
    const inventory = records.filter((r) => r.topic === result.topics.inventory)
    expect(inventory).toHaveLength(12)
    for (const r of inventory) {
      expect(header(r, 'ce_specversion')).toBe('1.0')
      expect(header(r, 'ce_id')).toMatch(/^[0-9a-f-]{36}$/)
      expect(header(r, 'ce_source')).toBe('/inventory-service')
      expect(header(r, 'ce_type')).toBe('com.shop.inventory.StockReserved')
      expect(new Date(header(r, 'ce_time')!).toISOString()).toBe(header(r, 'ce_time'))
      expect(header(r, 'ce_subject')).toBe(r.key?.toString())
      expect(header(r, 'ce_correlationid')).toMatch(/^req_/)
      expect(header(r, 'ce_causationid')).toMatch(/^[0-9a-f-]{36}$/)
      expect(header(r, 'content-type')).toBe('application/json')
      // The value is the data only, not a structured-mode event.
      const value = r.valueDecoded.value as Record<string, unknown>
      expect(r.valueDecoded.kind).toBe('json')
      expect(value).not.toHaveProperty('specversion')
      expect(value.order_id).toBe(header(r, 'ce_subject'))
    }
  })

  it('registers an Avro subject with two versions and a Protobuf subject', async () => {
    expect(result.schemas).toEqual({
      orders: { subject: `${prefix}orders-value`, versions: [1, 2], id: expect.any(Number) },
      payments: { subject: `${prefix}payments-value`, versions: [1], id: expect.any(Number) },
    })
    const run = await runEvt(['schemas', '--registry', REGISTRY, '--json'])
    expect(run.code, run.stderr).toBe(0)
    const mine = (JSON.parse(run.stdout) as Array<{ subject: string }>).filter((s) => s.subject.startsWith(prefix))
    expect(mine).toEqual([
      { subject: `${prefix}orders-value`, type: 'avro', versions: [1, 2], latestVersion: 2, latestId: result.schemas!.orders.id },
      { subject: `${prefix}payments-value`, type: 'protobuf', versions: [1], latestVersion: 1, latestId: result.schemas!.payments.id },
    ])
  })

  it('writes one Avro Order per order placed, Confluent-framed, decoding to what OrderPlaced says', async () => {
    const avro = records.filter((r) => r.topic === result.topics.ordersAvro)
    const placed = events.filter((e) => e.eventType === 'OrderPlaced')
    expect(avro).toHaveLength(12)
    expect(sorted(avro.map((r) => r.key!.toString()))).toEqual(sorted(result.requests.map((r) => r.orderId)))
    const reference = new SchemaRegistry({ host: REGISTRY })
    for (const r of avro) {
      const id = result.schemas!.orders.id
      expect([...r.value!.subarray(0, 5)]).toEqual([0, (id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255])
      expect(r.valueDecoded).toMatchObject({ kind: 'avro', schemaId: result.schemas!.orders.id, schema: { subject: `${prefix}orders-value`, version: 2 } })
      const seedOrder = placed.find((e) => e.record.key!.toString() === r.key!.toString())!.record.valueDecoded.value as { occurred_at: string; data: { customer_id: string; items: unknown[]; total: { amount: string; currency: string }; shipping_address: { country: string } } }
      expect(r.valueDecoded.value).toEqual({
        order_id: r.key!.toString(),
        customer_id: seedOrder.data.customer_id,
        items: seedOrder.data.items,
        total: seedOrder.data.total.amount,
        currency: 'EUR',
        placed_at: seedOrder.occurred_at,
        shipping_country: seedOrder.data.shipping_address.country,
      })
      // the reference deserializer reads the same bytes
      const ref = (await reference.decode(r.value!)) as { order_id: string; placed_at: number; shipping_country: string | null }
      expect(ref).toMatchObject({ order_id: r.key!.toString(), placed_at: Date.parse(seedOrder.occurred_at), shipping_country: seedOrder.data.shipping_address.country })
    }
  })

  it('writes one Protobuf PaymentCaptured per payment (message index 00), decoding to what the PaymentCaptured event says', () => {
    const proto = records.filter((r) => r.topic === result.topics.paymentsProtobuf)
    const captured = new Map(events.filter((e) => e.eventType === 'PaymentCaptured').map((e) => [e.eventId, e]))
    // every payment once (the duplicate delivery is of the seed record only); the failed request has none
    expect(proto).toHaveLength(11)
    expect(proto).toHaveLength(captured.size)
    const byPayment = new Map([...captured.values()].map((e) => [e.record.key!.toString(), e]))
    for (const r of proto) {
      const id = result.schemas!.payments.id
      expect([...r.value!.subarray(0, 6)]).toEqual([0, (id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255, 0])
      expect(r.valueDecoded).toMatchObject({ kind: 'protobuf', schemaId: id, schema: { subject: `${prefix}payments-value`, version: 1 } })
      const e = byPayment.get(r.key!.toString())!
      const seedPayment = e.record.valueDecoded.value as { occurred_at: string; data: { payment_id: string; order_id: string; amount: string; currency: string; psp_reference: string } }
      expect(r.valueDecoded.value).toEqual({
        paymentId: seedPayment.data.payment_id,
        orderId: seedPayment.data.order_id,
        amountCents: String(Math.round(Number(seedPayment.data.amount) * 100)),
        currency: seedPayment.data.currency,
        method: 'CARD',
        capturedAt: seedPayment.occurred_at,
        pspReference: seedPayment.data.psp_reference,
      })
    }
    expect(sorted(proto.map((r) => r.key!.toString()))).toEqual(sorted([...byPayment.keys()]))
  })

  it('evt lint finds the demo\'s built-in trouble, the disguised command and the duplicate, and nothing else', async () => {
    const command = events.find((e) => e.eventType === 'SendInvoiceEmail')!.record
    const [, again] = byCorrelation(result.duplicated).filter((e) => e.eventType === 'PaymentCaptured').map((e) => e.record).sort((a, b) => Number(a.offset) - Number(b.offset))
    const r = await runEvt(['lint', `${prefix}*`, '--json'])
    expect(r.code, r.stderr).toBe(0)
    const doc = JSON.parse(r.stdout) as { scanned: number; findings: Array<{ rule: string; topic: string; subject: string | null; count: number; evidence: Array<{ partition: number; offset: number }> }> }
    expect(doc.scanned).toBe(records.length)
    expect(doc.findings.map((f) => [f.rule, f.topic, f.subject, f.count, f.evidence.map((e) => `${e.partition}@${e.offset}`)])).toEqual([
      ['command-on-event-topic', result.topics.invoices, 'SendInvoiceEmail', 1, [`${command.partition}@${command.offset}`]],
      ['duplicate-event-id', result.topics.payments, 'PaymentCaptured', 1, [`${again!.partition}@${again!.offset}`]],
    ])
  }, 60_000)

  it('runs again on the same topics: new requests, old ones not handled twice', async () => {
    const again = await runShop({ brokers: BROKERS, topicPrefix: prefix, orders: 6, registry: REGISTRY })
    expect(again.errors).toEqual([])
    expect(again.completed).toBe(true)
    // the schemas are there already: no new versions, the same ids
    expect(again.schemas).toEqual(result.schemas)
    const firstIds = new Set(result.requests.map((r) => r.correlationId))
    for (const r of again.requests) expect(firstIds.has(r.correlationId)).toBe(false)
    const after = await readAll(Object.values(result.topics))
    for (const topic of Object.values(result.topics)) {
      expect(after.filter((r) => r.topic === topic).length, topic).toBe(result.produced[topic] + again.produced[topic])
    }
  }, 60_000)
})
