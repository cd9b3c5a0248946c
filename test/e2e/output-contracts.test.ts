/**
 * The `--json` output contracts (docs/schemas/*.schema.json): each command runs as a user runs it
 * (bin/run.js against the local broker and registry) and every line or document it prints is
 * validated with ajv against its committed schema. The schemas are strict (closed objects, required
 * fields listed), so a field added, renamed or retyped without updating the schema fails here.
 */
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ProduceRecord } from '../../src/services/produce.ts'
import { closeTestSessions, createTopic as createTestTopic, jsonLines, ROOT, runEvt, uniqueTopic, withTestAdmin, writeWithEvt, type RunResult } from '../support/kafka.ts'
import { int32BE } from '../support/fixtures/dlq-headers.ts'
import { int64BE } from '../support/fixtures/envelope-record.ts'

const SCHEMAS = join(ROOT, 'docs', 'schemas')
const REGISTRY = 'http://127.0.0.1:8081/apis/ccompat/v7'
const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true })
const validators = new Map<string, ValidateFunction>()
const used = new Set<string>()

/** The compiled schema `docs/schemas/<name>.schema.json` (ajv checks it against the 2020-12 meta-schema). */
function schema(name: string): ValidateFunction {
  let v = validators.get(name)
  if (!v) {
    v = ajv.compile(JSON.parse(readFileSync(join(SCHEMAS, `${name}.schema.json`), 'utf8')) as object)
    validators.set(name, v)
  }
  return v
}

/** Asserts that `doc` is valid against the schema `name`, naming every violation when it is not. */
function conforms(name: string, doc: unknown): void {
  used.add(name)
  const validate = schema(name)
  const ok = validate(doc)
  expect(ok, ok ? '' : `${name}.schema.json: ${ajv.errorsText(validate.errors, { separator: '; ' })}\nin ${JSON.stringify(doc)}`).toBe(true)
}

