/**
 * `evt dlq requeue` against the real broker: targets and partitions from the dead-letter headers,
 * header rewriting, loop guard, dry-run, idempotence, and exactly once after kill -9.
 */
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { requeueGroup } from '../../src/services/dlq-requeue.ts'
import type { ProduceRecord } from '../../src/services/produce.ts'
import { BROKERS, createTopic, readWithEvt, ROOT, runEvt, uniqueTopic, withTestAdmin, writeWithEvt } from '../support/kafka.ts'
import { int32BE } from '../support/fixtures/dlq-headers.ts'
import { int64BE } from '../support/fixtures/envelope-record.ts'

const int32 = int32BE
const int64 = int64BE
const h = (key: string, value: string | Buffer | null) => ({ key, value: typeof value === 'string' ? Buffer.from(value) : value })

/** A record as Spring's DeadLetterPublishingRecoverer writes it: original headers first, then kafka_dlt-*. */
function springDlt(original: string, partition: number, offset: number, value: Buffer, extra: ProduceRecord['headers'] = []): ProduceRecord {
  return {
    key: Buffer.from(`key-${offset}`),
    value,
    partition: 0,
    headers: [
      h('traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'),
      ...extra,
      h('kafka_dlt-original-topic', original),
      h('kafka_dlt-original-partition', int32(partition)),
      h('kafka_dlt-original-offset', int64(offset)),
      h('kafka_dlt-original-timestamp', int64(1_700_000_000_000)),
      h('kafka_dlt-original-timestamp-type', 'CreateTime'),
      h('kafka_dlt-exception-fqcn', 'org.springframework.kafka.listener.ListenerExecutionFailedException'),
      h('kafka_dlt-exception-cause-fqcn', 'java.net.SocketTimeoutException'),
      h('kafka_dlt-exception-message', 'Read timed out'),
      h('kafka_dlt-exception-stacktrace', 'org.springframework.kafka.listener.ListenerExecutionFailedException: Listener failed\n\tat org.springframework.kafka.listener.KafkaMessageListenerContainer.doInvoke(KafkaMessageListenerContainer.java:2932)\nCaused by: java.net.SocketTimeoutException: Read timed out'),
    ],
  }
}

const write = writeWithEvt
const readAll = readWithEvt

