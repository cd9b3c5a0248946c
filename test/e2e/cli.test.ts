/**
 * bin/run.js as a subprocess: formats, exit codes, the stdout/stderr split, --json contracts.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { createTopic, jsonLines, produceFixture, runEvt, uniqueTopic, withTestAdmin } from '../support/kafka.ts'

describe('topics and groups', () => {
  const topic = uniqueTopic('e2e-topics')
  beforeAll(async () => {
    await createTopic(topic, 3)
    await produceFixture(topic, [{ partition: 0, value: 'a' }, { partition: 1, value: 'b' }, { partition: 1, value: 'c' }])
  })

  it('topics --json lists the topic with partitions and retained offsets', async () => {
    const result = await runEvt(['topics', '--json'])
    expect(result.code).toBe(0)
    const topics = JSON.parse(result.stdout) as Array<{ name: string; partitions: number; replicationFactor: number; offsets: number; approxRecords: number; internal: boolean }>
    expect(topics.find((t) => t.name === topic)).toEqual({ name: topic, partitions: 3, replicationFactor: 1, internal: false, offsets: 3, approxRecords: 3 })
    expect(topics.some((t) => t.name.startsWith('__'))).toBe(false)
    const all = JSON.parse((await runEvt(['topics', '--all', '--json'])).stdout) as Array<{ name: string }>
    expect(all.some((t) => t.name === '__consumer_offsets')).toBe(true)
  })

  it('groups shows committed offsets and lag of a real group', async () => {
    const group = uniqueTopic('e2e-group')
    await withTestAdmin(async (admin) => {
      await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 1, offset: '1' }] })
    })
    const result = await runEvt(['groups', group, '--json'])
    expect(result.code).toBe(0)
    const detail = JSON.parse(result.stdout) as { groupId: string; totalLag: number; partitions: Array<{ topic: string; partition: number; committedOffset: number; highWatermark: number; lag: number }> }
    expect(detail.groupId).toBe(group)
    expect(detail.partitions).toEqual([{ topic, partition: 1, committedOffset: 1, highWatermark: 2, lag: 1 }])
    expect(detail.totalLag).toBe(1)
    const list = JSON.parse((await runEvt(['groups', '--json'])).stdout) as Array<{ groupId: string; totalLag: number }>
    expect(list.find((g) => g.groupId === group)?.totalLag).toBe(1)
  })

  it('an unknown group exits 4', async () => {
    const result = await runEvt(['groups', 'no-such-group-xyz'])
    expect(result.code).toBe(4)
    expect(result.stderr).toMatch(/^evt: consumer group "no-such-group-xyz" does not exist/)
  })
})

describe('tail formats and exit codes', () => {
  const topic = uniqueTopic('e2e-tail')
  beforeAll(async () => {
    await createTopic(topic, 1)
    await produceFixture(topic, [
      { key: 'k1', value: '{"event_type":"OrderPlaced"}', headers: { h: 'v' } },
      { key: 'k2', value: 'hello' },
      { key: 'k3', value: null },
    ])
  })

  it('json lines on stdout, nothing on stderr', async () => {
    const result = await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'json'])
    expect(result.code).toBe(0)
    expect(result.stderr).toBe('')
    const lines = jsonLines(result.stdout)
    expect(lines.map(({ key, keyEncoding, value, valueEncoding, headers }) => ({ key, keyEncoding, value, valueEncoding, headers }))).toEqual([
      { key: 'k1', keyEncoding: 'text', value: { event_type: 'OrderPlaced' }, valueEncoding: 'json', headers: [{ key: 'h', value: 'v', encoding: 'text' }] },
      { key: 'k2', keyEncoding: 'text', value: 'hello', valueEncoding: 'text', headers: [] },
      { key: 'k3', keyEncoding: 'text', value: null, valueEncoding: 'null', headers: [] },
    ])
    expect(lines.map((l) => [l.topic, l.partition, l.offset])).toEqual([[topic, 0, 0], [topic, 0, 1], [topic, 0, 2]])
  })

  it('json is the default when stdout is not a terminal', async () => {
    const result = await runEvt(['tail', topic, '-o', 'start', '-e'])
    expect(jsonLines(result.stdout)).toHaveLength(3)
  })

  it('raw prints value bytes, template prints kcat-like tokens', async () => {
    const raw = await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'raw'])
    expect(raw.stdout).toBe('{"event_type":"OrderPlaced"}\nhello\n\n')
    const templ = await runEvt(['tail', topic, '-o', 'start', '-e', '--template', '%t|%p|%o|%k|%v|%h|%S\\n'])
    expect(templ.stdout).toBe(`${topic}|0|0|k1|{"event_type":"OrderPlaced"}|h=v|28\n${topic}|0|1|k2|hello||5\n${topic}|0|2|k3|||-1\n`)
  })

  it('pretty shows a block per record with the tombstone marked', async () => {
    const result = await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'pretty'])
    expect(result.stdout).toContain(`${topic}/0@0`)
    expect(result.stdout).toContain('"event_type": "OrderPlaced"')
    expect(result.stdout).toContain('(null: tombstone)')
  })

  it('unknown topic exits 4 and suggests a close name', async () => {
    const result = await runEvt(['tail', `${topic}x`, '-o', 'start', '-e'])
    expect(result.code).toBe(4)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain(`evt: topic "${topic}x" does not exist`)
    expect(result.stderr).toContain(`did you mean: ${topic}`)
  })

  it('an unknown topic with no close name gets no misleading suggestion', async () => {
    const result = await runEvt(['tail', 'nope.topic', '-o', 'start', '-e'])
    expect(result.code).toBe(4)
    expect(result.stderr.trim().split('\n')).toEqual(['evt: topic "nope.topic" does not exist', '  hint: list topics with: evt topics'])
  })

  it('bad position, filter or template exits 2 with the grammar, no stack trace', async () => {
    const position = await runEvt(['tail', topic, '-o', 'yesterday'])
    expect(position.code).toBe(2)
    expect(position.stderr).toContain('bad position "yesterday"')
    expect(position.stderr).toContain('@-<duration>')
    const filter = await runEvt(['tail', topic, '-o', 'start', '-e', '--filter', 'value.x == '])
    expect(filter.code).toBe(2)
    expect(filter.stderr).toContain('--filter does not compile')
    expect(filter.stderr).toContain('^')
    const template = await runEvt(['tail', topic, '-o', 'start', '-e', '--template', '%q'])
    expect(template.code).toBe(2)
    expect(template.stderr).toContain('unknown token "%q"')
    for (const r of [position, filter, template]) expect(r.stderr).not.toMatch(/\n\s+at /)
  })

  it('Ctrl-C on a live tail exits 130 with a count', async () => {
    const { spawn } = await import('node:child_process')
    const { ROOT, BROKERS } = await import('../support/kafka.ts')
    const child = spawn(process.execPath, [`${ROOT}/bin/run.js`, 'tail', topic, '-o', 'start', '-f', 'json'], { env: { ...process.env, EVT_BROKERS: BROKERS.join(',') } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
      if (stdout.split('\n').length > 3) child.kill('SIGINT')
    })
    child.stderr.on('data', (d) => (stderr += d))
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(130)
    expect(jsonLines(stdout)).toHaveLength(3)
    expect(stderr).toContain('3 records shown')
  })
})

describe('connection errors', () => {
  it('an unreachable broker exits 3 within the timeout with one clear line', async () => {
    const result = await runEvt(['topics', '-b', '127.0.0.1:1', '--timeout', '3s'], { env: { EVT_BROKERS: undefined } })
    expect(result.code).toBe(3)
    expect(result.ms).toBeLessThan(10_000)
    const lines = result.stderr.trim().split('\n')
    expect(lines[0]).toMatch(/^evt: cannot connect to Kafka at 127\.0\.0\.1:1/)
    expect(lines.length).toBeLessThanOrEqual(2)
  })

  it('a bad broker address is a usage error', async () => {
    const result = await runEvt(['topics', '-b', 'no-port-here'], { env: { EVT_BROKERS: undefined } })
    expect(result.code).toBe(2)
    expect(result.stderr).toContain('is not host:port')
  })
})

describe('profiles', () => {
  it('list, use and show work on the config file named by EVT_CONFIG, keeping its comments', async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs')
    const { tmpdir } = await import('node:os')
    const { join } = await import('node:path')
    const path = join(mkdtempSync(join(tmpdir(), 'evt-e2e-')), 'config.yaml')
    writeFileSync(path, '# my clusters\ndefault: local\nprofiles:\n  local:\n    brokers: [127.0.0.1:9092]  # the laptop\n  prod:\n    brokers: [b1:9093]\n    sasl: { mechanism: plain, username: u, password: hunter2 }\n')
    const env = { EVT_CONFIG: path }
    const list = JSON.parse((await runEvt(['profiles', 'list', '--json'], { env })).stdout) as { default: string; profiles: Array<{ name: string; default: boolean; sasl: string }> }
    expect(list.default).toBe('local')
    expect(list.profiles.map((p) => [p.name, p.default, p.sasl])).toEqual([['local', true, ''], ['prod', false, 'plain']])
    const use = await runEvt(['profiles', 'use', 'prod'], { env })
    expect(use.code).toBe(0)
    const text = readFileSync(path, 'utf8')
    expect(text).toContain('default: prod')
    expect(text).toContain('# my clusters')
    expect(text).toContain('# the laptop')
    const show = await runEvt(['profiles', 'show'], { env })
    expect(show.stdout).toContain('name: prod')
    expect(show.stdout).not.toContain('hunter2')
    const missing = await runEvt(['profiles', 'use', 'nope'], { env })
    expect(missing.code).toBe(4)
    expect(missing.stderr).toContain('known profiles: local, prod')
  })
})
