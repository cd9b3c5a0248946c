/**
 * The lint engine, rule by rule: each rule fires on the records that break it (with the right
 * evidence) and stays silent on records that do not.
 */
import { describe, expect, it } from 'vitest'
import { decodeRecord } from '../../src/codec/decode.ts'
import { isDlqTopic } from '../../src/dlq/detect.ts'
import { createExtractor } from '../../src/envelope/index.ts'
import { Linter, type LintFinding, type LinterOptions } from '../../src/lint/linter.ts'
import { resolveLintProfile } from '../../src/lint/settings.ts'
import type { RecordHeader } from '../../src/record.ts'

const T0 = Date.parse('2026-11-30T12:00:00Z')
const extract = createExtractor()

interface Rec {
  topic?: string
  partition?: number
  offset: number
  key?: string | null
  value?: unknown
  headers?: Array<[string, string]>
  timestamp?: number
}

let n = 0
/** A seed envelope value (every field set) for `type`, overridable. */
function seed(type: string, over: Record<string, unknown> = {}): Record<string, unknown> {
  n++
  return {
    event_id: `evt-${n}`,
    event_type: type,
    event_version: 1,
    occurred_at: new Date(T0).toISOString(),
    aggregate_id: `agg-${n}`,
    aggregate_type: 'Order',
    data: { order_id: `agg-${n}` },
    metadata: { correlation_id: `req-${n}`, causation_id: null, published_by: 'test' },
    ...over,
  }
}

function lintOf(records: Rec[], options: LinterOptions = {}): LintFinding[] {
  const linter = new Linter({ isDlq: (t) => isDlqTopic(t), ...options })
  for (const r of records) {
    const value = r.value === undefined ? null : Buffer.from(typeof r.value === 'string' ? r.value : JSON.stringify(r.value))
    const v = r.value as { aggregate_id?: string } | undefined
    const key = r.key === undefined ? (v?.aggregate_id ?? null) : r.key
    const headers: RecordHeader[] = (r.headers ?? []).map(([k, h]) => ({ key: k, value: Buffer.from(h) }))
    const record = decodeRecord({ topic: r.topic ?? 'orders.events', partition: r.partition ?? 0, offset: String(r.offset), timestamp: r.timestamp ?? T0 + 5, key: key === null ? null : Buffer.from(key), value, headers })
    linter.add(record, extract(record))
  }
  return linter.finish()
}

const brief = (fs: LintFinding[]) => fs.map((f) => ({ rule: f.rule, topic: f.topic, subject: f.subject, count: f.count, at: f.evidence.map((e) => `${e.partition}@${e.offset}`) }))

