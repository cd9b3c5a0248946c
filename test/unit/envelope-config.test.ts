import { describe, expect, it } from 'vitest'
import { EvtError } from '../../src/errors.ts'
import { createExtractor, DEFAULT_ENVELOPE_CONFIG, EXTRACTOR_NAMES } from '../../src/envelope/index.ts'
import { axonEvent } from '../support/fixtures/axon.ts'
import { buildRecord } from '../support/fixtures/envelope-record.ts'
import { plainHeaderRecord } from '../support/fixtures/plain-headers.ts'
import { seedEnvelope } from '../support/fixtures/seed-envelope.ts'
import { SPAN_ID, TRACE_ID, traceparentHeader } from '../support/fixtures/trace-context.ts'

describe('EnvelopeConfig', () => {
  it('defaults list every extractor, in priority order, and are frozen', () => {
    expect([...DEFAULT_ENVELOPE_CONFIG.order].sort()).toEqual([...EXTRACTOR_NAMES].sort())
    expect(DEFAULT_ENVELOPE_CONFIG.order[0]).toBe('seed')
    expect(DEFAULT_ENVELOPE_CONFIG.order.slice(-2)).toEqual(['traceparent', 'b3'])
    expect(Object.isFrozen(DEFAULT_ENVELOPE_CONFIG)).toBe(true)
    expect(Object.isFrozen(DEFAULT_ENVELOPE_CONFIG.correlationHeaders)).toBe(true)
  })

  it('custom correlation/causation/event-id header names replace the defaults', () => {
    const rec = plainHeaderRecord([
      ['correlation_id', 'default-name'],
      ['X-Request-Id', 'req_custom'],
      ['x-parent-event', 'evt-parent'],
      ['x-evt', 'evt-self'],
    ])
    expect(createExtractor()(rec)).toStrictEqual({ correlationId: 'default-name', conventions: ['headers'] })
    const custom = createExtractor({ correlationHeaders: ['x-request-id'], causationHeaders: ['X-Parent-Event'], eventIdHeaders: ['x-evt'] })
    expect(custom(rec)).toStrictEqual({ eventId: 'evt-self', correlationId: 'req_custom', causationId: 'evt-parent', conventions: ['headers'] })
  })

  it('a default list can be extended by spreading it', () => {
    const extract = createExtractor({ correlationHeaders: [...DEFAULT_ENVELOPE_CONFIG.correlationHeaders, 'x-request-id'] })
    expect(extract(plainHeaderRecord([['x-request-id', 'r1']])).correlationId).toBe('r1')
    expect(extract(plainHeaderRecord([['correlation_id', 'c1'], ['x-request-id', 'r1']])).correlationId).toBe('c1')
  })

  it('custom JSON paths, including an array index', () => {
    const rec = buildRecord({ value: JSON.stringify({ ctx: { corr: 'req_5', chain: [{ id: 'evt-4' }] }, header: { id: 'evt-5', kind: 'OrderPaid' } }) })
    expect(createExtractor()(rec)).toStrictEqual({ conventions: [] })
    const extract = createExtractor({ correlationPaths: ['ctx.corr'], causationPaths: ['ctx.chain.0.id'], eventIdPaths: ['header.id'], eventTypePaths: ['header.kind'] })
    expect(extract(rec)).toStrictEqual({ eventId: 'evt-5', eventType: 'OrderPaid', correlationId: 'req_5', causationId: 'evt-4', conventions: ['json'] })
  })

  it('order decides which convention wins a field', () => {
    const rec = seedEnvelope({}, { headers: [traceparentHeader()] })
    expect(createExtractor()(rec)).toMatchObject({ correlationId: 'req_7f3c9a', conventions: ['seed', 'traceparent'] })
    const traceFirst = createExtractor({ order: ['traceparent', 'seed'] })(rec)
    expect(traceFirst).toMatchObject({ correlationId: TRACE_ID, spanId: SPAN_ID, eventType: 'OrderPlaced', conventions: ['traceparent', 'seed'] })
  })

  it('json paths before seed: a custom path wins over the seed envelope field', () => {
    const rec = buildRecord({ value: JSON.stringify({ event_id: 'e1', event_type: 'OrderPlaced', metadata: { correlation_id: 'seed-corr' }, tenant: { request: 'tenant-corr' } }) })
    expect(createExtractor({ correlationPaths: ['tenant.request'] })(rec).correlationId).toBe('seed-corr')
    expect(createExtractor({ order: ['json', 'seed'], correlationPaths: ['tenant.request'] })(rec)).toStrictEqual({
      eventId: 'e1',
      eventType: 'OrderPlaced',
      correlationId: 'tenant-corr',
      conventions: ['json'],
    })
  })

  it('extractors left out of order are off', () => {
    const onlyAxon = createExtractor({ order: ['axon'] })
    expect(onlyAxon(seedEnvelope())).toStrictEqual({ conventions: [] })
    expect(onlyAxon(axonEvent()).conventions).toEqual(['axon'])
    expect(createExtractor({ order: [] })(axonEvent())).toStrictEqual({ conventions: [] })
  })

  it('an unknown extractor name is a usage error naming the known ones', () => {
    let error: unknown
    try {
      createExtractor({ order: ['seed', 'zipkin'] })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(EvtError)
    expect((error as EvtError).kind).toBe('usage')
    expect((error as EvtError).message).toContain('zipkin')
    expect((error as EvtError).hint).toContain('cloudevents-binary')
  })

  it('one extractor over many records: nothing leaks from one record to the next', () => {
    const extract = createExtractor()
    expect(extract(plainHeaderRecord([['X-Correlation-ID', 'a'], traceparentHeader()])).correlationId).toBe('a')
    expect(extract(plainHeaderRecord([]))).toStrictEqual({ conventions: [] })
    expect(extract(plainHeaderRecord([['x-correlation-id', 'b']]))).toStrictEqual({ correlationId: 'b', conventions: ['headers'] })
    expect(extract(buildRecord({ value: '{"correlation_id":"c"}' }))).toStrictEqual({ correlationId: 'c', conventions: ['json'] })
    expect(extract(buildRecord({ value: null }))).toStrictEqual({ conventions: [] })
  })

  it('handles many distinct header keys (slot cache bound) without losing known ones', () => {
    const extract = createExtractor()
    for (let i = 0; i < 12_000; i++) extract(plainHeaderRecord([[`x-unique-${i}`, 'v']]))
    expect(extract(plainHeaderRecord([['X-Correlation-ID', 'still']])).correlationId).toBe('still')
  })
})
