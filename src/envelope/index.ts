/**
 * src/envelope: a record → EventMeta, from whichever conventions the record carries (seed
 * envelope, CloudEvents, W3C traceparent, B3, Axon, MassTransit, NServiceBus, Debezium outbox,
 * plain headers, JSON paths), chosen and ordered by EnvelopeConfig.
 */
export type { EnvelopeConfig, EventMeta, ResolvedEnvelopeConfig } from './types.ts'
export { createExtractor, DEFAULT_ENVELOPE_CONFIG, EXTRACTOR_NAMES } from './extract.ts'
export { searchNeedles } from './needles.ts'
export { looksLikeCommand } from './command.ts'
export { parseB3, parseTraceparent } from './trace-context.ts'
export { createTypeFallback, DEFAULT_TYPE_HEADERS, DEFAULT_TYPE_PATHS, valuePreview, type FallbackType } from './event-type.ts'
