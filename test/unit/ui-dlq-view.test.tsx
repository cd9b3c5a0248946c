import { stripVTControlCharacters } from 'node:util'
import { cleanup, render } from 'ink-testing-library'
import { afterEach, describe, expect, it } from 'vitest'
import { parseFailure } from '../../src/dlq/failure.ts'
import type { DlqRecord } from '../../src/services/dlq-inspect.ts'
import type { RequeuePlan } from '../../src/services/dlq-requeue.ts'
import { CONFIRM_HELP, DlqView, KEY_HELP } from '../../src/ui/dlq/DlqView.tsx'
import { dlqReducer, initialDlqState, type DlqAction, type DlqBrowserState, type KeyInfo } from '../../src/ui/state/dlq-state.ts'
import { dlqRecord, SPRING_STACKTRACE, springDltHeaders } from '../support/fixtures/dlq-headers.ts'

const NPE = { fqcn: 'java.lang.NullPointerException', causeFqcn: null, message: 'customer is null', stacktrace: 'java.lang.NullPointerException: customer is null\n\tat com.acme.A.b(A.java:1)' }

function item(partition: number, offset: number, failure: Parameters<typeof springDltHeaders>[0] = { stacktrace: SPRING_STACKTRACE }, extraHeaders: Array<[string, string | null]> = []): DlqRecord {
  const record = dlqRecord(springDltHeaders(failure), { topic: 'orders-dlt', partition, offset: String(offset), key: `order-${offset}`, timestamp: Date.UTC(2026, 10, 29, 14, 0, offset), headers: extraHeaders })
  return { record, failure: parseFailure(record.headers) }
}

const records = [item(0, 1, undefined, [['traceparent', '00-abc-def-01'], ['correlation-id', null]]), item(0, 2, NPE), item(0, 4), item(1, 2, { ...NPE, topic: 'payments' }), item(1, 5)]
const press = (input: string, key: KeyInfo = {}): DlqAction => ({ type: 'key', input, key })
const state = (...actions: DlqAction[]) => actions.reduce(dlqReducer, dlqReducer(initialDlqState({ topic: 'brw-1.orders-dlt' }), { type: 'records', records, scanned: 5 }))

function frame(s: DlqBrowserState, height = 30, width = 120): string {
  const { lastFrame } = render(<DlqView state={s} height={height} width={width} />)
  return stripVTControlCharacters(lastFrame() ?? '')
}

afterEach(() => cleanup())

