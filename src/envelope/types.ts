/**
 * Types shared by the envelope extractors: what a record says about itself (EventMeta), how
 * extraction is configured (EnvelopeConfig), and the small contract each extractor implements.
 */
import type { DecodedRecord } from '../record.ts'

/** What a record says about the event it carries, whichever convention it follows. */
export interface EventMeta {
  eventId?: string
  eventType?: string
  /** The id shared by every message of one flow (the root of the causal tree). */
  correlationId?: string
  /** The event id (or message id) of the message that caused this one. */
  causationId?: string
  aggregateId?: string
  aggregateType?: string
  /** When the event happened, epoch ms (not the Kafka record timestamp). */
  occurredAt?: number
  /** The service (or endpoint / CloudEvents source) that published it. */
  source?: string
  /** Which conventions contributed a field, in priority order, e.g. ['seed'], ['cloudevents-binary', 'traceparent']. */
  conventions: string[]
  /** W3C / B3 span of this record. */
  spanId?: string
  /** B3 parent span (W3C traceparent does not carry one). */
  parentSpanId?: string
  traceId?: string
}

/** The fields an extractor can fill (everything but `conventions`). */
export type MetaFields = Omit<EventMeta, 'conventions'>

/**
 * How extraction is configured. Every list replaces its default (spread
 * `DEFAULT_ENVELOPE_CONFIG.<list>` to extend one). Header names match case-insensitively;
 * within a list the first name present on the record wins.
 */
export interface EnvelopeConfig {
  /** Extractor names in priority order; extractors not listed are off. Earlier wins per field. */
  order?: readonly string[]
  /** Plain headers holding the correlation id (`headers` extractor). */
  correlationHeaders?: readonly string[]
  /** Plain headers holding the causation id (`headers` extractor). */
  causationHeaders?: readonly string[]
  /** Plain headers holding the event id (`headers` extractor). */
  eventIdHeaders?: readonly string[]
  /** Plain headers holding the event type (`headers` extractor). Not in the original brief; same idea. */
  eventTypeHeaders?: readonly string[]
  /** Dotted paths into a JSON value, e.g. `metadata.correlation_id` (`json` extractor); a numeric segment indexes an array. */
  correlationPaths?: readonly string[]
  causationPaths?: readonly string[]
  eventIdPaths?: readonly string[]
  eventTypePaths?: readonly string[]
  /**
   * Headers naming the event type when no convention gave one (trace's fallback, src/envelope/event-type.ts);
   * default `__TypeId__`, `eventType`, `event_type`, `type`, `ce_type`, `content-type` (its `type=` parameter).
   */
  typeHeaders?: readonly string[]
  /** Value fields (dotted paths) naming the event type after `typeHeaders`; default `type`, `eventType`, `event_type`, `@type`, `name`. */
  typePaths?: readonly string[]
}

/** An EnvelopeConfig with every field set. */
export type ResolvedEnvelopeConfig = { readonly [K in keyof EnvelopeConfig]-?: readonly string[] }

/** What an extractor sees of one record. Valid only during the extract call. */
export interface RecordView {
  readonly record: DecodedRecord
  /**
   * Header values by the slot the extractor registered at build time: `undefined` = absent,
   * `null` = a null-valued header. Where a header repeats, the last one wins.
   */
  readonly headers: ReadonlyArray<Buffer | null | undefined>
  /**
   * The value as a JSON object, computed once per record: a JSON object value; the `payload`
   * of Kafka Connect JsonConverter's `{schema, payload}`; the inner object of a JSON string
   * that contains JSON (Debezium outbox with a text payload). Otherwise undefined.
   */
  json(): Record<string, unknown> | undefined
  /** True when {@link json} came from a JSON string containing JSON (a double-encoded value). */
  doubleEncoded(): boolean
}

/** What an extractor may use while it is built (once, in createExtractor). */
export interface BuildContext {
  readonly config: ResolvedEnvelopeConfig
  /** Registers a header name (any case) and returns its slot in {@link RecordView.headers}. */
  header(name: string): number
}

/** Reads one record; returns undefined when the record does not follow the convention. */
export type ExtractFn = (view: RecordView) => MetaFields | undefined

/** One convention. */
export interface ExtractorDefinition {
  /** The name used in `EnvelopeConfig.order` and `EventMeta.conventions`. */
  readonly name: string
  readonly build: (ctx: BuildContext) => ExtractFn
}
