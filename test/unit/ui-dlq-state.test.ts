import { describe, expect, it } from 'vitest'
import { parseFailure } from '../../src/dlq/failure.ts'
import type { MoveSummary } from '../../src/replay/move.ts'
import type { DlqRecord } from '../../src/services/dlq-inspect.ts'
import { requeueGroup, type RequeuePlan } from '../../src/services/dlq-requeue.ts'
import { dlqDetailLines, planLines, stackLines, summaryText } from '../../src/ui/dlq/format.ts'
import { markedFilterText, markedRequeue } from '../../src/ui/dlq/marked.ts'
import { actionForKey, dlqReducer, initialDlqState, markedRecords, selectedGroup, selectedRecord, type DlqAction, type DlqBrowserState, type KeyInfo } from '../../src/ui/state/dlq-state.ts'
import { dlqRecord, SPRING_STACKTRACE, springDltHeaders } from '../support/fixtures/dlq-headers.ts'

const TIMEOUT = { causeFqcn: 'java.net.SocketTimeoutException', stacktrace: SPRING_STACKTRACE }
const NPE = { fqcn: 'java.lang.NullPointerException', causeFqcn: null, message: 'customer is null', stacktrace: 'java.lang.NullPointerException: customer is null\n\tat com.acme.A.b(A.java:1)' }

function item(partition: number, offset: number, failure: Parameters<typeof springDltHeaders>[0] = TIMEOUT): DlqRecord {
  const record = dlqRecord(springDltHeaders(failure), { topic: 'orders-dlt', partition, offset: String(offset), key: `order-${offset}`, timestamp: 1_700_000_000_000 + offset })
  return { record, failure: parseFailure(record.headers) }
}

const run = (state: DlqBrowserState, ...actions: DlqAction[]) => actions.reduce(dlqReducer, state)
const press = (input: string, key: KeyInfo = {}): DlqAction => ({ type: 'key', input, key })
const fresh = (options: Parameters<typeof initialDlqState>[0] = {}) => initialDlqState({ topic: 'orders-dlt', ...options })

// 3 timeouts (orders), 2 NPEs (one from payments), in arrival order
const timeouts = [item(0, 1), item(0, 4), item(1, 2)]
const npes = [item(0, 2, NPE), item(1, 7, { ...NPE, topic: 'payments' })]
const loaded = () => run(fresh(), { type: 'records', records: [timeouts[0], npes[0], timeouts[1]] }, { type: 'records', records: [npes[1], timeouts[2]], scanned: 9 })

const plan = (targets: RequeuePlan['targets'], skipped: Record<string, number> = {}): RequeuePlan => ({ dlqTopic: 'orders-dlt', progressGroup: '_evt-requeue-orders-dlt-1234abcd', partitions: [{ partition: 0, start: 0, end: 5 }], targets, classes: [], skipped, missingTargets: [], refusedTargets: [], unexpectedTargets: [], ledger: { topic: 'orders-dlt.evt-requeued', exists: true, entries: 0 }, again: false, alreadyRequeued: [], alreadyRequeuedCount: 0 })
const summary = (moved: number, skipped: Record<string, number>, interrupted = false): MoveSummary => ({ moved, skipped, done: 10, total: 10, startedAt: 0, byTarget: moved ? { orders: moved } : {}, elapsedMs: 1234, interrupted })

