/**
 * Conventions without a framework, configured by name (see EnvelopeConfig):
 * - `headers`: plain headers such as `correlation_id`, `X-Correlation-ID`, `causation-id`,
 *   `message-id`, `x-event-type`, and Spring's `kafka_correlationId` (16 raw bytes of a UUID,
 *   formatted 8-4-4-4-12). Names match case-insensitively; the first listed name present wins.
 * - `json`: dotted paths into the JSON value (after the record view's unwrapping of
 *   double-encoded and Connect-wrapped values), e.g. `metadata.correlation_id`.
 */
import type { ExtractorDefinition, MetaFields } from './types.ts'
import { compilePath, firstId, headerId, headerText } from './values.ts'

/** Spring Kafka's `KafkaHeaders.CORRELATION_ID`: raw UUID bytes, never text. */
const SPRING_CORRELATION = 'kafka_correlationid'

export const plainHeadersExtractor: ExtractorDefinition = {
  name: 'headers',
  build: (ctx) => {
    // Each list → [slot, raw-uuid?]; duplicates (same name in another case) collapse to one slot.
    const slots = (names: readonly string[]) => names.map((n) => [ctx.header(n), n.toLowerCase() === SPRING_CORRELATION] as const)
    const correlation = slots(ctx.config.correlationHeaders)
    const causation = slots(ctx.config.causationHeaders)
    const eventId = slots(ctx.config.eventIdHeaders)
    const eventType = slots(ctx.config.eventTypeHeaders)
    const read = (h: ReadonlyArray<Buffer | null | undefined>, list: ReadonlyArray<readonly [number, boolean]>, text = false) => {
      for (const [slot, rawUuid] of list) {
        const v = text ? headerText(h[slot]) : headerId(h[slot], rawUuid)
        if (v !== undefined) return v
      }
      return undefined
    }
    return (view) => {
      const h = view.headers
      const meta: MetaFields = {
        correlationId: read(h, correlation),
        causationId: read(h, causation),
        eventId: read(h, eventId),
        eventType: read(h, eventType, true),
      }
      return meta
    }
  },
}

export const jsonPathsExtractor: ExtractorDefinition = {
  name: 'json',
  build: (ctx) => {
    const correlation = ctx.config.correlationPaths.map(compilePath)
    const causation = ctx.config.causationPaths.map(compilePath)
    const eventId = ctx.config.eventIdPaths.map(compilePath)
    const eventType = ctx.config.eventTypePaths.map(compilePath)
    return (view) => {
      const v = view.json()
      if (!v) return undefined
      const meta: MetaFields = {
        correlationId: firstId(v, correlation),
        causationId: firstId(v, causation),
        eventId: firstId(v, eventId),
        eventType: firstId(v, eventType),
      }
      return meta
    }
  },
}
