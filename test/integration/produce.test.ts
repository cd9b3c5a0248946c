/**
 * `evt produce` against the real local broker: line splitting (\n only, CRLF accepted), records
 * sent while stdin is still open, a bad line after good ones, strict --input json, empty input and
 * Ctrl-C. Records are read back with tailRecords (exact bytes) or `evt tail -f json`.
 */
import { spawn } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
import { parsePositionRange } from '../../src/kafka/positions.ts'
import type { DecodedRecord } from '../../src/record.ts'
import { produceRecords, type ProduceRecord } from '../../src/services/produce.ts'
import { tailRecords } from '../../src/services/tail.ts'
import { BROKERS, createTopic, eventually, produceFixture, ROOT, runEvt, startEvt, testSession, uniqueTopic } from '../support/kafka.ts'

async function readAll(topic: string): Promise<DecodedRecord[]> {
  const out: DecodedRecord[] = []
  for await (const chunk of tailRecords(testSession(), { topics: [topic], range: parsePositionRange('start:end') })) out.push(...chunk)
  return out.sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset))
}

const hex = (b: Buffer | null) => (b === null ? null : b.toString('hex'))
const utf8 = (s: string) => Buffer.from(s, 'utf8')

/** `evt produce …` as a subprocess whose stdin the test writes to and closes. */
describe('line splitting: \\n only, CRLF accepted', () => {
  it('--lines keeps a lone \\r, U+2028 and U+2029 inside values; strips the \\r of CRLF; bytes exact', async () => {
    const topic = await createTopic(uniqueTopic('produce-lines'), 1)
    const input = Buffer.concat([utf8('a\rb\nc\u2028d\r\ne\u2029f\n'), Buffer.from([0xff, 0xfe, 0x0d, 0x0a]), utf8('last without newline')])
    const run = await runEvt(['produce', topic, '--lines'], { input })
    expect(run.stderr).not.toContain('evt:')
    expect(run.code).toBe(0)
    expect(run.stdout.trim().split('\n')).toEqual([0, 1, 2, 3, 4].map((o) => `${topic}/0@${o}`))
    const records = await readAll(topic)
    expect(records.map((r) => hex(r.value))).toEqual([utf8('a\rb'), utf8('c\u2028d'), utf8('e\u2029f'), Buffer.from([0xff, 0xfe]), utf8('last without newline')].map(hex))
  })

  it('--input json: tail -f json → produce round-trips U+2028, U+2029 and \\r in keys, values and headers byte-exact (also as CRLF)', async () => {
    const source = await createTopic(uniqueTopic('produce-json-src'), 1)
    const values = ['text \u2028 with \u2029 separators \r and a CR', '{"s":"json with a raw \u2028 inside","n":12345678901234567890}', '"\u2029"']
    await produceFixture(source, values.map((value, i) => ({ key: `k\u2028${i}\r`, value, headers: { h: `x\u2029y\r${i}` } })))
    const tail = await runEvt(['tail', source, '-o', 'start', '-e', '-f', 'json'])
    expect(tail.code).toBe(0)
    expect(tail.stdout).toContain('\u2028') // the separators are in the JSON lines raw: the splitter must not cut there
    expect(tail.stdout.trim().split('\n')).toHaveLength(3)
    const want = (await readAll(source)).map((r) => [hex(r.key), hex(r.value), r.headers.map((h) => [h.key, hex(h.value)])])

    for (const [name, input] of [['LF', tail.stdout], ['CRLF', tail.stdout.replaceAll('\n', '\r\n')]]) {
      const target = await createTopic(uniqueTopic(`produce-json-${name}`), 1)
      const run = await runEvt(['produce', target, '--input', 'json'], { input })
      expect(run.stderr).not.toContain('evt:')
      expect(run.code).toBe(0)
      const got = (await readAll(target)).map((r) => [hex(r.key), hex(r.value), r.headers.map((h) => [h.key, hex(h.value)])])
      expect(got).toEqual(want)
    }
  })
})