describe('dlq browser state: records and groups', () => {
  it('groups by reason by default, by count then key, with the indices of their records', () => {
    const state = loaded()
    expect(state.groupBy).toBe('reason')
    expect(state.groups.map((g) => [g.key, g.count, g.records])).toEqual([
      ['SocketTimeoutException: Read timed out', 3, [0, 2, 4]],
      ['NullPointerException: customer is null', 2, [1, 3]],
    ])
    expect(state.received).toBe(5)
    expect(state.scanned).toBe(9)
    expect(selectedRecord(state)?.record.offset).toBe('1')
  })

  it('keeps only the first `capacity` records, and counts the rest in every grouping', () => {
    // Given a browser keeping 2 records
    let state = fresh({ capacity: 2 })
    // When 5 arrive, plus 4 only counted (runner overflow)
    state = run(state, { type: 'records', records: [timeouts[0], npes[0], timeouts[1]] }, { type: 'records', records: [npes[1]], overflow: [{ keys: { exception: 'x.Y', reason: 'Y', 'original-topic': 'orders', stage: null }, count: 4 }] })
    // Then 2 are kept, 8 counted, and the groups count all of them
    expect(state.records.map((r) => r.record.offset)).toEqual(['1', '2'])
    expect(state.received).toBe(8)
    expect(state.groups.map((g) => [g.key, g.count, g.records.length])).toEqual([
      ['Y', 4, 0],
      ['NullPointerException: customer is null', 2, 1],
      ['SocketTimeoutException: Read timed out', 2, 1],
    ])
    expect(run(state, { type: 'group-by', groupBy: 'original-topic' }).groups.map((g) => [g.key, g.count])).toEqual([
      ['orders', 7],
      ['payments', 1],
    ])
  })

  it('g cycles reason → original topic → stage → exception → reason; the selected record stays selected', () => {
    let state = run(loaded(), press('', { downArrow: true }), press('', { rightArrow: true }), press('', { downArrow: true }))
    expect(selectedRecord(state)?.record.offset).toBe('7')
    const seen: string[] = []
    for (let i = 0; i < 4; i++) {
      state = run(state, press('g'))
      seen.push(state.groupBy)
      expect(selectedRecord(state)?.record.offset).toBe('7')
    }
    expect(seen).toEqual(['original-topic', 'stage', 'exception', 'reason'])
    expect(run(state, press('g')).groups.map((g) => [g.key, g.count])).toEqual([
      ['orders', 4],
      ['payments', 1],
    ])
    // no Connect stage in Spring headers: one group "(none)"
    expect(run(state, press('g'), press('g')).groups.map((g) => [g.key, g.count])).toEqual([[null, 5]])
  })

  it('the selected group follows its key when counts re-sort it', () => {
    // Given the NPE group selected (second)
    let state = run(loaded(), press('', { downArrow: true }))
    expect(selectedGroup(state)?.key).toMatch(/^NullPointer/)
    // When more NPEs arrive and it becomes the first group
    state = run(state, { type: 'records', records: [item(2, 1, NPE), item(2, 2, NPE)] })
    // Then it is still selected
    expect(state.groups[0].key).toMatch(/^NullPointer/)
    expect(state.group).toBe(0)
    expect(selectedGroup(state)?.count).toBe(4)
  })
})

describe('dlq browser state: keys', () => {
  it('←/→ and tab switch panes; ↑/↓ select in the focused pane; moving to another group selects its first record', () => {
    let state = loaded()
    expect(state.pane).toBe('groups')
    state = run(state, press('', { rightArrow: true }), press('', { downArrow: true }), press('', { downArrow: true }), press('', { downArrow: true }))
    expect(state.pane).toBe('records')
    expect(state.record).toBe(2)
    state = run(state, press('', { tab: true }))
    expect(state.pane).toBe('groups')
    state = run(state, press('', { downArrow: true }))
    expect(state.group).toBe(1)
    expect(state.record).toBe(0)
    expect(run(state, press('', { downArrow: true })).group).toBe(1) // stays at the last
    expect(run(state, press('', { leftArrow: true })).pane).toBe('groups')
    // enter in the groups pane goes to the records
    expect(run(state, press('', { return: true })).pane).toBe('records')
  })

  it('space marks and unmarks the selected record; a marks the whole group, then unmarks it', () => {
    let state = run(loaded(), press('', { rightArrow: true }), press(' '), press('', { downArrow: true }), press(' '))
    expect([...state.marks]).toEqual(['0@1', '0@4'])
    state = run(state, press(' '))
    expect([...state.marks]).toEqual(['0@1'])
    state = run(state, press('a'))
    expect([...state.marks].sort()).toEqual(['0@1', '0@4', '1@2'])
    expect(run(state, press('a')).marks.size).toBe(0)
    // marks survive regrouping, and are listed sorted by partition then offset
    state = run(state, press('', { leftArrow: true }), press('', { downArrow: true }), press(' '), press('g'))
    expect(markedRecords(state)).toEqual([
      { partition: 0, offset: '1' },
      { partition: 0, offset: '2' },
      { partition: 0, offset: '4' },
      { partition: 1, offset: '2' },
    ])
  })

  it('enter opens the detail of the selected record; s expands the stack trace; ↑/↓ scroll within bounds; esc closes', () => {
    let state = run(loaded(), press('', { rightArrow: true }), press('', { return: true }))
    expect(state.detail).toEqual({ scroll: 0, lines: dlqDetailLines(timeouts[0], false).length })
    const folded = state.detail!.lines
    state = run(state, press('s'))
    expect(state.stackExpanded).toBe(true)
    expect(state.detail!.lines).toBeGreaterThan(folded)
    state = run(state, press('', { pageDown: true }), press('', { pageDown: true }), press('', { pageDown: true }), press('', { pageDown: true }))
    expect(state.detail!.scroll).toBe(state.detail!.lines - 1)
    state = run(state, press('s'))
    expect(state.detail!.scroll).toBe(folded - 1)
    state = run(state, press('', { upArrow: true }), press(' '))
    expect(state.detail!.scroll).toBe(folded - 2)
    expect([...state.marks]).toEqual(['0@1'])
    expect(run(state, press('', { escape: true })).detail).toBeUndefined()
  })

  it('q quits and Ctrl-C interrupts, also with the confirmation open', () => {
    expect(run(loaded(), press('q')).exit).toBe('quit')
    expect(run(loaded(), press('c', { ctrl: true })).exit).toBe('interrupt')
    const asking = run(loaded(), press(' '), press('r'))
    expect(asking.confirm).toBeDefined()
    expect(run(asking, press('q')).exit).toBe('quit')
    expect(actionForKey(asking, 'x', {})).toBeUndefined()
  })
})

