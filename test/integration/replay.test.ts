/**
 * `evt replay` against the real broker: group positioning, refusals, byte-identical copies with
 * provenance, filter and rate, dry-run, and exactly-once after kill -9 and --resume.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { parsePositionRange } from '../../src/kafka/positions.ts'
import type { DecodedRecord } from '../../src/record.ts'
import { produceRecords } from '../../src/services/produce.ts'
import { tailRecords } from '../../src/services/tail.ts'
import { BROKERS, createTopic, joinedConsumer, kafka, ROOT, runEvt, testSession, uniqueTopic, withTestAdmin } from '../support/kafka.ts'

async function readAll(topic: string): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = []
  for await (const chunk of tailRecords(testSession(), { topics: [topic], range: parsePositionRange('start:end') })) out.push(...chunk)
  return out
}

async function fill(topic: string, n: number, partitions: number): Promise<void> {
  const records = Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`k${i % 17}`),
    value: i % 10 === 0 ? Buffer.from([0, 1, 2, i % 256]) : Buffer.from(JSON.stringify({ n: i, event_type: i % 2 ? 'OrderPlaced' : 'OrderCancelled' })),
    headers: [{ key: 'h', value: Buffer.from(`v${i}`) }, { key: 'h', value: null }],
    partition: i % partitions,
  }))
  for await (const _ of produceRecords(testSession(), records, { topic })) void _
}

const source = (r: DecodedRecord) => r.headers.find((h) => h.key === 'evt-replay-source')!.value!.toString()

describe('replay into a topic', () => {
  const src = uniqueTopic('rp-src')
  beforeAll(async () => {
    await createTopic(src, 3)
    await fill(src, 300, 3)
  })

  it('dry-run prints the plan and writes nothing', async () => {
    const dst = await createTopic(uniqueTopic('rp-dry'), 3)
    const result = await runEvt(['replay', src, '--from', 'start', '--to-topic', dst, '--dry-run', '--json'])
    expect(result.code).toBe(0)
    const { plan } = JSON.parse(result.stdout) as { plan: { partitions: Array<{ partition: number; start: number; end: number; records: number }>; partitioning: string } }
    expect(plan.partitions.map((p) => [p.partition, p.start, p.end, p.records])).toEqual([[0, 0, 100, 100], [1, 0, 100, 100], [2, 0, 100, 100]])
    expect(plan.partitioning).toBe('same')
    expect(await readAll(dst)).toEqual([])
  })

  it('refuses (exit 6) to copy a topic into itself, even with --yes, and writes nothing', async () => {
    const before = (await readAll(src)).length
    const result = await runEvt(['replay', src, '--from', 'start', '--to-topic', src, '--yes'])
    expect([result.code, result.stderr.split('\n')[0]]).toEqual([6, `evt: --to-topic is the source topic "${src}": the copies would go to every consumer of it again`])
    expect((await readAll(src)).length).toBe(before)
  })

  it('a state folder that cannot be made is a usage error (exit 2) before anything is written', async () => {
    const dst = await createTopic(uniqueTopic('rp-state'), 3)
    const file = join(mkdtempSync(join(tmpdir(), 'evt-replay-state-')), 'a-file')
    writeFileSync(file, 'not a folder')
    const result = await runEvt(['replay', src, '--from', 'start', '--to-topic', dst, '--yes'], { env: { XDG_STATE_HOME: file } })
    expect([result.code, result.stderr]).toEqual([2, expect.stringContaining(`evt: cannot use evt's state folder ${file}/evt/replays: ENOTDIR`)])
    expect(await readAll(dst)).toEqual([])
  })

  it('without a terminal and without --yes it refuses (exit 6) and writes nothing', async () => {
    const dst = await createTopic(uniqueTopic('rp-noyes'), 3)
    const result = await runEvt(['replay', src, '--from', 'start', '--to-topic', dst])
    expect(result.code).toBe(6)
    expect(result.stderr).toContain('--yes')
    expect(await readAll(dst)).toEqual([])
  })

  it('copies keys, values and headers byte for byte, same partitions, with provenance headers', async () => {
    const dst = await createTopic(uniqueTopic('rp-copy'), 3)
    const result = await runEvt(['replay', src, '--from', '+10', '--to', '60', '--to-topic', dst, '--yes', '--json'])
    expect(result.code).toBe(0)
    const { summary } = JSON.parse(result.stdout.trim().split('\n').pop()!) as { summary: { copied: number; id: string } }
    expect(summary.copied).toBe(150)
    const original = new Map((await readAll(src)).map((r) => [`${r.topic}/${r.partition}/${r.offset}`, r]))
    const copies = await readAll(dst)
    expect(copies).toHaveLength(150)
    for (const c of copies) {
      const o = original.get(source(c))!
      expect(c.partition).toBe(o.partition)
      expect(c.key).toEqual(o.key)
      expect(c.value).toEqual(o.value)
      expect(c.headers.slice(0, -2)).toEqual(o.headers)
      expect(c.headers.at(-1)).toEqual({ key: 'evt-replay-id', value: Buffer.from(summary.id) })
      expect(Number(o.offset)).toBeGreaterThanOrEqual(10)
      expect(Number(o.offset)).toBeLessThan(60)
    }
  })

  it('filters with CEL and paces with --rate', async () => {
    const dst = await createTopic(uniqueTopic('rp-filter'), 3)
    const started = Date.now()
    const result = await runEvt(['replay', src, '--from', 'start', '--to', '40', '-p', '0', '--to-topic', dst, '--filter', 'value.event_type == "OrderPlaced"', '--rate', '20', '--yes'], { timeoutMs: 30_000 })
    expect(result.code).toBe(0)
    const copies = await readAll(dst)
    // partition 0 holds n = 0, 3, 6, …: offsets 0..39 → n = 3·offset; odd n are OrderPlaced, n % 10 == 0 are binary
    const expected = Array.from({ length: 40 }, (_, o) => 3 * o).filter((n) => n % 2 === 1 && n % 10 !== 0)
    expect(copies.map((c) => (c.valueDecoded.value as { n: number }).n)).toEqual(expected)
    expect(result.stdout).toContain(`${expected.length} records copied, ${40 - expected.length} filtered out`)
    // 40 records at 20/s cannot take less than about 1.5 s
    expect(Date.now() - started).toBeGreaterThan(1500)
  })

  it('after kill -9 mid-copy, --resume copies exactly the rest: every record once', async () => {
    const big = await createTopic(uniqueTopic('rp-big'), 3)
    await fill(big, 1500, 3)
    const dst = await createTopic(uniqueTopic('rp-kill'), 3)
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'replay', big, '--from', 'start', '--to-topic', dst, '--rate', '300', '--yes'], { env: { ...process.env, EVT_BROKERS: BROKERS.join(',') } })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    // kill it once some transactions are committed (seen by a read_committed reader), whatever the machine's speed
    for (let i = 0; (await readAll(dst)).length === 0; i++) {
      if (i > 300) throw new Error('nothing was copied within 30 s')
      await new Promise((r) => setTimeout(r, 100))
    }
    child.kill('SIGKILL')
    await new Promise((r) => child.on('close', r))
    const id = /replay id (\S+)/.exec(stderr)![1]
    const partial = await readAll(dst)
    expect(partial.length).toBeGreaterThan(0)
    expect(partial.length).toBeLessThan(1500)

    const resumed = await runEvt(['replay', '--resume', id, '--yes'], { timeoutMs: 60_000 })
    expect(resumed.code).toBe(0)
    const copies = await readAll(dst)
    const sources = copies.map(source)
    expect(new Set(sources).size).toBe(sources.length)
    expect(sources.length).toBe(1500)
    // a second resume has nothing left to do
    const again = await runEvt(['replay', '--resume', id, '--yes'])
    expect(again.code).toBe(0)
    expect(again.stdout).toContain('0 records copied')
    expect((await readAll(dst)).length).toBe(1500)
  })
})

/** Sum over partitions of the end offsets a reader with `isolation` sees (read_committed: the last stable offsets). */
async function endOffsets(topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<number> {
  const reader = await testSession().reader(isolation)
  const partitions = (await reader.useTopics([topic])).get(topic)!
  const bounds = await reader.bounds(new Map([[topic, partitions]]))
  return [...bounds.values()].reduce((n, b) => n + b.high, 0)
}

describe('replay killed inside a large transaction', () => {
  it('kill -9 while a transaction of many records is open: it is aborted, and --resume copies exactly the uncommitted rest', async () => {
    // more than three transactions' worth (a transaction holds up to 50 000 records): a fast machine cannot copy it all in one
    const n = 160_000
    const big = await createTopic(uniqueTopic('rp-bigtxn'), 3)
    await fill(big, n, 3)
    const dst = await createTopic(uniqueTopic('rp-bigtxn-dst'), 3)
    // no --rate: the default transactions (many records of all partitions, about a second each)
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'replay', big, '--from', 'start', '--to-topic', dst, '--yes'], { env: { ...process.env, EVT_BROKERS: BROKERS.join(',') } })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const exited = new Promise((r) => child.on('close', r))
    let done = false
    void exited.then(() => (done = true))
    // kill it once a transaction has committed and the next one has records written but not committed
    let open = { written: 0, stable: 0 }
    for (let i = 0; ; i++) {
      if (done) throw new Error(`the copy ended before it could be killed inside a transaction: ${stderr}`)
      if (i > 1200) throw new Error('no open transaction after a committed one within 60 s')
      const [stable, written] = await Promise.all([endOffsets(dst, 'read_committed'), endOffsets(dst, 'read_uncommitted')])
      if (stable > 0 && written > stable) {
        child.kill('SIGKILL')
        open = { written, stable }
        break
      }
      await new Promise((r) => setTimeout(r, 50))
    }
    await exited
    const id = /replay id (\S+)/.exec(stderr)![1]
    // what was committed before the kill (whole transactions)
    const partial = (await readAll(dst)).length
    expect(partial).toBeGreaterThan(0)
    expect(partial).toBeLessThan(n)
    const resumed = await runEvt(['replay', '--resume', id, '--yes', '--json'], { timeoutMs: 120_000 })
    expect(resumed.code, resumed.stderr).toBe(0)
    // the resume fenced the killed producer (its transaction aborted) and copied what was not committed, once
    const copies = await readAll(dst)
    const sources = copies.map(source)
    expect(sources.length).toBe(n)
    expect(new Set(sources).size).toBe(n)
    const { summary } = JSON.parse(resumed.stdout.trim().split('\n').pop()!) as { summary: { copied: number } }
    expect(summary.copied).toBe(n - partial)
    // the aborted records stay in the log, invisible to read_committed readers
    expect(await endOffsets(dst, 'read_uncommitted')).toBeGreaterThanOrEqual(n + (open.written - open.stable))
  })
})