describe('streaming: records go out while stdin is still open', () => {
  it('a line written to an open pipe is in the topic within seconds; end of input then exits 0', async () => {
    const topic = await createTopic(uniqueTopic('produce-stream'), 1)
    const evt = startEvt(['produce', topic, '--lines'])
    evt.child.stdin.write('live-1\n')
    let seen: DecodedRecord[] = []
    const arrived = await eventually(async () => {
      seen = await readAll(topic)
      return seen.length > 0
    }, 20_000)
    expect(arrived).toBe(true)
    expect(evt.child.exitCode).toBeNull() // still running: stdin is open
    expect(seen.map((r) => r.value?.toString())).toEqual(['live-1'])
    expect(await eventually(() => evt.stdout().includes(`${topic}/0@0`), 5_000)).toBe(true)

    evt.child.stdin.end('live-2\n')
    expect(await evt.exit).toBe(0)
    expect(evt.stdout().trim().split('\n')).toEqual([`${topic}/0@0`, `${topic}/0@1`])
    expect((await readAll(topic)).map((r) => r.value?.toString())).toEqual(['live-1', 'live-2'])
  })

  it('produceRecords sends a partial batch once input pauses, with exact offsets, in order', async () => {
    const topic = await createTopic(uniqueTopic('produce-linger'), 2)
    let release = () => {}
    const gate = new Promise<void>((resolve) => (release = resolve))
    const rec = (v: string, partition: number): ProduceRecord => ({ key: null, value: utf8(v), headers: [], partition })
    async function* input(): AsyncGenerator<ProduceRecord> {
      yield rec('a', 0)
      yield rec('b', 1)
      yield rec('c', 0)
      await gate // the input pauses, not ended
      yield rec('d', 1)
    }
    const out = produceRecords(testSession(), input(), { topic })[Symbol.asyncIterator]()
    const first: unknown[] = []
    for (let i = 0; i < 3; i++) first.push((await out.next()).value)
    expect(first).toEqual([{ topic, partition: 0, offset: 0 }, { topic, partition: 1, offset: 0 }, { topic, partition: 0, offset: 1 }])
    release()
    expect((await out.next()).value).toEqual({ topic, partition: 1, offset: 1 })
    expect((await out.next()).done).toBe(true)
  })
})

describe('a bad line after good ones', () => {
  it('700 good JSON lines then a broken one: exactly the 700 are written, exit 2 naming line 701', async () => {
    const topic = await createTopic(uniqueTopic('produce-bad-line'), 3)
    const good = Array.from({ length: 700 }, (_, i) => `{"key":"k${i % 7}","value":"v${i}"}`)
    const input = [...good, '{"value":', '{"value":"after"}', ''].join('\n')
    const run = await runEvt(['produce', topic, '--input', 'json'], { input })
    expect(run.code).toBe(2)
    expect(run.stderr).toContain('--input json: line 701: ')
    expect(run.stderr).toContain('700 records written before line 701')
    expect(run.stderr).toContain('tail -n +701')
    expect(run.stdout.trim().split('\n')).toHaveLength(700)
    const records = await readAll(topic)
    expect(records).toHaveLength(700)
    expect(records.map((r) => r.value?.toString()).sort()).toEqual(good.map((_, i) => `v${i}`).sort())
    // per key (one partition each), in input order
    const k3 = records.filter((r) => r.key?.toString() === 'k3').map((r) => r.value?.toString())
    expect(k3).toEqual(good.map((_, i) => i).filter((i) => i % 7 === 3).map((i) => `v${i}`))
  })

  it('invalid base64 on line 2: exit 2 with the line number, the line is not written (only line 1 is)', async () => {
    const topic = await createTopic(uniqueTopic('produce-b64'), 1)
    for (const bad of ['{"value":"x","valueEncoding":"base64"}', '{"value":"ok","headers":[{"key":"h","value":"!!!","encoding":"base64"}]}']) {
      const before = (await readAll(topic)).length
      const run = await runEvt(['produce', topic, '--input', 'json'], { input: `{"value":"eA==","valueEncoding":"base64"}\n${bad}\n` })
      expect(run.code).toBe(2)
      expect(run.stderr).toContain('--input json: line 2: ')
      expect(run.stderr).toContain('not valid base64')
      expect(run.stderr).toContain('1 record written before line 2')
      const records = await readAll(topic)
      expect(records.slice(before).map((r) => hex(r.value))).toEqual([hex(Buffer.from('x'))])
    }
  })

  it('a text-encoded value that is not a JSON string, and a bad timestamp with --keep-timestamps: exit 2, nothing written', async () => {
    const topic = await createTopic(uniqueTopic('produce-strict'), 1)
    const text = await runEvt(['produce', topic, '--input', 'json'], { input: '{"value":{"a":1},"valueEncoding":"text"}\n' })
    expect(text.code).toBe(2)
    expect(text.stderr).toContain('line 1: valueEncoding "text" needs a JSON string')
    expect(text.stderr).not.toContain('first argument')
    const ts = await runEvt(['produce', topic, '--input', 'json', '--keep-timestamps'], { input: '{"value":"x","timestamp":"abc"}\n' })
    expect(ts.code).toBe(2)
    expect(ts.stderr).toContain('line 1: "timestamp" "abc" is not an integer epoch-ms')
    expect(await readAll(topic)).toHaveLength(0)
  })
})

