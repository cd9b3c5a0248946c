/**
 * The schema registry SIGKILLed after Avro-framed records were written through it: `evt tail -o
 * start -e` and `evt trace` still show every record, raw (the framed bytes as base64; no decoded
 * envelope), with exactly one warning about the registry on stderr, and exit 0; with --strict they
 * exit 3 instead.
 */
import { randomUUID } from 'node:crypto'
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry'
import { afterEach, describe, expect, it } from 'vitest'
import {
  clusterUp,
  createRf3Topic,
  describeExit,
  idempotentProducer,
  kcatRead,
  killRegistry,
  multisetDiff,
  REGISTRY_URL,
  runEvt,
  uniqueName,
  type EvtExit,
} from './support.ts'

const EVENT = {
  type: 'record',
  name: 'Event',
  namespace: 'acme',
  fields: [
    { name: 'event_id', type: 'string' },
    { name: 'event_type', type: 'string' },
    { name: 'n', type: 'int' },
    { name: 'metadata', type: { type: 'record', name: 'Metadata', fields: [{ name: 'correlation_id', type: 'string' }, { name: 'published_by', type: 'string' }] } },
  ],
}

/** stderr lines that mention the registry. */
function registryLines(exit: EvtExit): string[] {
  return exit.stderr.split('\n').filter((l) => /registry/i.test(l))
}

interface TailLine {
  partition: number
  offset: number
  value: unknown
  valueEncoding: string
  valueSchemaId?: number
  valueError?: string
}

describe('schema registry down', () => {
  afterEach(async () => {
    await clusterUp() // start the registry again
  })

  it('tail and trace show Avro records raw with one warning (exit 0), or exit 3 with --strict', async () => {
    const topic = uniqueName('fo-registry-down')
    const correlation = `req_${randomUUID().slice(0, 8)}`
    await createRf3Topic(topic, 3)
    const registry = new SchemaRegistry({ host: REGISTRY_URL })
    const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(EVENT) }, { subject: `${topic}-value` })
    const values: Buffer[] = []
    for (let n = 0; n < 20; n++) {
      values.push(await registry.encode(id, { event_id: randomUUID(), event_type: 'OrderPlaced', n, metadata: { correlation_id: correlation, published_by: `svc-${n}` } }))
    }
    const producer = await idempotentProducer()
    try {
      await producer.send({ topic, acks: -1, messages: values.map((value, n) => ({ partition: n % 3, key: `k${n}`, value })) })
    } finally {
      await producer.disconnect()
    }
    const ids = (await kcatRead(topic, '%p@%o\\n')).map((po) => `${topic}/${po}`)
    expect(ids).toHaveLength(20)
    const args = ['--registry', REGISTRY_URL]

    // control: with the registry up, the same command decodes every record
    const decoded = await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'json', ...args])
    expect(decoded.code, describeExit(decoded)).toBe(0)
    const decodedLines = decoded.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TailLine)
    expect(decodedLines.map((l) => l.valueEncoding)).toEqual(Array(20).fill('avro'))

    await killRegistry()

    // tail: every record, the framed bytes as base64, one warning, exit 0
    const tail = await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'json', ...args])
    expect(tail.killed, describeExit(tail)).toBe(false)
    expect(tail.code, describeExit(tail)).toBe(0)
    const lines = tail.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TailLine)
    expect(multisetDiff(lines.map((l) => `${topic}/${l.partition}@${l.offset}`), ids)).toEqual({ missing: 0, extra: 0, missingSample: [], extraSample: [] })
    expect(multisetDiff(lines.map((l) => String(l.value)), values.map((v) => v.toString('base64')))).toEqual({ missing: 0, extra: 0, missingSample: [], extraSample: [] })
    for (const l of lines) expect(l).toMatchObject({ valueEncoding: 'base64', valueSchemaId: id, valueError: 'not decoded: the schema registry is unreachable' })
    expect(registryLines(tail), tail.stderr).toHaveLength(1)
    expect(registryLines(tail)[0]).toMatch(/^evt: warning: cannot reach the schema registry at http:\/\/127\.0\.0\.1:8081\/apis\/ccompat\/v7 .*shown raw/)

    // tail --strict: exit 3, no record shown, the registry named
    const strictTail = await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'json', '--strict', ...args])
    expect(strictTail.killed, describeExit(strictTail)).toBe(false)
    expect(strictTail.code, describeExit(strictTail)).toBe(3)
    expect(strictTail.stdout).toBe('')
    expect(strictTail.stderr).toMatch(/schema registry at http:\/\/127\.0\.0\.1:8081/)

    // trace: every record of the request found (its bytes hold the id), no envelope decoded, one warning, exit 0
    const traced = await runEvt(['trace', correlation, '-t', topic, '--since', '1h', '-f', 'json', ...args])
    expect(traced.killed, describeExit(traced)).toBe(false)
    expect(traced.code, describeExit(traced)).toBe(0)
    const result = JSON.parse(traced.stdout) as { scanned: number; records: Array<{ id: string; eventType: string | null; correlationId: string | null }> }
    expect(result.scanned).toBe(20)
    expect(multisetDiff(result.records.map((r) => r.id), ids)).toEqual({ missing: 0, extra: 0, missingSample: [], extraSample: [] })
    for (const r of result.records) expect(r).toMatchObject({ eventType: null, correlationId: null })
    expect(registryLines(traced), traced.stderr).toHaveLength(1)
    expect(registryLines(traced)[0]).toMatch(/^evt: warning: cannot reach the schema registry at http:\/\/127\.0\.0\.1:8081\/apis\/ccompat\/v7 .*shown raw/)

    // trace --strict: exit 3, nothing on stdout
    const strictTrace = await runEvt(['trace', correlation, '-t', topic, '--since', '1h', '-f', 'json', '--strict', ...args])
    expect(strictTrace.killed, describeExit(strictTrace)).toBe(false)
    expect(strictTrace.code, describeExit(strictTrace)).toBe(3)
    expect(strictTrace.stdout).toBe('')
    expect(strictTrace.stderr).toMatch(/schema registry at http:\/\/127\.0\.0\.1:8081/)
  })
})