describe('dlq requeue', () => {
  it('sends records to their original topics and partitions, rewrites headers, guards loops, and is idempotent', async () => {
    const p = uniqueTopic('rq')
    const orders = await createTopic(`${p}.orders`, 3)
    const payments = await createTopic(`${p}.payments`, 2)
    const dlt = await createTopic(`${p}.orders-dlt`, 1)
    const binary = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x07, 0xff, 0xfe]) // Confluent-framed bytes we cannot decode here
    await write(dlt, [
      springDlt(orders, 2, 41, Buffer.from('{"event_type":"OrderPlaced"}')),
      springDlt(payments, 1, 7, binary),
      springDlt(orders, 1, 9, Buffer.from('again'), [h('evt-requeue-count', '3')]),
      { key: Buffer.from('connect'), value: Buffer.from('{"a":1}'), partition: 0, headers: [h('__connect.errors.topic', orders), h('__connect.errors.partition', '0'), h('__connect.errors.offset', '5'), h('__connect.errors.stage', 'VALUE_CONVERTER'), h('__connect.errors.exception.class.name', 'org.apache.kafka.connect.errors.DataException'), h('__connect.errors.exception.message', null)] },
      { key: Buffer.from('lost'), value: Buffer.from('no headers'), partition: 0, headers: [] },
    ])

    // into the DLQ itself: a loop, refused before any plan
    const self = await runEvt(['dlq', 'requeue', dlt, '--to', dlt, '--dry-run'])
    expect([self.code, self.stderr.split('\n')[0]]).toEqual([6, `evt: --to is the dead-letter topic "${dlt}" itself: the records would only go round`])

    const dry = await runEvt(['dlq', 'requeue', dlt, '--dry-run', '--json'])
    expect(dry.code).toBe(0)
    const { plan } = JSON.parse(dry.stdout) as { plan: { targets: Array<{ topic: string; records: number }>; skipped: Record<string, number> } }
    expect(plan.targets).toEqual([{ topic: orders, records: 2 }, { topic: payments, records: 1 }])
    expect(plan.skipped).toEqual({ 'loop-guard': 1, 'no-original-topic': 1 })
    expect(await readAll(orders)).toEqual([])

    // a record whose original topic does not exist: refused before anything is sent (exit 4)
    const gone = await createTopic(`${p}.gone-dlt`, 1)
    await write(gone, [springDlt(`${p}.no-such-topic`, 0, 1, Buffer.from('x'))])
    const refused = await runEvt(['dlq', 'requeue', gone, '--yes'])
    expect(refused.code).toBe(4)
    expect(refused.stderr).toContain(`${p}.no-such-topic`)

    // payments does not follow the DLQ's name (orders-dlt): it has to be allowed
    const run = await runEvt(['dlq', 'requeue', dlt, '--yes', '--json', '--allow-target', payments])
    // the loop guard held one record back: exit 6 after sending the others
    expect(run.code).toBe(6)
    expect(run.stderr).toContain('loop guard')
    const summary = JSON.parse(run.stdout.trim().split('\n').find((l) => l.includes('"summary"'))!).summary as { moved: number; skipped: Record<string, number> }
    expect(summary.moved).toBe(3)
    expect(summary.skipped).toEqual({ 'loop-guard': 1, 'no-original-topic': 1 })

    const inOrders = await readAll(orders)
    expect(inOrders.map((r) => [r.partition, r.key?.toString()]).sort()).toEqual([[0, 'connect'], [2, 'key-41']])
    const placed = inOrders.find((r) => r.key?.toString() === 'key-41')!
    expect(placed.value?.toString()).toBe('{"event_type":"OrderPlaced"}')
    expect(placed.headers.map((x) => [x.key, x.value?.toString()])).toEqual([
      ['traceparent', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
      ['evt-requeue-count', '1'],
      ['evt-requeued-from', `${dlt}/0/0`],
    ])
    const inPayments = await readAll(payments)
    expect(inPayments).toHaveLength(1)
    expect(inPayments[0].partition).toBe(1)
    expect(inPayments[0].value).toEqual(binary)

    const again = await runEvt(['dlq', 'requeue', dlt, '--yes', '--json'])
    // everything was gone through already: nothing to send, nothing held back
    expect(again.code).toBe(0)
    expect(JSON.parse(again.stdout.split('\n')[0]).plan.targets).toEqual([])
    expect((await readAll(orders)).length).toBe(2)
  })

  it('requeues one failure class only, and --keep-error-headers keeps them', async () => {
    const p = uniqueTopic('rq-class')
    const orders = await createTopic(`${p}.orders`, 1)
    const dlt = await createTopic(`${p}.orders-dlt`, 1)
    await write(dlt, [springDlt(orders, 0, 1, Buffer.from('timeout')), { key: null, value: Buffer.from('bad'), partition: 0, headers: [h('x-original-topic', orders), h('x-exception-fqcn', 'com.fasterxml.jackson.core.JsonParseException'), h('x-exception-message', 'Unexpected character')] }])
    const result = await runEvt(['dlq', 'requeue', dlt, '--group-by', 'exception=com.fasterxml.jackson.core.JsonParseException', '--keep-error-headers', '--yes'])
    expect(result.code).toBe(0)
    const sent = await readAll(orders)
    expect(sent.map((r) => r.value?.toString())).toEqual(['bad'])
    expect(sent[0].headers.map((x) => x.key)).toEqual(['x-original-topic', 'x-exception-fqcn', 'x-exception-message', 'evt-requeue-count', 'evt-requeued-from'])
  })

  it('after kill -9 halfway, running it again requeues each record exactly once', async () => {
    const p = uniqueTopic('rq-kill')
    const orders = await createTopic(`${p}.orders`, 2)
    const dlt = await createTopic(`${p}.orders-dlt`, 1)
    await write(dlt, Array.from({ length: 600 }, (_, i) => springDlt(orders, i % 2, i, Buffer.from(`v${i}`))))
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'dlq', 'requeue', dlt, '--rate', '150', '--yes'], { env: { ...process.env, EVT_BROKERS: BROKERS.join(',') } })
    // kill it once some transactions are committed (seen by a read_committed reader), whatever the machine's speed
    for (let i = 0; (await readAll(orders)).length === 0; i++) {
      if (i > 300) throw new Error('nothing was requeued within 30 s')
      await new Promise((r) => setTimeout(r, 100))
    }
    child.kill('SIGKILL')
    await new Promise((r) => child.on('close', r))
    const partial = (await readAll(orders)).length
    expect(partial).toBeGreaterThan(0)
    expect(partial).toBeLessThan(600)
    const rest = await runEvt(['dlq', 'requeue', dlt, '--yes'], { timeoutMs: 60_000 })
    expect(rest.code).toBe(0)
    const all = await readAll(orders)
    const from = all.map((r) => r.headers.find((x) => x.key === 'evt-requeued-from')!.value!.toString())
    expect(from.length).toBe(600)
    expect(new Set(from).size).toBe(600)
  })
})

describe('dlq requeue progress from before the _evt- prefix', () => {
  it('carries on in the old progress group (evt-dlq-requeue-…): what it covered is not sent again', async () => {
    const p = uniqueTopic('rq-legacy')
    const orders = await createTopic(`${p}.orders`, 3)
    const dlt = await createTopic(`${p}.orders-dlt`, 1)
    await write(dlt, [springDlt(orders, 0, 1, Buffer.from('first')), springDlt(orders, 1, 2, Buffer.from('second'))])
    const current = requeueGroup({ dlqTopic: dlt, range: { from: { kind: 'start' } } })
    expect(current).toMatch(new RegExp(`^_evt-requeue-${p.replace(/[.-]/g, '\\$&')}\\.orders-dlt-[0-9a-f]{8}$`))
    const legacy = current.replace(/^_evt-requeue-/, 'evt-dlq-requeue-')
    // an older evt requeued the first record and committed its progress under the old name
    await withTestAdmin((admin) => admin.setOffsets({ groupId: legacy, topic: dlt, partitions: [{ partition: 0, offset: '1' }] }))
    const run = await runEvt(['dlq', 'requeue', dlt, '--yes', '--json'])
    expect(run.code, run.stderr).toBe(0)
    expect(JSON.parse(run.stdout.split('\n')[0]).plan.progressGroup).toBe(legacy)
    expect((await readAll(orders)).map((r) => r.value?.toString())).toEqual(['second'])
    const groups = await withTestAdmin(async (admin) => (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.includes(p)).sort())
    expect(groups).toEqual([legacy])
  })
})
