/**
 * `evt lint` (the built CLI) on two corpora written to the real broker:
 *
 * - a clean estate: several topics written the right way (seed envelope, CloudEvents binary and
 *   structured, a commands topic, a DLT with origin headers, a compatible version bump, several
 *   hundred records): no finding at all;
 * - a seeded estate: each problem planted once, at a known partition and offset: each is reported
 *   with exactly that evidence, and nothing else.
 */
import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { partitionForKey } from '../../src/kafka/partitioner.ts'
import type { ProduceRecord } from '../../src/services/produce.ts'
import { int32BE } from '../support/fixtures/dlq-headers.ts'
import { int64BE } from '../support/fixtures/envelope-record.ts'
import { createTopic, jsonLines, runEvt, uniqueTopic, withTestAdmin, writeWithEvt } from '../support/kafka.ts'

const h = (key: string, value: string | Buffer) => ({ key, value: typeof value === 'string' ? Buffer.from(value) : value })

interface Seed {
  id?: string
  type: string
  aggregate: string
  key?: string | null
  version?: number
  data?: Record<string, unknown>
  occurredAt?: number
  correlation?: string | null
  causation?: string | null
  partition: number
  headers?: Array<{ key: string; value: Buffer }>
}

/** A seed-envelope record; key = aggregate id unless given. */
function seed(s: Seed): ProduceRecord & { eventId: string } {
  const eventId = s.id ?? randomUUID()
  const metadata: Record<string, unknown> = { causation_id: s.causation ?? null, published_by: 'lint-test' }
  if (s.correlation !== null) metadata.correlation_id = s.correlation ?? `req-${s.aggregate}`
  const value = { event_id: eventId, event_type: s.type, event_version: s.version ?? 1, occurred_at: new Date(s.occurredAt ?? Date.now()).toISOString(), aggregate_id: s.aggregate, aggregate_type: 'Order', data: s.data ?? { order_id: s.aggregate }, metadata }
  const key = s.key === undefined ? s.aggregate : s.key
  return { eventId, key: key === null ? null : Buffer.from(key), value: Buffer.from(JSON.stringify(value)), partition: s.partition, headers: s.headers ?? [] }
}

/** A CloudEvents binary-mode record (every attribute; key = subject). */
function cloudEvent(input: { type: string; subject: string; partition: number; causation: string; contentType?: boolean }): ProduceRecord {
  const headers = [h('ce_specversion', '1.0'), h('ce_id', randomUUID()), h('ce_source', '/inventory-service'), h('ce_type', input.type)]
  if (input.contentType !== false) headers.push(h('content-type', 'application/json'))
  headers.push(h('ce_subject', input.subject), h('ce_time', new Date().toISOString()), h('ce_correlationid', `req-${input.subject}`), h('ce_causationid', input.causation))
  return { key: Buffer.from(input.subject), value: Buffer.from(JSON.stringify({ sku: 'MUG', quantity: 1 })), partition: input.partition, headers }
}

/** A CloudEvents structured-mode record. */
function structured(input: { type: string; subject: string; partition: number; causation: string }): ProduceRecord {
  const value = { specversion: '1.0', id: randomUUID(), source: '/shipping-service', type: input.type, time: new Date().toISOString(), subject: input.subject, datacontenttype: 'application/json', correlationid: `req-${input.subject}`, causationid: input.causation, data: { carrier: 'DHL' } }
  return { key: Buffer.from(input.subject), value: Buffer.from(JSON.stringify(value)), partition: input.partition, headers: [h('content-type', 'application/cloudevents+json; charset=UTF-8')] }
}

/** A Spring DeadLetterPublishingRecoverer record (origin headers unless `origin` is false). */
function deadLetter(of: ProduceRecord, topic: string, offset: number, origin = true): ProduceRecord {
  const headers = origin ? [h('kafka_dlt-original-topic', topic), h('kafka_dlt-original-partition', int32BE(of.partition ?? 0)), h('kafka_dlt-original-offset', int64BE(offset))] : []
  headers.push(h('kafka_dlt-exception-fqcn', 'java.net.SocketTimeoutException'), h('kafka_dlt-exception-message', 'Read timed out'))
  return { key: of.key, value: of.value, partition: 0, headers }
}

