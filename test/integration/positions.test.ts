/**
 * Positions count records, not offsets, on the real broker: a transactional topic (a commit marker after
 * every transaction), a topic whose last transaction was aborted (read_committed neither prints nor counts
 * it) and a compacted topic (compaction forced with small segments; offsets missing in the middle).
 * Each test first asserts, with an independent reader (kcat) or the watermarks, that the offsets really have
 * gaps, then evt's records: -N, +N, FROM:+N, FROM:-N, -n, the replay plan's counts and `evt topics`.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import type { Message } from 'kafkajs'
import { parsePositionRange } from '../../src/kafka/positions.ts'
import type { Isolation } from '../../src/kafka/types.ts'
import { tailRecords } from '../../src/services/tail.ts'
import { BROKERS, createTopic, jsonLines, kafka, runEvt, testSession, uniqueTopic, withTestAdmin } from '../support/kafka.ts'

const run = promisify(execFile)

/** Records of `topic` at position `offset` up to the end taken at start (as `-e`), as `partition:value`, in partition then offset order. */
async function tail(topic: string, offset: string, isolation: Isolation = 'read_committed'): Promise<string[]> {
  const out: Array<{ partition: number; offset: number; value: string }> = []
  const range = parsePositionRange(offset)
  range.to ??= { kind: 'end' }
  for await (const chunk of tailRecords(testSession(), { topics: [topic], range, isolation })) {
    for (const r of chunk) out.push({ partition: r.partition, offset: Number(r.offset), value: r.value?.toString() ?? "null" })
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset).map((r) => `${r.partition}:${r.value}`)
}

/** Offsets of the records kcat (librdkafka, read_committed) reads from `topic`, as `partition:offset`. */
async function kcatOffsets(topic: string): Promise<string[]> {
  const { stdout } = await run('kcat', ['-C', '-b', BROKERS[0], '-t', topic, '-e', '-q', '-X', 'isolation.level=read_committed', '-f', '%p:%o\\n'])
  return stdout.split('\n').filter(Boolean).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }))
}

async function highWatermarks(topic: string): Promise<number[]> {
  return withTestAdmin(async (admin) => (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition).map((p) => Number(p.high)))
}