describe('replay stopped by SIGTERM', () => {
  it('behaves like Ctrl-C: the open transaction is aborted, the resume hint printed, exit 143; --resume completes exactly once', async () => {
    const big = await createTopic(uniqueTopic('rp-term'), 3)
    await fill(big, 900, 3)
    const dst = await createTopic(uniqueTopic('rp-term-dst'), 3)
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'replay', big, '--from', 'start', '--to-topic', dst, '--rate', '200', '--yes'], { env: { ...process.env, EVT_BROKERS: BROKERS.join(',') } })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    for (let i = 0; (await readAll(dst)).length === 0; i++) {
      if (i > 300) throw new Error('nothing was copied within 30 s')
      await new Promise((r) => setTimeout(r, 100))
    }
    const sentAt = Date.now()
    child.kill('SIGTERM')
    const code = await new Promise((r) => child.on('close', r))
    expect(code, stderr).toBe(143)
    expect(Date.now() - sentAt).toBeLessThan(15_000)
    const id = /replay id (\S+)/.exec(stderr)![1]
    expect(stderr).toContain(`interrupted: the open transaction was aborted. Resume with: evt replay --resume ${id}`)
    const partial = await readAll(dst)
    expect(partial.length).toBeGreaterThan(0)
    expect(partial.length).toBeLessThan(900)

    const resumed = await runEvt(['replay', '--resume', id, '--yes'], { timeoutMs: 60_000 })
    expect(resumed.code, resumed.stderr).toBe(0)
    const sources = (await readAll(dst)).map(source)
    expect(new Set(sources).size).toBe(900)
    expect(sources.length).toBe(900)
  })
})