describe('DlqView', () => {
  it('shows the groups with counts and the records of the selected group', () => {
    const text = frame(state())
    expect(text).toContain('evt dlq inspect brw-1.orders-dlt · grouped by reason (g)')
    expect(text).toContain('REASON (2)')
    expect(text).toMatch(/›3 SocketTimeoutException: Read timed out/)
    expect(text).toMatch(/ 2 NullPointerException: customer is null/)
    expect(text).toContain('RECORDS 3 · SocketTimeoutException: Read timed out')
    expect(text).toContain('›[ ] 0@1 2026-11-29 14:00:01 orders order-1')
    expect(text).toContain(' [ ] 0@4 2026-11-29 14:00:04 orders order-4')
    expect(text).toContain(' [ ] 1@5 2026-11-29 14:00:05 orders order-5')
    expect(text).not.toContain('order-2')
    expect(text).toContain('5 records · 5 read · 2 groups · 0 marked · reading…')
    expect(text).toContain(KEY_HELP)
  })

  it('marks records the requeue ledger lists (after a requeue: the ledger action), in the list and the detail pane', () => {
    const ledger = { topic: 'brw-1.orders-dlt.evt-requeued', exists: true, malformed: 0, entries: new Map([
      ['0/4', { dlq: 'brw-1.orders-dlt', partition: 0, offset: 4, dlqTimestamp: Date.UTC(2026, 10, 29, 14, 0, 4), requeuedAt: Date.UTC(2026, 10, 30, 9, 15, 0), topic: 'orders', toPartition: 2, requeueCount: 2, progressGroup: 'g' }],
      // an entry of an earlier incarnation of the DLQ (another timestamp at that offset): not this record's
      ['1/5', { dlq: 'brw-1.orders-dlt', partition: 1, offset: 5, dlqTimestamp: 1, requeuedAt: 2, topic: 'orders', toPartition: 0, requeueCount: 1, progressGroup: 'g' }],
    ]) }
    const s = state({ type: 'ledger', ledger })
    const text = frame(s)
    expect(text).toContain(' [ ] 0@4 ↻ 2026-11-29 14:00:04 orders order-4')
    expect(text).toContain(' [ ] 1@5 2026-11-29 14:00:05 orders order-5')
    expect(text).toContain('›[ ] 0@1 2026-11-29 14:00:01 orders order-1')
    const detail = frame([press('', { rightArrow: true }), press('', { downArrow: true }), press('', { return: true })].reduce(dlqReducer, s), 40)
    expect(detail).toContain('requeued  2026-11-30 09:15:00 UTC → orders/2 (requeue 2)')
  })

  it('shows the other group\'s records when it is selected, and another grouping after g', () => {
    const text = frame(state(press('', { downArrow: true })))
    expect(text).toContain('RECORDS 2 · NullPointerException: customer is null')
    expect(text).toContain('0@2 2026-11-29 14:00:02 orders order-2')
    expect(text).toContain('1@2 2026-11-29 14:00:02 payments order-2')
    const byTopic = frame(state(press('g')))
    expect(byTopic).toContain('grouped by original topic')
    expect(byTopic).toContain('ORIGINAL TOPIC (2)')
    expect(byTopic).toMatch(/›4 orders/)
    expect(byTopic).toMatch(/ 1 payments/)
  })

  it('shows marks in the records and groups, and their count', () => {
    const text = frame(state(press('', { rightArrow: true }), press(' '), press('', { downArrow: true }), press(' '), press('', { leftArrow: true }), press('', { downArrow: true })))
    expect(text).toContain('2 marked')
    expect(text).toMatch(/3 ✓2 SocketTimeoutException/)
    const records = frame(state(press('', { rightArrow: true }), press(' ')))
    expect(records).toContain('›[x] 0@1')
    expect(records).toContain(' [ ] 0@4')
  })

  it('shows the detail: failure fields, a folded stack trace, the other headers (a null one too) and the value', () => {
    const text = frame(state(press('', { rightArrow: true }), press('', { return: true })), 40)
    expect(text).toContain('orders-dlt/0@1 2026-11-29T14:00:01.000Z key order-1')
    expect(text).toContain('failure (spring-dlt)')
    expect(text).toContain('exception org.springframework.kafka.listener.ListenerExecutionFailedException')
    expect(text).toContain('cause     java.net.SocketTimeoutException: Read timed out')
    expect(text).toContain('from      orders/3@42  2023-11-14 22:13:20Z (CreateTime)')
    expect(text).toContain('group     payment-service')
    expect(text).toContain('stack trace (folded):')
    expect(text).toContain('    at org.springframework.kafka.listener.KafkaMessageListenerContainer$ListenerConsumer.decorateException')
    expect(text).toContain('Caused by: java.net.SocketTimeoutException: Read timed out')
    expect(text).toContain('… 5 more lines (s expands)')
    expect(text).not.toContain('NioSocketImpl')
    expect(text).toContain('headers (2) + 10 dead-letter headers parsed above:')
    expect(text).toContain('traceparent: 00-abc-def-01')
    expect(text).toContain('correlation-id: (null)')
    expect(text).toContain('value (json):')
    expect(text).toContain('"orderId": "order-1042"')
    expect(text).toContain('↑↓ scroll · s stack · space mark · r requeue · esc back · q quit')
    // s expands the whole stack trace
    const expanded = frame(state(press('', { rightArrow: true }), press('', { return: true }), press('s')), 40)
    expect(expanded).toContain('NioSocketImpl.timedRead')
    expect(expanded).toContain('stack trace:')
  })

  it('shows the confirmation with the plan, then progress and the result in the status line', () => {
    const plan: RequeuePlan = { dlqTopic: 'brw-1.orders-dlt', progressGroup: '_evt-requeue-brw-1.orders-dlt-0a1b2c3d', partitions: [{ partition: 0, start: 0, end: 5 }], targets: [{ topic: 'orders', records: 2 }], classes: [], skipped: { filtered: 2 }, missingTargets: [], refusedTargets: [], unexpectedTargets: [], ledger: { topic: 'brw-1.orders-dlt.evt-requeued', exists: true, entries: 0 }, again: false, alreadyRequeued: [], alreadyRequeuedCount: 0 }
    const asked = state(press('', { rightArrow: true }), press(' '), press('', { downArrow: true }), press(' '), press('r'))
    expect(frame(asked)).toContain('Requeue 2 marked records?')
    expect(frame(asked)).toContain('planning: reading the DLQ…')
    const ready = dlqReducer(asked, { type: 'plan-ready', seq: 1, plan })
    const text = frame(ready)
    expect(text).toContain('Requeue 2 of the 2 marked records?')
    expect(text).toContain('2 → orders')
    expect(text).toContain('progress group _evt-requeue-brw-1.orders-dlt-0a1b2c3d')
    expect(text).toContain(CONFIRM_HELP)
    const running = dlqReducer(dlqReducer(ready, press('y')), { type: 'requeue-progress', seq: 1, progress: { moved: 1, skipped: {}, done: 2, total: 5, startedAt: 0, byTarget: { orders: 1 } } })
    expect(frame(running)).toContain('requeue: 2/5 DLQ offsets · 1 sent')
    const done = dlqReducer(running, { type: 'requeue-done', seq: 1, summary: { moved: 2, skipped: { filtered: 2 }, done: 5, total: 5, startedAt: 0, byTarget: { orders: 2 }, elapsedMs: 800, interrupted: false } })
    expect(frame(done)).toContain('requeue done: 2 sent (2 → orders) · skipped: 2 not marked · 0.8 s')
    expect(frame(done)).toContain('0 marked')
  })

  it('says when more records exist than are kept', () => {
    const s = [item(0, 5), item(0, 6), item(0, 7)].reduce((st, r) => dlqReducer(st, { type: 'records', records: [r] }), initialDlqState({ topic: 'dlt', capacity: 2 }))
    const text = frame(dlqReducer(s, { type: 'end' }))
    expect(text).toContain('3 records')
    expect(text).toContain('showing the first 2 of 3 (limit 2; narrow with -o or --filter)')
    expect(text).toContain('RECORDS 3 (2 loaded)')
    expect(text).toContain('all read')
  })
})
