/**
 * DLQ triage logic without a broker: CEL over record + failure, grouping, bounded-scan
 * allocation, and the renderers (pretty, JSON line, tables).
 */
import { describe, expect, it } from 'vitest'
import { parseFailure } from '../../src/dlq/failure.ts'
import { combineDlqFilters, compileDlqCel, onRecord } from '../../src/dlq/filter.ts'
import { createGrouper } from '../../src/dlq/group.ts'
import { allocate, headRecords, lastRecords } from '../../src/dlq/scan.ts'
import { keyGlob } from '../../src/filter.ts'
import type { PartitionPlan } from '../../src/kafka/reader.ts'
import { dlqJsonLine, foldStack, prettyDlqRecord, renderDlqGroups, renderDlqList } from '../../src/output/dlq.ts'
import type { DecodedRecord } from '../../src/record.ts'
import type { DlqListResult } from '../../src/services/dlq-list.ts'
import { SPRING_STACKTRACE, connectHeaders, dlqRecord, smallRyeHeaders, springDltHeaders } from '../support/fixtures/dlq-headers.ts'

const item = (r: DecodedRecord) => ({ record: r, failure: parseFailure(r.headers) })

describe('CEL over record and failure', () => {
  const spring = dlqRecord(springDltHeaders({ fqcn: 'java.util.concurrent.TimeoutException', causeFqcn: null, message: 'no answer within 5000 ms', stacktrace: null }))
  const connect = dlqRecord(connectHeaders(), { key: 'order-7' })

  it('sees failure fields next to the record variables', () => {
    const f = compileDlqCel('failure.exception.endsWith("TimeoutException")')
    expect(f(spring, parseFailure(spring.headers))).toBe(true)
    expect(f(connect, parseFailure(connect.headers))).toBe(false)
    const g = compileDlqCel('failure.framework == "kafka-connect" && failure.stage == "VALUE_CONVERTER" && failure.originalPartition == 3 && value.total > 40')
    expect(g(connect, parseFailure(connect.headers))).toBe(true)
  })

  it('a missing failure field makes it false; has() tests for it', () => {
    const f = parseFailure(spring.headers)
    expect(compileDlqCel('failure.cause == "x"')(spring, f)).toBe(false)
    expect(compileDlqCel('!has(failure.cause)')(spring, f)).toBe(true)
  })

  it('a bad expression is a usage error', () => {
    expect(() => compileDlqCel('failure.exception ==')).toThrow(/--filter does not compile/)
  })

  it('combines with record-only filters', () => {
    const f = combineDlqFilters([compileDlqCel('failure.framework == "kafka-connect"'), onRecord(keyGlob('order-7'))])!
    expect(f(connect, parseFailure(connect.headers))).toBe(true)
    expect(f(spring, parseFailure(spring.headers))).toBe(false)
  })
})

describe('grouping', () => {
  it('counts, first and last seen, a sample message; sorted by count', () => {
    const g = createGrouper('exception')
    const a = dlqRecord(springDltHeaders({ fqcn: 'java.lang.IllegalStateException', causeFqcn: null, message: null, stacktrace: null }), { offset: '0', timestamp: 3000 })
    const b = dlqRecord(springDltHeaders({ fqcn: 'java.lang.IllegalStateException', causeFqcn: null, message: 'stock is negative', stacktrace: null }), { offset: '1', timestamp: 1000 })
    // Connect with a null message: the sample falls back to the cause message from the stack trace
    const c = dlqRecord(connectHeaders({ message: null }), { offset: '2', timestamp: 2000 })
    for (const r of [a, b, c]) g.add(r, parseFailure(r.headers))
    expect(g.groups()).toEqual([
      { key: 'java.lang.IllegalStateException', count: 2, firstSeen: 1000, lastSeen: 3000, sample: { message: 'stock is negative', topic: 'orders.DLT', partition: 3, offset: 1 } },
      { key: 'org.apache.kafka.connect.errors.DataException', count: 1, firstSeen: 2000, lastSeen: 2000, sample: { message: "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')", topic: 'orders.DLT', partition: 3, offset: 2 } },
    ])
  })

  it('by original topic and stage, null when the records do not say', () => {
    const g = createGrouper('stage')
    for (const r of [dlqRecord(connectHeaders()), dlqRecord(smallRyeHeaders())]) g.add(r, parseFailure(r.headers))
    expect(g.groups().map((x) => [x.key, x.count])).toEqual([['VALUE_CONVERTER', 1], [null, 1]])
  })
})

describe('bounded scans', () => {
  it('water-fills the budget over partitions', () => {
    expect(allocate([100, 100, 100], 10)).toEqual([3, 3, 4])
    expect(allocate([2, 1000, 0], 100)).toEqual([2, 98, 0])
    expect(allocate([5, 5], 100)).toEqual([5, 5])
    expect(allocate([7], 0)).toEqual([0])
  })

  it('plans the last records of each topic and the heads not covered', () => {
    const plan = (topic: string, partition: number, low: number, high: number): PartitionPlan => ({ topic, partition, start: low, end: high, low, high })
    const plans = [plan('a', 0, 0, 50), plan('a', 1, 10, 12), plan('b', 0, 0, 0)]
    const scan = lastRecords(plans, 20)
    expect(scan.map((p) => [p.topic, p.partition, p.start, p.end])).toEqual([['a', 0, 32, 50], ['a', 1, 10, 12], ['b', 0, 0, 0]])
    expect(headRecords(plans, scan).map((p) => [p.topic, p.partition, p.start, p.end])).toEqual([['a', 0, 0, 20]])
  })
})