interface Finding {
  rule: string
  severity: string
  topic: string
  subject: string | null
  count: number
  evidence: Array<{ topic: string; partition: number; offset: number; note?: string }>
}

async function lintJson(args: string[], code = 0): Promise<{ scanned: number; topics: string[]; findings: Finding[] }> {
  const r = await runEvt(['lint', ...args, '--json'])
  expect(r.code, r.stderr).toBe(code)
  return jsonLines(r.stdout)[0] as unknown as { scanned: number; topics: string[]; findings: Finding[] }
}

const created: string[] = []
async function topic(name: string, partitions: number): Promise<string> {
  created.push(name)
  return createTopic(name, partitions)
}

afterAll(async () => {
  await withTestAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics())
    const mine = created.filter((t) => existing.has(t))
    if (mine.length) await admin.deleteTopics({ topics: mine })
  })
})

describe('evt lint on a clean estate', () => {
  const p = `${uniqueTopic('lintclean')}.`
  const orders = `${p}orders.events`
  const inventory = `${p}inventory.events`
  const shipping = `${p}shipping.events`
  const commands = `${p}payments.commands`
  const dlt = `${p}orders.events-dlt`
  let written = 0

  beforeAll(async () => {
    await Promise.all([topic(orders, 3), topic(inventory, 2), topic(shipping, 2), topic(commands, 2), topic(dlt, 1)])
    const o: ProduceRecord[] = []
    const inv: ProduceRecord[] = []
    const shp: ProduceRecord[] = []
    const cmd: ProduceRecord[] = []
    for (let i = 0; i < 60; i++) {
      const agg = `ord-${i}`
      const part = partitionForKey(Buffer.from(agg), 3)
      const placed = seed({ type: 'OrderPlaced', aggregate: agg, partition: part })
      // a compatible version bump: v2 adds a field, drops none
      const confirmed = seed({ type: 'OrderConfirmed', aggregate: agg, partition: part, causation: placed.eventId, version: i < 30 ? 1 : 2, data: i < 30 ? { order_id: agg } : { order_id: agg, confirmed_by: 'ops' } })
      const shipped = seed({ type: 'order.shipped', aggregate: agg, partition: part, causation: confirmed.eventId })
      o.push(placed, confirmed, shipped)
      inv.push(cloudEvent({ type: 'com.shop.inventory.StockReserved', subject: agg, partition: partitionForKey(Buffer.from(agg), 2), causation: placed.eventId }))
      shp.push(structured({ type: 'com.shop.shipping.shipment.created.v1', subject: agg, partition: partitionForKey(Buffer.from(agg), 2), causation: shipped.eventId }))
      cmd.push(seed({ type: i % 2 ? 'ProcessPayment' : 'RefundPayment', aggregate: `pay-${i}`, partition: partitionForKey(Buffer.from(`pay-${i}`), 2), causation: placed.eventId }))
    }
    await writeWithEvt(orders, o)
    await writeWithEvt(inventory, inv)
    await writeWithEvt(shipping, shp)
    await writeWithEvt(commands, cmd)
    await writeWithEvt(dlt, [deadLetter(o[0]!, orders, 0), deadLetter(o[3]!, orders, 1)])
    written = o.length + inv.length + shp.length + cmd.length + 2
  }, 120_000)

  it('reports nothing', async () => {
    const doc = await lintJson([`${p}*`])
    expect(doc.topics).toEqual([dlt, orders, inventory, commands, shipping].sort())
    expect(doc.scanned).toBe(written)
    expect(written).toBeGreaterThanOrEqual(300)
    expect(doc.findings).toEqual([])
  }, 60_000)

  it('prints "no findings" as a table, and exits 0 with --fail-on warning', async () => {
    const r = await runEvt(['lint', `${p}*`, '--fail-on', 'warning'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout).toContain(`${written} records of 5 topics read (the last 10000 per partition): no findings`)
  }, 60_000)
})

describe('evt lint on a seeded estate', () => {
  const p = `${uniqueTopic('lintseeded')}.`
  const orders = `${p}orders.events`
  const inventory = `${p}inventory.events`
  const dlt = `${p}orders.events-dlt`
  const commands = `${p}payments.commands`
  const duplicatedId = randomUUID()

  beforeAll(async () => {
    await Promise.all([topic(orders, 2), topic(inventory, 1), topic(dlt, 1), topic(commands, 1)])
    const now = Date.now()
    const first = seed({ id: duplicatedId, type: 'OrderPlaced', aggregate: 'ord-a', partition: 0 })
    // partition 0, offsets 0…7
    const p0 = [
      first, // 0 clean
      seed({ type: 'ProcessPayment', aggregate: 'pay-1', partition: 0 }), // 1 command-on-event-topic
      seed({ type: 'OrderSnapshot', aggregate: 'ord-snap', partition: 0 }), // 2 event-type-not-past-tense
      seed({ type: 'OrderConfirmed', aggregate: 'ord-k', key: 'cus-9', partition: 0 }), // 3 key-not-aggregate
      seed({ type: 'OrderPlaced', aggregate: 'ord-c', correlation: null, partition: 0 }), // 4 missing-envelope-field (correlation id)
      seed({ id: duplicatedId, type: 'OrderPlaced', aggregate: 'ord-a', partition: 0 }), // 5 duplicate-event-id
      seed({ type: 'OrderShipped', aggregate: 'ord-s', occurredAt: now + 10 * 60_000, partition: 0 }), // 6 clock skew
      { ...first, headers: [h('evt-replay-source', `${orders}/0/0`), h('evt-replay-id', 'rp-test')] }, // 7 a replayed copy: not a duplicate
    ]
    // partition 1, offsets 0…5
    const p1 = [
      seed({ type: 'OrderConfirmed', aggregate: 'ord-a', partition: 1 }), // 0 aggregate-split (ord-a is on partition 0)
      seed({ type: 'OrderShipped', aggregate: 'ord-l', occurredAt: now - 3 * 3_600_000, partition: 1 }), // 1 late publication
      seed({ type: 'OrderCancelled', aggregate: 'ord-v1', version: 1, data: { order_id: 'ord-v1', reason: 'customer' }, partition: 1 }), // 2 v1 has reason
      seed({ type: 'OrderCancelled', aggregate: 'ord-v2', version: 2, data: { order_id: 'ord-v2' }, partition: 1 }), // 3 version-drift: v2 drops reason
      seed({ type: 'OrderCancelled', aggregate: 'ord-v3', version: 1, data: { order_id: 'ord-v3', reason: 'stock' }, partition: 1 }), // 4 version-drift: v1 after v2
      seed({ type: 'OrderConfirmed', aggregate: 'ord-d', causation: 'evt-nowhere', partition: 1 }), // 5 causation-dangling
    ]
    await writeWithEvt(orders, [...p0, ...p1])
    await writeWithEvt(inventory, [
      cloudEvent({ type: 'com.shop.inventory.StockReserved', subject: 'ord-a', partition: 0, causation: duplicatedId }),
      cloudEvent({ type: 'com.shop.inventory.StockReserved', subject: 'ord-c', partition: 0, causation: duplicatedId }),
      cloudEvent({ type: 'com.shop.inventory.StockReleased', subject: 'ord-c', partition: 0, causation: duplicatedId }),
      cloudEvent({ type: 'com.shop.inventory.StockReserved', subject: 'ord-d', partition: 0, causation: duplicatedId, contentType: false }), // 3 schema-less-payload
    ])
    await writeWithEvt(dlt, [deadLetter(first, orders, 0), deadLetter(p0[3]!, orders, 3, false)]) // 1 dlq-without-origin
    await writeWithEvt(commands, [seed({ type: 'ProcessPayment', aggregate: 'pay-2', partition: 0 })])
  }, 120_000)

  it('reports each planted problem with its evidence, and nothing else', async () => {
    const doc = await lintJson([`${p}*`])
    const found = doc.findings.map((f) => [f.topic.slice(p.length), f.rule, f.severity, f.subject, f.count, f.evidence.map((e) => `${e.topic.slice(p.length)}/${e.partition}@${e.offset}`)])
    expect(found).toEqual([
      ['inventory.events', 'schema-less-payload', 'info', null, 1, ['inventory.events/0@3']],
      ['orders.events', 'command-on-event-topic', 'error', 'ProcessPayment', 1, ['orders.events/0@1']],
      ['orders.events', 'event-type-not-past-tense', 'warning', 'OrderSnapshot', 1, ['orders.events/0@2']],
      ['orders.events', 'key-not-aggregate', 'error', 'OrderConfirmed', 1, ['orders.events/0@3']],
      ['orders.events', 'aggregate-split', 'error', 'Order', 1, ['orders.events/1@0']],
      ['orders.events', 'missing-envelope-field', 'warning', 'correlation id', 1, ['orders.events/0@4']],
      ['orders.events', 'duplicate-event-id', 'warning', 'OrderPlaced', 1, ['orders.events/0@5']],
      ['orders.events', 'occurred-after-append', 'warning', 'clock skew', 1, ['orders.events/0@6']],
      ['orders.events', 'occurred-after-append', 'warning', 'late publication', 1, ['orders.events/1@1']],
      ['orders.events', 'version-drift', 'error', 'OrderCancelled', 2, ['orders.events/1@3', 'orders.events/1@4']],
      ['orders.events', 'causation-dangling', 'info', null, 1, ['orders.events/1@5']],
      ['orders.events-dlt', 'dlq-without-origin', 'warning', null, 1, ['orders.events-dlt/0@1']],
    ])
    const notes = Object.fromEntries(doc.findings.map((f) => [`${f.rule} ${f.subject}`, f.evidence.map((e) => e.note)]))
    expect(notes['key-not-aggregate OrderConfirmed']).toEqual(['key "cus-9", aggregate "ord-k"'])
    expect(notes['aggregate-split Order']).toEqual([`aggregate "ord-a" also at ${orders}/0@0`])
    expect(notes['duplicate-event-id OrderPlaced']).toEqual([`event id "${duplicatedId}" also at ${orders}/0@0`])
    expect(notes['version-drift OrderCancelled']).toEqual(['field "reason" of version 1 missing in version 2', `version 1 after version 2 at ${orders}/1@3`])
  }, 60_000)

  it('--fail-on error exits 5 and still prints the table; the profile turns rules off per topic', async () => {
    const r = await runEvt(['lint', orders, '--fail-on', 'error', '--evidence', '1'])
    expect(r.code).toBe(5)
    expect(r.stderr).toContain('evt: 4 findings at or above error (--fail-on error)')
    expect(r.stdout).toMatch(new RegExp(`${orders.replaceAll('.', '\\.')}\\s+command-on-event-topic\\s+error\\s+ProcessPayment\\s+1\\s+${orders.replaceAll('.', '\\.')}/0@1`))

    const { mkdtempSync, writeFileSync } = await import('node:fs')
    const { join } = await import('node:path')
    const { tmpdir } = await import('node:os')
    const dir = mkdtempSync(join(tmpdir(), 'evt-lint-'))
    const config = join(dir, 'config.yaml')
    writeFileSync(config, `profiles:\n  local:\n    brokers: [127.0.0.1:9092]\n    lint:\n      ignore: [causation-dangling]\n      facts: [OrderSnapshot]\n      severity: { key-not-aggregate: warning }\n      topics:\n        "${p}orders.*":\n          ignore: [occurred-after-append, version-drift, aggregate-split]\n`)
    const tuned = await runEvt(['lint', orders, '--profile', 'local', '--json', '--fail-on', 'error'], { env: { EVT_CONFIG: config } })
    expect(tuned.code, tuned.stderr).toBe(5)
    const doc = jsonLines(tuned.stdout)[0] as unknown as { findings: Finding[] }
    expect(doc.findings.map((f) => [f.rule, f.severity, f.subject])).toEqual([
      ['command-on-event-topic', 'error', 'ProcessPayment'],
      ['key-not-aggregate', 'warning', 'OrderConfirmed'],
      ['missing-envelope-field', 'warning', 'correlation id'],
      ['duplicate-event-id', 'warning', 'OrderPlaced'],
    ])
  }, 60_000)

  it('-n reads only the last records of each partition', async () => {
    const doc = await lintJson([orders, '-n', '1'])
    // the last record of partition 0 is the replayed copy, of partition 1 the dangling causation
    expect(doc.scanned).toBe(2)
    expect(doc.findings.map((f) => [f.rule, f.evidence.map((e) => `${e.partition}@${e.offset}`)])).toEqual([['causation-dangling', ['1@5']]])
  }, 60_000)
})
