/**
 * `evt tail` against the real local broker: positions, partitions, filters, encodings,
 * transactions, huge values, compression written by kcat, and no consumer group left behind.
 */
import { execFileSync } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
import { compileCel, headerMatch, keyGlob } from '../../src/filter.ts'
import { parsePositionRange } from '../../src/kafka/positions.ts'
import type { DecodedRecord } from '../../src/record.ts'
import { produceRecords, type ProduceRecord } from '../../src/services/produce.ts'
import { tailRecords, type TailOptions } from '../../src/services/tail.ts'
import { BROKERS, createTopic, jsonLines, kafka, produceFixture, ROOT, runEvt, testSession, uniqueTopic, withTestAdmin } from '../support/kafka.ts'

async function readAll(options: Partial<TailOptions> & { topics: string[] }): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = []
  for await (const chunk of tailRecords(testSession(), { range: parsePositionRange('start:end'), ...options })) out.push(...chunk)
  return out
}

async function produceWithEvt(topic: string, records: ProduceRecord[]): Promise<void> {
  for await (const _ of produceRecords(testSession(), records, { topic })) void _
}

const offsetsOf = (records: DecodedRecord[]) => records.map((r) => Number(r.offset))

describe('positions on one partition', () => {
  const topic = uniqueTopic('positions')
  const t0 = 1_700_000_000_000
  beforeAll(async () => {
    await createTopic(topic, 3)
    // 10 records on partition 1, timestamps t0, t0+1s, …; 2 records on partition 0.
    await produceFixture(topic, Array.from({ length: 10 }, (_, i) => ({ partition: 1, key: `k${i}`, value: `v${i}`, timestamp: String(t0 + i * 1000) })))
    await produceFixture(topic, [{ partition: 0, value: 'p0-a' }, { partition: 0, value: 'p0-b' }])
  })

  const cases: Array<[string, number[]]> = [
    ['start:end', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
    ['-3:end', [7, 8, 9]],
    ['+2:5', [2, 3, 4]],
    ['4:+3', [4, 5, 6]],
    [':2', [0, 1]],
    [`@${t0 + 5000}:end`, [5, 6, 7, 8, 9]],
    [`@${t0 + 2000}:${t0 + 4000}`, [2, 3]],
    [`@${new Date(t0 + 8000).toISOString()}:end`, [8, 9]],
    ['end:end', []],
    ['50:end', []],
  ]
  for (const [offset, expected] of cases) {
    it(`-o ${offset} -p 1 reads offsets ${JSON.stringify(expected)}`, async () => {
      const records = await readAll({ topics: [topic], range: parsePositionRange(offset), partitions: [1] })
      expect(offsetsOf(records)).toEqual(expected)
      expect(records.map((r) => r.value?.toString())).toEqual(expected.map((o) => `v${o}`))
    })
  }

  it('reads all partitions without -p, and -n stops after N', async () => {
    const all = await readAll({ topics: [topic] })
    expect(all.length).toBe(12)
    expect(all.filter((r) => r.partition === 0).map((r) => r.value?.toString())).toEqual(['p0-a', 'p0-b'])
    const two = await readAll({ topics: [topic], maxMessages: 2, partitions: [1] })
    expect(offsetsOf(two)).toEqual([0, 1])
  })

  it('keeps the record timestamps', async () => {
    const records = await readAll({ topics: [topic], partitions: [1], range: parsePositionRange(':3') })
    expect(records.map((r) => r.timestamp)).toEqual([t0, t0 + 1000, t0 + 2000])
  })
})

describe('what records carry', () => {
  const topic = uniqueTopic('carry')
  beforeAll(async () => {
    await createTopic(topic, 1, [{ name: 'max.message.bytes', value: String(8 * 1024 * 1024) }])
  })

  it('keeps header order, duplicates, null header values, binary, null keys and tombstones', async () => {
    const binary = Buffer.from([0x00, 0xff, 0x10, 0x80, 0x0a])
    await produceWithEvt(topic, [
      { key: Buffer.from('k1'), value: Buffer.from('{"a":1}'), headers: [{ key: 'b', value: Buffer.from('1') }, { key: 'a', value: Buffer.from('2') }, { key: 'b', value: Buffer.from('3') }, { key: '123', value: null }] },
      { key: null, value: binary, headers: [{ key: 'bin', value: binary }] },
      { key: Buffer.from('gone'), value: null, headers: [] },
      { key: Buffer.from('empty'), value: Buffer.alloc(0), headers: [] },
    ])
    const records = await readAll({ topics: [topic] })
    expect(records).toHaveLength(4)
    const [first, second, third, fourth] = records
    expect(first.headers.map((h) => [h.key, h.value?.toString() ?? null])).toEqual([['b', '1'], ['a', '2'], ['b', '3'], ['123', null]])
    expect(first.valueDecoded).toMatchObject({ kind: 'json', value: { a: 1 } })
    expect(second.key).toBeNull()
    expect(second.value).toEqual(binary)
    expect(second.valueDecoded.kind).toBe('binary')
    expect(second.headers[0].value).toEqual(binary)
    expect(third.value).toBeNull()
    expect(third.valueDecoded.kind).toBe('null')
    expect(fourth.value).toEqual(Buffer.alloc(0))
    expect(fourth.valueDecoded).toMatchObject({ kind: 'text', value: '' })
  })

  it('reads a 5 MB value whole', async () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 'x')
    await produceWithEvt(topic, [{ key: Buffer.from('big'), value: big, headers: [] }])
    const records = await readAll({ topics: [topic], range: parsePositionRange('-1:end') })
    expect(records).toHaveLength(1)
    expect(records[0].value?.length).toBe(big.length)
    expect(records[0].value?.equals(big)).toBe(true)
  })
})

