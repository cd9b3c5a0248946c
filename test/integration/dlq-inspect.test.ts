/**
 * `evt dlq list` and `evt dlq inspect` against the real local broker: a DLQ found by name with
 * Spring, Kafka Connect and SmallRye records, a DLQ found only by its content, and a normal
 * topic with one requeued record (not a DLQ). Records are written with evt's producer so that
 * header order, duplicates and null header values reach the broker as built.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import type { DlqFailure } from '../../src/dlq/failure.ts'
import { compileDlqCel } from '../../src/dlq/filter.ts'
import { parsePositionRange } from '../../src/kafka/positions.ts'
import { inspectDlq, type DlqRecord } from '../../src/services/dlq-inspect.ts'
import { listDlqTopics, type DlqListResult } from '../../src/services/dlq-list.ts'
import { produceRecords, type ProduceRecord } from '../../src/services/produce.ts'
import { CONNECT_STACKTRACE, SPRING_DLT_DEFAULTS, SPRING_STACKTRACE, connectHeaders, dlqProduceRecord, smallRyeHeaders, springDltHeaders } from '../support/fixtures/dlq-headers.ts'
import { createTopic, jsonLines, runEvt, testSession, uniqueTopic } from '../support/kafka.ts'

async function produce(topic: string, records: ProduceRecord[]): Promise<void> {
  for await (const _ of produceRecords(testSession(), records, { topic })) void _
}

const T = 1_700_000_000_000
const prefix = uniqueTopic('triage')
const orders = `${prefix}.orders`
const dlt = `${prefix}.orders.DLT`
const pen = `${prefix}.holding-pen`
const base = Math.floor(Date.now() / 1000) * 1000 - 3_600_000

const springFailure: DlqFailure = {
  framework: 'spring-dlt',
  originalTopic: orders,
  originalPartition: 3,
  originalOffset: 42,
  originalTimestamp: T,
  originalTimestampType: 'CreateTime',
  consumerGroup: 'payment-service',
  exception: 'org.springframework.kafka.listener.ListenerExecutionFailedException',
  message: SPRING_DLT_DEFAULTS.message,
  cause: 'java.net.SocketTimeoutException',
  causeMessage: 'Read timed out',
  stacktrace: SPRING_STACKTRACE,
  reason: 'SocketTimeoutException: Read timed out',
}
const timeoutFailure: DlqFailure = {
  framework: 'spring-dlt',
  originalTopic: orders,
  originalPartition: 0,
  originalOffset: 99,
  originalTimestamp: T,
  originalTimestampType: 'CreateTime',
  consumerGroup: 'payment-service',
  exception: 'java.util.concurrent.TimeoutException',
  message: 'payment gateway did not answer within 5000 ms',
  reason: 'TimeoutException: payment gateway did not answer within…',
}
const connectFailure: DlqFailure = {
  framework: 'kafka-connect',
  originalTopic: orders,
  originalPartition: 3,
  originalOffset: 42,
  connector: 'orders-jdbc-sink',
  task: '0',
  stage: 'VALUE_CONVERTER',
  stageClass: 'org.apache.kafka.connect.json.JsonConverter',
  exception: 'org.apache.kafka.connect.errors.DataException',
  cause: 'com.fasterxml.jackson.core.JsonParseException',
  causeMessage: "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
  stacktrace: CONNECT_STACKTRACE,
  reason: 'DataException',
}
const smallRyeFailure: DlqFailure = {
  framework: 'smallrye',
  originalTopic: orders,
  originalPartition: 3,
  originalOffset: 42,
  exception: 'org.eclipse.microprofile.faulttolerance.exceptions.TimeoutException',
  message: 'com.acme.stock.StockClient#reserve timed out',
  reason: 'TimeoutException: com.acme.stock.StockClient#reserve timed out',
}

beforeAll(async () => {
  await Promise.all([createTopic(orders, 1), createTopic(dlt, 2), createTopic(pen, 1)])
  // dead-lettered twice: original-* appended again by the second dead-lettering (the last wins)
  const firstOriginal = springDltHeaders({ topic: 'legacy.orders', partition: 1, offset: 7, group: 'old-group' }).filter(([k]) => k.startsWith('kafka_dlt-original-'))
  await produce(dlt, [
    dlqProduceRecord([['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'], ...springDltHeaders({ topic: orders })], { partition: 0, timestamp: base + 1000 }),
    dlqProduceRecord([...firstOriginal, ...springDltHeaders({ topic: orders, partition: 0, offset: 99, fqcn: 'java.util.concurrent.TimeoutException', causeFqcn: null, message: 'payment gateway did not answer within 5000 ms', stacktrace: null })], { partition: 0, timestamp: base + 2000, key: 'order-7' }),
    dlqProduceRecord(connectHeaders({ topic: orders, message: null }), { partition: 1, timestamp: base + 3000, value: 'not json' }),
    dlqProduceRecord(smallRyeHeaders({ topic: orders }), { partition: 1, timestamp: base + 4000 }),
    dlqProduceRecord(springDltHeaders({ topic: orders }), { partition: 0, timestamp: base + 5000 }),
  ])
  await produce(pen, [1, 2, 3].map((i) => dlqProduceRecord(connectHeaders({ topic: orders, offset: String(i), exception: 'org.apache.kafka.connect.errors.ConnectException', message: 'sink table is locked', stage: 'TASK_PUT', className: 'io.confluent.connect.jdbc.sink.JdbcSinkTask' }), { timestamp: base + i * 1000 })))
  // a normal topic: one requeued record still carries DLQ headers, the others do not
  await produce(orders, [
    ...[1, 2, 3, 4].map((i) => dlqProduceRecord([['content-type', 'application/json']], { timestamp: base + i })),
    dlqProduceRecord([['x-original-topic', orders]], { timestamp: base + 5 }),
  ])
})

const byPosition = (a: { partition: number; offset: number | string }, b: { partition: number; offset: number | string }) => a.partition - b.partition || Number(a.offset) - Number(b.offset)

describe('dlq list', () => {
  it('--json finds the DLT by name and the odd-named topic by content, not the normal topic', async () => {
    const result = await runEvt(['dlq', 'list', '--json', '-t', `${prefix}*`])
    expect(result.code).toBe(0)
    const list = JSON.parse(result.stdout) as DlqListResult
    expect(list.topicsConsidered).toBe(3)
    expect(list.topicsSampled).toBe(2)
    expect(list.scanLimit).toBe(10_000)
    expect(list.dlqs.map((d) => [d.topic, d.detectedBy])).toEqual([[pen, 'content'], [dlt, 'name']])
    const d = list.dlqs.find((x) => x.topic === dlt)!
    expect(d).toMatchObject({ partitions: 2, records: 5, scanned: 5, complete: true, withFailureHeaders: 5, oldestTimestamp: base + 1000, newestTimestamp: base + 5000 })
    expect(d.oldestAgeMs).toBeGreaterThanOrEqual(3_600_000 - 1000)
    expect(d.topErrors).toEqual([
      { exception: 'org.springframework.kafka.listener.ListenerExecutionFailedException', count: 2 },
      { exception: 'java.util.concurrent.TimeoutException', count: 1 },
      { exception: 'org.apache.kafka.connect.errors.DataException', count: 1 },
      { exception: 'org.eclipse.microprofile.faulttolerance.exceptions.TimeoutException', count: 1 },
    ])
    expect(d.originalTopics).toEqual([{ topic: orders, count: 5 }])
    expect(d.frameworks).toEqual([{ framework: 'spring-dlt', count: 3 }, { framework: 'kafka-connect', count: 1 }, { framework: 'smallrye', count: 1 }])
    const p = list.dlqs.find((x) => x.topic === pen)!
    expect(p).toMatchObject({ records: 3, topErrors: [{ exception: 'org.apache.kafka.connect.errors.ConnectException', count: 3 }], originalTopics: [{ topic: orders, count: 3 }] })
  })

  it('a bounded scan says it is partial, and still finds the oldest record', async () => {
    const list = await listDlqTopics(testSession(), { topics: [dlt], scanLimit: 2 })
    expect(list.dlqs).toHaveLength(1)
    expect(list.dlqs[0]).toMatchObject({ records: 5, scanned: 2, complete: false, oldestTimestamp: base + 1000, newestTimestamp: base + 5000 })
    const table = await runEvt(['dlq', 'list', '-t', `${prefix}*`, '--scan-limit', '2'])
    expect(table.code).toBe(0)
    expect(table.stdout).toContain('from the last ≤2 records of each DLQ')
    expect(table.stdout).toMatch(new RegExp(`${dlt.replaceAll('.', '\\.')}\\s+name\\s+5\\s+1h ago`))
  })
})

describe('dlq inspect', () => {
  it('--json gives each record with its exact parsed failure and decoded key and value', async () => {
    const result = await runEvt(['dlq', 'inspect', dlt, '--json'])
    expect(result.code).toBe(0)
    const lines = jsonLines(result.stdout) as Array<{ partition: number; offset: number; timestamp: number; key: string; value: unknown; valueEncoding: string; headers: unknown[]; failure: DlqFailure }>
    lines.sort(byPosition)
    expect(lines.map((l) => [l.partition, l.offset])).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1]])
    expect(lines.map((l) => l.failure)).toEqual([springFailure, timeoutFailure, springFailure, connectFailure, smallRyeFailure])
    expect(lines[0].value).toEqual({ orderId: 'order-1042', total: 42.5 })
    expect(lines[1].key).toBe('order-7')
    expect(lines[3]).toMatchObject({ value: 'not json', valueEncoding: 'text' })
    expect(lines[3].headers).toContainEqual({ key: '__connect.errors.exception.message', value: null, encoding: 'null' })
    expect(lines[1].headers.filter((h) => (h as { key: string }).key === 'kafka_dlt-original-topic')).toHaveLength(2)
  })

  it('the service streams the same failures (default start:end is bounded)', async () => {
    const out: DlqRecord[] = []
    for await (const chunk of inspectDlq(testSession(), { topic: dlt, range: parsePositionRange('start') })) out.push(...chunk)
    expect(out.map((x) => x.failure).sort((a, b) => String(a.reason).localeCompare(String(b.reason)))).toEqual([connectFailure, springFailure, springFailure, smallRyeFailure, timeoutFailure])
  })

  it('--group-by exception counts, with first and last seen and a sample message', async () => {
    const result = await runEvt(['dlq', 'inspect', dlt, '--group-by', 'exception', '--json'])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toEqual({
      topic: dlt,
      groupBy: 'exception',
      scanned: 5,
      matched: 5,
      groups: [
        { key: 'org.springframework.kafka.listener.ListenerExecutionFailedException', count: 2, firstSeen: base + 1000, lastSeen: base + 5000, sample: { message: 'Read timed out', topic: dlt, partition: 0, offset: 0 } },
        { key: 'java.util.concurrent.TimeoutException', count: 1, firstSeen: base + 2000, lastSeen: base + 2000, sample: { message: 'payment gateway did not answer within 5000 ms', topic: dlt, partition: 0, offset: 1 } },
        { key: 'org.apache.kafka.connect.errors.DataException', count: 1, firstSeen: base + 3000, lastSeen: base + 3000, sample: { message: connectFailure.causeMessage, topic: dlt, partition: 1, offset: 0 } },
        { key: 'org.eclipse.microprofile.faulttolerance.exceptions.TimeoutException', count: 1, firstSeen: base + 4000, lastSeen: base + 4000, sample: { message: 'com.acme.stock.StockClient#reserve timed out', topic: dlt, partition: 1, offset: 1 } },
      ],
    })
    const table = await runEvt(['dlq', 'inspect', dlt, '--group-by', 'original-topic'])
    expect(table.stdout).toContain(`${dlt}: 5 records read, 5 matched, 1 group by original-topic`)
    expect(table.stdout).toMatch(new RegExp(`${orders.replaceAll('.', '\\.')}\\s+5\\s`))
  })

  it('--filter over the failure: failure.exception.endsWith("TimeoutException")', async () => {
    const result = await runEvt(['dlq', 'inspect', dlt, '--json', '--filter', 'failure.exception.endsWith("TimeoutException")'])
    expect(result.code).toBe(0)
    const lines = (jsonLines(result.stdout) as Array<{ partition: number; offset: number; failure: DlqFailure }>).sort(byPosition)
    expect(lines.map((l) => [l.partition, l.offset, l.failure.exception])).toEqual([[0, 1, 'java.util.concurrent.TimeoutException'], [1, 1, 'org.eclipse.microprofile.faulttolerance.exceptions.TimeoutException']])
    const grouped = await runEvt(['dlq', 'inspect', dlt, '--json', '--group-by', 'stage', '--filter', 'failure.framework == "kafka-connect" && key == "order-1042"'])
    expect(JSON.parse(grouped.stdout)).toMatchObject({ scanned: 5, matched: 1, groups: [{ key: 'VALUE_CONVERTER', count: 1 }] })
    // the service takes the same compiled filter
    const out: DlqRecord[] = []
    for await (const chunk of inspectDlq(testSession(), { topic: dlt, range: parsePositionRange('start:end'), filter: compileDlqCel('has(failure.consumerGroup)'), partitions: [0] })) out.push(...chunk)
    expect(out.map((x) => x.record.offset)).toEqual(['0', '1', '2'])
  })

  it('pretty output folds stack traces, -o and -n bound it, a bad filter exits 2', async () => {
    const pretty = await runEvt(['dlq', 'inspect', dlt, '-p', '0', '-o', '0:1'])
    expect(pretty.code).toBe(0)
    expect(pretty.stdout).toContain(`${dlt}/0@0`)
    expect(pretty.stdout).toContain('✗ org.springframework.kafka.listener.ListenerExecutionFailedException')
    expect(pretty.stdout).toContain(`from      ${orders}/3@42  2023-11-14 22:13:20Z (CreateTime)`)
    expect(pretty.stdout).toContain('(--stack shows all)')
    expect(pretty.stdout).not.toContain(`${dlt}/0@1`)
    expect(pretty.stderr).toContain('1 record shown (1 read)')
    const full = await runEvt(['dlq', 'inspect', dlt, '-p', '0', '-o', '0:1', '--stack'])
    expect(full.stdout).toContain('NioSocketImpl.timedRead')
    const one = await runEvt(['dlq', 'inspect', dlt, '--json', '-n', '1'])
    expect(jsonLines(one.stdout)).toHaveLength(1)
    const bad = await runEvt(['dlq', 'inspect', dlt, '--filter', 'failure.exception =='])
    expect(bad.code).toBe(2)
    const missing = await runEvt(['dlq', 'inspect', `${prefix}.nope`])
    expect(missing.code).toBe(4)
  })
})
