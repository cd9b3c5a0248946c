/**
 * createExtractor: a record → EventMeta, merging every convention the record carries.
 *
 * Everything that can be decided once is decided in createExtractor: which extractors run and
 * in what order, every header name they read (lowercased once, given a slot), compiled JSON
 * paths. Per record, the headers are walked once (a header key's slot is cached by its exact
 * spelling, so repeated keys are not lowercased again), the value's JSON unwrapping is done at
 * most once, and each extractor reads slots by index.
 */
import { usageError } from '../errors.ts'
import type { DecodedRecord } from '../record.ts'
import { axonExtractor } from './axon.ts'
import { DEFAULT_TYPE_HEADERS, DEFAULT_TYPE_PATHS } from './event-type.ts'
import { cloudEventsBinaryExtractor, cloudEventsStructuredExtractor } from './cloudevents.ts'
import { debeziumOutboxExtractor } from './debezium-outbox.ts'
import { massTransitExtractor } from './masstransit.ts'
import { nServiceBusExtractor } from './nservicebus.ts'
import { jsonPathsExtractor, plainHeadersExtractor } from './plain.ts'
import { seedExtractor } from './seed.ts'
import { b3Extractor, traceparentExtractor } from './trace-context.ts'
import type { EnvelopeConfig, EventMeta, ExtractFn, ExtractorDefinition, MetaFields, RecordView, ResolvedEnvelopeConfig } from './types.ts'
import { connectPayload, isObject } from './values.ts'

/** Every extractor, by name. */
const EXTRACTORS: ReadonlyMap<string, ExtractorDefinition> = new Map(
  [
    seedExtractor,
    cloudEventsStructuredExtractor,
    cloudEventsBinaryExtractor,
    axonExtractor,
    nServiceBusExtractor,
    massTransitExtractor,
    debeziumOutboxExtractor,
    plainHeadersExtractor,
    jsonPathsExtractor,
    traceparentExtractor,
    b3Extractor,
  ].map((e) => [e.name, e]),
)

/** The names accepted in `EnvelopeConfig.order`. */
export const EXTRACTOR_NAMES: readonly string[] = Object.freeze([...EXTRACTORS.keys()])

const list = (...names: string[]): readonly string[] => Object.freeze(names)

/**
 * The defaults. Order: explicit envelopes first (value, then framework headers), then plain
 * headers and JSON paths, and trace context last — its trace id is only a correlation fallback.
 */
export const DEFAULT_ENVELOPE_CONFIG: ResolvedEnvelopeConfig = Object.freeze({
  order: list('seed', 'cloudevents-structured', 'cloudevents-binary', 'axon', 'nservicebus', 'masstransit', 'debezium-outbox', 'headers', 'json', 'traceparent', 'b3'),
  correlationHeaders: list('correlation_id', 'correlation-id', 'correlationId', 'x-correlation-id', 'kafka_correlationId'),
  causationHeaders: list('causation_id', 'causation-id', 'causationId', 'x-causation-id'),
  eventIdHeaders: list('event_id', 'event-id', 'eventId', 'message-id', 'message_id', 'x-message-id'),
  eventTypeHeaders: list('event_type', 'event-type', 'eventType', 'x-event-type'),
  correlationPaths: list('metadata.correlation_id', 'metadata.correlationId', 'correlation_id', 'correlationId'),
  causationPaths: list('metadata.causation_id', 'metadata.causationId', 'causation_id', 'causationId'),
  eventIdPaths: list('event_id', 'eventId', 'metadata.event_id', 'metadata.eventId', 'message_id', 'messageId'),
  eventTypePaths: list('event_type', 'eventType', 'metadata.event_type', 'metadata.eventType'),
  typeHeaders: DEFAULT_TYPE_HEADERS,
  typePaths: DEFAULT_TYPE_PATHS,
})

/** Field order of a merged EventMeta (stable key order in output). */
const FIELDS = ['eventId', 'eventType', 'correlationId', 'causationId', 'aggregateId', 'aggregateType', 'occurredAt', 'source', 'traceId', 'spanId', 'parentSpanId'] as const satisfies ReadonlyArray<keyof MetaFields>

/** Header keys seen per extractor before the slot cache is dropped (bounds memory on odd topics). */
const KEY_CACHE_LIMIT = 10_000

/** Value kinds whose decoded value can be an object to read fields from. */
const STRUCTURED_KINDS = new Set(['json', 'json-schema', 'avro', 'protobuf'])