describe('renderers', () => {
  const r = dlqRecord([['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'], ...springDltHeaders()], { topic: 'orders.DLT', partition: 0, offset: '5' })

  it('the JSON line is the tail line plus the failure and the requeue', () => {
    const line = dlqJsonLine(item(r))
    expect(line.endsWith('}\n')).toBe(true)
    const j = JSON.parse(line) as Record<string, unknown>
    expect(Object.keys(j)).toEqual(['topic', 'partition', 'offset', 'timestamp', 'key', 'keyEncoding', 'value', 'valueEncoding', 'headers', 'failure', 'requeued'])
    expect(j.value).toEqual({ orderId: 'order-1042', total: 42.5 })
    expect(j.failure).toEqual(parseFailure(r.headers))
    expect(j.requeued).toBeNull()
    expect((j.headers as unknown[]).length).toBe(r.headers.length)
    const requeued = { at: Date.UTC(2026, 10, 28, 14, 0, 0), topic: 'orders', partition: 2, count: 1 }
    expect(JSON.parse(dlqJsonLine({ ...item(r), requeued })).requeued).toEqual(requeued)
    expect(prettyDlqRecord({ ...item(r), requeued }).replace(/\u001b\[[0-9;]*m/g, '')).toContain('↻ requeued 2026-11-28')
  })

  it('pretty: failure under the first line, dead-letter headers not repeated raw, stack folded', () => {
    const text = prettyDlqRecord(item(r)).replace(/\u001b\[[0-9;]*m/g, '')
    const lines = text.split('\n')
    expect(lines[0]).toContain('orders.DLT/0@5')
    expect(lines[1]).toContain('✗ org.springframework.kafka.listener.ListenerExecutionFailedException')
    expect(text).toContain('cause     java.net.SocketTimeoutException: Read timed out')
    expect(text).toContain('from      orders/3@42  2023-11-14 22:13:20Z (CreateTime)')
    expect(text).toContain('group     payment-service')
    expect(text).toContain('reason    SocketTimeoutException: Read timed out')
    expect(text).toContain('traceparent: 00-4bf92f')
    expect(text).not.toContain('kafka_dlt-original-topic')
    expect(text).toContain('Caused by: java.net.SocketTimeoutException: Read timed out')
    expect(text).toContain('(--stack shows all)')
    expect(text).not.toContain('NioSocketImpl')
    expect(prettyDlqRecord(item(r), { stack: true })).toContain('NioSocketImpl')
    expect(text).toContain('"orderId": "order-1042"')
  })

  it('foldStack keeps the first lines and the causes', () => {
    expect(foldStack(SPRING_STACKTRACE)).toEqual([...SPRING_STACKTRACE.split('\n').slice(0, 4), 'Caused by: java.net.SocketTimeoutException: Read timed out', '… 5 more lines (--stack shows all)'])
    expect(foldStack('a\nb')).toEqual(['a', 'b'])
  })

  it('group and list tables', () => {
    const groups = renderDlqGroups({ topic: 'orders.DLT', groupBy: 'exception', scanned: 3, matched: 3, groups: [{ key: 'java.lang.IllegalStateException', count: 2, firstSeen: 1_700_000_000_000, lastSeen: 1_700_000_060_000, sample: { message: 'stock is negative', topic: 'orders.DLT', partition: 0, offset: 1 } }] }).replace(/\u001b\[[0-9;]*m/g, '')
    expect(groups).toContain('orders.DLT: 3 records read, 3 matched, 1 group by exception')
    expect(groups).toMatch(/java\.lang\.IllegalStateException\s+2\s+2023-11-14 22:13:20Z\s+2023-11-14 22:14:20Z\s+stock is negative/)
    const list: DlqListResult = {
      dlqs: [{ topic: 'orders.DLT', partitions: 1, detectedBy: 'name', records: 12, oldestTimestamp: 0, newestTimestamp: 0, oldestAgeMs: 3 * 86_400_000, newestAgeMs: 7_200_000, scanned: 12, complete: true, withFailureHeaders: 12, topErrors: [{ exception: 'java.net.SocketTimeoutException', count: 10 }, { exception: null, count: 2 }], originalTopics: [{ topic: 'orders', count: 12 }], frameworks: [{ framework: 'spring-dlt', count: 12 }] }],
      topicsConsidered: 5,
      topicsSampled: 4,
      sampleSize: 100,
      scanLimit: 10_000,
    }
    const table = renderDlqList(list).replace(/\u001b\[[0-9;]*m/g, '')
    expect(table).toMatch(/orders\.DLT\s+name\s+12\s+3d ago\s+2h ago\s+SocketTimeoutException ×10, \(none\) ×2\s+orders ×12/)
    expect(table).toContain('from the last ≤10000 records of each DLQ')
    expect(renderDlqList({ ...list, dlqs: [] })).toContain('no dead-letter topics found')
  })
})