describe('filters', () => {
  const topic = uniqueTopic('filters')
  beforeAll(async () => {
    await createTopic(topic, 2)
    await produceFixture(topic, [
      { key: 'order-1', value: JSON.stringify({ event_type: 'OrderPlaced', data: { total: 50 } }), headers: { source: 'shop' } },
      { key: 'order-2', value: JSON.stringify({ event_type: 'OrderPlaced', data: { total: 150 } }), headers: { source: 'api' } },
      { key: 'payment-1', value: JSON.stringify({ event_type: 'PaymentFailed' }), headers: { source: 'shop' } },
      { key: 'order-3', value: 'not json' },
    ])
  })

  it('CEL over value fields', async () => {
    const records = await readAll({ topics: [topic], filter: compileCel('value.event_type == "OrderPlaced" && value.data.total > 100') })
    expect(records.map((r) => r.key?.toString())).toEqual(['order-2'])
  })

  it('key glob and header shorthands', async () => {
    expect((await readAll({ topics: [topic], filter: keyGlob('order-*') })).map((r) => r.key?.toString()).sort()).toEqual(['order-1', 'order-2', 'order-3'])
    expect((await readAll({ topics: [topic], filter: headerMatch('source=shop') })).map((r) => r.key?.toString()).sort()).toEqual(['order-1', 'payment-1'])
  })
})

describe('transactions', () => {
  it('read_committed hides aborted records; read_uncommitted shows them', async () => {
    const topic = await createTopic(uniqueTopic('txn'), 1)
    const producer = kafka().producer({ transactionalId: `evt-test-${topic}`, idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    const aborted = await producer.transaction()
    await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] })
    await aborted.abort()
    const committed = await producer.transaction()
    await committed.send({ topic, messages: [{ value: 'committed-1' }] })
    await committed.commit()
    await producer.disconnect()

    const rc = await readAll({ topics: [topic], isolation: 'read_committed' })
    expect(rc.map((r) => r.value?.toString())).toEqual(['committed-1'])
    const ru = await readAll({ topics: [topic], isolation: 'read_uncommitted' })
    expect(ru.map((r) => r.value?.toString())).toEqual(['aborted-1', 'aborted-2', 'committed-1'])
  })
})

describe('compression written by librdkafka (kcat)', () => {
  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const) {
    it(`reads ${codec} batches from kcat, and kcat reads evt's ${codec}`, async () => {
      const topic = await createTopic(uniqueTopic(`kcat-${codec}`), 1)
      const lines = Array.from({ length: 50 }, (_, i) => `{"n":${i},"codec":"${codec}","pad":"${'z'.repeat(100)}"}`)
      execFileSync('kcat', ['-P', '-b', BROKERS[0], '-t', topic, '-z', codec, '-p', '0'], { input: `${lines.join('\n')}\n` })
      const records = await readAll({ topics: [topic] })
      expect(records.map((r) => r.value?.toString())).toEqual(lines)

      for await (const _ of produceRecords(testSession(), [{ key: Buffer.from('evt'), value: Buffer.from(`evt-${codec}`), headers: [{ key: 'h', value: Buffer.from('v') }] }], { topic, compression: codec })) void _
      const seen = execFileSync('kcat', ['-C', '-b', BROKERS[0], '-t', topic, '-o', '-1', '-e', '-q', '-f', '%k=%s %h\n'], { encoding: 'utf8' })
      expect(seen.trim()).toBe(`evt=evt-${codec} h=v`)
    })
  }
})