describe('replay into a consumer group', () => {
  const src = uniqueTopic('rp-grp')
  beforeAll(async () => {
    await createTopic(src, 2)
    await fill(src, 40, 2)
  })

  it('sets exactly the planned offsets, and a real consumer then receives exactly the records from --from', async () => {
    const group = uniqueTopic('rp-group')
    const result = await runEvt(['replay', src, '--from', '15', '--group', group, '--yes'])
    expect(result.code).toBe(0)
    const offsets = await withTestAdmin(async (admin) => admin.fetchOffsets({ groupId: group, topics: [src] }))
    expect(offsets[0].partitions.map((p) => [p.partition, p.offset]).sort()).toEqual([[0, '15'], [1, '15']])

    const consumer = kafka().consumer({ groupId: group })
    await consumer.connect()
    await consumer.subscribe({ topic: src })
    const seen: string[] = []
    await new Promise<void>((resolve) => {
      void consumer.run({ eachMessage: async ({ partition, message }) => {
        seen.push(`${partition}@${message.offset}`)
        if (seen.length === 10) resolve()
      } })
    })
    await consumer.disconnect()
    expect(seen.sort()).toEqual(['0@15', '0@16', '0@17', '0@18', '0@19', '1@15', '1@16', '1@17', '1@18', '1@19'])
  })

  it('refuses a group with active members (exit 6), and --to with --group (exit 2)', async () => {
    const group = uniqueTopic('rp-live')
    const consumer = await joinedConsumer(group, src)
    try {
      const result = await runEvt(['replay', src, '--from', 'start', '--group', group, '--yes'])
      expect(result.code).toBe(6)
      expect(result.stderr).toContain('active member')
    } finally {
      await consumer.disconnect()
    }
    const bad = await runEvt(['replay', src, '--from', 'start', '--to', '10', '--group', group, '--yes'])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain('--to-topic')
  })
})
