import { describe, expect, it } from 'vitest'
import { createExtractor } from '../../src/envelope/index.ts'
import { axonEvent, AXON_DEFAULTS } from '../support/fixtures/axon.ts'
import { CLOUDEVENT_DEFAULTS, cloudEventBinary, cloudEventStructured } from '../support/fixtures/cloudevents.ts'
import { debeziumOutbox, OUTBOX_DEFAULTS, type OutboxConverter } from '../support/fixtures/debezium-outbox.ts'
import { buildRecord, uuidBytes } from '../support/fixtures/envelope-record.ts'
import { MASSTRANSIT_DEFAULTS, massTransitMessage } from '../support/fixtures/masstransit-headers.ts'
import { NSERVICEBUS_DEFAULTS, nServiceBusMessage } from '../support/fixtures/nservicebus.ts'
import { plainHeaderRecord, springCorrelationHeader } from '../support/fixtures/plain-headers.ts'
import { SEED_DEFAULTS, seedEnvelope, seedEnvelopeObject } from '../support/fixtures/seed-envelope.ts'
import { b3MultiHeaders, b3SingleHeader, PARENT_SPAN_ID, SPAN_ID, TRACE_ID, traceparentHeader } from '../support/fixtures/trace-context.ts'

const extract = createExtractor()

describe('seed envelope', () => {
  it('reads every field; a null causation_id stays absent', () => {
    expect(extract(seedEnvelope())).toStrictEqual({
      eventId: SEED_DEFAULTS.eventId,
      eventType: 'OrderPlaced',
      correlationId: 'req_7f3c9a',
      aggregateId: 'order-1042',
      aggregateType: 'Order',
      occurredAt: 1_700_000_000_000,
      source: 'order-service',
      conventions: ['seed'],
    })
  })

  it('causation id and an offset occurred_at', () => {
    const meta = extract(seedEnvelope({ causationId: 'evt-parent-1', occurredAt: '2023-11-15T00:13:20.5+02:00' }))
    expect(meta.causationId).toBe('evt-parent-1')
    expect(meta.occurredAt).toBe(1_700_000_000_500)
  })

  it('a value without event_id and event_type is not a seed envelope (json paths may still read it)', () => {
    const value = { ...seedEnvelopeObject(), event_id: undefined }
    expect(extract(buildRecord({ value: JSON.stringify(value) }))).toStrictEqual({
      eventType: 'OrderPlaced',
      correlationId: 'req_7f3c9a',
      conventions: ['json'],
    })
  })

  it('with a traceparent: seed wins correlation, trace context adds spans', () => {
    const meta = extract(seedEnvelope({}, { headers: [traceparentHeader()] }))
    expect(meta).toMatchObject({ correlationId: 'req_7f3c9a', traceId: TRACE_ID, spanId: SPAN_ID, conventions: ['seed', 'traceparent'] })
  })
})

