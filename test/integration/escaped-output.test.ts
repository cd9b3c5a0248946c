/**
 * Terminal escape injection: control sequences in dead-letter headers (clear screen, an OSC 52
 * clipboard write) reach the terminal escaped in every plain output, and unchanged (JSON-escaped)
 * in --json output.
 */
import { describe, expect, it } from 'vitest'
import { produceRecords } from '../../src/services/produce.ts'
import { createTopic, runEvt, testSession, uniqueTopic } from '../support/kafka.ts'

const CLEAR = '\u001b[2J'
const CLIPBOARD = '\u001b]52;c;ZWNobyBwd25lZA==\u0007'
const h = (key: string, value: string) => ({ key, value: Buffer.from(value) })

describe('escaped output', () => {
  it('dlq inspect --no-ui, --group-by and dlq list print no ESC or BEL from the headers; --json keeps them as JSON escapes', async () => {
    const p = uniqueTopic('esc')
    const dlt = await createTopic(`${p}.orders-dlt`, 1)
    const headers = [
      h('kafka_dlt-original-topic', `${p}.orders${CLEAR}`),
      h('kafka_dlt-exception-fqcn', `com.example.Boom${CLEAR}`),
      h('kafka_dlt-exception-message', `bad input ${CLEAR}${CLIPBOARD} end`),
      h('kafka_dlt-exception-stacktrace', `com.example.Boom: bad ${CLIPBOARD}\n\tat com.example.Handler.handle(Handler.java:1)${CLEAR}\nCaused by: x\u009b31m`),
      h(`x-note${CLEAR}`, 'plain'),
    ]
    for await (const _ of produceRecords(testSession(), [{ key: Buffer.from('k'), value: Buffer.from('{"a":1}'), partition: 0, headers }], { topic: dlt })) void _

    const unsafe = /[\u0007\u001b\u009b]/
    const inspect = await runEvt(['dlq', 'inspect', dlt, '--no-ui', '--stack'])
    expect(inspect.code).toBe(0)
    expect(inspect.stdout).toContain('bad input \\x1b[2J\\x1b]52;c;ZWNobyBwd25lZA==\\x07 end')
    expect(inspect.stdout).toContain('x-note\\x1b[2J')
    expect(inspect.stdout).not.toMatch(unsafe)

    const groups = await runEvt(['dlq', 'inspect', dlt, '--group-by', 'exception'])
    expect(groups.code).toBe(0)
    expect(groups.stdout).toContain('com.example.Boom\\x1b[2J')
    expect(groups.stdout).not.toMatch(unsafe)

    const list = await runEvt(['dlq', 'list', '--topic', dlt])
    expect(list.code).toBe(0)
    expect(list.stdout).toContain(dlt)
    expect(list.stdout).not.toMatch(unsafe)
    expect(list.stderr).not.toMatch(unsafe)

    const json = await runEvt(['dlq', 'inspect', dlt, '--json'])
    expect(json.code).toBe(0)
    expect(json.stdout).not.toMatch(/[\u0007\u001b]/) // JSON escapes C0 controls itself (U+009B is ordinary JSON text)
    expect(JSON.parse(json.stdout.trim()).failure.message).toBe(`bad input ${CLEAR}${CLIPBOARD} end`)
  })

  it('trace (tree, timeline, mermaid, dot) prints no ESC, BEL or C1 CSI from event types, services, causation ids or dead-letter reasons', async () => {
    const p = uniqueTopic('esc-trace')
    const orders = await createTopic(`${p}.orders`, 1)
    const dlt = await createTopic(`${p}.orders-dlt`, 1)
    const id = `req_${p}`
    const event = { event_id: 'e1', event_type: `OrderPlaced${CLEAR}`, metadata: { correlation_id: id, causation_id: `gone${CLIPBOARD}`, published_by: `svc\u009b31m` } }
    for await (const _ of produceRecords(testSession(), [{ key: Buffer.from('k'), value: Buffer.from(JSON.stringify(event)), partition: 0, headers: [] }], { topic: orders })) void _
    const dead = [h('kafka_dlt-original-topic', orders), h('kafka_dlt-exception-fqcn', 'com.example.Boom'), h('kafka_dlt-exception-message', `bad ${CLEAR}\u202eevil`)]
    const copy = { ...event, event_id: 'e2', metadata: { ...event.metadata, causation_id: 'e1' } }
    for await (const _ of produceRecords(testSession(), [{ key: Buffer.from('k'), value: Buffer.from(JSON.stringify(copy)), partition: 0, headers: dead }], { topic: dlt })) void _

    const unsafe = /[\u0007\u001b\u009b\u202e]/
    for (const format of ['tree', 'timeline', 'mermaid', 'dot']) {
      const run = await runEvt(['trace', id, '-t', `${p}.*`, '--since', '1h', '-f', format])
      expect(run.code, `${format}: ${run.stderr}`).toBe(0)
      expect(run.stdout, format).not.toMatch(unsafe)
      // DOT strings escape the backslash once more
      expect(run.stdout, format).toContain(format === 'dot' ? 'OrderPlaced\\\\x1b[2J' : 'OrderPlaced\\x1b[2J')
    }
    const tree = await runEvt(['trace', id, '-t', `${p}.*`, '--since', '1h', '-f', 'tree'])
    expect(tree.stdout).toContain('bad \\x1b[2J\\u202eevil')
    expect(tree.stdout).toContain('gone\\x1b]52;c;ZWNobyBwd25lZA==\\x07')
  })
})