describe('dlq browser state: requeue', () => {
  it('r with nothing marked says how to mark', () => {
    const state = run(loaded(), press('r'))
    expect(state.confirm).toBeUndefined()
    expect(state.notice).toMatch(/nothing marked/)
    // the next key clears it
    expect(run(state, press('', { downArrow: true })).notice).toBeUndefined()
  })

  it('r asks for a plan of the marked records; the plan opens the confirmation; y starts the requeue; the result clears the marks', () => {
    // Given two records marked
    let state = run(loaded(), press('', { rightArrow: true }), press('', { downArrow: true }), press(' '), press('', { upArrow: true }), press(' '))
    // When r is pressed
    state = run(state, press('r'))
    // Then the confirmation waits for the plan of exactly these records
    expect(state.confirm).toEqual({ seq: 1, phase: 'planning', marked: [{ partition: 0, offset: '1' }, { partition: 0, offset: '4' }] })
    expect(run(state, press('y')).confirm?.phase).toBe('planning') // no answer before the plan
    expect(run(state, press('', { downArrow: true })).record).toBe(state.record) // the list is not moved meanwhile
    // a stale plan is ignored
    expect(run(state, { type: 'plan-ready', seq: 0, plan: plan([]) }).confirm?.phase).toBe('planning')
    state = run(state, { type: 'plan-ready', seq: 1, plan: plan([{ topic: 'orders', records: 2 }], { filtered: 3 }) })
    expect(state.confirm?.phase).toBe('ready')
    // When y
    state = run(state, press('y'))
    expect(state.confirm).toBeUndefined()
    expect(state.requeue).toMatchObject({ seq: 1, phase: 'running', marked: [{ partition: 0, offset: '1' }, { partition: 0, offset: '4' }] })
    expect(run(state, press('r')).notice).toBe('a requeue is running')
    state = run(state, { type: 'requeue-progress', seq: 1, progress: { moved: 1, skipped: {}, done: 3, total: 5, startedAt: 0, byTarget: { orders: 1 } } })
    expect(state.requeue?.phase === 'running' && state.requeue.progress?.moved).toBe(1)
    state = run(state, { type: 'requeue-done', seq: 1, summary: summary(2, { filtered: 3 }) })
    // Then the result is kept for the status line and the sent records are unmarked
    expect(state.requeue).toMatchObject({ phase: 'done', summary: { moved: 2 } })
    expect(state.marks.size).toBe(0)
  })

  it('n cancels; a plan with nothing to send closes on y; a failed plan or requeue is kept as an error', () => {
    const asked = run(loaded(), press(' '), press('r'))
    const cancelled = run(asked, { type: 'plan-ready', seq: 1, plan: plan([{ topic: 'orders', records: 1 }]) }, press('n'))
    expect(cancelled.confirm).toBeUndefined()
    expect(cancelled.requeue).toBeUndefined()
    expect(cancelled.notice).toMatch(/cancelled/)
    expect(cancelled.marks.size).toBe(1)
    const empty = run(asked, { type: 'plan-ready', seq: 1, plan: plan([], { filtered: 4 }) }, press('y'))
    expect(empty.requeue).toBeUndefined()
    expect(empty.notice).toBe('nothing to requeue')
    const failed = run(asked, { type: 'plan-failed', seq: 1, error: 'topic not found' })
    expect(failed.confirm).toMatchObject({ phase: 'failed', error: 'topic not found' })
    expect(run(failed, press('', { escape: true })).confirm).toBeUndefined()
    const running = run(asked, { type: 'plan-ready', seq: 1, plan: plan([{ topic: 'orders', records: 1 }]) }, press('y'))
    expect(run(running, { type: 'requeue-failed', seq: 1, error: 'boom' }).requeue).toMatchObject({ phase: 'failed', error: 'boom' })
    // an interrupted requeue keeps the marks
    expect(run(running, { type: 'requeue-done', seq: 1, summary: summary(0, {}, true) }).marks.size).toBe(1)
    // a second r asks again with a new request number
    expect(run(cancelled, press('r')).confirm).toMatchObject({ seq: 2, phase: 'planning' })
  })
})