/**
 * Builds an extractor for one configuration: every list given replaces its default. The
 * returned function merges the fields of all matching conventions, earlier in `order` winning
 * per field; `conventions` lists those that contributed a field. It never throws: an extractor
 * that fails on odd bytes is skipped for that record.
 * @throws EvtError (usage) for an unknown extractor name in `order`.
 */
export function createExtractor(config: Partial<EnvelopeConfig> = {}): (record: DecodedRecord) => EventMeta {
  const resolved = resolveConfig(config)

  const slotByName = new Map<string, number>()
  const header = (name: string): number => {
    const lower = name.toLowerCase()
    let slot = slotByName.get(lower)
    if (slot === undefined) {
      slot = slotByName.size
      slotByName.set(lower, slot)
    }
    return slot
  }
  const names = [...new Set(resolved.order)]
  const steps: Array<{ name: string; run: ExtractFn }> = names.map((name) => ({ name, run: EXTRACTORS.get(name)!.build({ config: resolved, header }) }))

  const headers: Array<Buffer | null | undefined> = new Array(slotByName.size).fill(undefined)
  const touched: number[] = []
  const slotByKey = new Map<string, number>()
  const view = new View(headers)

  return (record) => {
    // One pass over the headers: last occurrence wins.
    for (const h of record.headers) {
      let slot = slotByKey.get(h.key)
      if (slot === undefined) {
        slot = slotByName.get(h.key.toLowerCase()) ?? -1
        if (slotByKey.size >= KEY_CACHE_LIMIT) slotByKey.clear()
        slotByKey.set(h.key, slot)
      }
      if (slot >= 0) {
        if (headers[slot] === undefined) touched.push(slot)
        headers[slot] = h.value
      }
    }
    view.reset(record)
    const meta: Partial<Record<keyof MetaFields, string | number>> = {}
    const conventions: string[] = []
    try {
      for (const step of steps) {
        let found: MetaFields | undefined
        try {
          found = step.run(view)
        } catch {
          continue
        }
        if (!found) continue
        let contributed = false
        for (const f of FIELDS) {
          const v = found[f]
          if (v !== undefined && meta[f] === undefined) {
            meta[f] = v
            contributed = true
          }
        }
        if (contributed) conventions.push(step.name)
      }
    } finally {
      for (const s of touched) headers[s] = undefined
      touched.length = 0
      view.reset(undefined)
    }
    const out: EventMeta = { conventions }
    for (const f of FIELDS) if (meta[f] !== undefined) (out as unknown as Record<string, unknown>)[f] = meta[f]
    return out
  }
}

function resolveConfig(config: Partial<EnvelopeConfig>): ResolvedEnvelopeConfig {
  const resolved = { ...DEFAULT_ENVELOPE_CONFIG }
  for (const k of Object.keys(DEFAULT_ENVELOPE_CONFIG) as Array<keyof ResolvedEnvelopeConfig>) {
    const v = config[k]
    if (v !== undefined) resolved[k] = v
  }
  const unknown = resolved.order.filter((n) => !EXTRACTORS.has(n))
  if (unknown.length) {
    throw usageError(`unknown envelope convention${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, `use some of: ${EXTRACTOR_NAMES.join(', ')}`)
  }
  return resolved
}

/** The per-extractor record view, reused across records (valid during one extract call). */
class View implements RecordView {
  readonly headers: ReadonlyArray<Buffer | null | undefined>
  #record: DecodedRecord | undefined
  #computed = false
  #json: Record<string, unknown> | undefined
  #double = false

  constructor(headers: ReadonlyArray<Buffer | null | undefined>) {
    this.headers = headers
  }

  get record(): DecodedRecord {
    return this.#record!
  }

  reset(record: DecodedRecord | undefined): void {
    this.#record = record
    this.#computed = false
    this.#json = undefined
    this.#double = false
  }

  json(): Record<string, unknown> | undefined {
    if (!this.#computed) this.#compute()
    return this.#json
  }

  doubleEncoded(): boolean {
    if (!this.#computed) this.#compute()
    return this.#double
  }

  #compute(): void {
    this.#computed = true
    const decoded = this.#record?.valueDecoded
    if (!decoded || !STRUCTURED_KINDS.has(decoded.kind)) return
    let v = connectPayload(decoded.value)
    if (typeof v === 'string' && v.trimStart().startsWith('{')) {
      try {
        v = JSON.parse(v)
        this.#double = isObject(v)
      } catch {
        return
      }
    }
    if (isObject(v)) this.#json = v
  }
}
