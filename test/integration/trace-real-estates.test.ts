/**
 * `evt trace` on estates without a rich envelope, against the real broker: records written the
 * way OpenTelemetry (W3C traceparent), Brave (B3 with parent spans) and Spring Kafka
 * (`__TypeId__`, dead-letter headers) write them, producers with skewed clocks, consumer groups
 * that stopped, and the README's untyped-estate example.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IHeaders, Message } from 'kafkajs'
import { beforeAll, describe, expect, it } from 'vitest'
import { springDltHeaders } from '../support/fixtures/dlq-headers.ts'
import { createTopic, produceFixture, ROOT, runEvt, uniqueTopic, withTestAdmin } from '../support/kafka.ts'

const hex = (bytes: number) => randomBytes(bytes).toString('hex')

interface TraceJson {
  records: Array<{
    id: string
    key: unknown
    keyEncoding: string
    value: unknown
    valueEncoding: string
    eventId: string | null
    eventType: string | null
    typeFrom: string | null
    summary: string | null
    traceId: string | null
    spanId: string | null
    parentSpanId: string | null
    parent: string | null
    delayMs: number | null
    deadLetter: { failedIn?: string } | null
    anomalies: string[]
  }>
  edges: Array<{ from: string; to: string }>
  anomalies: Array<{ kind: string; message: string; records: string[] }>
}

/** The README's untyped-estate example: a B3 trace id (Brave) and what it prints. */
const README_TRACE_ID = '0af7651916cd43dd8448eb211c80319c'

function readmeExample(): { command: string; output: string[] } {
  const readme = readFileSync(`${ROOT}/README.md`, 'utf8')
  const m = /<!-- untyped-estate-example -->\s*```sh\n(.+)\n```\s*```\n([\s\S]*?)\n```/.exec(readme)
  if (!m) throw new Error('README: the untyped-estate example block is missing')
  return { command: m[1], output: m[2].split('\n') }
}