describe('dlq browser: requeue selection and texts', () => {
  it('the marked requeue accepts exactly the marked records over start:end, with a stable filter text', () => {
    const marked = [{ partition: 1, offset: '2' }, { partition: 0, offset: '10' }, { partition: 0, offset: '9' }]
    const { request, filterText } = markedRequeue('orders-dlt', marked)
    expect(filterText).toBe('marked:0@9,0@10,1@2')
    expect(markedFilterText([...marked].reverse())).toBe(filterText)
    expect(request).toMatchObject({ dlqTopic: 'orders-dlt', range: { from: { kind: 'start' }, to: { kind: 'end' } }, partitions: [0, 1] })
    const accepts = (partition: number, offset: number) => request.filter!(item(partition, offset).record, item(partition, offset).failure)
    expect([accepts(0, 9), accepts(0, 10), accepts(1, 2)]).toEqual([true, true, true])
    expect([accepts(0, 2), accepts(1, 9), accepts(2, 10)]).toEqual([false, false, false])
    // the progress group is the selection's: same set → same group, another set → another
    const again = markedRequeue('orders-dlt', [...marked].reverse())
    expect(requeueGroup(again.request, again.filterText)).toBe(requeueGroup(request, filterText))
    const other = markedRequeue('orders-dlt', marked.slice(1))
    expect(requeueGroup(other.request, other.filterText)).not.toBe(requeueGroup(request, filterText))
  })

  it('folds a stack trace to its first lines and causes', () => {
    const folded = stackLines(SPRING_STACKTRACE, false).map((l) => l.text)
    expect(folded).toHaveLength(6)
    expect(folded[4]).toBe('Caused by: java.net.SocketTimeoutException: Read timed out')
    expect(folded[5]).toBe('… 5 more lines (s expands)')
    expect(folded.join('\n')).not.toContain('\t')
    expect(stackLines(SPRING_STACKTRACE, true)).toHaveLength(SPRING_STACKTRACE.split('\n').length + 1)
  })

  it('plan and result texts: per target topic, skips by reason (not marked apart), earlier runs', () => {
    expect(planLines(plan([{ topic: 'orders', records: 2 }], { filtered: 7, 'loop-guard': 1 }), 3)).toEqual([
      'Requeue 2 of the 3 marked records?',
      '  2 → orders',
      '  skipped: 1 loop-guard',
      '  progress group _evt-requeue-orders-dlt-1234abcd',
    ])
    expect(planLines(plan([], { filtered: 7 }), 2)[0]).toBe('Nothing to requeue of the 2 marked records.')
    expect(planLines(plan([], { filtered: 7 }), 2)[1]).toBe('  2 already requeued by an earlier run of this selection')
    expect(summaryText(summary(2, { filtered: 7, 'loop-guard': 1 }))).toBe('requeue done: 2 sent (2 → orders) · skipped: 7 not marked, 1 loop-guard · 1.2 s')
  })
})