describe('empty input', () => {
  it.each(['--lines', '--input json'])('%s with empty stdin exits 0 with a note', async (flags) => {
    const topic = await createTopic(uniqueTopic('produce-empty'), 1)
    const run = await runEvt(['produce', topic, ...flags.split(' ')], { input: '', timeoutMs: 20_000 })
    expect(run.code).toBe(0)
    expect(run.stderr).toContain('no records to write (empty input)')
    expect(await readAll(topic)).toHaveLength(0)
  })
})

describe('Ctrl-C', () => {
  it('SIGINT writes the records already read, prints where they landed, exits 130 with the count', async () => {
    const topic = await createTopic(uniqueTopic('produce-sigint'), 1)
    const evt = startEvt(['produce', topic, '--lines'])
    evt.child.stdin.write('first\n')
    // connected and writing: the SIGINT handler is in place
    expect(await eventually(() => evt.stdout().includes('@0'), 20_000)).toBe(true)
    await new Promise<void>((resolve) => evt.child.stdin.write('b1\nb2\nb3\nunfinished', () => resolve()))
    // well inside the 50 ms the producer waits for more input: these records are still buffered
    await new Promise((resolve) => setTimeout(resolve, 15))
    evt.child.kill('SIGINT')
    expect(await evt.exit).toBe(130)
    expect(evt.stderr()).toContain('4 records written')
    expect(evt.stdout().trim().split('\n')).toEqual([0, 1, 2, 3].map((o) => `${topic}/0@${o}`))
    expect((await readAll(topic)).map((r) => r.value?.toString())).toEqual(['first', 'b1', 'b2', 'b3'])
  })
})

describe('values from a pipe, arguments that are not UTF-8', () => {
  it('@/dev/stdin and @<(…) write the piped bytes (the pipe is read once)', async () => {
    const topic = await createTopic(uniqueTopic('pr-pipe'), 1)
    const fromStdin = await runEvt(['produce', topic, '@/dev/stdin'], { input: 'from stdin\n' })
    expect(fromStdin.code, fromStdin.stderr).toBe(0)
    const substituted = spawn('bash', ['-c', `"${process.execPath}" "${ROOT}/bin/run.js" produce "${topic}" @<(printf 'from a process')`], { env: { ...process.env, EVT_BROKERS: BROKERS.join(',') } })
    let stderr = ''
    substituted.stderr.on('data', (d) => (stderr += d))
    expect(await new Promise((r) => substituted.on('close', r)), stderr).toBe(0)
    expect((await readAll(topic)).map((r) => r.value?.toString('utf8'))).toEqual(['from stdin\n', 'from a process'])
  })

  it('a key or header holding bytes that are not UTF-8 is refused (exit 2), nothing written', async () => {
    const topic = await createTopic(uniqueTopic('pr-bytes'), 1)
    for (const flag of [`-k $'\\xff\\xfe'`, `-H $'h=\\xff'`]) {
      const child = spawn('bash', ['-c', `"${process.execPath}" "${ROOT}/bin/run.js" produce "${topic}" value ${flag}`], { env: { ...process.env, EVT_BROKERS: BROKERS.join(',') } })
      let stderr = ''
      child.stderr.on('data', (d) => (stderr += d))
      expect(await new Promise((r) => child.on('close', r)), stderr).toBe(2)
      expect(stderr).toMatch(/^evt: -(k\/--key|H\/--header) .* holds bytes that are not UTF-8/m)
      expect(stderr).toContain('--input json')
    }
    expect(await readAll(topic)).toEqual([])
  })
})