describe('CloudEvents', () => {
  const ce = CLOUDEVENT_DEFAULTS
  const extensions = { correlationid: 'req_7f3c9a', causationid: 'evt-parent-1' }
  const expected = {
    eventId: ce.id,
    eventType: 'com.acme.orders.OrderPlaced',
    correlationId: 'req_7f3c9a',
    causationId: 'evt-parent-1',
    aggregateId: 'order-1042',
    occurredAt: 1_700_000_000_123,
    source: '/services/order-service',
  }

  it('binary mode: ce_* headers, correlation extension', () => {
    expect(extract(cloudEventBinary({ extensions }))).toStrictEqual({ ...expected, conventions: ['cloudevents-binary'] })
  })

  it('binary mode with ce_traceparent: trace context from the extension', () => {
    const meta = extract(cloudEventBinary({ extensions: { ...extensions, traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` } }))
    expect(meta).toStrictEqual({ ...expected, traceId: TRACE_ID, spanId: SPAN_ID, conventions: ['cloudevents-binary', 'traceparent'] })
  })

  it('binary mode without a correlation extension falls back to the traceparent trace id', () => {
    const rec = cloudEventBinary()
    rec.headers.push({ key: 'traceparent', value: Buffer.from(`00-${TRACE_ID}-${SPAN_ID}-01`) })
    const meta = extract(rec)
    expect(meta).toMatchObject({ correlationId: TRACE_ID, conventions: ['cloudevents-binary', 'traceparent'] })
    expect(meta).not.toHaveProperty('causationId')
  })

  it('structured mode: the value is the event', () => {
    expect(extract(cloudEventStructured({ extensions }))).toStrictEqual({ ...expected, conventions: ['cloudevents-structured'] })
  })

  it('structured mode is recognised by its attributes even under another content-type', () => {
    expect(extract(cloudEventStructured({ extensions }, 'application/json'))).toStrictEqual({ ...expected, conventions: ['cloudevents-structured'] })
  })

  it('structured mode: traceparent attribute', () => {
    const meta = extract(cloudEventStructured({ extensions: { traceparent: `00-${TRACE_ID}-${SPAN_ID}-01` } }))
    expect(meta).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, correlationId: TRACE_ID, conventions: ['cloudevents-structured', 'traceparent'] })
  })

  it('a bad ce_time is ignored, the rest still read', () => {
    const meta = extract(cloudEventBinary({ time: 'yesterday' }))
    expect(meta.occurredAt).toBeUndefined()
    expect(meta.eventId).toBe(ce.id)
  })
})

describe('trace context', () => {
  it('W3C traceparent: trace id as correlation fallback, span id; no parent span', () => {
    expect(extract(plainHeaderRecord([traceparentHeader()]))).toStrictEqual({ correlationId: TRACE_ID, traceId: TRACE_ID, spanId: SPAN_ID, conventions: ['traceparent'] })
  })

  it('repeated traceparent headers (Python OpenTelemetry appends): the last wins', () => {
    const meta = extract(plainHeaderRecord([traceparentHeader('11111111111111111111111111111111', '2222222222222222'), ['tracestate', 'congo=t61rcWkgMzE'], traceparentHeader()]))
    expect(meta.traceId).toBe(TRACE_ID)
    expect(meta.spanId).toBe(SPAN_ID)
  })

  it('a malformed or all-zero traceparent is ignored', () => {
    for (const bad of ['00-xyz', `00-${'0'.repeat(32)}-${SPAN_ID}-01`, `ff-${TRACE_ID}-${SPAN_ID}-01`, `00-${TRACE_ID}-${SPAN_ID}-01-extra`]) {
      expect(extract(plainHeaderRecord([['traceparent', bad]]))).toStrictEqual({ conventions: [] })
    }
  })

  it('B3 multi-header, case-insensitive names, uppercase hex lowercased', () => {
    const headers = b3MultiHeaders(TRACE_ID.toUpperCase(), SPAN_ID, PARENT_SPAN_ID).map(([k, v]) => [k.toLowerCase(), v] as const)
    expect(extract(plainHeaderRecord(headers))).toStrictEqual({ correlationId: TRACE_ID, traceId: TRACE_ID, spanId: SPAN_ID, parentSpanId: PARENT_SPAN_ID, conventions: ['b3'] })
  })

  it('B3 single header; without a parent; sampling-only b3 is nothing', () => {
    expect(extract(plainHeaderRecord([b3SingleHeader()]))).toStrictEqual({ correlationId: TRACE_ID, traceId: TRACE_ID, spanId: SPAN_ID, parentSpanId: PARENT_SPAN_ID, conventions: ['b3'] })
    expect(extract(plainHeaderRecord([b3SingleHeader('463ac35c9f6413ad', SPAN_ID, null)]))).toStrictEqual({ correlationId: '463ac35c9f6413ad', traceId: '463ac35c9f6413ad', spanId: SPAN_ID, conventions: ['b3'] })
    expect(extract(plainHeaderRecord([['b3', '1']]))).toStrictEqual({ conventions: [] })
  })
})

describe('Axon', () => {
  it('8-byte timestamp; traceId metadata → correlation (root), correlationId metadata → causation (parent)', () => {
    expect(extract(axonEvent())).toStrictEqual({
      eventId: AXON_DEFAULTS.messageId,
      eventType: 'com.acme.orders.api.OrderPlacedEvent',
      correlationId: AXON_DEFAULTS.metadata.traceId,
      causationId: AXON_DEFAULTS.metadata.correlationId,
      aggregateId: 'order-1042',
      aggregateType: 'Order',
      occurredAt: 1_700_000_000_123,
      conventions: ['axon'],
    })
  })

  it('a root message (no metadata) has no correlation or causation', () => {
    expect(extract(axonEvent({ metadata: {} }))).toStrictEqual({
      eventId: AXON_DEFAULTS.messageId,
      eventType: 'com.acme.orders.api.OrderPlacedEvent',
      aggregateId: 'order-1042',
      aggregateType: 'Order',
      occurredAt: 1_700_000_000_123,
      conventions: ['axon'],
    })
  })
})

describe('MassTransit', () => {
  const mt = MASSTRANSIT_DEFAULTS
  it('ConversationId → correlation, MT-InitiatorId → causation, first MT-MessageType URN', () => {
    expect(extract(massTransitMessage())).toStrictEqual({
      eventId: mt.messageId,
      eventType: 'urn:message:Acme.Orders.Contracts:OrderSubmitted',
      correlationId: mt.conversationId,
      causationId: mt.initiatorId,
      source: 'loopback://localhost/order-service',
      conventions: ['masstransit'],
    })
  })

  it('without a ConversationId the CorrelationId is the correlation', () => {
    expect(extract(massTransitMessage({ conversationId: null })).correlationId).toBe(mt.correlationId)
  })
})

describe('NServiceBus', () => {
  const nsb = NSERVICEBUS_DEFAULTS
  it('ConversationId → correlation, RelatedTo → causation, first enclosed type without assembly, TimeSent', () => {
    expect(extract(nServiceBusMessage())).toStrictEqual({
      eventId: nsb.messageId,
      eventType: 'Sales.Messages.Events.OrderPlaced',
      correlationId: nsb.conversationId,
      causationId: nsb.relatedTo,
      occurredAt: 1_700_000_000_123,
      source: 'Sales',
      conventions: ['nservicebus'],
    })
  })

  it('the first message of a conversation has no RelatedTo', () => {
    const meta = extract(nServiceBusMessage({ relatedTo: null }))
    expect(meta.causationId).toBeUndefined()
    expect(meta.correlationId).toBe(nsb.conversationId)
  })
})

describe('Debezium outbox', () => {
  const expected = { eventId: OUTBOX_DEFAULTS.eventId, eventType: 'OrderCreated', aggregateId: 'order-1042', aggregateType: 'order', conventions: ['debezium-outbox'] }

  it.each<OutboxConverter>(['json', 'json-schemas', 'string', 'expanded'])('converter %s: header id, key, topic', (converter) => {
    expect(extract(debeziumOutbox({ converter }))).toStrictEqual(expected)
  })

  it('the double-encoded value really is a JSON string containing JSON', () => {
    const rec = debeziumOutbox({ converter: 'json' })
    expect(rec.value!.toString('utf8')).toBe('"{\\"orderId\\":\\"order-1042\\",\\"total\\":42.5}"')
    expect(rec.valueDecoded).toMatchObject({ kind: 'json', value: '{"orderId":"order-1042","total":42.5}' })
  })

  it('a seed envelope inside the double-encoded payload is read through both layers', () => {
    const payload = seedEnvelopeObject({ causationId: 'evt-parent-1' })
    expect(extract(debeziumOutbox({ payload, eventId: 'outbox-row-1', eventTypePlacement: 'none' }))).toStrictEqual({
      eventId: SEED_DEFAULTS.eventId,
      eventType: 'OrderPlaced',
      correlationId: 'req_7f3c9a',
      causationId: 'evt-parent-1',
      aggregateId: 'order-1042',
      aggregateType: 'Order',
      occurredAt: 1_700_000_000_000,
      source: 'order-service',
      conventions: ['seed'],
    })
  })

  it('plain correlation fields in the inner payload are read by the json extractor', () => {
    const meta = extract(debeziumOutbox({ payload: { orderId: 'order-1042', correlationId: 'req_1' } }))
    expect(meta).toStrictEqual({ ...expected, correlationId: 'req_1', conventions: ['debezium-outbox', 'json'] })
  })

  it('a renamed topic is recognised by the id header plus an aggregatetype header or a double-encoded value', () => {
    expect(extract(debeziumOutbox({ topic: 'orders', extraHeaders: [['aggregatetype', 'Order']], converter: 'string' }))).toStrictEqual({ ...expected, aggregateType: 'Order' })
    const { aggregateType: _, ...withoutType } = expected
    expect(extract(debeziumOutbox({ topic: 'orders', converter: 'json' }))).toStrictEqual(withoutType)
  })

  it('an id header alone on an ordinary record is not an outbox event', () => {
    expect(extract(plainHeaderRecord([['id', 'abc']]))).toStrictEqual({ conventions: [] })
  })
})

describe('plain headers', () => {
  it('common names, any case', () => {
    const rec = plainHeaderRecord([
      ['X-Correlation-ID', 'req_abc123'],
      ['causation-id', 'evt-parent-1'],
      ['message-id', 'evt-0002'],
      ['x-event-type', 'PaymentCaptured'],
    ])
    expect(extract(rec)).toStrictEqual({ eventId: 'evt-0002', eventType: 'PaymentCaptured', correlationId: 'req_abc123', causationId: 'evt-parent-1', conventions: ['headers'] })
  })

  it("Spring's kafka_correlationId: 16 raw bytes → UUID text", () => {
    const uuid = '3f2504e0-4f89-11d3-9a0c-0305e82c3301'
    const rec = plainHeaderRecord([springCorrelationHeader(uuid)])
    expect(rec.headers[0].value).toEqual(uuidBytes(uuid))
    expect(rec.headers[0].value).toHaveLength(16)
    expect(extract(rec)).toStrictEqual({ correlationId: uuid, conventions: ['headers'] })
  })

  it('the first configured name wins over header order; a repeated header: the last one wins', () => {
    const rec = plainHeaderRecord([
      ['x-correlation-id', 'from-x'],
      ['correlation_id', 'first'],
      ['correlation_id', 'second'],
    ])
    expect(extract(rec).correlationId).toBe('second')
  })

  it('null, empty and binary header values are skipped', () => {
    const rec = plainHeaderRecord([
      ['correlation_id', null],
      ['correlation-id', ''],
      ['correlationId', Buffer.from([0xff, 0x00, 0x01])],
      ['x-correlation-id', 'req_ok'],
    ])
    expect(extract(rec).correlationId).toBe('req_ok')
  })

  it('json paths: correlation fields in a plain JSON value', () => {
    const rec = buildRecord({ value: JSON.stringify({ eventId: 'e-9', eventType: 'OrderPaid', metadata: { correlationId: 'req_9', causationId: 'e-8' } }) })
    expect(extract(rec)).toStrictEqual({ eventId: 'e-9', eventType: 'OrderPaid', correlationId: 'req_9', causationId: 'e-8', conventions: ['json'] })
  })
})

describe('records with nothing recognisable', () => {
  it('plain text, tombstone, null key, empty value, unrelated headers → { conventions: [] }', () => {
    for (const rec of [
      buildRecord({ key: 'k', value: 'hello world' }),
      buildRecord({ key: null, value: null }),
      buildRecord({ value: '' }),
      buildRecord({ value: '[1,2,3]', headers: [['retry', '1'], ['nil', null]] }),
      buildRecord({ value: '"just a string"' }),
      buildRecord({ value: '{"id":"order-1","type":"premium"}' }),
    ]) {
      expect(extract(rec)).toStrictEqual({ conventions: [] })
    }
  })

  it('binary values and binary or null headers under known names never throw', () => {
    const junk = [null, Buffer.alloc(0), Buffer.from([0xff]), Buffer.from([0, 0, 0, 3]), Buffer.alloc(8, 0xff), Buffer.alloc(16, 0xfe), Buffer.from('\u0000\u0001ab'), Buffer.from('AC ED 00 05', 'hex')]
    const names = ['ce_id', 'ce_time', 'content-type', 'traceparent', 'b3', 'X-B3-TraceId', 'axon-message-id', 'axon-message-timestamp', 'MT-MessageType', 'ConversationId', 'NServiceBus.TimeSent', 'NServiceBus.EnclosedMessageTypes', 'id', 'kafka_correlationId', 'correlation_id']
    let seed = 7
    const rnd = (n: number) => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
      return seed % n
    }
    for (let i = 0; i < 500; i++) {
      const headers = Array.from({ length: rnd(6) }, () => [names[rnd(names.length)], junk[rnd(junk.length)]] as const)
      const value = [null, Buffer.from([0x00, 0x00, 0x00, 0x00, 0x01, 0x02]), Buffer.from('"{not json"'), Buffer.from('{"metadata":null,"event_id":{},"event_type":[]}'), junk[rnd(junk.length)]][rnd(5)]
      const rec = buildRecord({ topic: rnd(2) ? 'outbox.event.x' : 't', key: junk[rnd(junk.length)], value, headers })
      const meta = extract(rec)
      expect(Array.isArray(meta.conventions)).toBe(true)
    }
  })

  it('axon timestamp: 8 bytes are epoch ms; other lengths as decimal text', () => {
    const rec = axonEvent()
    const ts = rec.headers.find((h) => h.key === 'axon-message-timestamp')!
    expect(ts.value).toEqual(Buffer.from('0000018bcfe5687b', 'hex'))
    ts.value = Buffer.from('1700000000999')
    expect(extract(rec).occurredAt).toBe(1_700_000_000_999)
  })
})