describe('lint rules', () => {
  it('a clean topic has no findings', () => {
    expect(lintOf([0, 1, 2, 3].map((o) => ({ offset: o, value: seed(['OrderPlaced', 'OrderConfirmed', 'OrderShipped', 'OrderCancelled'][o]) })))).toEqual([])
  })

  it('command-on-event-topic: an imperative type on an events topic, not on a commands topic', () => {
    const records = [{ offset: 0, value: seed('OrderPlaced') }, { offset: 1, value: seed('SendInvoiceEmail') }, { offset: 2, value: seed('SendInvoiceEmail') }]
    expect(brief(lintOf(records))).toEqual([{ rule: 'command-on-event-topic', topic: 'orders.events', subject: 'SendInvoiceEmail', count: 2, at: ['0@1', '0@2'] }])
    expect(lintOf(records.map((r) => ({ ...r, topic: 'billing.commands' })))).toEqual([])
    // a topic not named for events is one when its other types are facts
    const billing = [{ offset: 0, value: seed('InvoiceIssued') }, { offset: 1, value: seed('InvoicePaid') }, { offset: 2, value: seed('ChargeCard') }].map((r) => ({ ...r, topic: 'billing' }))
    expect(brief(lintOf(billing)).map((f) => [f.rule, f.subject])).toEqual([['command-on-event-topic', 'ChargeCard']])
    // … and is not when they are not
    const jobs = [{ offset: 0, value: seed('ProcessPayment') }, { offset: 1, value: seed('RefundPayment') }].map((r) => ({ ...r, topic: 'jobs' }))
    expect(lintOf(jobs)).toEqual([])
  })

  it('event-type-not-past-tense: nouns and states on an events topic', () => {
    const fs = lintOf([{ offset: 0, value: seed('OrderPlaced') }, { offset: 1, value: seed('OrderSnapshot') }, { offset: 2, value: seed('Shipping') }])
    expect(brief(fs).map((f) => [f.rule, f.subject, f.at])).toEqual([
      ['event-type-not-past-tense', 'OrderSnapshot', ['0@1']],
      ['event-type-not-past-tense', 'Shipping', ['0@2']],
    ])
    expect(lintOf([{ offset: 0, value: seed('OrderPlaced') }, { offset: 1, value: seed('OrderSnapshot') }], { settings: resolveLintProfile({ facts: ['OrderSnapshot'] }).settings })).toEqual([])
  })

  it('key-not-aggregate: the key differs from the aggregate id (a missing key too)', () => {
    const fs = lintOf([{ offset: 0, value: seed('OrderPlaced', { aggregate_id: 'ord-1' }), key: 'ord-1' }, { offset: 1, value: seed('OrderPlaced', { aggregate_id: 'ord-2' }), key: 'cus-9' }, { offset: 2, value: seed('OrderPlaced', { aggregate_id: 'ord-3' }), key: null }])
    expect(fs.map((f) => [f.rule, f.count, f.evidence.map((e) => e.note)])).toEqual([['key-not-aggregate', 2, ['key "cus-9", aggregate "ord-2"', 'key (none), aggregate "ord-3"']]])
    // a JSON-string key is the id it holds
    expect(lintOf([{ offset: 0, value: seed('OrderPlaced', { aggregate_id: 'ord-1' }), key: '"ord-1"' }])).toEqual([])
  })

  it('aggregate-split: one aggregate on two partitions', () => {
    const fs = lintOf([
      { offset: 0, partition: 0, value: seed('OrderPlaced', { aggregate_id: 'ord-1' }) },
      { offset: 1, partition: 0, value: seed('OrderConfirmed', { aggregate_id: 'ord-1' }) },
      { offset: 0, partition: 2, value: seed('OrderShipped', { aggregate_id: 'ord-1' }) },
      { offset: 1, partition: 2, value: seed('OrderShipped', { aggregate_id: 'ord-2' }) },
    ])
    expect(brief(fs)).toEqual([{ rule: 'aggregate-split', topic: 'orders.events', subject: 'Order', count: 1, at: ['2@0'] }])
    expect(fs[0]!.evidence[0]!.note).toBe('aggregate "ord-1" also at orders.events/0@0')
  })

  it('missing-envelope-field: per field, and records without an envelope beside enveloped ones', () => {
    const noCorrelation = seed('OrderPlaced', { metadata: { causation_id: null } })
    const noTime = seed('OrderPlaced')
    delete noTime.occurred_at
    const fs = lintOf([{ offset: 0, value: seed('OrderPlaced') }, { offset: 1, value: noCorrelation }, { offset: 2, value: noTime }, { offset: 3, value: { order_id: 'x' }, key: 'x' }])
    expect(brief(fs).map((f) => [f.subject, f.at])).toEqual([
      ['correlation id', ['0@1']],
      ['envelope', ['0@3']],
      ['occurred time', ['0@2']],
    ])
    // a topic without any envelope (plain state records) is not an envelope topic
    expect(lintOf([{ offset: 0, value: { order_id: 'x' }, key: 'x', topic: 'orders' }])).toEqual([])
    // CloudEvents binary with every attribute: nothing missing
    const ce: Array<[string, string]> = [['ce_specversion', '1.0'], ['ce_id', 'c1'], ['ce_type', 'com.shop.StockReserved'], ['ce_source', '/inv'], ['ce_time', new Date(T0).toISOString()], ['ce_subject', 'ord-1'], ['ce_correlationid', 'req-1'], ['content-type', 'application/json']]
    expect(lintOf([{ offset: 0, topic: 'inventory.events', value: { sku: 'a' }, key: 'ord-1', headers: ce }])).toEqual([])
    expect(brief(lintOf([{ offset: 0, topic: 'inventory.events', value: { sku: 'a' }, key: 'ord-1', headers: ce.filter(([k]) => k !== 'ce_correlationid') }])).map((f) => f.subject)).toEqual(['correlation id'])
  })

  it('duplicate-event-id: the second record with the id, not copies made by evt', () => {
    const v = seed('PaymentCaptured')
    const fs = lintOf([{ offset: 4, value: v }, { offset: 5, value: seed('PaymentCaptured') }, { offset: 6, value: v }, { offset: 7, value: v, headers: [['evt-requeued-from', 'orders.events-dlt/0/3']] }])
    expect(brief(fs)).toEqual([{ rule: 'duplicate-event-id', topic: 'orders.events', subject: 'PaymentCaptured', count: 1, at: ['0@6'] }])
    expect(fs[0]!.evidence[0]!.note).toBe(`event id "${String(v.event_id)}" also at orders.events/0@4`)
    // the same id on another topic is not a duplicate on either
    expect(lintOf([{ offset: 0, value: v }, { offset: 0, value: v, topic: 'audit.events' }])).toEqual([])
  })

  it('occurred-after-append: skew beyond the tolerance and late publication', () => {
    const at = (ms: number) => seed('OrderPlaced', { occurred_at: new Date(ms).toISOString() })
    const fs = lintOf([
      { offset: 0, value: at(T0), timestamp: T0 + 30_000 },
      { offset: 1, value: at(T0 + 5 * 60_000), timestamp: T0 },
      { offset: 2, value: at(T0 + 30_000), timestamp: T0 },
      { offset: 3, value: at(T0 - 3 * 3_600_000), timestamp: T0 },
    ])
    expect(brief(fs).map((f) => [f.subject, f.at])).toEqual([['clock skew', ['0@1']], ['late publication', ['0@3']]])
    expect(fs[0]!.evidence[0]!.note).toBe('occurred 5 min after the timestamp')
    // tolerances from the profile
    const lenient = resolveLintProfile({ skew: '10m', late: '4h' })
    expect(lintOf([{ offset: 1, value: at(T0 + 5 * 60_000), timestamp: T0 }, { offset: 3, value: at(T0 - 3 * 3_600_000), timestamp: T0 }], { skewMs: lenient.skewMs, lateMs: lenient.lateMs })).toEqual([])
  })

  it('schema-less-payload: values without a hint where others have one', () => {
    const ct: Array<[string, string]> = [['content-type', 'application/json']]
    const fs = lintOf([{ offset: 0, value: seed('OrderPlaced'), headers: ct }, { offset: 1, value: seed('OrderPlaced') }, { offset: 2, value: seed('OrderPlaced'), headers: ct }])
    expect(brief(fs)).toEqual([{ rule: 'schema-less-payload', topic: 'orders.events', subject: null, count: 1, at: ['0@1'] }])
    expect(fs[0]!.severity).toBe('info')
    expect(lintOf([{ offset: 0, value: seed('OrderPlaced') }, { offset: 1, value: seed('OrderPlaced') }])).toEqual([])
  })

  it('version-drift: a field of an older version missing in a newer one, and versions going backwards', () => {
    const v = (version: number, data: Record<string, unknown>) => seed('OrderPlaced', { event_version: version, data })
    const fs = lintOf([
      { offset: 0, value: v(1, { order_id: 'a', total: 1, note: 'x' }) },
      { offset: 1, value: v(1, { order_id: 'b', total: 2 }) },
      { offset: 2, value: v(2, { order_id: 'c', amount: 2 }) },
      { offset: 3, value: v(2, { order_id: 'd', amount: 3 }) },
    ])
    expect(brief(fs)).toEqual([{ rule: 'version-drift', topic: 'orders.events', subject: 'OrderPlaced', count: 1, at: ['0@2'] }])
    expect(fs[0]!.evidence[0]!.note).toBe('field "total" of version 1 missing in version 2')
    const back = lintOf([{ offset: 0, value: v(2, { order_id: 'a' }) }, { offset: 1, value: v(1, { order_id: 'b' }) }, { offset: 0, partition: 1, value: v(1, { order_id: 'c' }) }])
    expect(brief(back)).toEqual([{ rule: 'version-drift', topic: 'orders.events', subject: 'OrderPlaced', count: 1, at: ['0@1'] }])
    // adding a field is fine
    expect(lintOf([{ offset: 0, value: v(1, { order_id: 'a' }) }, { offset: 1, value: v(2, { order_id: 'b', extra: 1 }) }])).toEqual([])
  })

  it('causation-dangling: a causation id naming no event in the window (informational)', () => {
    const root = seed('OrderPlaced')
    const fs = lintOf([
      { offset: 0, value: root },
      { offset: 1, value: seed('OrderConfirmed', { metadata: { correlation_id: 'r', causation_id: root.event_id } }) },
      { offset: 2, value: seed('OrderShipped', { metadata: { correlation_id: 'r', causation_id: 'nowhere' } }) },
    ])
    expect(brief(fs)).toEqual([{ rule: 'causation-dangling', topic: 'orders.events', subject: null, count: 1, at: ['0@2'] }])
    expect(fs[0]!.severity).toBe('info')
  })

  it('dlq-without-origin: dead letters without origin headers; other rules skip dead-letter topics', () => {
    const origin: Array<[string, string]> = [['kafka_dlt-original-topic', 'orders.events'], ['kafka_dlt-original-partition', '\u0000\u0000\u0000\u0001'], ['kafka_dlt-original-offset', '\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0007']]
    const fs = lintOf([
      { offset: 0, topic: 'orders.events-dlt', value: seed('SendEmail'), headers: origin },
      { offset: 1, topic: 'orders.events-dlt', value: seed('OrderPlaced'), headers: [['kafka_dlt-exception-message', 'boom']] },
    ])
    expect(brief(fs)).toEqual([{ rule: 'dlq-without-origin', topic: 'orders.events-dlt', subject: null, count: 1, at: ['0@1'] }])
  })

  it('profile settings: ignore and severity, per topic glob', () => {
    const records = [{ offset: 0, value: seed('OrderPlaced') }, { offset: 1, value: seed('ProcessPayment') }]
    expect(lintOf(records, { settings: resolveLintProfile({ ignore: ['command-on-event-topic'] }).settings })).toEqual([])
    expect(lintOf(records, { settings: resolveLintProfile({ topics: { 'orders.*': { ignore: ['command-on-event-topic'] } } }).settings })).toEqual([])
    expect(lintOf(records, { settings: resolveLintProfile({ topics: { 'billing.*': { ignore: ['command-on-event-topic'] } } }).settings })).toHaveLength(1)
    expect(lintOf(records, { settings: resolveLintProfile({ severity: { 'command-on-event-topic': 'info' }, topics: { orders: { severity: {} } } }).settings })[0]!.severity).toBe('info')
    expect(lintOf(records, { settings: resolveLintProfile({ commands: [], topics: { 'orders.events': { facts: ['ProcessPayment'] } } }).settings })).toEqual([])
  })

  it('past the id cap: later ids are not tracked, no dangling causation is claimed, and the result says so', () => {
    const a = seed('OrderPlaced')
    const b = seed('OrderPlaced')
    const c = seed('OrderPlaced')
    const effect = seed('OrderConfirmed', { metadata: { correlation_id: 'r', causation_id: c.event_id } })
    const records = [{ offset: 0, value: a }, { offset: 1, value: b }, { offset: 2, value: effect }, { offset: 3, value: c }, { offset: 4, value: c }]
    // within the cap: the duplicate of c is found
    expect(brief(lintOf(records)).map((f) => f.rule)).toEqual(['duplicate-event-id'])
    const linter = new Linter({ maxTracked: 2 })
    for (const r of records) {
      const record = decodeRecord({ topic: 'orders.events', partition: 0, offset: String(r.offset), timestamp: T0 + 5, key: Buffer.from(String(r.value.aggregate_id)), value: Buffer.from(JSON.stringify(r.value)), headers: [] })
      linter.add(record, extract(record))
    }
    expect(linter.finish()).toEqual([])
    expect(linter.truncated).toBe(true)
  })

  it('a profile tolerance that is not a duration is a usage error naming the field', () => {
    expect(() => resolveLintProfile({ skew: 'soon' }, 'profile prod')).toThrow(/profile prod: lint\.skew/)
    let caught: unknown
    try {
      resolveLintProfile({ late: 'later' })
    } catch (err) {
      caught = err
    }
    expect((caught as { exitCode?: number } | undefined)?.exitCode).toBe(2)
  })

  it('evidence is capped, the count is not; tombstones and binary values never crash', () => {
    const records = Array.from({ length: 10 }, (_, i) => ({ offset: i, value: seed('CreateShipment') }))
    const [f] = lintOf([{ offset: 100, value: seed('ShipmentCreated') }, ...records], { evidence: 2 })
    expect(f!.count).toBe(10)
    expect(f!.evidence.map((e) => e.offset)).toEqual([0, 1])
    expect(lintOf([{ offset: 0, value: undefined, key: 'k' }, { offset: 1, value: '\u0000\u00ff\u0001binary', key: 'k' }])).toEqual([])
    // a type of 100 000 characters is cut to 200 (a bounded key and table cell)
    const [huge] = lintOf([{ offset: 0, value: seed('OrderPlaced') }, { offset: 1, value: seed(`Process${'x'.repeat(100_000)}`) }])
    expect(huge!.subject).toHaveLength(200)
    expect(huge!.subject!.endsWith('…')).toBe(true)
  })
})