/** Waits (at most 60 s) until a topic exists (the outbox relay creates its topics on first use). */
async function eventuallyTopic(topic: string): Promise<void> {
  const deadline = Date.now() + 60_000
  while (!(await withTestAdmin((a) => a.listTopics())).includes(topic)) {
    if (Date.now() > deadline) throw new Error(`${topic} was not created within 60 s`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** The JSON lines of a run that exited with `code`, each validated against `name`. */
function lines(result: RunResult, name: string, code = 0): Array<Record<string, unknown>> {
  expect(result.code, result.stderr).toBe(code)
  const out = jsonLines(result.stdout)
  for (const line of out) conforms(name, line)
  return out
}

const int32 = int32BE
const int64 = int64BE
const h = (key: string, value: string | Buffer | null) => ({ key, value: typeof value === 'string' ? Buffer.from(value) : value })

/** A record as Spring's DeadLetterPublishingRecoverer writes it. */
function springDlt(original: string, offset: number, exception: string): ProduceRecord {
  return {
    key: Buffer.from(`key-${offset}`),
    value: Buffer.from(JSON.stringify({ event_type: 'PaymentRequested', n: offset })),
    partition: 0,
    headers: [
      h('correlation_id', dlqRequest),
      h('kafka_dlt-original-topic', original),
      h('kafka_dlt-original-partition', int32(0)),
      h('kafka_dlt-original-offset', int64(offset)),
      h('kafka_dlt-original-timestamp', int64(1_700_000_000_000)),
      h('kafka_dlt-original-timestamp-type', 'CreateTime'),
      h('kafka_dlt-original-consumer-group', 'payment-service'),
      h('kafka_dlt-exception-fqcn', exception),
      h('kafka_dlt-exception-message', 'Read timed out'),
      h('kafka_dlt-exception-stacktrace', `${exception}: Read timed out\n\tat com.shop.Payments.charge(Payments.java:42)`),
    ],
  }
}

/** A seed-envelope event of request `req` (key = aggregate id). */
function event(req: string, id: string, type: string, causation: string | null): ProduceRecord {
  const value = { event_id: id, event_type: type, occurred_at: '2026-11-29T18:23:52.143Z', aggregate_id: 'order-1', aggregate_type: 'Order', data: { total: 12 }, metadata: { correlation_id: req, causation_id: causation, published_by: 'order-service' } }
  return { key: Buffer.from('order-1'), value: Buffer.from(JSON.stringify(value)), partition: 0, headers: [h('content-type', 'application/json')] }
}

const source = uniqueTopic('contracts')
const original = uniqueTopic('contracts-orig')
const dlt = `${original}-dlt`
const req = `req_${Date.now().toString(36)}`
const dlqRequest = `${req}_dlq`
/** Topics this file creates, deleted when it ends (so later whole-cluster scans such as `evt trace` stay small). */
const created: string[] = []
async function createTopic(topic: string, partitions: number): Promise<void> {
  created.push(topic)
  await createTestTopic(topic, partitions)
}
const env = { XDG_STATE_HOME: mkdtempSync(join(tmpdir(), 'evt-contracts-')) }

beforeAll(async () => {
  await createTopic(source, 2)
  await createTopic(original, 1)
  await createTopic(dlt, 1)
  await writeWithEvt(source, [
    event(req, 'e1', 'OrderPlaced', null),
    event(req, 'e2', 'OrderConfirmed', 'e1'),
    { key: null, value: Buffer.from('plain text'), partition: 1, headers: [h('bin', Buffer.from([0xff, 0x00])), h('nothing', null)] },
    { key: Buffer.from([0xc3, 0x28]), value: null, partition: 1, headers: [] },
  ])
  await writeWithEvt(dlt, [springDlt(original, 0, 'java.net.SocketTimeoutException'), springDlt(original, 1, 'java.net.SocketTimeoutException'), springDlt(original, 2, 'java.lang.IllegalStateException')])
}, 60_000)

afterAll(async () => {
  await withTestAdmin(async (admin) => {
    const existing = new Set(await admin.listTopics())
    const mine = [...created, `${dlt}.evt-requeued`].filter((t) => existing.has(t))
    if (mine.length) await admin.deleteTopics({ topics: mine })
  })
  await closeTestSessions()
  // every committed schema is exercised by a test in this file
  const committed = readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json')).map((f) => f.replace('.schema.json', '')).sort()
  expect([...used].sort()).toEqual(committed)
})

describe('output contracts (docs/schemas)', () => {
  it('a schema rejects a field it does not list and a missing required field', () => {
    const line = { topic: 't', partition: 0, offset: 1, timestamp: -1, key: null, keyEncoding: 'null', value: null, valueEncoding: 'null', headers: [] }
    expect(schema('tail')(line)).toBe(true)
    expect(schema('tail')({ ...line, extra: 1 })).toBe(false)
    expect(schema('tail')({ ...line, offset: '1' })).toBe(false)
    const { headers: _, ...withoutHeaders } = line
    expect(schema('tail')(withoutHeaders)).toBe(false)
  })

  it('tail -f json: one valid line per record', async () => {
    const out = lines(await runEvt(['tail', source, '-o', 'start', '-e', '-f', 'json']), 'tail')
    expect(out.map((r) => `${r.partition}@${r.offset}:${r.valueEncoding}:${r.keyEncoding}`).sort()).toEqual(['0@0:json:text', '0@1:json:text', '1@0:text:null', '1@1:null:base64'])
  })

  it('tail --json prints exactly what tail -f json prints', async () => {
    const [flag, format] = await Promise.all([runEvt(['tail', source, '-o', 'start', '-e', '--json']), runEvt(['tail', source, '-o', 'start', '-e', '-f', 'json'])])
    const byFlag = lines(flag, 'tail')
    expect(byFlag).toHaveLength(4)
    const sort = (out: string) => out.split('\n').filter(Boolean).sort()
    expect(sort(flag.stdout)).toEqual(sort(format.stdout))
    // --json with another format is a usage error
    const clash = await runEvt(['tail', source, '-o', 'start', '-e', '--json', '-f', 'raw'])
    expect([clash.code, clash.stderr.split('\n')[0]]).toEqual([2, 'evt: --json and -f raw cannot be combined'])
  })

  it('produce --json: one valid line per record written', async () => {
    const out = lines(await runEvt(['produce', original, '--lines', '--json'], { input: 'a\nb\n' }), 'produce')
    expect(out).toEqual([{ topic: original, partition: 0, offset: 0 }, { topic: original, partition: 0, offset: 1 }])
  })

  it('trace -f json: the request with its records, edges and anomalies', async () => {
    const [doc] = lines(await runEvt(['trace', req, '-t', source, '--since', '1h', '-f', 'json']), 'trace')
    const records = doc!.records as Array<{ eventType: string; parent: string | null; offset: number }>
    expect(records.map((r) => [r.eventType, r.offset, r.parent])).toEqual([['OrderPlaced', 0, null], ['OrderConfirmed', 1, `${source}/0@0`]])
    expect(doc!.edges).toEqual([{ from: `${source}/0@0`, to: `${source}/0@1` }])
  })

  it('trace --json prints exactly what trace -f json prints', async () => {
    const [flag, format] = await Promise.all([runEvt(['trace', req, '-t', source, '--since', '1h', '--json']), runEvt(['trace', req, '-t', source, '--since', '1h', '-f', 'json'])])
    const [doc] = lines(flag, 'trace')
    const [other] = lines(format, 'trace')
    // the window's start is computed from the time of each run
    const stable = (d: Record<string, unknown>) => JSON.stringify({ ...d, window: undefined })
    expect((doc!.records as unknown[]).length).toBe(2)
    expect(stable(doc!)).toEqual(stable(other!))
  })

  it('dlq inspect --json (records) and --group-by --json', async () => {
    const out = lines(await runEvt(['dlq', 'inspect', dlt, '--json']), 'dlq-inspect')
    expect(out.map((r) => [r.offset, (r.failure as { exception: string; originalOffset: number }).originalOffset, r.requeued])).toEqual([[0, 0, null], [1, 1, null], [2, 2, null]])
    const [grouped] = lines(await runEvt(['dlq', 'inspect', dlt, '--group-by', 'exception', '--json']), 'dlq-inspect-group-by')
    expect((grouped!.groups as Array<{ key: string; count: number; sample: { offset: number } }>).map((g) => [g.key, g.count, g.sample.offset])).toEqual([['java.net.SocketTimeoutException', 2, 0], ['java.lang.IllegalStateException', 1, 2]])
  })

  it('dlq list --json', async () => {
    const [doc] = lines(await runEvt(['dlq', 'list', '-t', dlt, '--json']), 'dlq-list')
    expect((doc!.dlqs as Array<{ topic: string; records: number; withFailureHeaders: number }>).map((d) => [d.topic, d.records, d.withFailureHeaders])).toEqual([[dlt, 3, 3]])
  })

  it('dlq requeue --json: the plan, then the summary', async () => {
    const dry = lines(await runEvt(['dlq', 'requeue', dlt, '--dry-run', '--json']), 'dlq-requeue')
    expect(dry.map((l) => Object.keys(l))).toEqual([['plan']])
    const run = lines(await runEvt(['dlq', 'requeue', dlt, '--yes', '--json'], { timeoutMs: 60_000 }), 'dlq-requeue')
    expect(run.map((l) => Object.keys(l))).toEqual([['plan'], ['summary']])
    expect((run[1]!.summary as { moved: number; byTarget: Record<string, number> }).byTarget).toEqual({ [original]: 3 })
    // requeued records now say so in dlq inspect
    const after = lines(await runEvt(['dlq', 'inspect', dlt, '--json']), 'dlq-inspect')
    expect(after.map((r) => (r.requeued as { topic: string } | null)?.topic)).toEqual([original, original, original])
    // a trace over the dead letters and their requeued copies: deadLetter and copyOf filled in
    const [trace] = lines(await runEvt(['trace', dlqRequest, '-t', dlt, '-t', original, '--since', '1h', '-f', 'json']), 'trace')
    const records = trace!.records as Array<{ topic: string; deadLetter: { exception?: string } | null; copyOf: { kind: string; source: string } | null }>
    expect(records.filter((r) => r.topic === dlt).map((r) => r.deadLetter?.exception)).toEqual(['java.net.SocketTimeoutException', 'java.net.SocketTimeoutException', 'java.lang.IllegalStateException'])
    expect(records.filter((r) => r.topic === original).map((r) => r.copyOf && [r.copyOf.kind, r.copyOf.source]).sort()).toEqual([0, 1, 2].map((o) => ['requeue', `${dlt}/0@${o}`]))
  }, 90_000)

  it('replay --json (copy and group), replay status --json, replay clean --json', async () => {
    const copy = uniqueTopic('contracts-copy')
    await createTopic(copy, 2)
    const run = lines(await runEvt(['replay', source, '--from', 'start', '--to-topic', copy, '--yes', '--json'], { env, timeoutMs: 60_000 }), 'replay')
    expect(run.map((l) => Object.keys(l))).toEqual([['plan'], ['summary']])
    const summary = run[1]!.summary as { id: string; copied: number }
    expect(summary.copied).toBe(4)
    const group = uniqueTopic('contracts-group')
    const moved = lines(await runEvt(['replay', source, '--from', 'start', '--group', group, '--yes', '--json'], { env }), 'replay')
    expect(moved[1]).toEqual({ done: true, group })

    const [one] = lines(await runEvt(['replay', 'status', summary.id, '--json'], { env }), 'replay-status')
    expect([one!.state, one!.copied, one!.remaining]).toEqual(['finished', 4, 0])
    const [list] = lines(await runEvt(['replay', 'status', '--json'], { env }), 'replay-status')
    expect((list!.runs as Array<{ id: string }>).map((r) => r.id)).toEqual([summary.id])

    const clean = lines(await runEvt(['replay', 'clean', summary.id, '--yes', '--json'], { env }), 'replay-clean')
    expect(clean.map((l) => Object.keys(l))).toEqual([['plan'], ['results']])
    expect((clean[1]!.results as Array<{ id: string; outcome: string }>).map((r) => [r.id, r.outcome])).toEqual([[summary.id, 'removed']])
  }, 120_000)

  it('lint --json: the findings with their evidence (exit 5 with --fail-on warning), and --explain --json', async () => {
    // the source topic: two seed events stamped a day before they were written (late publication),
    // a plain-text value beside them (no envelope, no content-type) and a tombstone; the DLT's records all carry their origin
    const [doc] = lines(await runEvt(['lint', source, dlt, '--json', '--fail-on', 'warning']), 'lint', 5)
    const findings = doc!.findings as Array<{ rule: string; severity: string; subject: string | null; evidence: Array<{ partition: number; offset: number }> }>
    expect(findings.map((f) => [f.rule, f.severity, f.subject, f.evidence.map((e) => `${e.partition}@${e.offset}`)])).toEqual([
      ['missing-envelope-field', 'warning', 'envelope', ['1@0']],
      ['occurred-after-append', 'warning', 'late publication', ['0@0', '0@1']],
      ['schema-less-payload', 'info', null, ['1@0']],
    ])
    expect(doc!.summary).toEqual({ error: 0, warning: 2, info: 1 })
    expect(doc!.scanned).toBe(7)
    const [explained] = lines(await runEvt(['lint', '--explain', 'duplicate-event-id', '--json']), 'lint')
    expect((explained!.rules as Array<{ id: string; severity: string }>).map((r) => [r.id, r.severity])).toEqual([['duplicate-event-id', 'warning']])
  })

  it('topics --json, topics create --json, topics delete --json', async () => {
    const [all] = lines(await runEvt(['topics', '--all', '--json']), 'topics')
    expect((all as unknown as Array<{ name: string; offsets: number }>).find((t) => t.name === source)?.offsets).toBe(4)
    const topic = uniqueTopic('contracts-admin')
    const created = lines(await runEvt(['topics', 'create', topic, '-p', '2', '--yes', '--json']), 'topics-create')
    expect(created).toEqual([{ plan: { topic, partitions: 2, replicationFactor: null, config: {}, action: 'create', differences: [] } }, { created: topic }])
    const deleted = lines(await runEvt(['topics', 'delete', topic, '--yes', '--json']), 'topics-delete')
    expect(deleted).toEqual([{ plan: { topics: [{ topic, action: 'delete', partitions: 2, offsets: 0 }] } }, { results: [{ topic, outcome: 'deleted' }] }])
  })

  it('groups --json, groups <group> --json, groups reset --json, groups delete --json', async () => {
    const group = uniqueTopic('contracts-g')
    const reset = lines(await runEvt(['groups', 'reset', group, '--to', 'start', '--topic', source, '--yes', '--json']), 'groups-reset')
    expect(reset.map((l) => Object.keys(l))).toEqual([['plan'], ['changed']])
    expect(reset[1]).toEqual({ changed: 2 })
    const [detail] = lines(await runEvt(['groups', group, '--json']), 'groups')
    expect(detail!.partitions).toEqual([{ topic: source, partition: 0, committedOffset: 0, highWatermark: 2, lag: 2 }, { topic: source, partition: 1, committedOffset: 0, highWatermark: 2, lag: 2 }])
    const [list] = lines(await runEvt(['groups', '--all', '--json']), 'groups')
    expect((list as unknown as Array<{ groupId: string; totalLag: number }>).find((g) => g.groupId === group)?.totalLag).toBe(4)
    const deleted = lines(await runEvt(['groups', 'delete', group, '--yes', '--json']), 'groups-delete')
    expect(deleted).toEqual([{ plan: { groups: [{ groupId: group, action: 'delete', state: 'Empty', members: 0, topics: [source] }] } }, { results: [{ groupId: group, outcome: 'deleted' }] }])
  })

  it('schemas --json (subjects and one subject)', async () => {
    const subject = `${uniqueTopic('contracts')}-value`
    const res = await fetch(`${REGISTRY}/subjects/${encodeURIComponent(subject)}/versions`, { method: 'POST', headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' }, body: JSON.stringify({ schema: JSON.stringify({ type: 'record', name: 'Order', fields: [{ name: 'id', type: 'string' }] }) }) })
    const { id } = (await res.json()) as { id: number }
    const [subjects] = lines(await runEvt(['schemas', '--registry', REGISTRY, '--json']), 'schemas')
    expect((subjects as unknown as Array<{ subject: string; latestId: number; type: string }>).find((s) => s.subject === subject)).toEqual({ subject, type: 'avro', versions: [1], latestVersion: 1, latestId: id })
    const [detail] = lines(await runEvt(['schemas', subject, '--registry', REGISTRY, '--json']), 'schemas')
    expect([detail!.subject, detail!.version, detail!.id, detail!.type]).toEqual([subject, 1, id, 'avro'])
    // a record written with that schema: tail's line carries the registry fields
    const topic = uniqueTopic('contracts-avro')
    await createTopic(topic, 1)
    expect((await runEvt(['produce', topic, '{"id":"o-1"}', '--value-schema', subject, '--registry', REGISTRY])).code).toBe(0)
    const out = lines(await runEvt(['tail', topic, '-o', 'start', '-e', '-f', 'json', '--registry', REGISTRY]), 'tail')
    expect(out.map((r) => [r.value, r.valueEncoding, r.valueSchemaId])).toEqual([[{ id: 'o-1' }, 'avro', id]])
  })

  it('outbox check --json (the local PostgreSQL outbox)', async () => {
    const { POSTGRES_URL } = (await import('../../scripts/cluster.mjs' as string)) as { POSTGRES_URL: string }
    const topic = await createTestTopic(uniqueTopic('outbox.event.contract'), 1)
    const [doc] = lines(await runEvt(['outbox', 'check', '--db', POSTGRES_URL, '--since', '10m', '--aggregate-type', topic, '--topic', topic, '--json']), 'outbox-check')
    expect(doc).toMatchObject({ table: 'outbox', topics: [topic], rows: 0, records: 0, unpublished: [], lag: {} })
  })

  it('outbox tail --json (a row written to the local outbox, as it lands)', async () => {
    const { insertOutboxRows, outboxDb, POSTGRES_URL } = await import('../support/outbox.ts')
    const type = uniqueTopic('contract').replaceAll('.', '-')
    const db = await outboxDb()
    try {
      const since = Date.now() - 1000
      await insertOutboxRows(db, type, 1)
      await eventuallyTopic(`outbox.event.${type}`)
      const [doc] = lines(await runEvt(['outbox', 'tail', '--db', POSTGRES_URL, '--aggregate-type', type, '--topic', `outbox.event.${type}`, '--since', String(since), '-n', '1', '--json']), 'outbox-tail')
      expect(doc).toMatchObject({ kind: 'published', at: { topic: `outbox.event.${type}`, offset: 0 }, wasLate: false })
    } finally {
      await db.end()
    }
  })

  it('profiles list --json and profiles show --json', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'evt-contracts-profiles-'))
    const path = join(dir, 'config.yaml')
    writeFileSync(path, 'default: local\nprofiles:\n  local:\n    brokers: [127.0.0.1:9092]\n  prod:\n    brokers: b1:9093,b2:9093\n    tls: { ca: /etc/ca.pem }\n    sasl: { mechanism: scram-sha-512, username: u, password: hunter2 }\n    registry: { url: "https://reg:8081", username: r, password: "${REG_PASSWORD}" }\n    protectedTopics: [payments.*]\n    trace: { stallAfter: 2m }\n')
    const env = { EVT_CONFIG: path, EVT_PROFILE: undefined }
    const [list] = lines(await runEvt(['profiles', 'list', '--json'], { env }), 'profiles-list')
    expect(list).toEqual({ path, default: 'local', profiles: [
      { name: 'local', default: true, brokers: '127.0.0.1:9092', registry: '', sasl: '', tls: false },
      { name: 'prod', default: false, brokers: 'b1:9093,b2:9093', registry: 'https://reg:8081', sasl: 'scram-sha-512', tls: true },
    ] })
    const [prod] = lines(await runEvt(['profiles', 'show', 'prod', '--json'], { env }), 'profiles-show')
    expect([prod!.name, (prod!.sasl as { password: string }).password, (prod!.registry as { password: string }).password]).toEqual(['prod', '<redacted>', '<from $REG_PASSWORD>'])
    const [local] = lines(await runEvt(['profiles', 'show', '--json'], { env }), 'profiles-show')
    expect(local).toEqual({ name: 'local', brokers: ['127.0.0.1:9092'] })
  })

  it('index run --json, index status --json, trace --index -f json', async () => {
    const name = `contracts-${Date.now().toString(36)}`
    const run = lines(await runEvt(['index', 'run', source, '--name', name, '--exit', '--json'], { env }), 'index-run')
    expect(run.at(-1)).toMatchObject({ type: 'done', stopped: 'caught-up', caughtUp: true, group: `_evt-index-${name}`, records: 4 })
    const [status] = lines(await runEvt(['index', 'status', '--name', name, '--json'], { env }), 'index-status')
    expect((status!.partitions as Array<{ partition: number; indexedOffset: number; lag: number; rows: number }>).map((p) => [p.partition, p.indexedOffset, p.lag, p.rows])).toEqual([[0, 2, 0, 2], [1, 2, 0, 0]])
    const [doc] = lines(await runEvt(['trace', req, '-t', source, '--since', '1h', '-f', 'json', '--index', `local:${name}`], { env }), 'trace')
    expect(doc!.index).toMatchObject({ pointers: 2, fetched: 2, indexedPartitions: 2, scannedAfterIndex: 0, fallback: [] })
    expect((doc!.records as Array<{ offset: number }>).map((r) => r.offset)).toEqual([0, 1])
    // an index that cannot be reached: the scan answers, with a warning
    const unreachable = await runEvt(['trace', req, '-t', source, '--since', '1h', '-f', 'json', '--index', 'postgres://evt:secret@127.0.0.1:1/evt'], { env })
    const [scanned] = lines(unreachable, 'trace')
    expect(unreachable.stderr).toMatch(/^evt: warning: the trace index cannot be used \(cannot open the index store postgres:\/\/evt:(\*\*\*|<redacted>)@127\.0\.0\.1:1\/evt: .*\); scanning instead$/m)
    expect(unreachable.stderr).not.toContain('secret')
    expect(scanned!.index).toBeUndefined()
    expect((scanned!.records as Array<{ offset: number }>).map((r) => r.offset)).toEqual([0, 1])
    expect((await runEvt(['index', 'drop', '--name', name, '--yes'], { env })).code).toBe(0)

    // an index nobody has indexed into: status says so (exit 4), trace scans and says so; neither creates it
    const none = `${name}-none`
    const [missing] = lines(await runEvt(['index', 'status', '--name', none, '--json'], { env }), 'error', 4)
    expect(missing!.error).toMatchObject({ kind: 'not-found', message: expect.stringContaining(`there is no index "${none}"`) })
    const typo = await runEvt(['trace', req, '-t', source, '--since', '1h', '-f', 'json', '--index', `local:${none}`], { env })
    const [plain] = lines(typo, 'trace')
    expect(typo.stderr).toContain(`evt: warning: there is no index "${none}" in local (`)
    expect(plain!.index).toBeUndefined()
    expect((plain!.records as Array<{ offset: number }>).map((r) => r.offset)).toEqual([0, 1])
    expect(readdirSync(join(env.XDG_STATE_HOME, 'evt', 'index')).filter((f) => f.startsWith(none))).toEqual([])
    // a state folder that can never be made (under /proc): an error, not a process that spins forever
    const proc = await runEvt(['index', 'run', source, '--name', name, '--exit'], { env: { XDG_STATE_HOME: '/proc/evt-nope' } })
    expect([proc.code, proc.stderr]).toEqual([2, expect.stringMatching(/^evt: cannot open the index file \/proc\/evt-nope\/evt\/index\/.*ENOENT/m)])
  })

  it('an error with --json is one {"error"} object on stdout', async () => {
    const [doc] = lines(await runEvt(['groups', uniqueTopic('no-such-group'), '--json']), 'error', 4)
    expect((doc!.error as { kind: string; exitCode: number }).exitCode).toBe(4)
  })
})
