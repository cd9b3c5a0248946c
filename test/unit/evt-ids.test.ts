import { describe, expect, it } from 'vitest'
import { evtGroup, indexGroup, isEvtGroup, legacyReplayProgressGroup, legacyRequeueProgressGroup, replayProgressGroup, requeueProgressGroup } from '../../src/kafka/evt-ids.ts'

describe("evt's own group ids", () => {
  it('names replay and requeue groups with the _evt- prefix, and reads them back', () => {
    expect(replayProgressGroup('rp-20261129-141500-3fa2')).toBe('_evt-replay-rp-20261129-141500-3fa2')
    expect(requeueProgressGroup('payments.events-dlt', '0a1b2c3d')).toBe('_evt-requeue-payments.events-dlt-0a1b2c3d')
    expect(evtGroup('_evt-replay-rp-20261129-141500-3fa2')).toEqual({ kind: 'replay', replayId: 'rp-20261129-141500-3fa2', legacy: false })
    expect(evtGroup('_evt-requeue-payments.events-dlt-0a1b2c3d')).toEqual({ kind: 'requeue', dlqTopic: 'payments.events-dlt', selectionHash: '0a1b2c3d', legacy: false })
  })

  it('recognises the names from before the prefix', () => {
    expect(legacyReplayProgressGroup('rp-20250101-000000-beef')).toBe('evt-replay-rp-20250101-000000-beef')
    expect(evtGroup(legacyRequeueProgressGroup('orders-dlt', 'deadbeef'))).toEqual({ kind: 'requeue', dlqTopic: 'orders-dlt', selectionHash: 'deadbeef', legacy: true })
    expect(evtGroup('evt-replay-rp-20250101-000000-beef')).toEqual({ kind: 'replay', replayId: 'rp-20250101-000000-beef', legacy: true })
    expect(evtGroup('evt-dlq-requeue-odd')).toEqual({ kind: 'other', legacy: true })
    expect(evtGroup(indexGroup('orders'))).toEqual({ kind: 'index', name: 'orders', legacy: false })
    expect(indexGroup('default')).toBe('_evt-index-default')
  })

  it("leaves the user's groups alone", () => {
    for (const g of ['shipping-service', 'evt-consumer', 'evt', '_confluent-ksql-x', 'my-evt-replay-1', 'replay-service']) expect(isEvtGroup(g), g).toBe(false)
    expect(isEvtGroup('_evt-something-new')).toBe(true)
  })
})