describe('trace on estates without an envelope', () => {
  const prefix = uniqueTopic('tre')
  const t = { orders: `${prefix}.orders`, payments: `${prefix}.payments`, inventory: `${prefix}.inventory`, dlt: `${prefix}.payments-dlt`, shipping: `${prefix}.shipping`, invoices: `${prefix}.invoices` }
  const now = Date.now()
  const base = now - 60_000
  // OpenTelemetry (Java agent / W3C propagator): one trace id, a new span per record
  const otel = { trace: hex(16), spans: [hex(8), hex(8), hex(8), hex(8)] }
  // Brave (B3, multi-header): a parent span on every child, a payment producer whose clock is 250 ms behind
  const b3 = { a: hex(8), b: hex(8), c: hex(8) }
  // a dead-lettered hop (Spring Kafka DeadLetterPublishingRecoverer) in another B3 trace
  const dl = { trace: hex(16), a: hex(8), b: hex(8) }
  const stalled = { pending: hex(16), consumed: hex(16), fresh: hex(16) }
  const traceparent = (trace: string, span: string) => `00-${trace}-${span}-01`
  const b3Headers = (trace: string, span: string, parent?: string): IHeaders => ({ 'X-B3-TraceId': trace, 'X-B3-SpanId': span, ...(parent ? { 'X-B3-ParentSpanId': parent } : {}), 'X-B3-Sampled': '1' })
  const at = (ms: number) => String(ms)

  beforeAll(async () => {
    await Promise.all(Object.values(t).map((topic) => createTopic(topic, 1)))
    // offsets: orders 0..2, payments 0..3, inventory 0..2
    await produceFixture(t.orders, [{ key: 'o-1', value: '{"step":"order.placed","order":"o-1"}', headers: { traceparent: traceparent(otel.trace, otel.spans[0]) }, timestamp: at(base) }])
    await produceFixture(t.payments, [
      { key: null, value: '{"step":"payment.captured"}', headers: { traceparent: traceparent(otel.trace, otel.spans[1]) }, timestamp: at(base + 40) },
      // Spring Kafka JsonSerializer: the Java type in __TypeId__, the trace from Micrometer Tracing
      { key: 'o-1', value: '{"amount":"12.90","currency":"EUR","id":12345678901234567890}', headers: { __TypeId__: 'com.shop.payment.PaymentCaptured', traceparent: traceparent(otel.trace, otel.spans[2]) }, timestamp: at(base + 60) },
    ])
    await produceFixture(t.inventory, [{ key: 'MUG-350', value: '{"type":"StockReserved","sku":"MUG-350"}', headers: { traceparent: traceparent(otel.trace, otel.spans[3]) }, timestamp: at(base + 80) }])
    // the README example (B3): orders/0@1, payments/0@2, inventory/0@1
    await produceFixture(t.orders, [{ key: 'o-1', value: '{"step":"order.placed","order":"o-1"}', headers: b3Headers(README_TRACE_ID, b3.a), timestamp: at(base + 1000) }])
    await produceFixture(t.payments, [{ key: 'o-1', value: '{"amount":"12.90"}', headers: { __TypeId__: 'com.shop.payment.PaymentCaptured', ...b3Headers(README_TRACE_ID, b3.b, b3.a) }, timestamp: at(base + 750) }])
    await produceFixture(t.inventory, [{ key: 'MUG-350', value: '{"type":"StockReserved","sku":"MUG-350"}', headers: b3Headers(README_TRACE_ID, b3.c, b3.a), timestamp: at(base + 1040) }])
    // dead-lettered: orders/0@2 → payments/0@3, which payment-service failed on → payments-dlt/0@0
    await produceFixture(t.orders, [{ key: 'o-2', value: '{"eventType":"OrderPlaced"}', headers: b3Headers(dl.trace, dl.a), timestamp: at(base + 2000) }])
    const payment: Message = { key: 'o-2', value: '{"eventType":"PaymentRequested"}', headers: b3Headers(dl.trace, dl.b, dl.a), timestamp: at(base + 2010) }
    await produceFixture(t.payments, [payment])
    const dlt = springDltHeaders({ topic: t.payments, partition: 0, offset: 3, group: 'payment-service', fqcn: 'org.springframework.kafka.listener.ListenerExecutionFailedException', causeFqcn: 'java.net.SocketTimeoutException', message: 'Listener failed; Read timed out' })
    const dltHeaders: IHeaders = { ...(payment.headers as IHeaders) }
    for (const [k, v] of dlt) dltHeaders[k] = v as string | Buffer
    await produceFixture(t.dlt, [{ key: 'o-2', value: payment.value, headers: dltHeaders, timestamp: at(base + 2500) }])
    // stalls: records 10 minutes old; shipping/0@0 not consumed by one of its groups, invoices/0@0 consumed by its only group and nothing after it
    const old = now - 10 * 60_000
    await produceFixture(t.shipping, [{ key: 's-1', value: '{"type":"ShipmentRequested"}', headers: { traceparent: traceparent(stalled.pending, hex(8)) }, timestamp: at(old) }])
    await produceFixture(t.invoices, [
      { key: 'i-1', value: '{"type":"InvoiceIssued"}', headers: { traceparent: traceparent(stalled.consumed, hex(8)) }, timestamp: at(old) },
      { key: 'i-2', value: '{"type":"InvoiceIssued"}', headers: { traceparent: traceparent(stalled.fresh, hex(8)) }, timestamp: at(now) },
    ])
    await withTestAdmin(async (admin) => {
      await admin.setOffsets({ groupId: `${prefix}-labels`, topic: t.shipping, partitions: [{ partition: 0, offset: '1' }] })
      await admin.setOffsets({ groupId: `${prefix}-carrier`, topic: t.shipping, partitions: [{ partition: 0, offset: '0' }] })
      await admin.setOffsets({ groupId: `${prefix}-mailer`, topic: t.invoices, partitions: [{ partition: 0, offset: '2' }] })
    })
  })

  const traceJson = async (id: string, args: string[] = []): Promise<TraceJson> => {
    const r = await runEvt(['trace', id, '-t', `${prefix}.*`, '--since', '1h', '-f', 'json', ...args])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stdout.trim().split('\n')).toHaveLength(1) // one JSON document per trace, on one line
    return JSON.parse(r.stdout) as TraceJson
  }

  it('names every record of an OpenTelemetry trace: type from __TypeId__ or a value field, else a value preview; span ids and decoded values in JSON', async () => {
    const j = await traceJson(otel.trace)
    expect(j.records.map((r) => [r.id, r.eventType, r.typeFrom, r.summary])).toEqual([
      [`${t.orders}/0@0`, null, null, '{"step":"order.placed","order":"o-1"}'],
      [`${t.payments}/0@0`, null, null, '{"step":"payment.captured"}'],
      [`${t.payments}/0@1`, 'com.shop.payment.PaymentCaptured', 'header __TypeId__', null],
      [`${t.inventory}/0@0`, 'StockReserved', 'value.type', null],
    ])
    expect(j.records.map((r) => [r.traceId, r.spanId, r.eventId])).toEqual(otel.spans.map((s) => [otel.trace, s, null]))
    expect(j.records.map((r) => [r.key, r.keyEncoding, r.valueEncoding])).toEqual([
      ['o-1', 'text', 'json'],
      [null, 'null', 'json'],
      ['o-1', 'text', 'json'],
      ['MUG-350', 'text', 'json'],
    ])
    expect(j.records[0].value).toEqual({ step: 'order.placed', order: 'o-1' })
    // embedded byte for byte: the big integer is intact in the line
    const r = await runEvt(['trace', otel.trace, '-t', `${prefix}.*`, '--since', '1h', '-f', 'json'])
    expect(r.stdout).toContain('"value":{"amount":"12.90","currency":"EUR","id":12345678901234567890},"valueEncoding":"json"')
    // W3C traceparent names only the record's own span: four roots, in time order, none a duplicate
    expect(j.edges).toEqual([])
    expect(j.anomalies).toEqual([])

    const tree = await runEvt(['trace', otel.trace, '-t', `${prefix}.*`, '--since', '1h', '-f', 'tree'])
    const lines = tree.stdout.split('\n').slice(3)
    expect(lines.slice(0, 4).map((l) => l.replace(/  \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/, ''))).toEqual([
      `{"step":"order.placed","order":"o-1"}  ?  ${t.orders}/0@0`,
      `{"step":"payment.captured"}  ?  ${t.payments}/0@0`,
      `com.shop.payment.PaymentCaptured  ?  ${t.payments}/0@1`,
      `StockReserved  ?  ${t.inventory}/0@0`,
    ])
  })

  it('links B3 records by parent span, prints a negative hop signed with "clock skew?", and keeps the timeline causal', async () => {
    const j = await traceJson(README_TRACE_ID)
    const [placed, paid, reserved] = [`${t.orders}/0@1`, `${t.payments}/0@2`, `${t.inventory}/0@1`]
    expect(j.records.map((r) => [r.id, r.spanId, r.parentSpanId, r.parent, r.delayMs])).toEqual([
      [paid, b3.b, b3.a, placed, -250],
      [placed, b3.a, null, null, null],
      [reserved, b3.c, b3.a, placed, 40],
    ])
    expect(j.anomalies).toEqual([{ kind: 'clock-skew', message: `${paid} is stamped 250 ms before its parent ${placed} that caused it: the producers' clocks differ (clock skew?)`, records: [paid] }])

    const tree = await runEvt(['trace', README_TRACE_ID, '-t', `${prefix}.*`, '--since', '1h', '-f', 'tree'])
    expect(tree.stdout).toMatch(new RegExp(`├─ com\\.shop\\.payment\\.PaymentCaptured  \\?  ${paid.replace(/\./g, '\\.')}  \\S+ \\S+ \u2212250 ms \\(clock skew\\?\\)\n`))
    expect(tree.stdout).not.toContain('+-')

    const timeline = await runEvt(['trace', README_TRACE_ID, '-t', `${prefix}.*`, '--since', '1h', '-f', 'timeline'])
    const rows = timeline.stdout.split('\n').filter((l) => / ms │/.test(l))
    expect(rows.map((l) => l.split('│')[2].trim().split(' ')[0])).toEqual(['{"step":"order.placed","order":"o-1"}', 'com.shop.payment.PaymentCaptured', 'StockReserved'])
    expect(rows.map((l) => l.trim().split(' ms')[0])).toEqual(['0', '0', '40'])
    expect(rows[1]).toContain(`(stamped 250 ms before its parent ${placed}: clock skew?)`)
  })

  it('runs the README example of an untyped estate and prints what the README shows', async () => {
    const { command, output } = readmeExample()
    const args = command.replace(/^evt /, '').split(/\s+/).map((a) => a.replace(/^'(.*)'$/, '$1').replace('shop.*', `${prefix}.*`))
    expect(args.slice(0, 2)).toEqual(['trace', README_TRACE_ID])
    const r = await runEvt(args)
    expect(r.code, r.stderr).toBe(0)
    const norm = (l: string) => l.replaceAll(`${prefix}.`, 'shop.').replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}/g, '<time>')
    const got = r.stdout.trimEnd().split('\n').map(norm)
    expect(got[1]).toMatch(/^searched 6 topics \(.*\) from <time> to now UTC: \d+ records, .*; found 3$/)
    expect([got[0], ...got.slice(2)]).toEqual([output[0], ...output.slice(2)].map(norm))
  })

  it('draws a dead-letter hop from the consumer group that failed (mermaid and DOT)', async () => {
    const j = await traceJson(dl.trace)
    const dead = j.records.find((r) => r.id === `${t.dlt}/0@0`)!
    expect([dead.parent, dead.deadLetter?.failedIn]).toEqual([`${t.payments}/0@3`, 'payment-service'])
    const mermaid = await runEvt(['trace', dl.trace, '-t', `${prefix}.*`, '--since', '1h', '-f', 'mermaid'])
    expect(mermaid.stdout.trimEnd().split('\n').slice(2)).toEqual([
      `  ${t.orders}->>${t.orders}: OrderPlaced (${t.orders})`,
      `  ${t.orders}->>${t.payments}: PaymentRequested (${t.payments}) +10ms ⚠ dead-lettered`,
      `  payment-service->>${t.dlt}: PaymentRequested (${t.dlt}) failed in payment-service +490ms ⚠ dead-lettered`,
    ])
    const dot = await runEvt(['trace', dl.trace, '-t', `${prefix}.*`, '--since', '1h', '-f', 'dot'])
    expect(dot.stdout).toContain(`"${t.dlt}/0@0" [label="PaymentRequested\\nfailed in payment-service\\n${t.dlt}/0@0", color=red];`)
    expect(dot.stdout).toContain(`"${t.payments}/0@3" -> "${t.dlt}/0@0" [label="dead-lettered by payment-service +490 ms", color=red, style=dashed];`)
  })

  it('--expect-order exits 5 at once when the order is already violated, naming the order seen', async () => {
    const wrong = await runEvt(['trace', README_TRACE_ID, '-t', `${prefix}.*`, '--since', '1h', '-f', 'json', '--expect', 'StockReserved,PaymentCaptured', '--expect-order', '--timeout', '60s'], { timeoutMs: 60_000 })
    expect(wrong.code).toBe(5)
    expect(wrong.ms).toBeLessThan(15_000)
    expect(wrong.stderr).toContain(`evt: ${README_TRACE_ID}: event types out of order: expected StockReserved → PaymentCaptured, seen PaymentCaptured (${t.payments}/0@2) → StockReserved (${t.inventory}/0@1)\n`)
    expect(wrong.stderr).toContain('hint: StockReserved must come before PaymentCaptured')
    // a type that never came before one already written: decided as well
    const missing = await runEvt(['trace', README_TRACE_ID, '-t', `${prefix}.*`, '--since', '1h', '-f', 'json', '--expect', 'ShipmentCreated,StockReserved', '--expect-order', '--timeout', '60s'], { timeoutMs: 60_000 })
    expect(missing.code).toBe(5)
    expect(missing.ms).toBeLessThan(15_000)
    expect(missing.stderr).toContain(`event types out of order: expected ShipmentCreated → StockReserved, seen StockReserved (${t.inventory}/0@1) with ShipmentCreated missing before StockReserved`)
    // causal order, not the skewed clock: PaymentCaptured (stamped 250 ms early) came after the order
    const right = await runEvt(['trace', README_TRACE_ID, '-t', `${prefix}.*`, '--since', '1h', '-f', 'json', '--expect', 'PaymentCaptured,StockReserved', '--expect-order', '--timeout', '60s'], { timeoutMs: 60_000 })
    expect(right.code, right.stderr).toBe(0)
    expect(right.stderr).toContain('all expected event types seen: PaymentCaptured, StockReserved')
  })

  it('flags STALLED requests: a record a group has not consumed, a last record consumed with nothing after it', async () => {
    const pending = await traceJson(stalled.pending)
    expect(pending.anomalies.map((a) => [a.kind, a.records])).toEqual([['stalled', [`${t.shipping}/0@0`]]])
    expect(pending.anomalies[0].message).toMatch(new RegExp(`^ShipmentRequested \\(${t.shipping.replace(/\./g, '\\.')}/0@0\\) not consumed by ${prefix}-carrier \\(lag 1\\) for 1\\d min( \\d+ s)?$`))
    const consumed = await traceJson(stalled.consumed)
    expect(consumed.anomalies.map((a) => [a.kind, a.records])).toEqual([['stalled', [`${t.invoices}/0@0`]]])
    expect(consumed.anomalies[0].message).toMatch(new RegExp(`^request stalled after InvoiceIssued \\(${t.invoices.replace(/\./g, '\\.')}/0@0\\): consumed by ${prefix}-mailer, and nothing followed for 1\\d min( \\d+ s)?$`))
    const tree = await runEvt(['trace', stalled.consumed, '-t', `${prefix}.*`, '--since', '1h', '-f', 'tree'])
    expect(tree.stdout).toMatch(/^InvoiceIssued  \?  .* \[STALLED\]  ✓.*-mailer$/m)
    expect(tree.stdout).toMatch(/^  STALLED  request stalled after InvoiceIssued/m)
    // the same request within --stall-after, and a fresh one: not stalled
    expect((await traceJson(stalled.consumed, ['--stall-after', '1h'])).anomalies).toEqual([])
    expect((await traceJson(stalled.fresh)).anomalies).toEqual([])
    // the profile's default
    const dir = `${ROOT}/.cache/test-${prefix}.yaml`
    const { writeFileSync, rmSync } = await import('node:fs')
    writeFileSync(dir, `default: local\nprofiles:\n  local:\n    brokers: 127.0.0.1:9092\n    trace:\n      stallAfter: 15m\n`)
    try {
      const r = await runEvt(['trace', stalled.consumed, '-t', `${prefix}.*`, '--since', '1h', '-f', 'json'], { env: { EVT_CONFIG: dir, EVT_BROKERS: undefined } })
      expect(r.code, r.stderr).toBe(0)
      expect((JSON.parse(r.stdout) as TraceJson).anomalies).toEqual([])
      const bad = await runEvt(['trace', stalled.consumed, '--stall-after', 'soon'])
      expect([bad.code, bad.stderr.split('\n')[0]]).toEqual([2, 'evt: --stall-after: "soon" is not a duration'])
    } finally {
      rmSync(dir, { force: true })
    }
  })
})