/** Runs transactions with a transactional kafkajs producer (an independent client): each commits, or aborts when `abort`. */
async function transactions(topic: string, txns: Array<{ messages: Message[]; abort?: boolean }>): Promise<void> {
  const producer = kafka().producer({ transactionalId: `evt-test-${topic}`, idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  try {
    for (const { messages, abort } of txns) {
      const txn = await producer.transaction()
      await txn.send({ topic, messages })
      if (abort) await txn.abort()
      else await txn.commit()
    }
  } finally {
    await producer.disconnect()
  }
}

interface PlanJson { plan: { partitions: Array<{ partition: number; start: number; end: number; offsets: number; records: number | null }> } }

describe('a transactional topic: every transaction ends with a commit marker', () => {
  const topic = uniqueTopic('pos-txn')
  beforeAll(async () => {
    await createTopic(topic, 2)
    const m = (value: string, partition: number): Message => ({ value, partition })
    // p0: a0@0 C@1 a1@2 C@3 x@4 (aborted) A@5 a2@6 C@7 · p1: b0@0 C@1 b1@2 C@3
    await transactions(topic, [
      { messages: [m('a0', 0), m('b0', 1)] },
      { messages: [m('a1', 0)] },
      { messages: [m('x', 0)], abort: true },
      { messages: [m('a2', 0), m('b1', 1)] },
    ])
  })

  it('has offsets that are not records (checked with kcat and the watermarks)', async () => {
    expect(await highWatermarks(topic)).toEqual([8, 4])
    expect(await kcatOffsets(topic)).toEqual(['0:0', '0:2', '0:6', '1:0', '1:2'])
  })

  it('-N is the last N records of each partition, whatever markers follow them', async () => {
    expect(await tail(topic, '-1')).toEqual(['0:a2', '1:b1'])
    expect(await tail(topic, '-2')).toEqual(['0:a1', '0:a2', '1:b0', '1:b1'])
    // fewer records than N: from the partition start
    expect(await tail(topic, '-5')).toEqual(['0:a0', '0:a1', '0:a2', '1:b0', '1:b1'])
    expect(await tail(topic, '-0')).toEqual([])
  })

  it('+N skips N records, FROM:+N reads N records, FROM:-N stops N records before the end', async () => {
    expect(await tail(topic, 'start:+2')).toEqual(['0:a0', '0:a1', '1:b0', '1:b1'])
    expect(await tail(topic, '+1')).toEqual(['0:a1', '0:a2', '1:b1'])
    expect(await tail(topic, '+1:+1')).toEqual(['0:a1', '1:b1'])
    expect(await tail(topic, 'start:-1')).toEqual(['0:a0', '0:a1', '1:b0'])
    expect(await tail(topic, '-2:+1')).toEqual(['0:a1', '1:b0'])
    // offset 3 is a marker in both partitions: p0's next record is a2 (x was aborted), p1 has none after it
    expect(await tail(topic, '3:+1')).toEqual(['0:a2'])
  })

  it('read_uncommitted counts the aborted record, never the markers', async () => {
    expect(await tail(topic, '-2', 'read_uncommitted')).toEqual(['0:x', '0:a2', '1:b0', '1:b1'])
    expect(await tail(topic, 'start:+3', 'read_uncommitted')).toEqual(['0:a0', '0:a1', '0:x', '1:b0', '1:b1'])
  })

  it('the CLI: tail -o -1 -e prints the last record of each partition; -n counts records', async () => {
    const last = await runEvt(['tail', topic, '-o', '-1', '-e', '-f', 'json'])
    expect(last.code).toBe(0)
    expect(jsonLines(last.stdout).map((r) => `${r.partition}:${r.value}`).sort()).toEqual(['0:a2', '1:b1'])
    const first = await runEvt(['tail', topic, '-o', 'start', '-e', '-n', '2', '-p', '0', '-f', 'json'])
    expect(jsonLines(first.stdout).map((r) => r.value)).toEqual(['a0', 'a1'])
  })

  it('the replay plan counts records and keeps the offsets apart; evt topics says ≤ offsets', async () => {
    const dst = await createTopic(uniqueTopic('pos-txn-dst'), 2)
    const result = await runEvt(['replay', topic, '--from', 'start', '--to-topic', dst, '--dry-run', '--json'])
    expect(result.code).toBe(0)
    const { plan } = JSON.parse(result.stdout) as PlanJson
    expect(plan.partitions.map((p) => [p.partition, p.start, p.end, p.offsets, p.records])).toEqual([[0, 0, 8, 8, 3], [1, 0, 4, 4, 2]])
    const plain = await runEvt(['replay', topic, '--from', '-1', '--to-topic', dst, '--dry-run'])
    expect(plain.stdout).toContain('will copy 2 records')
    expect(plain.stdout).toMatch(/ 0 +6\.\.8 +1 /)
    const topics = await runEvt(['topics', '--json'])
    const row = (JSON.parse(topics.stdout) as Array<{ name: string; offsets: number }>).find((t) => t.name === topic)!
    expect(row.offsets).toBe(12)
    const table = await runEvt(['topics'])
    expect(table.stdout).toMatch(new RegExp(`${topic} +2 +1 +≤ 12`))
  })
})

describe('a topic whose last transaction was aborted', () => {
  const topic = uniqueTopic('pos-abort')
  beforeAll(async () => {
    await createTopic(topic, 1)
    // a0@0 C@1 x1@2 x2@3 A@4
    await transactions(topic, [{ messages: [{ value: 'a0' }] }, { messages: [{ value: 'x1' }, { value: 'x2' }], abort: true }])
  })

  it('read_committed neither prints nor counts the aborted records', async () => {
    expect(await highWatermarks(topic)).toEqual([5])
    expect(await kcatOffsets(topic)).toEqual(['0:0'])
    expect(await tail(topic, '-1')).toEqual(['0:a0'])
    expect(await tail(topic, '-2')).toEqual(['0:a0'])
    expect(await tail(topic, 'start:+2')).toEqual(['0:a0'])
    expect(await tail(topic, '+1')).toEqual([])
  })

  it('read_uncommitted counts them', async () => {
    expect(await tail(topic, '-1', 'read_uncommitted')).toEqual(['0:x2'])
    expect(await tail(topic, '-2', 'read_uncommitted')).toEqual(['0:x1', '0:x2'])
    expect(await tail(topic, 'start:+2', 'read_uncommitted')).toEqual(['0:a0', '0:x1'])
  })

  it('the replay plan counts 1 record, and the copy holds exactly that record', async () => {
    const dst = await createTopic(uniqueTopic('pos-abort-dst'), 1)
    const { plan } = JSON.parse((await runEvt(['replay', topic, '--from', 'start', '--to-topic', dst, '--dry-run', '--json'])).stdout) as PlanJson
    expect(plan.partitions.map((p) => [p.start, p.end, p.offsets, p.records])).toEqual([[0, 5, 5, 1]])
    const copy = await runEvt(['replay', topic, '--from', 'start', '--to-topic', dst, '--yes'])
    expect(copy.code).toBe(0)
    expect(await tail(dst, 'start:end')).toEqual(['0:a0'])
  })
})

describe('a compacted topic: offsets missing in the middle', () => {
  const topic = uniqueTopic('pos-compact')
  beforeAll(async () => {
    await createTopic(topic, 1, [
      { name: 'cleanup.policy', value: 'compact' },
      { name: 'segment.ms', value: '100' },
      { name: 'min.cleanable.dirty.ratio', value: '0.01' },
      { name: 'min.compaction.lag.ms', value: '0' },
      { name: 'delete.retention.ms', value: '100' },
    ])
    const producer = kafka().producer({ idempotent: true })
    await producer.connect()
    try {
      // x@0 a@1 b@2 a@3 b@4 a@5 c@6 in the first segment; e@7 rolls it (segment.ms), so the cleaner may
      // compact it: 1, 2 and 3 go (later a and b exist), leaving x@0 b@4 a@5 c@6 e@7
      const keys = ['x', 'a', 'b', 'a', 'b', 'a', 'c']
      await producer.send({ topic, messages: keys.map((key, i) => ({ key, value: `${key}${i}`, partition: 0 })) })
      await new Promise((r) => setTimeout(r, 300))
      await producer.send({ topic, messages: [{ key: 'e', value: 'e7', partition: 0 }] })
      // the cleaner runs every 15 s (log.cleaner.backoff.ms): wait until it has compacted the segment
      const deadline = Date.now() + 75_000
      while ((await kcatOffsets(topic)).join() !== '0:0,0:4,0:5,0:6,0:7') {
        if (Date.now() > deadline) throw new Error(`${topic} was not compacted within 75 s: ${(await kcatOffsets(topic)).join()}`)
        await new Promise((r) => setTimeout(r, 500))
      }
    } finally {
      await producer.disconnect()
    }
  }, 90_000)

  it('has offsets that are not records (checked with kcat and the watermarks)', async () => {
    expect(await highWatermarks(topic)).toEqual([8])
    expect(await kcatOffsets(topic)).toEqual(['0:0', '0:4', '0:5', '0:6', '0:7'])
  })

  it('FROM:+N is N records, -N the last N, +N skips N', async () => {
    expect(await tail(topic, 'start:+3')).toEqual(['0:x0', '0:b4', '0:a5'])
    expect(await tail(topic, '-5')).toEqual(['0:x0', '0:b4', '0:a5', '0:c6', '0:e7'])
    expect(await tail(topic, '-4:+2')).toEqual(['0:b4', '0:a5'])
    expect(await tail(topic, '+1:+2')).toEqual(['0:b4', '0:a5'])
    expect(await tail(topic, '1:+1')).toEqual(['0:b4'])
  })

  it('the CLI: tail -o start:+3 -e prints 3 records; the replay plan counts 5', async () => {
    const result = await runEvt(['tail', topic, '-o', 'start:+3', '-e', '-f', 'json'])
    expect(jsonLines(result.stdout).map((r) => r.value)).toEqual(['x0', 'b4', 'a5'])
    const dst = await createTopic(uniqueTopic('pos-compact-dst'), 1)
    const { plan } = JSON.parse((await runEvt(['replay', topic, '--from', 'start', '--to-topic', dst, '--dry-run', '--json'])).stdout) as PlanJson
    expect(plan.partitions.map((p) => [p.start, p.end, p.offsets, p.records])).toEqual([[0, 8, 8, 5]])
  })
})