describe('no consumer group', () => {
  it('a tail leaves no group behind', async () => {
    const topic = await createTopic(uniqueTopic('nogroup'), 2)
    await produceFixture(topic, [{ value: 'a' }, { value: 'b' }])
    const before = await withTestAdmin(async (admin) => (await admin.listGroups()).groups.map((g) => g.groupId).sort())
    const result = await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'json'])
    expect(result.code).toBe(0)
    expect(jsonLines(result.stdout).map((r) => r.value).sort()).toEqual(['a', 'b'])
    // other test files create groups meanwhile: no group that appeared has offsets on this topic or a member reading it
    const created = await withTestAdmin(async (admin) => {
      const appeared = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => !before.includes(g))
      const withOffsets = []
      for (const groupId of appeared) {
        const offsets = await admin.fetchOffsets({ groupId, topics: [topic] })
        if (offsets.some((t) => t.partitions.some((p) => Number(p.offset) >= 0))) withOffsets.push(groupId)
      }
      const { groups } = appeared.length ? await admin.describeGroups(appeared) : { groups: [] }
      const reading = groups.filter((g) => g.members.some((m) => m.memberMetadata.toString('latin1').includes(topic))).map((g) => g.groupId)
      return [...new Set([...withOffsets, ...reading])]
    })
    expect(created).toEqual([])
  })
})

describe('round trip', () => {
  it('tail -f json | produce --input json | tail gives identical keys, values and headers', async () => {
    const source = await createTopic(uniqueTopic('rt-src'), 2)
    const target = await createTopic(uniqueTopic('rt-dst'), 2)
    await produceWithEvt(source, [
      { key: Buffer.from('j'), value: Buffer.from('{"big": 12345678901234567890, "s": "x"}'), headers: [{ key: 'a', value: Buffer.from('1') }, { key: 'a', value: null }] },
      { key: Buffer.from([1, 2, 3]), value: Buffer.from([0xde, 0xad, 0xbe, 0xef]), headers: [{ key: 'bin', value: Buffer.from([0xff]) }] },
      { key: Buffer.from('t'), value: null, headers: [] },
      { key: null, value: Buffer.from('plain text\nwith a newline'), headers: [] },
      { key: Buffer.from('ws'), value: Buffer.from(' {"a":1}\n'), headers: [] },
    ])
    const first = await runEvt(['tail', source, '-o', 'start', '-e', '-f', 'json'])
    expect(first.code).toBe(0)
    const produced = await runEvt(['produce', target, '--input', 'json', '--json'], { input: first.stdout })
    expect(produced.stderr).toBe('')
    expect(produced.code).toBe(0)
    expect(jsonLines(produced.stdout)).toHaveLength(5)
    const second = await runEvt(['tail', target, '-o', 'start', '-e', '-f', 'json'])
    const strip = (text: string) => jsonLines(text).map(({ key, keyEncoding, value, valueEncoding, headers }) => JSON.stringify({ key, keyEncoding, value, valueEncoding, headers })).sort()
    expect(strip(second.stdout)).toEqual(strip(first.stdout))
    // the big integer survives byte for byte
    expect(second.stdout).toContain('"value":{"big": 12345678901234567890, "s": "x"}')
  })
})

describe('live tail', () => {
  it('prints a record produced after it started (-o end -n 1)', async () => {
    const topic = await createTopic(uniqueTopic('live'), 1)
    const tail = runEvt(['tail', topic, '-n', '1', '-f', 'json'], { timeoutMs: 30_000 })
    // produce until the tail has printed one: it starts at the end, wherever that is when it is ready
    let done = false
    void tail.then(() => (done = true))
    for (let n = 0; !done && n < 40; n++) {
      await produceFixture(topic, [{ key: `late-${n}`, value: 'arrived' }])
      await new Promise((r) => setTimeout(r, 500))
    }
    const result = await tail
    expect(result.code).toBe(0)
    const lines = jsonLines(result.stdout)
    expect(lines).toHaveLength(1)
    expect(String(lines[0].key)).toMatch(/^late-\d+$/)
    expect(lines[0].value).toBe('arrived')
  })
})


describe('on a terminal', () => {
  it('a bounded read (-e) prints every record plainly, so none is lost from the scrollback; the live view is only for following', async () => {
    const topic = await createTopic(uniqueTopic('tail-tty'), 1)
    await produceFixture(topic, Array.from({ length: 120 }, (_, i) => ({ value: JSON.stringify({ n: i }), partition: 0 })))
    // `script` gives evt a pseudo-terminal on stdin and stdout, as a user's shell would
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', EVT_BROKERS: BROKERS.join(',') }
    delete env.CI // the live view is off under CI
    for (const range of [['-o', 'start', '-e'], ['-o', 'start', '-n', '120'], ['-o', '0:120']]) {
      const out = execFileSync('script', ['-qec', `${process.execPath} bin/run.js tail ${topic} ${range.join(' ')}`, '/dev/null'], { cwd: ROOT, env, timeout: 60_000 }).toString('utf8')
      const plain = out.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '')
      const offsets = [...plain.matchAll(new RegExp(`${topic.replace(/[.]/g, '\\.')}/0@(\\d+)`, 'g'))].map((m) => Number(m[1]))
      expect(offsets, `${range.join(' ')}: ${plain.slice(0, 500)}`).toEqual(Array.from({ length: 120 }, (_, i) => i))
      expect(out, range.join(' ')).not.toContain('\u001b[?25l') // no live view (it hides the cursor)
    }
  })
})
